"""Fixtures for the web chat: the app served by uvicorn on 127.0.0.1 with a real knowledge base (keyword only)
and records store, invitations made through the store, and the system Chromium at phone size (390×844)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.console.conftest import ADMIN, PASSWORD, browser, free_port, home, postgres_url  # noqa: F401 (fixtures)
from zhibu.settings import Settings, get_settings

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def settings(home, monkeypatch) -> Settings:
    """As `zhibu web` reads them, with a flood limit no test reaches by accident (one test sets its own)."""
    monkeypatch.setenv("ZHIBU_HOME", str(home))
    monkeypatch.setenv("ZHIBU_EMBEDDING", "none")
    monkeypatch.setenv("ZHIBU_FLOOD_MESSAGES", "1000")
    monkeypatch.delenv("ZHIBU_DATABASE_URL", raising=False)
    monkeypatch.delenv("ZHIBU_WEB_OPEN", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


class Served:
    """An ASGI app served by uvicorn in a thread on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "Served":
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def web(settings):
    from webchat.app import create_app

    with Served(create_app(settings)) as served:
        yield served


@pytest.fixture
def store(settings):
    from webchat.store import WebStore

    return WebStore(settings)


@pytest.fixture
def phone(browser, web):
    context = browser.new_context(base_url=web.url, locale="zh-CN", viewport=PHONE, accept_downloads=True,
                                  is_mobile=True, has_touch=True)
    context.on("page", lambda opened: opened.on("dialog", lambda dialog: dialog.accept()))
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def enter(page, code: str) -> None:
    """Open an invitation link and press 进入, as a secretary does once."""
    page.goto(f"/i/{code}")
    page.click("button:has-text('进入')")
    page.wait_for_selector("#say textarea")
