"""What Zhibu says besides quoting: the coverage note, greetings, the self-introduction, the reply to a
request outside the policy, and the hints — each naming what the user can do where they are (the
Telegram chat, the terminal chat, the `zhibu ask` command)."""

from __future__ import annotations

import re

from knowledge.answer import IDENTITY, NOTICE, OFF_TOPIC
from knowledge.question import is_english, is_greeting, is_identity, is_off_topic

MAX_QUESTION_CHARS = 500
_NO_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
TELEGRAM, TERMINAL, COMMAND = "telegram", "terminal", "cli"
EXAMPLE = "最强党支部多长时间评定一次？"
EXAMPLES = f"“{EXAMPLE}”“村里支部评上最强有啥奖励？”"
COVERAGE_NOTE = (
    "知识库收录：《关于“五化协同、大抓基层”的指导意见》（内组通字〔2020〕2号）、"
    "《筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案》（内组通字〔2020〕4号）、"
    "《内蒙古自治区“最强党支部”建设工作指南》及其附件1、附件2。"
)
# How to start the self-check and a new topic, in each transport.
_CHECK = {TELEGRAM: "发送 /check", TERMINAL: "输入 /check", COMMAND: "运行 zhibu chat 后输入 /check"}
_NEW = {TELEGRAM: "发送 /new", TERMINAL: "输入 /new", COMMAND: "在 zhibu chat 里输入 /new"}


def self_check_hint(channel: str | None) -> str:
    return f"想知道自己的支部能否评为“最强党支部”，请{_CHECK.get(channel, _CHECK[COMMAND])}，做一次逐项自评。"


def not_covered_text(channel: str | None) -> str:
    return f"现有政策文件没有直接回答这个问题，我不能凭空作答。{COVERAGE_NOTE}{self_check_hint(channel)}"


def greeting(channel: str | None) -> str:
    check, new = _CHECK.get(channel, _CHECK[COMMAND]), _NEW.get(channel, _NEW[COMMAND])
    return ("您好！我是“支部”助手，依据自治区“最强党支部”建设的政策原文回答问题，并注明出处。\n"
            f"• 直接用中文提问，例如：{EXAMPLES}\n"
            f"• 可以接着追问，例如“那社区呢？”“第三条具体指啥？”；{new}开始新话题。\n"
            f"• {check}，逐项自检本支部能否申报“最强党支部”。")


def introduction(channel: str | None) -> str:
    return ("我是“支部”助手，面向基层党支部书记：依据自治区“最强党支部”建设的三份政策文件回答问题，"
            f"先给答案，再引原文并注明出处；文件没有规定的，我会直说。例如：{EXAMPLES}\n"
            f"{self_check_hint(channel)}")


def off_topic_text() -> str:
    return f"这个我帮不上忙：我只回答“最强党支部”建设和基层党建政策方面的问题，并注明出处。可以这样问：{EXAMPLES}"


def problem_with_question(question: str, channel: str | None = None) -> str | None:
    """A polite Chinese reply when the message is not a question the texts could answer."""
    reply = reply_without_search(question, channel)
    return reply[1] if reply else None


def reply_without_search(question: str, channel: str | None = None) -> tuple[str, str] | None:
    """(intent, reply) for a message no search can answer: empty, no words, too long, a greeting,
    English, a question about the assistant, or a request outside the policy."""
    if not question.strip():
        return NOTICE, f"问题是空的。请直接输入想了解的政策问题，例如：“{EXAMPLE}”"
    if not _NO_WORDS.search(question):
        return NOTICE, "没有看懂这条消息。请用中文文字描述想了解的政策问题，例如：“党员评议优秀比例要达到多少？”"
    if len(question) > MAX_QUESTION_CHARS:
        return NOTICE, f"问题太长了（{len(question)} 字）。请把问题压缩到 {MAX_QUESTION_CHARS} 字以内，一次问一件事。"
    if is_greeting(question):
        return NOTICE, greeting(channel)
    if is_english(question):
        return NOTICE, f"请用中文提问，例如：“{EXAMPLE}”（Please ask in Chinese.）"
    if is_identity(question):
        return IDENTITY, introduction(channel)
    if is_off_topic(question):
        return OFF_TOPIC, off_topic_text()
    return None
