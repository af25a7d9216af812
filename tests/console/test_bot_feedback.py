"""👍/👎 and the question log through the real Application and the FAKE Telegram Bot API server (tests/bot),
and through the terminal chat."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

import pytest
from bot_harness import ADMIN_ID, RunningBot
from fake_telegram import buttons_of

from bot.dialogue import Dialogue
from bot.events import Event
from bot.feedback import Feedback
from bot.library import Library
from bot.terminal import TerminalChat
from knowledge.store import KnowledgeBase
from records.store import now, open_records
from tests.console.conftest import read_only

QUESTION = "党员评议优秀比例要达到多少？"


@pytest.fixture
def bot_settings(settings, fake, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("ZHIBU_TELEGRAM_API_URL", fake.base_url)
    monkeypatch.setenv("ZHIBU_ADMINS", str(ADMIN_ID))
    monkeypatch.setenv("ZHIBU_FLOOD_MESSAGES", "1000")
    from zhibu.settings import get_settings

    get_settings.cache_clear()
    return get_settings()


@pytest.fixture
async def bot(bot_settings, fake):
    running = await RunningBot.start(bot_settings, fake)
    yield running
    await running.stop()
    running.assert_no_errors()


async def test_thumbs_up_then_down_with_a_reason_is_stored_with_the_answer(bot, bot_settings):
    alice = bot.person(2101)
    answer = await alice.say(QUESTION, expect="出处")
    assert [label for label, _ in buttons_of(answer)][-2:] == ["👍 有用", "👎 没用"]

    await alice.press_only(answer, "👍 有用")
    toasts = [call.params.get("text") for call in bot.fake.calls_of("answerCallbackQuery")]
    assert "谢谢反馈！" in toasts
    records = open_records(bot_settings)
    [logged] = records.questions_of_chat(alice.chat_id)
    assert logged.rating == 1

    ask_reason = await alice.press(answer, "👎 没用", expect="哪里不满意")
    assert [label for label, _ in buttons_of(ask_reason)] == ["答非所问", "内容不全", "没有回答", "其他"]
    await alice.press_only(ask_reason, "内容不全")
    assert "已记录：内容不全" in bot.fake.messages[(alice.chat_id, ask_reason["message_id"])]["text"]

    [logged] = records.questions_of_chat(alice.chat_id)
    [feedback] = records.feedback_of(logged.id)
    assert (logged.question, logged.status, logged.rating) == (QUESTION, "answered", -1)
    assert (feedback.rating, feedback.reason) == (-1, "内容不全")
    generation = KnowledgeBase(bot_settings.zhibu_home).active()
    assert logged.generation == generation.name
    assert logged.cited and all(chunk in generation.by_id for chunk in logged.cited)
    assert "90%" in logged.answer


async def test_the_log_keeps_chats_apart_and_holds_no_ids_or_names(bot, bot_settings):
    alice, bob = bot.person(2102), bot.person(2103)
    await alice.say(QUESTION, expect="出处")
    await bob.say("Python 怎么安装？", expect="政策文件")
    records = open_records(bot_settings)
    [of_alice], [of_bob] = records.questions_of_chat(alice.chat_id), records.questions_of_chat(bob.chat_id)
    assert (of_alice.status, of_bob.status) == ("answered", "not_covered")
    assert of_alice.chat_hash != of_bob.chat_hash
    # What is stored as text, hashes aside (a hex digest or a timestamp's microseconds may hold "2102" by chance).
    stored = " ".join(str(value) for row in (of_alice, of_bob) for key, value in vars(row).items()
                      if not key.startswith("_") and not key.endswith("_hash") and not isinstance(value, datetime))
    assert not re.search(r"(?<!\d)210[23](?!\d)", stored) and "用户" not in stored  # the ids, the fake's first names


async def test_self_check_answers_are_counted_not_logged_and_help_says_what_is_kept(bot, bot_settings):
    carol = bot.person(2104)
    help_text = await carol.say("/help", expect="保存")
    assert "180 天" in help_text["text"] and "不保存姓名" in help_text["text"]
    await carol.start_check("离退休干部职工", 2025)
    await carol.say("2015-06-01")
    records = open_records(bot_settings)
    assert records.questions_of_chat(carol.chat_id) == []
    assert records.stats(1)["started"] == 1


async def test_a_rating_a_purged_question_is_told_so(bot, bot_settings):
    dave = bot.person(2105)
    answer = await dave.say(QUESTION, expect="出处")
    records = open_records(bot_settings)
    [logged] = records.questions_of_chat(dave.chat_id)
    from records.models import Question

    with records._session.begin() as session:  # age the row past the retention
        session.get(Question, logged.id).asked_at = now() - timedelta(days=400)
    assert records.purge() == 1
    await dave.press_only(answer, "👍 有用")
    toasts = [call.params.get("text") for call in bot.fake.calls_of("answerCallbackQuery")]
    assert any("过保存期限" in (text or "") for text in toasts)


async def test_the_daily_job_purges_old_questions_when_the_bot_starts(bot_settings, fake):
    records = open_records(bot_settings)
    old = records.log_question(channel="telegram", chat_id=1, user_id=1, question="很久以前的问题", answer="……",
                               status="not_covered", cited=[], generation="g0", wording="很久 问题",
                               asked_at=now() - timedelta(days=181))
    kept = records.log_question(channel="telegram", chat_id=1, user_id=1, question="上个月的问题", answer="……",
                                status="not_covered", cited=[], generation="g0", wording="上个月 问题",
                                asked_at=now() - timedelta(days=30))
    running = await RunningBot.start(bot_settings, fake)
    try:
        assert any(job.name == "purge-question-log" for job in running.app.job_queue.jobs())
        await fake.wait_for(lambda: records.question(old) is None)
        assert records.question(kept) is not None
    finally:
        await running.stop()
    running.assert_no_errors()


async def test_terminal_feedback_is_typed_and_never_a_numbered_choice(settings):
    out = io.StringIO()
    chat = TerminalChat(Dialogue(Library(settings), feedback=Feedback(settings)), out, settings.zhibu_home)
    await chat.turn(Event(text=QUESTION))
    shown = out.getvalue()
    assert "（觉得有用请输入 +，没用请输入 -）" in shown and "👍" not in shown
    await chat.turn(chat.event_for("-"))
    assert "哪里不满意" in out.getvalue() and "答非所问" in out.getvalue()
    await chat.turn(chat.event_for("没有回答"))
    assert "已记录：没有回答" in out.getvalue()
    [logged] = open_records(settings).questions_of_chat(0)
    [feedback] = open_records(settings).feedback_of(logged.id)
    assert (logged.status, feedback.rating, feedback.reason) == ("answered", -1, "没有回答")
    await chat.turn(Event(command="check"))
    await chat.turn(chat.event_for("1"))  # a number still picks the self-check's first choice (嘎查村)
    assert "领域：嘎查村" in out.getvalue()


async def test_an_unwritable_records_folder_never_stops_an_answer_nor_alerts_the_admins(bot_settings, fake):
    """The bot answers (without 👍/👎) and sends no traceback to the admins when the records folder is read-only."""
    folder = bot_settings.zhibu_home / "records"
    folder.mkdir(exist_ok=True)
    with read_only(folder):
        running = await RunningBot.start(bot_settings, fake)
        try:
            answer = await running.person(2301).say(QUESTION, expect="出处")
            assert "90%" in answer["text"] and "👍 有用" not in [label for label, _ in buttons_of(answer)]
            to_admins = [message["text"] for (chat, _), message in fake.messages.items() if chat == ADMIN_ID]
            assert not any("Traceback" in text or "出了点问题" in text for text in to_admins)
        finally:
            await running.stop()
        running.assert_no_errors()
# Forged callback data: anyone can send a callback query with any data under any message of the bot.
FORGED = [
    "fb|99999999999999999999999999|1", "fb|9223372036854775808|1", "fb|-1|1", "fb|0|1", "fb|1|5", "fb|1|0",
    "fb|1|-2", "fb|1|", "fb|1", "fb||", "fb|1|1|1", "fb|../../etc/passwd|1", "fb|1\x00|1", "fb|１|1",
    "fbr|1|9", "fbr|1|-1", "fbr|1|x", "fbr|1|0\x00", "fbr|" + "9" * 5000 + "|0",
]


async def test_forged_feedback_buttons_get_a_chinese_refusal_and_no_admin_alert(bot, bot_settings):
    """Before: int() and REASONS[] raised, SQLite overflowed on huge ids; every press was a traceback and
    an alert to the admins. "fbr|1|-1" even recorded the last reason for question 1."""
    erin = bot.person(2106)
    answer = await erin.say(QUESTION, expect="出处")
    for data in FORGED:
        await bot.fake.press(erin.user_id, answer, data)

    def every_press_answered() -> list[str] | None:  # on a busy machine the presses take a while
        toasts = [call.params.get("text") or "" for call in bot.fake.calls_of("answerCallbackQuery")]
        return toasts if len(toasts) >= len(FORGED) else None

    toasts = await bot.fake.wait_for(every_press_answered, timeout=60)
    await bot.fake.settle()
    assert sum("反馈按钮无效" in toast for toast in toasts) == len(FORGED), toasts
    assert not [text for admin_chat in [ADMIN_ID] for text in
                (m["text"] for m in bot.fake.bot_messages(admin_chat)) if "Traceback" in text or "出错" in text]
    [logged] = open_records(bot_settings).questions_of_chat(erin.chat_id)
    assert logged.rating is None and open_records(bot_settings).feedback_of(logged.id) == []


async def test_an_unwritable_records_folder_never_stops_an_answer(bot_settings, fake):
    """The records folder is a file, so the SQLite store cannot be made there (as root, a read-only
    folder is still writable): every answer is given, without 👍/👎, and the admins get nothing."""
    records = bot_settings.zhibu_home / "records"
    records.parent.mkdir(parents=True, exist_ok=True)
    records.write_text("not a folder", encoding="utf-8")
    running = await RunningBot.start(bot_settings, fake)
    try:
        frank = running.person(2107)
        answer = await frank.say(QUESTION, expect="出处")
        assert "90%" in answer["text"] and "👍 有用" not in [label for label, _ in buttons_of(answer)]
        await frank.say("/check", expect="领域")
        await fake.settle()
        assert fake.bot_messages(ADMIN_ID) == []
    finally:
        await running.stop()
    running.assert_no_errors()


def test_zhibu_chat_answers_when_the_records_folder_cannot_be_written(tmp_path):
    """Before: the store's OSError (not a database error) escaped, `zhibu chat` printed a traceback and
    answered nothing."""
    from tests.conftest import run_zhibu

    home = tmp_path / "home"
    home.mkdir()
    (home / "records").write_text("not a folder", encoding="utf-8")
    result = run_zhibu("chat", home=home, env={"ZHIBU_EMBEDDING": "none"}, input=f"{QUESTION}\n退出\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "90%" in result.stdout and "问题记录库不可用" in result.stderr
