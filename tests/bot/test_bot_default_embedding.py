"""One test on the default configuration: the bundled e5-small embeddings behind the Telegram Q&A."""

from __future__ import annotations

from bot_harness import RunningBot
from fake_telegram import buttons_of

from zhibu.settings import get_settings


async def test_question_with_the_default_embedding_model(kb_home, fake, monkeypatch):
    monkeypatch.delenv("ZHIBU_EMBEDDING", raising=False)
    monkeypatch.setenv("ZHIBU_HOME", str(kb_home))  # the session's knowledge base built with e5-small
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("ZHIBU_TELEGRAM_API_URL", fake.base_url)
    get_settings.cache_clear()
    settings = get_settings()
    assert settings.zhibu_embedding == "e5-small"
    running = await RunningBot.start(settings, fake)
    try:
        answer = await running.person(2201).say("被评上最强党支部的，党员里面评优秀的得占多大比例？", expect="出处")
        assert "90%" in answer["text"] and buttons_of(answer)
    finally:
        await running.stop()
        get_settings.cache_clear()
    running.assert_no_errors()
