"""Fixtures for the console and records tests: a prebuilt keyword-only knowledge base copied per test, a
real PostgreSQL server started from the system packages, the console served by uvicorn on a free port,
and the system Chromium driven by Playwright (never `playwright install`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import private_copy
from zhibu.settings import Settings, get_settings

# The Telegram harness of tests/bot imports its siblings by their bare names.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bot"))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL = "http://localhost"  # a host name the console answers to by default (ZHIBU_CONSOLE_HOSTS)
ADMIN, VIEWER, PASSWORD = "管理员甲", "查看员乙", "correct horse 2026"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def home(tmp_path, keyword_kb_template) -> Path:
    return private_copy(keyword_kb_template, tmp_path)


@pytest.fixture
def settings(home, monkeypatch) -> Settings:
    """Settings through the environment, as `zhibu console` reads them (the evaluator reads ZHIBU_HOME too)."""
    monkeypatch.setenv("ZHIBU_HOME", str(home))
    monkeypatch.setenv("ZHIBU_EMBEDDING", "none")
    monkeypatch.delenv("ZHIBU_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


# ---- PostgreSQL -----------------------------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


@pytest.fixture(scope="session")
def postgres_url():
    """postgresql+psycopg URL of a throw-away server (initdb in a temp dir, 127.0.0.1, a free port)."""
    binaries = _pg_bin()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; scripts/test.sh does it as root)")
    owner = "postgres" if os.geteuid() == 0 else None  # the server refuses to run as root
    if owner and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as another user")
    data = Path(tempfile.mkdtemp(prefix="zhibu-pg-"))
    if owner:
        shutil.chown(data, owner)
    port = free_port()
    init = subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data / "db"), "-U", "zhibu", "--auth=trust",
                                     "-E", "UTF8", "--locale=C"], owner), capture_output=True, text=True)
    if init.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"PostgreSQL initdb failed: {init.stderr[-300:]}")
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data / "db"), "-o", options, "-l",
                                      str(data / "log"), "-w", "start"], owner), capture_output=True, text=True)
    if start.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {start.stderr[-300:]}")
    try:
        yield f"postgresql+psycopg://zhibu@127.0.0.1:{port}/postgres"
    finally:
        from records.database import dispose_all

        dispose_all()
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "immediate", "stop"], owner),
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


# ---- the console, served --------------------------------------------------------------------------
def login_page_of(server: subprocess.Popen, port: int):
    """The /login page of a `zhibu console` process on `port`, once it answers (60 s at most)."""
    import httpx

    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/login", timeout=5)
        except httpx.TransportError:
            assert server.poll() is None and time.monotonic() < deadline, "zhibu console did not start"
            time.sleep(0.2)


class ServedConsole:
    """The console as `zhibu console` serves it (console.server.server_config), in a thread."""

    def __init__(self, settings: Settings, forwarded_allow_ips: str | None = None) -> None:
        import uvicorn

        from console.server import server_config

        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = server_config(settings, "127.0.0.1", self.port, forwarded_allow_ips, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ServedConsole":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.05)
        self.wait_until_ready(deadline)
        return self

    def wait_until_ready(self, deadline: float) -> None:
        """The knowledge base is opened in the background at start: tests begin once the console says ready."""
        import httpx

        while not httpx.get(f"{self.url}/status").json()["ready"]:
            if time.monotonic() > deadline:
                raise RuntimeError("the console's knowledge base did not open")
            time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def records(settings):
    from records.store import open_records

    store = open_records(settings)
    store.add_user(ADMIN, PASSWORD, "admin")
    store.add_user(VIEWER, PASSWORD, "viewer")
    return store


@pytest.fixture
def console(settings, records):
    with ServedConsole(settings) as served:
        yield served


@pytest.fixture(scope="module")  # Playwright's sync API holds an event loop open: closed before async tests run
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; scripts/setup.sh does it as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, console):
    context = browser.new_context(base_url=console.url, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # staff confirm removals and roll-backs
    yield page
    context.close()


def log_in(page, name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


# ---- real faults (need root: mount) ----------------------------------------------------------
def _mount(*arguments: str) -> None:
    done = subprocess.run(["mount", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip()[:120]}): the fault needs root")


@contextmanager
def read_only(folder: Path):
    """`folder` read-only for everyone, root included (a bind mount remounted read-only)."""
    _mount("--bind", str(folder), str(folder))
    try:
        _mount("-o", "remount,bind,ro", str(folder))
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@contextmanager
def tiny_disk(folder: Path, size: str = "256k"):
    """An empty tmpfs of `size` mounted on `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)
