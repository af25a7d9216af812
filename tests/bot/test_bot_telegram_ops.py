"""Operations through the real Application: admins, the flood limit, the error handler, webhook mode."""

from __future__ import annotations

import json

import aiohttp
import pytest
from bot_harness import ADMIN_ID, RunningBot
from fake_telegram import FakeTelegram, buttons_of

from bot.admin import REFUSED
from bot.telegram_app import APOLOGY, FLOOD_WARNING, build_application, webhook_options
from zhibu.errors import BadInput
from zhibu.settings import Settings, get_settings

NOTICE = """关于嘎查村牧民夜校建设的补充通知

一、总体要求
各嘎查村党支部要办好牧民夜校，每月至少开课两次，由第一书记讲授惠牧政策。
"""


def audit_lines(settings: Settings) -> list[dict]:
    path = settings.zhibu_home / "logs" / "admin.log"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def test_admin_uploads_lists_asks_and_removes_a_document(bot, settings):
    admin = bot.person(ADMIN_ID)
    fake = bot.fake
    mark = fake.last_message_id
    await fake.send_document(ADMIN_ID, "../../牧民夜校/notice-2026.txt", NOTICE.encode("utf-8"), "text/plain")
    report = await fake.reply(ADMIN_ID, after=mark)
    assert report["text"].startswith("知识库已更新：新增 1 篇（notice-2026）")
    assert fake.calls_of("getFile")
    # The upload went to a temporary folder under $ZHIBU_HOME, under our name, and is gone afterwards.
    uploads = settings.zhibu_home / "bot" / "uploads"
    assert uploads.is_dir() and not any(uploads.iterdir())

    listing = await admin.say("/docs", expect="知识库共有")
    assert "知识库共有 4 份文件" in listing["text"] and "notice-2026" in listing["text"]

    answer = await admin.say("牧民夜校每月至少开课几次？", expect="出处")
    assert "两次" in answer["text"]

    mark = fake.last_message_id  # the same file name again, with new text: it replaces the document
    await fake.send_document(ADMIN_ID, "notice-2026.txt", NOTICE.replace("两次", "三次").encode("utf-8"), "text/plain")
    assert "替换 1 篇（notice-2026）" in (await fake.reply(ADMIN_ID, after=mark))["text"]
    assert "三次" in (await admin.say("牧民夜校每月至少开课几次？", expect="出处"))["text"]

    removed = await admin.say("/remove notice-2026")
    assert "删除 1 篇（notice-2026）" in removed["text"]
    listing = await admin.say("/docs", expect="知识库共有")
    assert "知识库共有 3 份文件" in listing["text"]

    actions = [(line["action"], line["outcome"]) for line in audit_lines(settings)]
    assert actions == [("upload", "ok"), ("docs", "ok"), ("upload", "ok"), ("remove", "ok"), ("docs", "ok")]


async def test_sources_of_a_document_with_a_long_id_still_open(bot):
    """Telegram caps button data at 64 bytes; a long document id's chunk ids are kept in the user's state."""
    admin = bot.person(ADMIN_ID)
    name = "zhibu-supplementary-notice-on-herdsmen-night-schools-2026.txt"
    mark = bot.fake.last_message_id
    await bot.fake.send_document(ADMIN_ID, name, NOTICE.encode("utf-8"), "text/plain")
    assert "新增 1 篇" in (await bot.fake.reply(ADMIN_ID, after=mark))["text"]
    answer = await admin.say("牧民夜校每月至少开课几次？", expect="出处")
    data = dict(buttons_of(answer))["查看原文 [1]"]
    assert data.startswith("srh|") and len(data.encode()) <= 64
    passage = await admin.press(answer, "查看原文 [1]", expect="牧民夜校")
    assert "第一书记" in passage["text"]


async def test_admin_reload_and_bad_uploads(bot, settings):
    admin = bot.person(ADMIN_ID)
    fake = bot.fake
    reloaded = await admin.say("/reload")
    assert reloaded["text"] and "Traceback" not in reloaded["text"]

    mark = fake.last_message_id
    await fake.send_document(ADMIN_ID, "tool.exe", b"MZ...", "application/octet-stream")
    assert "只支持" in (await fake.reply(ADMIN_ID, after=mark))["text"]

    mark = fake.last_message_id
    await fake.send_document(ADMIN_ID, "huge.pdf", b"%PDF-1.4", "application/pdf",
                             announced_size=(settings.zhibu_max_upload_mb + 1) * 1024 * 1024)
    assert "文件太大" in (await fake.reply(ADMIN_ID, after=mark))["text"]
    assert not fake.calls_of("getFile")  # refused before anything was downloaded

    mark = fake.last_message_id
    await fake.send_document(ADMIN_ID, "broken.pdf", b"this is not a pdf", "application/pdf")
    rejected = await fake.reply(ADMIN_ID, after=mark)
    assert rejected["text"].startswith("未完成：") and "Traceback" not in rejected["text"]

    assert "/remove 文件编号" in (await admin.say("/remove"))["text"]
    outcomes = [(line["action"], line["outcome"]) for line in audit_lines(settings)]
    assert outcomes == [("reload", "ok"), ("upload", "rejected"), ("upload", "rejected"), ("upload", "rejected"),
                        ("remove", "rejected")]


async def test_non_admins_are_refused_politely_and_audited(bot, settings):
    eve = bot.person(3001)
    for command in ("/reload", "/docs", "/remove work-guide-2020"):
        assert (await eve.say(command))["text"] == REFUSED
    mark = bot.fake.last_message_id
    await bot.fake.send_document(eve.user_id, "evil.txt", "恶意内容".encode("utf-8"), "text/plain")
    assert (await bot.fake.reply(eve.user_id, after=mark))["text"] == REFUSED
    assert not bot.fake.calls_of("getFile")
    refused = audit_lines(settings)
    assert [(line["user"], line["action"], line["outcome"]) for line in refused] == [
        (3001, "reload", "refused"), (3001, "docs", "refused"), (3001, "remove", "refused"),
        (3001, "upload", "refused")]
    listing = await bot.person(ADMIN_ID).say("/docs", expect="知识库共有")
    assert "知识库共有 3 份文件" in listing["text"]


async def test_flood_gets_one_polite_warning_then_silence(settings, fake, monkeypatch):
    monkeypatch.setenv("ZHIBU_FLOOD_MESSAGES", "5")
    get_settings.cache_clear()
    running = await RunningBot.start(get_settings(), fake)
    try:
        mark = fake.last_message_id
        for n in range(12):
            await fake.send_text(4001, f"/nosuchcommand{n}")
        await fake.settle()
        sent = [m["text"] for m in fake.bot_messages(4001) if m["message_id"] > mark]
        assert sent.count(FLOOD_WARNING) == 1
        assert len(sent) == 6  # five answers, one warning, the rest ignored
        other = await running.person(4002).say("/nosuchcommand")  # other users are served meanwhile
        assert "/help" in other["text"]
    finally:
        await running.stop()
    running.assert_no_errors()


async def test_error_handler_apologises_to_the_user_and_sends_the_trace_to_admins(bot):
    bot.fake.fail_next("sendMessage", 400, "Bad Request: injected failure")
    mark = bot.fake.last_message_id
    await bot.fake.send_text(5001, "/help")
    apology = await bot.fake.reply(5001, APOLOGY, after=mark)
    assert "Traceback" not in apology["text"]
    trace = await bot.fake.reply(ADMIN_ID, "Traceback", after=mark)
    assert "injected failure" in trace["text"].lower() and "5001" in trace["text"]
    errors = await bot.wait_for_errors(1)
    assert "injected failure" in str(errors[0]).lower()
    bot.errors.clear()


async def test_without_a_token_the_bot_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    with pytest.raises(BadInput, match="TELEGRAM_BOT_TOKEN"):
        build_application(Settings(_env_file=None, zhibu_home=tmp_path))


async def test_webhook_mode_registers_the_url_with_its_secret_and_checks_it(settings, fake, unused_tcp_port):
    url = f"http://127.0.0.1:{unused_tcp_port}/zhibu-hook"
    hooked = settings.model_copy(update={"zhibu_webhook_url": url, "zhibu_webhook_listen": "127.0.0.1",
                                         "zhibu_webhook_port": unused_tcp_port})
    options = webhook_options(hooked)
    app = build_application(hooked)
    await app.initialize()
    await app.start()
    await app.updater.start_webhook(**options)
    try:
        registered = fake.calls_of("setWebhook")[-1].params
        assert registered["url"] == url and registered["secret_token"] == options["secret_token"]
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/help",
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                                              "chat": FakeTelegram.private_chat(6001), "from": FakeTelegram.user(6001)}}
        async with aiohttp.ClientSession() as http:
            forged = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status == 403
            real = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": options["secret_token"]})
            assert real.status == 200
        assert "/check" in (await fake.reply(6001))["text"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
