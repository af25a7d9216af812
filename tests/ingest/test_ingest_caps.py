"""Caps on one document: what a .docx/.pdf unpacks to, the text size, the number of passages.

A document over a cap is refused with a Chinese message before anything is parsed further or built.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from ingest.documents import prepare_document
from ingest.loaders import Limits, load_text
from ingest_helpers import write_docx, write_pdf
from zhibu.errors import BadInput

MB = 1024 * 1024
ROOMY = Limits(text_bytes=4 * MB, unpacked_bytes=64 * MB, passages=5000)


def _refused(path: Path, limits: Limits) -> str:
    with pytest.raises(BadInput) as caught:
        prepare_document(path, limits)
    message = str(caught.value)
    assert re.search(r"[\u4e00-\u9fff]", message) and "Traceback" not in message
    return message


def _docx_bomb(path: Path, padding_mb: int) -> Path:
    """A valid .docx whose document.xml carries `padding_mb` MB of whitespace: tiny packed, huge unpacked."""
    plain = write_docx(path.with_name("plain.docx"), ["关于开展工作的通知", "一、总体要求", "各党支部要按要求落实。"])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b" " * (padding_mb * MB), 1)
            bomb.writestr(member, data, zipfile.ZIP_DEFLATED)
    return path


def test_a_docx_that_unpacks_past_the_cap_is_refused_before_parsing(tmp_path, monkeypatch):
    bomb = _docx_bomb(tmp_path / "bomb.docx", padding_mb=40)
    assert bomb.stat().st_size < MB
    parsed = []
    import docx

    monkeypatch.setattr(docx, "Document", lambda *args, **kwargs: parsed.append(args) or pytest.fail("parsed"))
    message = _refused(bomb, Limits(text_bytes=4 * MB, unpacked_bytes=16 * MB, passages=5000))
    assert "解压后超过 16 MB" in message and not parsed


def test_a_docx_under_the_cap_still_loads(tmp_path):
    bomb = _docx_bomb(tmp_path / "padded.docx", padding_mb=2)
    assert "各党支部要按要求落实" in load_text(bomb, ROOMY)


def test_a_text_file_over_the_text_cap_is_refused_unread(tmp_path, monkeypatch):
    path = tmp_path / "long.txt"
    path.write_text("党员教育管理和组织生活按季度检查落实。\n" * 60_000, encoding="utf-8")  # about 3.4 MB
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read a file over the cap"))
    assert "文件文字太多" in _refused(path, Limits(text_bytes=2 * MB, unpacked_bytes=64 * MB, passages=5000))


def test_a_pdf_over_the_text_cap_is_refused(tmp_path, cjk_font):
    lines = ["党员教育管理和组织生活按季度检查落实，支部书记负责。"] * 400
    pdf = write_pdf(tmp_path / "long.pdf", lines, cjk_font)
    assert "文件文字太多" in _refused(pdf, Limits(text_bytes=8 * 1024, unpacked_bytes=64 * MB, passages=5000))
    assert "解压后超过" in _refused(pdf, Limits(text_bytes=4 * MB, unpacked_bytes=4 * 1024, passages=5000))
    assert prepare_document(pdf, ROOMY).chunks


def test_a_document_with_too_many_passages_is_refused(tmp_path):
    path = tmp_path / "many.txt"
    sections = [f"{n}、第{n}项规定\n" + "党员教育管理和组织生活按季度检查落实，支部书记负责。" * 12 for n in range(1, 41)]
    path.write_text("关于基层党建工作的补充规定\n" + "\n".join(sections), encoding="utf-8")
    assert len(prepare_document(path, ROOMY).chunks) > 30
    assert "分段太多" in _refused(path, Limits(text_bytes=4 * MB, unpacked_bytes=64 * MB, passages=30))


def test_caps_come_from_the_settings(monkeypatch):
    from zhibu.settings import Settings

    monkeypatch.setenv("ZHIBU_MAX_TEXT_MB", "0.5")
    monkeypatch.setenv("ZHIBU_MAX_UNPACKED_MB", "8")
    monkeypatch.setenv("ZHIBU_MAX_PASSAGES_PER_DOC", "100")
    assert Limits.from_settings(Settings(_env_file=None)) == Limits(MB // 2, 8 * MB, 100)
