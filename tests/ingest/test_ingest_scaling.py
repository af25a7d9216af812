"""Cleaning and splitting grow linearly with the text, and a document is cleaned once.

Work is counted, not timed: every character a module-level regex of `ingest.clean` / `ingest.split`
scans plus every function call, Python or built-in (a hash is one). Doubling the input must about double the work.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import ingest.clean
import ingest.documents
import ingest.loaders
import ingest.split
from ingest.clean import clean_text
from ingest.documents import DocumentMeta, prepare_document
from ingest.split import split_document

_LINEAR = 2.3  # work(2n) / work(n); quadratic code gives about 4
_META = DocumentMeta("probe", "探测文件", "探测", "", "", "", "probe.txt")


class _CountingPattern:
    """A compiled pattern that adds the length of every string it is asked to scan to a meter."""

    def __init__(self, pattern: re.Pattern, meter: list[int]) -> None:
        self._pattern, self._meter = pattern, meter

    def __getattr__(self, name):
        method = getattr(self._pattern, name)
        if not callable(method):
            return method

        def counted(*args, **kwargs):
            self._meter[0] += sum(len(a) for a in args if isinstance(a, str))
            return method(*args, **kwargs)

        return counted


def _work(monkeypatch, run, text: str) -> int:
    meter = [0]
    with monkeypatch.context() as patch:
        for module in (ingest.clean, ingest.split):
            for name, value in vars(module).items():
                if isinstance(value, re.Pattern):
                    patch.setattr(module, name, _CountingPattern(value, meter))

        def profile(frame, event, arg):
            if event in ("call", "c_call"):
                meter[0] += 1

        sys.setprofile(profile)
        try:
            run(text)
        finally:
            sys.setprofile(None)
    return meter[0]


def _growth(monkeypatch, run, make) -> float:
    return _work(monkeypatch, run, make(2)) / _work(monkeypatch, run, make(1))


def _short_lines(scale: int) -> str:
    # Wrapped-looking lines with no sentence end: before the fix, one paragraph grew and was re-scanned per line.
    return "\n".join(f"党支部工作第{n:05d}项安排部署组织动员落实" for n in range(4000 * scale))


def _unpunctuated(scale: int) -> str:
    return "一、总体要求\n" + "党员教育管理组织生活按季度检查落实" * (6000 * scale)


def _prose(scale: int) -> str:
    sections = [f"{n}、第{n}项规定\n" + "党员教育管理和组织生活按季度检查落实，支部书记负责。" * 30 for n in range(1, 40 * scale)]
    return "关于基层党建工作的补充规定\n" + "\n".join(sections)


@pytest.mark.parametrize("make", [_short_lines, _unpunctuated, _prose], ids=["short-lines", "unpunctuated", "prose"])
def test_cleaning_grows_linearly(monkeypatch, make):
    assert _growth(monkeypatch, clean_text, make) <= _LINEAR


@pytest.mark.parametrize("make", [_short_lines, _unpunctuated, _prose], ids=["short-lines", "unpunctuated", "prose"])
def test_splitting_grows_linearly(monkeypatch, make):
    cleaned = {scale: clean_text(make(scale)) for scale in (1, 2)}
    assert _growth(monkeypatch, lambda text: split_document(text, _META), cleaned.__getitem__) <= _LINEAR


def test_many_distribution_notes_split_linearly(monkeypatch):
    def notes(scale: int) -> str:
        return "关于开展工作的通知\n" + "\n".join(f"〔此件发至第{n}支部〕" for n in range(3000 * scale))

    assert _growth(monkeypatch, lambda text: split_document(text, _META), notes) <= _LINEAR


def _one_paragraph_repeated(scale: int) -> str:
    # Every passage the same text under the same heading: each one's id was found by hashing past all
    # the earlier ones (4,000 repeats: 8 s of CPU; quadratic).
    return "关于开展工作的通知\n一、总体要求\n" + "\n".join(["党员教育管理和组织生活按季度检查落实，支部书记负责。" * 12] * (500 * scale))


def _one_long_line(scale: int) -> str:
    return "关于开展工作的通知\n" + "党员教育管理组织生活按季度检查落实" * (3000 * scale)


@pytest.mark.parametrize("make", [_one_paragraph_repeated, _one_long_line], ids=["paragraph-repeated", "long-line"])
def test_repeated_passages_split_linearly(monkeypatch, make):
    cleaned = {scale: clean_text(make(scale)) for scale in (1, 2)}
    assert _growth(monkeypatch, lambda text: split_document(text, _META), cleaned.__getitem__) <= _LINEAR


def test_a_document_is_cleaned_once(monkeypatch, tmp_path: Path):
    calls = []

    def counting_clean(text: str) -> str:
        calls.append(len(text))
        return clean_text(text)

    for module in (ingest.documents, ingest.loaders):
        if hasattr(module, "clean_text"):
            monkeypatch.setattr(module, "clean_text", counting_clean)
    path = tmp_path / "notice.txt"
    path.write_text("关于开展工作的通知\n一、总体要求\n各党支部要按要求落实。", encoding="utf-8")
    assert prepare_document(path).chunks
    assert len(calls) == 1
