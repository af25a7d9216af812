"""What the `zhibu` process leaves on disk is its user's alone: $ZHIBU_HOME 0700, every file in it 0600,
whatever the user's umask; a home left open by an older version is closed. A report the user asks for
by name keeps the mode their own umask gives."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tests.conftest import run_zhibu

pytestmark = pytest.mark.slow


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # the usual desktop umask: files 0644, folders 0755
    yield
    os.umask(previous)


def loose_modes(home: Path) -> list[str]:
    return [f"{path.relative_to(home)} {oct(path.stat().st_mode & 0o777)}"
            for path in [home, *home.rglob("*")] if path.stat().st_mode & 0o077]


def test_a_new_knowledge_base_is_private(tmp_path, open_umask):
    home = tmp_path / "data" / "zhibu"
    home.parent.mkdir()
    result = run_zhibu("ingest", home=home, env={"ZHIBU_EMBEDDING": "none"})
    assert result.returncode == 0, result.stderr
    assert (home / "kb" / "active.json").is_file()
    assert loose_modes(home) == []


def test_a_home_left_open_by_an_older_version_is_closed(tmp_path, open_umask):
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True, mode=0o755)
    home.chmod(0o755)
    result = run_zhibu("ask", "最强党支部多长时间评定一次？", home=home, env={"ZHIBU_EMBEDDING": "none"})
    assert result.returncode == 0, result.stderr
    assert oct(home.stat().st_mode & 0o777) == "0o700"


def test_a_requested_report_keeps_the_users_umask(tmp_path, open_umask):
    path = tmp_path / "b.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["domain", "year", "name"], ["community", "2024", "新华社区党支部"]])
    out = tmp_path / "report.xlsx"
    result = run_zhibu("batch", str(path), "--out", str(out), home=tmp_path / "home")
    assert result.returncode == 0, result.stderr
    assert oct(out.stat().st_mode & 0o777) == oct(out.with_suffix(".png").stat().st_mode & 0o777) == "0o644"


def test_check_closes_an_open_home_and_an_open_admin_log(tmp_path, open_umask):
    """`zhibu check` never loads the settings; it closes a home and an admin log an older version left open."""
    home = tmp_path / "home"
    (home / "logs").mkdir(parents=True, mode=0o755)
    home.chmod(0o755)
    (home / "logs" / "admin.log").write_text("{}\n", encoding="utf-8")
    (home / "logs" / "admin.log").chmod(0o644)
    result = run_zhibu("check", "--template", "嘎查村", home=home)
    assert result.returncode == 0, result.stderr
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    assert oct((home / "logs" / "admin.log").stat().st_mode & 0o777) == "0o600"
