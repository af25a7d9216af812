"""Where the merged parts meet: a question in everyday wording mid-check, /new during a check, the
terminal's 👍/👎 hint beside the answer it rates, the logged answer status, Enter for the default year."""

from __future__ import annotations

import io
from datetime import date

import pytest

from core_driver import CoreUser, offline_dialogue
from bot.dialogue import Dialogue
from bot.events import Event
from bot.feedback import Feedback
from bot.library import Library
from bot.selfcheck import CheckState, default_year
from bot.terminal import TerminalChat
from evaluators import DOMAINS, questions_for
from records.store import open_records
from zhibu.settings import Settings


@pytest.fixture
def settings(home) -> Settings:
    return Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")


@pytest.fixture
def user(home) -> CoreUser:
    return CoreUser(offline_dialogue(home))


@pytest.mark.parametrize("question", ["十星级是啥意思", "村里评最强咋申报"])
async def test_a_question_with_sha_or_za_mid_check_is_answered_and_the_check_resumes(user, question):
    await user.start("嘎查村", "2023")
    await user.say("2015年6月1日")
    pending = questions_for("gacha_village", 2023)[1]
    await user.say(question)
    assert "出处" in user.text and "接着自检" in user.text and pending.prompt in user.text
    assert user.state["answers"] == {"founded_on": "2015-06-01"}


async def test_a_question_at_the_settled_step_is_answered_and_the_step_stays(user):
    await user.start("社区", "2023")
    await user.say("2015年6月1日")
    await user.say("是")  # weak and lax: settled
    assert CheckState(user.state).phase == "settled"
    await user.say("软弱涣散的啥时候能摘帽")
    assert "出处" in user.text and "直接看结果" in user.text
    assert CheckState(user.state).phase == "settled"


async def test_new_topic_during_a_check_shows_the_pending_question_again(user):
    await user.start("社区", "2023")
    await user.say("2015年6月1日")
    await user.say("/new")
    assert "开始新话题" in user.text and "接着自检" in user.text
    assert questions_for("community", 2023)[1].prompt in user.text
    await user.say("否")  # still answers the pending question
    assert user.state["answers"]["weak_and_lax"] is False


async def test_terminal_feedback_hint_sits_under_the_answer_not_under_the_resumed_question(settings):
    out = io.StringIO()
    chat = TerminalChat(Dialogue(Library(settings), feedback=Feedback(settings)), out, settings.zhibu_home)
    await chat.turn(Event(command="check"))
    await chat.turn(chat.event_for("社区"))
    await chat.turn(chat.event_for("2023"))
    await chat.turn(chat.event_for("2015年6月1日"))
    start = len(out.getvalue())
    await chat.turn(chat.event_for("软弱涣散党支部能评最强党支部吗？"))
    shown = out.getvalue()[start:]
    hint = shown.index("（觉得有用请输入 +，没用请输入 -）")
    assert shown.index("出处") < hint < shown.index("接着自检")
    await chat.turn(chat.event_for("2"))  # the number still answers the question: 否
    assert chat.state["answers"]["weak_and_lax"] is False


async def test_the_log_keeps_a_partial_answer_as_partial(settings):
    dialogue = Dialogue(Library(settings), feedback=Feedback(settings))
    chat = TerminalChat(dialogue, io.StringIO(), settings.zhibu_home)
    question = "2026年的比例是多少"  # the texts set targets up to 2023 only
    answer = await Library(settings).ask(question)
    await chat.turn(chat.event_for(question))
    [logged] = open_records(settings).questions_of_chat(0)
    assert answer.status == "partial" and logged.status == "partial"


async def test_terminal_enter_takes_the_default_year(settings):
    out = io.StringIO()
    chat = TerminalChat(Dialogue(Library(settings)), out, settings.zhibu_home)
    assert chat.default_event() is None  # nothing marked 默认 on screen: Enter does nothing
    await chat.turn(Event(command="check"))
    await chat.turn(chat.event_for("社区"))
    await chat.turn(chat.default_event())
    assert CheckState(chat.state).year == default_year(date.today())
    assert "第 1 题" in out.getvalue()
    assert chat.default_event() is None  # the question on screen has no default


async def test_terminal_a_letter_that_marks_nothing_is_not_looked_up_as_a_question(settings):
    out = io.StringIO()
    chat = TerminalChat(Dialogue(Library(settings)), out, settings.zhibu_home)
    await chat.turn(chat.event_for("党员评议优秀比例要达到多少？"))
    assert "a) 查看原文 [1]" in out.getvalue() and "z)" not in out.getvalue()
    assert chat.event_for("z") is None  # said so, and nothing goes to the knowledge base
    assert out.getvalue().rstrip().endswith("提示：没有“z”这个选项。请输入上面列出的字母或数字，或者直接输入问题。")
    assert chat.event_for("a") == Event(button=chat._actions[0].data)


def test_review_lines_of_the_two_village_clean_record_questions_read_without_a_double_negative():
    from bot.selfcheck import answer_lines

    state = CheckState({"domain": "gacha_village", "year": 2023,
                        "answers": {"facts.committee_clean": True, "facts.no_clan_or_gang_control": True}})
    lines = answer_lines(state)
    assert lines == ["1. “两委”干部没有刑事处罚、村霸、涉黑涉恶等问题", "2. 没有宗族派系干扰、黑恶势力把持等问题"]


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_why_this_question_ends_its_sentence_and_has_no_doubled_marks(domain):
    import re

    from bot.selfcheck import why_text

    for question in questions_for(domain, 2026):
        text = why_text(question)
        assert not re.search(r"[；，、：][”’]|[，；。：]{2}|。”。", text), text
        assert text.endswith(("。", "。”")), text


@pytest.mark.parametrize("question", ["十星级是啥意思", "四评是什么意思", "三务公开指的是啥"])
async def test_asking_what_a_term_means_never_names_the_question_words_as_the_missing_rule(user, question):
    await user.say(question)
    assert "出处" in user.text
    for filler in ("啥意思", "什么意思", "指的是", "指啥"):
        assert f"“{filler}”" not in user.text, user.text


async def test_a_total_changed_below_its_part_is_refused_in_chinese_without_field_keys(user):
    from core_driver import INTERNAL

    await user.start("社区", "2023")
    for answer in ("2015年6月1日", "否", "优秀", "100", "9"):
        await user.say(answer)
    await user.say("修改第4题")
    await user.say("2")  # fewer reviewers than the 9 who rated 优秀
    assert "参加评议党员总数（2人）不能少于已填写的9人。" in user.text and not INTERNAL.search(user.text), user.text
    assert user.state["answers"]["members_reviewing"] == 100
