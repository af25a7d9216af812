"""Hostile documents given to `zhibu ingest`: a PDF that unpacks to megabytes of text from 2 KB, a
DOCX that takes too long to read, metadata sidecars with YAML alias bombs or impossible dates. Each is
refused with one Chinese message (exit status 2, no traceback) while extraction is still cheap, and
the knowledge base stays as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.documents import prepare_document
from ingest.loaders import MAX_XOBJECTS_DRAWN, Limits
from ingest_helpers import raw_text, write_docx, write_form_fanout_pdf
from tests.conftest import run_zhibu
from zhibu.errors import BadInput

MB = 1024 * 1024
HAN = re.compile(r"[\u4e00-\u9fff]")


def ingest(tmp_path: Path, *paths: Path):
    """The real command, keyword-only, without the shipped corpus; a hang fails as TimeoutExpired."""
    return run_zhibu("ingest", "--no-corpus", *map(str, paths), home=tmp_path / "home",
                     env={"ZHIBU_EMBEDDING": "none"}, timeout=120)


def refused(result, *words: str) -> str:
    message = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, message[-2000:])
    assert "Traceback" not in message and HAN.search(message) and len(message) < 400, message[-2000:]
    for word in words:
        assert word in message, message
    return message


def test_a_pdf_drawing_one_form_20000_times_is_refused_while_cheap(tmp_path):
    """2 KB that pypdf would turn into 9 MB of text: stopped at the XObject budget, not after a page."""
    bomb = write_form_fanout_pdf(tmp_path / "bomb.pdf", pages=4, draws=5000)
    assert bomb.stat().st_size < 4096
    refused(ingest(tmp_path, bomb), "bomb.pdf", str(MAX_XOBJECTS_DRAWN))
    assert not (tmp_path / "home" / "kb" / "active.json").exists()


def test_a_pdf_past_the_text_cap_stops_inside_the_first_page(tmp_path):
    """Under the XObject budget but past the text cap: refused as the text is produced, page 1 unfinished."""
    bomb = write_form_fanout_pdf(tmp_path / "wordy.pdf", pages=1, draws=MAX_XOBJECTS_DRAWN)
    with pytest.raises(BadInput, match="文件文字太多"):
        prepare_document(bomb, Limits(text_bytes=100_000, unpacked_bytes=64 * MB, passages=5000))


def test_a_docx_that_takes_too_long_to_read_is_stopped(tmp_path):
    slow = write_docx(tmp_path / "long.docx", ["关于开展工作的通知"] + ["各党支部要按要求落实。"] * 3000)
    with pytest.raises(BadInput, match="超过 0.001 秒"):
        prepare_document(slow, Limits(text_bytes=4 * MB, unpacked_bytes=64 * MB, passages=5000, extract_seconds=0.001))


def _document_with_sidecar(tmp_path: Path, sidecar: str) -> Path:
    path = tmp_path / "plan.txt"
    path.write_text(raw_text("plan-2020-04"), encoding="utf-8")
    (tmp_path / "plan.yaml").write_text(sidecar, encoding="utf-8")
    return path


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["哈哈哈哈哈哈哈哈"' + ', "哈哈哈哈哈哈哈哈"' * 8 + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines) + f"\ntitle: *l{levels - 1}\n"


def test_a_sidecar_alias_bomb_is_refused(tmp_path):
    """Read with safe_load it expanded to 9⁹ strings and hung the ingest for minutes."""
    path = _document_with_sidecar(tmp_path, billion_laughs())
    refused(ingest(tmp_path, path), "plan.yaml", "别名")


@pytest.mark.parametrize("date", ["2020-02-30", "2020-13-01"])
def test_a_sidecar_with_an_impossible_date_is_refused(tmp_path, date):
    path = _document_with_sidecar(tmp_path, f"title: 工作方案\ndate: {date}\n")
    refused(ingest(tmp_path, path), "plan.yaml", "日期")


def test_a_sidecar_nested_too_deep_is_refused(tmp_path):
    path = _document_with_sidecar(tmp_path, "title: " + "[" * 100_000 + "]" * 100_000 + "\n")
    refused(ingest(tmp_path, path), "plan.yaml")


def test_a_sidecar_with_a_quoted_date_is_read(tmp_path):
    path = _document_with_sidecar(tmp_path, "short_title: 方案\ndate: '2020-03-04'\n")
    assert prepare_document(path).meta.date == "2020-03-04"
