"""A damaged `kb/active.json` — garbage, empty, a list, a generation that is not on disk, a path — never
stops an answer: the newest complete generation serves, the log says so (in Chinese, once), and the
next ingest writes a good pointer without sweeping the generation that served."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import run_zhibu

KEYWORD_ONLY = {"ZHIBU_EMBEDDING": "none"}
QUESTION = "最强党支部多长时间评定一次？"


@pytest.fixture(scope="module")
def keyword_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("kb") / "home"
    result = run_zhibu("ingest", home=home, env=KEYWORD_ONLY)
    assert result.returncode == 0, result.stderr
    return home


@pytest.fixture
def home(keyword_home, tmp_path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(keyword_home, copy)
    return copy


def _serving(home: Path) -> str:
    return json.loads((home / "kb" / "active.json").read_text(encoding="utf-8"))["generation"]


DAMAGED = {
    "garbage": b"{\"generation\": \"g2026",
    "empty": b"",
    "a list": b"[\"g20260101000000abcdef\"]",
    "a generation not on disk": b"{\"generation\": \"g20200101000000abcdef\", \"history\": []}",
    "a path": b"{\"generation\": \"../../etc\", \"history\": [\"../../../tmp\"]}",
    "not UTF-8": b"\xff\xfe\x00garbage",
}


@pytest.mark.parametrize("content", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_pointer_falls_back_to_the_newest_complete_generation(home, content):
    serving = _serving(home)
    (home / "kb" / "active.json").write_bytes(content)
    result = run_zhibu("ask", QUESTION, "--json", home=home, env=KEYWORD_ONLY)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "kb/active.json 已损坏或指向不存在的版本" in result.stderr and serving in result.stderr
    answer = json.loads(result.stdout)
    assert any("每年评定一次" in citation["text"] for citation in answer["citations"])


def test_the_next_ingest_repairs_the_pointer_and_keeps_the_serving_generation(home, tmp_path):
    serving = _serving(home)
    (home / "kb" / "active.json").write_text("[]", encoding="utf-8")
    document = tmp_path / "notice.txt"
    document.write_text("关于党员教育的补充通知\n一、学习要求\n党员每月参加一次集中学习。", encoding="utf-8")
    result = run_zhibu("ingest", str(document), home=home, env=KEYWORD_ONLY)
    assert result.returncode == 0, result.stderr
    pointer = json.loads((home / "kb" / "active.json").read_text(encoding="utf-8"))
    assert pointer["history"] == [serving]
    assert sorted(p.name for p in (home / "kb" / "generations").iterdir()) == sorted([serving, pointer["generation"]])


def test_a_damaged_pointer_and_no_generation_builds_the_shipped_corpus(tmp_path):
    home = tmp_path / "home"
    (home / "kb").mkdir(parents=True)
    (home / "kb" / "active.json").write_text("garbage", encoding="utf-8")
    result = run_zhibu("ask", QUESTION, "--json", home=home, env=KEYWORD_ONLY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["citations"]
