"""The small transport-free pieces: message splitting, the flood gate, upload names, events, persistence."""

from __future__ import annotations

import io
from datetime import date

import pytest

from bot.admin import safe_filename
from bot.dialogue import report_pieces
from bot.events import Button, Event, Reply
from bot.selfcheck import change_request, match_domain, parse_year
from bot.terminal import TerminalChat
from bot.flood import FloodGate, Verdict
from bot.persistence import SqlitePersistence
from bot.telegram_app import file_url_for, webhook_options
from bot.text import MESSAGE_LIMIT, split_message
from zhibu.errors import BadInput
from zhibu.settings import Settings


def test_split_keeps_short_text_whole():
    assert split_message("短消息") == ["短消息"]


def test_split_cuts_long_text_under_the_limit_at_paragraphs_and_loses_nothing():
    paragraph = "第一条规定的内容。" * 40
    text = "\n\n".join(f"{n}. {paragraph}" for n in range(40))
    pieces = split_message(text)
    assert len(pieces) > 1
    assert all(len(piece) <= MESSAGE_LIMIT for piece in pieces)
    assert all(piece.split(". ", 1)[0].isdigit() for piece in pieces)  # every piece starts a paragraph
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_split_hard_cuts_text_without_any_break():
    pieces = split_message("字" * (MESSAGE_LIMIT * 2 + 5))
    assert [len(piece) for piece in pieces] == [MESSAGE_LIMIT, MESSAGE_LIMIT, 5]


def test_flood_gate_warns_once_then_drops_until_quiet():
    now = [0.0]
    gate = FloodGate(limit=3, window=10, clock=lambda: now[0])
    assert [gate.check(1) for _ in range(3)] == [Verdict.PASS] * 3
    assert gate.check(1) is Verdict.WARN
    assert gate.check(1) is Verdict.DROP
    assert gate.check(2) is Verdict.PASS  # other users are not affected
    now[0] = 30.0
    assert gate.check(1) is Verdict.PASS


def test_flood_gate_sliding_window_lets_a_steady_pace_through():
    now = [0.0]
    gate = FloodGate(limit=3, window=10, clock=lambda: now[0])
    for _ in range(20):
        assert gate.check(1) is Verdict.PASS
        now[0] += 3.5


def test_flood_gate_off_when_limit_is_zero():
    gate = FloodGate(limit=0, window=10)
    assert all(gate.check(1) is Verdict.PASS for _ in range(100))


@pytest.mark.parametrize("given, expected", [
    ("政策.pdf", "政策.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.DOCX", "evil.docx"),
    ("/abs/path/通知 (2020) 4号.md", "通知_(2020)_4号.md"),
    (".hidden.txt", "hidden.txt"),
    ("...txt", "upload.txt"),
    ("a/b/../c;rm -rf ~.pdf", "c_rm_-rf.pdf"),
])
def test_safe_filename_keeps_only_a_tame_base_name(given, expected):
    assert safe_filename(given) == expected


@pytest.mark.parametrize("given", [None, "", "script.sh", "archive.tar.gz", "noext", "report.pdf.exe"])
def test_safe_filename_refuses_other_types(given):
    with pytest.raises(BadInput, match="只支持"):
        safe_filename(given)


def test_event_from_text():
    assert Event.from_text("/check@zhibu_bot now") == Event(text="/check@zhibu_bot now", command="check", args=("now",))
    assert Event.from_text("  问题？ ") == Event(text="问题？")
    assert Event.from_text("/").command is None


async def test_persistence_round_trip(tmp_path):
    path = tmp_path / "bot" / "state.sqlite3"
    store = SqlitePersistence(path)
    await store.update_user_data(7, {"chats": {"7": {"phase": "question", "answers": {"a.b": True}}}})
    await store.update_chat_data(-5, {"x": 1})
    await store.update_bot_data({"y": [1, 2]})
    await store.update_conversation("check", (7, 7), "YEAR")
    await store.update_conversation("check", (8, 8), "A")
    await store.update_conversation("check", (8, 8), None)
    await store.update_callback_data(([("id", 1.5, {"k": "v"})], {"q": "id"}))
    await store.flush()

    again = SqlitePersistence(path)
    assert await again.get_user_data() == {7: {"chats": {"7": {"phase": "question", "answers": {"a.b": True}}}}}
    assert await again.get_chat_data() == {-5: {"x": 1}}
    assert await again.get_bot_data() == {"y": [1, 2]}
    assert await again.get_conversations("check") == {(7, 7): "YEAR"}
    assert await again.get_callback_data() == ([("id", 1.5, {"k": "v"})], {"q": "id"})
    await again.drop_user_data(7)
    await again.drop_chat_data(-5)
    assert await again.get_user_data() == {} and await again.get_chat_data() == {}
    await again.flush()


async def test_persistence_refuses_what_json_cannot_hold(tmp_path):
    store = SqlitePersistence(tmp_path / "state.sqlite3")
    with pytest.raises(TypeError):
        await store.update_user_data(1, {"when": object()})
    await store.flush()


@pytest.mark.parametrize("base, files", [
    ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot"),
    ("http://127.0.0.1:8081/bot/", "http://127.0.0.1:8081/file/bot"),
])
def test_file_url_follows_the_bot_api_server(base, files):
    assert file_url_for(base) == files


def test_webhook_options_use_the_configured_secret_or_make_one(tmp_path):
    given = Settings(_env_file=None, zhibu_home=tmp_path, zhibu_webhook_url="https://zhibu.example.org/tg/hook",
                     zhibu_webhook_secret="s3cret_-token", zhibu_webhook_port=8443)
    assert webhook_options(given) == {"listen": "0.0.0.0", "port": 8443, "url_path": "tg/hook",
                                      "webhook_url": "https://zhibu.example.org/tg/hook", "secret_token": "s3cret_-token"}
    made = webhook_options(given.model_copy(update={"zhibu_webhook_secret": None}))["secret_token"]
    assert len(made) >= 32 and made.replace("-", "").replace("_", "").isalnum()


@pytest.mark.parametrize("typed, domain", [
    ("社区党支部", "community"), ("嘎查村党支部", "gacha_village"), ("村", "gacha_village"), ("嘎查", "gacha_village"),
    ("国企", "state_enterprise"), ("离退休干部职工党支部", "retired_staff"), ("高校党支部", "university"),
    (" 社区 ", "community"), ("school", "school"), ("火星", None), ("企业", None), ("", None),
])
def test_domain_from_everyday_words(typed, domain):
    assert match_domain(typed) == domain


@pytest.mark.parametrize("typed, year", [
    ("今年", 2026), ("去年", 2025), ("前年", 2024), ("2023", 2023), ("2023年度", 2023), ("2021年", 2021),
    ("1999", None), ("2027", None), ("明年", None), ("20233", None), ("-1", None),
])
def test_year_from_everyday_words(typed, year):
    assert parse_year(typed, date(2026, 11, 30)) == year


@pytest.mark.parametrize("typed, number", [
    ("修改第3题", 3), ("改第十二题的答案", 12), ("修改第两题", 2), ("修改 第 21 题。", 21), ("更正第5项", 5),
    ("修改", None), ("第3题", None), ("修改第题", None),
])
def test_change_request(typed, number):
    assert change_request(typed) == number


def test_report_pieces_cut_only_between_sections_and_lose_nothing():
    sections = [f"{n}、" + "说明文字。" * 60 for n in range(8)]
    report = "\n\n".join(sections)
    pieces = report_pieces(report, limit=700)
    assert len(pieces) > 1 and "\n\n".join(pieces) == report
    assert all(piece.split("\n\n")[0] in sections for piece in pieces)  # every piece starts a section
    assert report_pieces("短结论") == ["短结论"]


def test_terminal_numbers_answer_the_step_whatever_else_is_on_screen(tmp_path):
    sources = Reply("回答……\n出处：[1] [2]", ((Button("查看原文 [1]", "src|a"), Button("查看原文 [2]", "src|b")),))
    question = Reply("第 2 题\n是否被列为软弱涣散党支部？", (
        (Button("是", "ans|1|yes", choice=True), Button("否", "ans|1|no", choice=True)),
        (Button("为什么问这个", "why|1"),)))
    chat = TerminalChat(dialogue=None, out=io.StringIO(), save_dir=tmp_path)
    chat.show([sources, question])
    screen = chat._out.getvalue()
    assert "a) 查看原文 [1]" in screen and "1) 是   2) 否" in screen and "c) 为什么问这个" in screen
    assert chat.event_for("2") == Event(button="ans|1|no")  # 否, not the second source
    assert chat.event_for("b") == Event(button="src|b") and chat.event_for("否") == Event(button="ans|1|no")
    assert chat.event_for("3") == Event(text="3")  # no third choice: typed text
    assert chat.event_for("check") == Event(command="check")
