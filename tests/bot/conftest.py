"""Fixtures for the bot tests: a knowledge base built once, a fresh $ZHIBU_HOME per test, the fake
Telegram server, and the real Application long-polling it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot_harness import ADMIN_ID, RunningBot
from tests.conftest import private_copy
from zhibu.settings import Settings, get_settings


@pytest.fixture
def home(tmp_path, keyword_kb_template) -> Path:
    return private_copy(keyword_kb_template, tmp_path)


@pytest.fixture
def settings(home, fake, monkeypatch) -> Settings:
    """The bot's configuration, through the environment as in production."""
    monkeypatch.setenv("ZHIBU_HOME", str(home))
    monkeypatch.setenv("ZHIBU_EMBEDDING", "none")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake.token)
    monkeypatch.setenv("ZHIBU_TELEGRAM_API_URL", fake.base_url)
    monkeypatch.setenv("ZHIBU_ADMINS", str(ADMIN_ID))
    monkeypatch.setenv("ZHIBU_FLOOD_MESSAGES", "1000")  # a test answers far faster than a person; one test lowers it
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
async def bot(settings, fake):
    running = await RunningBot.start(settings, fake)
    yield running
    await running.stop()
    running.assert_no_errors()
