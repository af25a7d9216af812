"""Follow-up questions: what "那社区呢？", "第三条具体是啥意思？" or "这个钱谁来出" refer to.

The previous exchange is a small JSON dict (`Answer.context`) the caller keeps (the chat per user, the
CLI per conversation) and hands back with the next question:
  {"question": the previous question as understood,
   "refs": [[chunk_id, item or null, [unit indexes]], …]}  — what "第N条" / "那条" can point at.
A follow-up is either rewritten into a whole question (ellipsis), or resolved to one quoted item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.question import answer_type, domain_mentions, years_asked

_NUMERALS = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}
_ORDINAL = re.compile(r"第\s*([一二三四五六七八九十\d]{1,2})\s*(?:条|项|种|个|点|步|类|款|颗|方面|部分|阶段|句|段)")
_LAST = re.compile(r"最后一(?:条|项|种|个|点|步)")
_POINTER = re.compile(r"(?:这|那|该|上面|刚才|前面|上一)(?:一)?(?:条|项|段|句|个规定|项规定|个要求|个钱|笔钱|笔经费)")
_NAMED_POINTER = re.compile(r"([\u4e00-\u9fff]{1,6}?)(?:那|这)(?:一)?(?:条|项|段|句)")
_OPENING = re.compile(r"^(?:那么|那要是|那如果|那|还有|另外|然后|再问一下|再问|如果是|要是)")
_CLOSING = re.compile(r"(?:的呢|呢|的呀|呀|的吗|吗|咋样|怎么样|如何|又是啥|又怎么说)[？?。！!～~]*$")
_ALSO = re.compile(r"也")
_FILLER = re.compile(r"具体|是什么|是啥|啥意思|什么意思|怎么说的?|咋说的?|说的啥|原文|内容|再说一遍|详细|说说|讲讲|指什么|指啥|"
                     r"意思|怎么做|咋做|咋办|怎么办|干啥|做什么|要求|情形|情况|讲的|说的|的是|是")
_CONTENT = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
SHORT = 8  # a message this short that continues the topic ("高校的呢") is an ellipsis


@dataclass(frozen=True)
class Resolution:
    question: str  # the question to answer (rewritten when elliptical)
    ref: list | None = None  # [chunk id, item number or None, text] a follow-up points at
    follow_up: bool = False
    prefer: tuple[str, ...] = ()  # passages of the previous answer, preferred for "这个钱谁来出"
    keeps_topic: bool = False  # asks about the previous answer: the topic stays for the next ellipsis
    focus: str | None = None  # what a question joined to the topic asks itself ("这个钱谁来出")


def _number(token: str) -> int:
    """3 for "3" or "三", 12 for "十二", 20 for "二十"."""
    if token.isdigit():
        return int(token)
    tens, ten, ones = token.partition("十")
    if not ten:
        return _NUMERALS.get(token, 0)
    return 10 * (_NUMERALS.get(tens, 0) if tens else 1) + _NUMERALS.get(ones, 0)


def _ordinal(text: str) -> int | None:
    """The N of "第N条" (-1 for "最后一条"), or None."""
    match = _ORDINAL.search(text)
    if match:
        return _number(match.group(1))
    return -1 if _LAST.search(text) else None


def resolve(question: str, context: dict | None) -> Resolution:
    """The question in full, given the previous exchange (None: nothing to refer to)."""
    if not context or not context.get("question"):
        return Resolution(question)
    previous = context.get("topic") or context["question"]
    refs = [list(ref) for ref in context.get("refs", [])]
    chunks = tuple(dict.fromkeys(ref[0] for ref in refs))
    number = _ordinal(question)
    if number is not None and refs and _is_about_reference(question):
        index = len(refs) - 1 if number == -1 else number - 1
        if 0 <= index < len(refs):
            return Resolution(question, refs[index], True, chunks, True)
    named = _NAMED_POINTER.search(question)
    if (named or _POINTER.search(question)) and refs and _is_about_reference(question):
        word = named.group(1) if named else ""
        ref = _ref_naming(word, refs)
        if ref is not None:
            return Resolution(question, ref, True, chunks, True)
    if _POINTER.search(question) or named:
        return Resolution(joined(previous, question), None, True, chunks, True, question)
    if is_ellipsis(question):
        rewritten = rewrite(question, previous)
        if rewritten == joined(previous, question):  # nothing swapped: the turn asks its own thing of the topic
            return Resolution(rewritten, None, True, chunks, True, question)
        return Resolution(rewritten, None, True, chunks)
    return Resolution(question)


def _is_about_reference(question: str) -> bool:
    """"经费那条怎么说的", "第三条具体是啥意思" ask for the clause itself; "这个钱谁来出" or
    "评最强的程序第一步干啥" ask something of their own."""
    rest = _ORDINAL.sub("", _LAST.sub("", _NAMED_POINTER.sub("", _POINTER.sub("", question))))
    rest = _CLOSING.sub("", _OPENING.sub("", _FILLER.sub("", rest)))
    return len(_CONTENT.findall(rest)) <= 2 and answer_type(rest) is None  # "这个钱谁出" asks a body


def _ref_naming(word: str, refs: list[list]) -> list | None:
    """The item that names `word` ("经费那条"; none: the question is asked afresh), else the first."""
    if not word:
        return refs[0]
    return next((ref for ref in refs if word in ref[2]), None)


def is_ellipsis(question: str) -> bool:
    content = _CONTENT.findall(question)
    marked = bool(_OPENING.search(question) or _CLOSING.search(question) or _ALSO.search(question))
    return marked and len(content) <= SHORT * 2 or len(content) <= SHORT and bool(domain_mentions(question) or years_asked(question, 0))


def rewrite(question: str, previous: str) -> str:
    """"那社区呢？" after "嘎查村党支部评最强有哪些标准？" → "社区党支部评最强有哪些标准？"."""
    core = _CLOSING.sub("", _OPENING.sub("", question.strip())).replace("也", "")
    new_domains, old_domains = domain_mentions(core), domain_mentions(previous)
    if new_domains and old_domains:
        return previous.replace(old_domains[0][0], new_domains[0][0], 1)
    new_years = re.findall(r"\d{2,4}\s*年", core)
    old_years = re.findall(r"\d{2,4}\s*年", previous)
    if new_years and old_years:
        return previous.replace(old_years[0], new_years[0], 1)
    if new_domains or new_years:
        return f"{core}{previous}"
    return joined(previous, question)


def joined(previous: str, question: str) -> str:
    """One question of the topic and what is asked of it: "村里评上最强能发多少钱，这个钱谁来出"."""
    return f"{previous.rstrip('？?。！!；; ')}，{question}"


def swap_sibling(turn: str, previous: str, series: tuple[tuple[str, ...], ...]) -> str | None:
    """"组织评定呢？" after "党员评议优秀的要占多少": a thing listed beside one the topic names (both items
    of one series of the texts) takes its place: "组织评定优秀的要占多少"; None when there is none."""
    core = _CLOSING.sub("", _OPENING.sub("", turn.strip())).replace("也", "")
    if len(_CONTENT.findall(core)) < 2:
        return None
    for items in series:
        mine = [n for n, item in enumerate(items) if core in item]
        if not mine:
            continue
        for n, item in enumerate(items):
            word = _shared_word(item, previous)
            if n not in mine and word and core not in previous:
                return previous.replace(word, core, 1)
    return None


def _shared_word(item: str, text: str) -> str | None:
    """The longest run (three characters or more) of a series item that the text holds."""
    for size in range(len(item), 2, -1):
        for start in range(len(item) - size + 1):
            if item[start:start + size] in text:
                return item[start:start + size]
    return None

