"""The bot token never leaves the process: not in a log line, a traceback, an httpx request line or the
trace sent to admins; a token Telegram rejects stops `zhibu bot` with one Chinese line. The bot's state
files are its user's alone. Run against the FAKE Telegram server (tests/bot/fake_telegram.py)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from bot_harness import ADMIN_ID

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape of a real token's secret half
REJECTED = f"987654321:{SECRET}"


async def run_bot(fake, home: Path, token: str, env: dict | None = None) -> asyncio.subprocess.Process:
    environment = {**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "none", "TELEGRAM_BOT_TOKEN": token,
                   "ZHIBU_TELEGRAM_API_URL": fake.base_url, "ZHIBU_ADMINS": str(ADMIN_ID), **(env or {})}
    return await asyncio.create_subprocess_exec(ZHIBU, "bot", env=environment, cwd=home.parent,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


@pytest.mark.slow
async def test_a_rejected_token_gives_one_chinese_line_and_exit_2(fake, tmp_path):
    bot = await run_bot(fake, tmp_path / "home", REJECTED)
    stdout, stderr = await asyncio.wait_for(bot.communicate(), 120)
    output = (stdout + stderr).decode("utf-8")
    assert bot.returncode == 2, output
    assert SECRET not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and "令牌" in lines[0] and "Traceback" not in output, output


def test_log_records_are_redacted_in_messages_arguments_tracebacks_and_httpx_lines(fake_token_server):
    from bot.telegram_app import TokenRedactor, redact_token_in_logs

    url, token = fake_token_server
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    httpx_logger = logging.getLogger("httpx")
    level = httpx_logger.level
    httpx_logger.setLevel(logging.INFO)
    try:
        redact_token_in_logs(token)
        logging.getLogger("zhibu.test").warning("calling %s/bot%s/getMe", url, token)
        logging.getLogger("zhibu.test").warning(f"secret half alone: {SECRET}")
        try:
            raise RuntimeError(f"The token `{token}` was rejected by the server.")
        except RuntimeError:
            logging.getLogger("zhibu.test").exception("while starting")
        httpx.get(f"{url}/bot{token}/getMe")
    finally:
        for installed in root.handlers:  # pytest's own handlers got the redactor too
            installed.filters = [item for item in installed.filters if not isinstance(item, TokenRedactor)]
        root.removeHandler(handler)
        httpx_logger.setLevel(level)
    logged = stream.getvalue()
    assert SECRET not in logged and token not in logged
    assert "/getMe" in logged and "HTTP Request" in logged and "Traceback" in logged and "RuntimeError" in logged
    assert logged.count("[令牌已隐去]") >= 4


@pytest.fixture
def fake_token_server(unused_tcp_port):
    """A socket that answers every request with 401, as Telegram does for a wrong token."""
    import http.server
    import threading

    class Unauthorized(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(401)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", unused_tcp_port), Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{unused_tcp_port}", REJECTED
    server.shutdown()


async def test_the_trace_sent_to_admins_has_no_token(bot):
    bot.fake.fail_next("sendMessage", 400, f"Bad Request: chat of bot{bot.fake.token} not found")
    mark = bot.fake.last_message_id
    await bot.fake.send_text(5001, "/help")
    trace = await bot.fake.reply(ADMIN_ID, "Traceback", after=mark)
    assert "not found" in trace["text"]
    secret = bot.fake.token.partition(":")[2].lower()  # PTB capitalises error texts: "Chat of bot123456:fake-token"
    assert secret not in trace["text"].lower()
    await bot.wait_for_errors(1)
    bot.errors.clear()


@pytest.mark.slow
async def test_state_files_are_private(fake, tmp_path):
    """A running bot's home is 0700 and its database and admin log 0600, whatever the user's umask."""
    home = tmp_path / "home"
    previous = os.umask(0o022)
    try:
        bot = await run_bot(fake, home, fake.token)
        await fake.wait_for(lambda: fake.calls_of("getUpdates"), timeout=120)
        mark = fake.last_message_id
        await fake.send_text(ADMIN_ID, "/docs")
        await fake.reply(ADMIN_ID, after=mark, timeout=120)
        bot.send_signal(signal.SIGINT)
        await asyncio.wait_for(bot.communicate(), 60)
    finally:
        os.umask(previous)
    assert (home / "logs" / "admin.log").is_file() and (home / "bot" / "state.sqlite3").is_file()
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    loose = [f"{path.relative_to(home)} {oct(path.stat().st_mode & 0o777)}" for path in home.rglob("*")
             if path.stat().st_mode & 0o077]
    assert not loose


def test_an_error_that_stops_the_bot_is_logged_redacted_not_printed_raw(monkeypatch, tmp_path, caplog, capsys):
    """Whatever stops `zhibu bot` goes through the log handlers (and their redactor), not a raw traceback."""
    import bot.telegram_app as telegram_app
    from zhibu.settings import get_settings

    class Stopping:
        post_init = None

        def run_polling(self, **options):
            raise RuntimeError(f"connection to https://api.telegram.org/bot{REJECTED}/getUpdates reset")

    monkeypatch.setenv("ZHIBU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", REJECTED)
    monkeypatch.delenv("ZHIBU_WEBHOOK_URL", raising=False)
    monkeypatch.setattr(telegram_app, "build_application", lambda settings: Stopping())
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stopped:
            telegram_app.run_telegram_bot()
    finally:
        get_settings.cache_clear()
        for handler in logging.getLogger().handlers:
            handler.filters = [item for item in handler.filters if not isinstance(item, telegram_app.TokenRedactor)]
    assert stopped.value.code == 1
    assert "connection to" in caplog.text and "RuntimeError" in caplog.text and SECRET not in caplog.text
    assert SECRET not in "".join(capsys.readouterr())
