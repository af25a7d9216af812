"""The console and the chat when the records store or the disk fails: locked, read-only, down, full. Each
gives a Chinese message and the service goes on. The faults are real: a second SQLite connection holding
the write lock, a read-only bind mount, a PostgreSQL port nobody listens on, a tiny tmpfs (the mounts need
root, as scripts/test.sh runs)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from records.store import open_records
from tests.conftest import ZHIBU, run_zhibu
from tests.console.conftest import ADMIN, LOCAL, PASSWORD, free_port, login_page_of, read_only, tiny_disk
from zhibu.settings import Settings, get_settings

QUESTION = "党员评议优秀比例要达到多少？\n"


def log_in(client: TestClient) -> TestClient:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token})


def test_a_locked_records_database_gives_chinese_and_the_console_goes_on(settings, records):
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        holder = sqlite3.connect(settings.zhibu_home / "records" / "records.sqlite3", isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
        try:
            refused = log_in(client)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503 and "记录库正被其他程序占用" in refused.text and "Traceback" not in refused.text
        assert log_in(client).url.path == "/questions"  # the lock is gone: served again


def test_a_read_only_records_folder_gives_chinese_and_the_chat_still_answers(settings, records):
    folder = settings.zhibu_home / "records"
    with read_only(folder):
        with TestClient(create_app(settings), base_url=LOCAL) as client:
            assert client.get("/login").status_code == 200
            refused = log_in(client)
        assert refused.status_code in (503, 507) and "只读" in refused.text  # the database, or the salt beside it
        chat = run_zhibu("chat", home=settings.zhibu_home, input=QUESTION, env={"ZHIBU_EMBEDDING": "none"})
    assert chat.returncode == 0 and "90%" in chat.stdout
    assert "Traceback" not in chat.stdout + chat.stderr


def test_a_records_database_of_another_version_gives_chinese_and_the_chat_still_answers(tmp_path):
    """A database last written by a Zhibu whose schema revision this one does not know (a newer version, or
    another branch): before, `zhibu chat` died with alembic's traceback at the first question."""
    home = tmp_path / "home"
    (home / "records").mkdir(parents=True)
    database = sqlite3.connect(home / "records" / "records.sqlite3")
    database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
    database.execute("INSERT INTO alembic_version VALUES ('0099_from_a_newer_zhibu')")
    database.commit()
    database.close()
    chat = run_zhibu("chat", home=home, input=QUESTION, env={"ZHIBU_EMBEDDING": "none"})
    assert chat.returncode == 0 and "90%" in chat.stdout
    assert "记录库由另一版本的程序写入" in chat.stdout + chat.stderr and "Traceback" not in chat.stdout + chat.stderr
    with TestClient(create_app(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")), base_url=LOCAL) as client:
        refused = log_in(client)
    assert refused.status_code == 503 and "记录库由另一版本的程序写入" in refused.text


def test_a_full_records_disk_gives_chinese(tmp_path):
    home = tmp_path / "home"
    with tiny_disk(home / "records", "1m"):
        settings = Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")
        open_records(settings).add_user(ADMIN, PASSWORD, "admin")
        with pytest.raises(OSError), (home / "records" / "filler").open("wb") as filler:
            while True:  # until the disk is full
                filler.write(b"x" * 65536)
                filler.flush()
        with TestClient(create_app(settings), base_url=LOCAL) as client:
            refused = log_in(client)
            assert refused.status_code in (503, 507) and "磁盘空间不足" in refused.text  # the database or its salt
            (home / "records" / "filler").unlink()
            assert log_in(client).url.path == "/questions"


def test_a_database_server_that_is_down_gives_chinese_from_the_first_page(settings, monkeypatch):
    monkeypatch.setenv("ZHIBU_DATABASE_URL", f"postgresql://nobody@127.0.0.1:{free_port()}/zhibu")
    get_settings.cache_clear()
    port = free_port()
    server = subprocess.Popen([ZHIBU, "console", "--port", str(port)], stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "ZHIBU_HOME": str(settings.zhibu_home), "ZHIBU_EMBEDDING": "none"})
    try:
        page = login_page_of(server, port)
        assert page.status_code == 200 and "登录管理台" in page.text
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        refused = client.post("/login", data={"name": ADMIN, "password": PASSWORD, "csrf_token": token})
        assert refused.status_code == 503 and "无法连接数据库服务器" in refused.text
        assert server.poll() is None  # still serving
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=10)
    assert "sqlalche.me" not in errors and "Traceback" not in errors


def test_a_console_upload_on_a_full_disk_says_so_and_changes_nothing(settings, records):
    uploads = settings.zhibu_home / "console" / "uploads"
    with TestClient(create_app(settings), base_url=LOCAL) as client, tiny_disk(uploads, "64k"):
        log_in(client)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/documents").text).group(1)
        text = ("关于数字党建的通知\n一、总体要求\n" + "党支部每月至少开展一次线上主题党日活动。\n" * 4000).encode()
        page = client.post("/documents/upload", data={"csrf_token": csrf},
                           files={"file": ("数字党建.txt", text, "text/plain")})
        assert page.status_code == 200 and "磁盘空间不足" in page.text and "知识库未改动" in page.text
        assert "数字党建" not in page.text.split('id="documents"')[1].split("</table>")[0]


def test_upload_folders_left_by_a_killed_console_are_swept_at_start(settings, records):
    uploads = settings.zhibu_home / "console" / "uploads"
    stale, fresh = uploads / "tmpkilled", uploads / "tmprunning"
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "半截上传.docx").write_bytes(b"PK" * 1000)
    an_hour_and_more = time.time() - 2 * 3600
    os.utime(stale, (an_hour_and_more, an_hour_and_more))
    with TestClient(create_app(settings), base_url=LOCAL):
        pass
    assert not stale.exists() and fresh.exists()  # another console's upload in progress is left alone
