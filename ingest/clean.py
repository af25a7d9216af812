"""Undo PDF-extraction artefacts: full-width forms, private-use dots, lines broken mid-phrase.

The output keeps one paragraph (or heading, or title) per line, so the splitter can read the outline.
Extracted text carries no paragraph marks: a paragraph ends where its last line falls short of the
page width, where a line is a heading or a title, or where the next line opens with an outline marker.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

from zhibu.text import normalize_chars, normalize_for_match  # noqa: F401  (re-exported for the ingest stack)

# Whitespace matters only between two ASCII word characters ("Bot API"); elsewhere it is layout.
_LAYOUT_SPACE = re.compile(r"(?<![A-Za-z0-9])[ \t\u3000\xa0]+|[ \t\u3000\xa0]+(?![A-Za-z0-9])")
_PAGE_NOISE = re.compile(r"^(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")
# Outline markers of Chinese official documents: 附件1, 一、, (一), 1. or 1、, (1).
HEADING = re.compile(r"^(?:附件\d+|[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d{1,2}[.、](?!\d)|\(\d{1,2}\))")
# Paragraphs that open an enumeration without being headings: 一是…, 二要…, ———坚持….
_ENUMERATION = re.compile(r"^(?:[一二三四五六七八九十]+[是要]|—{2,})")
# After NFKC only "。" is left full-width.
_SENTENCE_END = tuple(".。!?:;")
_SENTENCE_PUNCTUATION = re.compile(r"[,.。!?:;]")
# Lines that are a paragraph of their own: a signature date, a document number, a distribution note.
_STANDALONE = re.compile(r"^(?:附件\d+|\d{4}年\d{1,2}月\d{1,2}日|\(?[^()]*[〔\[]\d{4}[〕\]]\d+号\)?|〔[^〕]*〕)$")
# Official titles end with the kind of document (文种); a title line ending so is complete.
_TITLE_END = re.compile(r"(?:通知|意见|方案|指南|办法|规定|决定|条例|细则|报告|纲要|规划|清单|标准|要点|通报|函)$")
# "附件:1.…" lists the attachments; its items stay together instead of reading as headings.
_ATTACHMENT_LIST = re.compile(r"^附件[:：]")
_LIST_ITEM = re.compile(r"^\d{1,2}\.")
_OPENING = "«“‘(〔《「"
_CLOSING = "»”’)〕》」"
# A wrapped line is "full"; a paragraph's last line is usually shorter than this share of the width.
_SHORT_LINE_SHARE = 0.8
# A heading line this full may wrap; a shorter one has ended.
_FULL_HEADING_SHARE = 0.88
# Wrapped layout: most lines sit near the page width. Text with real paragraphs (DOCX) does not.
_NEAR_WIDTH = (0.85, 1.15)
_WRAPPED_SHARE = 0.4


_HALF_WIDTH = re.compile(r"[A-Za-z0-9 %]")  # printed half as wide as a Chinese character


class _Line(NamedTuple):
    text: str  # without layout spaces
    width: float  # as printed, in em: ASCII letters and digits are half-width, and so are spaces


def _layout_line(line: str) -> _Line:
    line = line.strip()
    width = len(line) - 0.5 * len(_HALF_WIDTH.findall(line))
    return _Line(_LAYOUT_SPACE.sub("", line), width)


def _typical_width(lines: list[_Line]) -> float:
    widths = sorted(line.width for line in lines)
    return widths[int(len(widths) * 0.75)]


def _is_wrapped(lines: list[_Line], width: float) -> bool:
    low, high = (share * width for share in _NEAR_WIDTH)
    return sum(low <= line.width <= high for line in lines) >= _WRAPPED_SHARE * len(lines)


def _is_title_like(text: str) -> bool:
    """Headings and titles carry no sentence punctuation (brackets, quotes and 、 are fine)."""
    return not _SENTENCE_PUNCTUATION.search(HEADING.sub("", text, count=1))


def _opens_item(text: str) -> bool:
    return bool(HEADING.match(text) or _ENUMERATION.match(text))


class _Paragraph:
    """A paragraph being rebuilt, with what `_Joiner` asks of it kept up to date line by line:
    each question costs the length of the new line, not of the paragraph (linear cleaning)."""

    _HEAD_CHARS = 64  # longer than any outline marker: anchored matches on the head are exact
    _TAIL_CHARS = 8  # longer than any 文种 at the end of a title

    def __init__(self, line: _Line) -> None:
        self.parts = [line.text]
        self.head = line.text[: self._HEAD_CHARS]
        self.tail = line.text[-self._TAIL_CHARS :]
        self._body_punctuated = bool(_SENTENCE_PUNCTUATION.search(line.text, self._HEAD_CHARS))
        self._bracket_balance = _bracket_balance(line.text)

    def add(self, text: str, separator: str = "") -> None:
        missing = self._HEAD_CHARS - len(self.head)
        if missing > 0:
            self.head += (separator + text)[:missing]
        beyond_head = (separator + text)[max(0, missing) :]
        self._body_punctuated = self._body_punctuated or bool(_SENTENCE_PUNCTUATION.search(beyond_head))
        self._bracket_balance += _bracket_balance(text)
        self.tail = (self.tail + separator + text)[-self._TAIL_CHARS :]
        self.parts += [separator, text] if separator else [text]

    @property
    def is_attachment_list(self) -> bool:
        return bool(_ATTACHMENT_LIST.match(self.head))

    @property
    def is_title_like(self) -> bool:
        return not self._body_punctuated and _is_title_like(self.head)

    @property
    def has_open_bracket(self) -> bool:
        return self._bracket_balance > 0

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _bracket_balance(text: str) -> int:
    return sum(text.count(c) for c in _OPENING) - sum(text.count(c) for c in _CLOSING)


class _Joiner:
    """Decides where paragraphs end, given the page width in em."""

    def __init__(self, width: float) -> None:
        self.short = width * _SHORT_LINE_SHARE
        self.full_heading = width * _FULL_HEADING_SHARE

    def breaks(self, paragraph: _Paragraph, last: _Line, line: _Line) -> bool:
        """Does `line` start a new paragraph after `paragraph`, whose last line is `last`?"""
        if _STANDALONE.match(last.text) or _STANDALONE.match(line.text):
            return True
        if paragraph.is_attachment_list:
            return not _LIST_ITEM.match(line.text) and last.width < self.short
        if paragraph.is_title_like:
            return self._ends_title(paragraph, last, line)
        if not last.text.endswith(_SENTENCE_END):
            return False
        # A paragraph's last line ends a sentence, and so may a full line inside it: look at the next one.
        return last.width < self.short or _opens_item(line.text) or self._is_short_title(line)

    def _is_short_title(self, line: _Line) -> bool:
        """A signature or heading line: unpunctuated and short (a paragraph's tail has a full stop)."""
        return line.width < self.short and _is_title_like(line.text)

    def _ends_title(self, paragraph: _Paragraph, last: _Line, line: _Line) -> bool:
        if paragraph.has_open_bracket:
            return False  # the title goes on: "印发«关于…的" + "指导意见»的通知"
        if HEADING.match(paragraph.head):
            return last.width < self.full_heading or _opens_item(line.text)
        if _TITLE_END.search(paragraph.tail):
            return True
        # Unpunctuated lines in a row form one title ("…“最强党支部”建设" + "工作指南").
        return last.width < self.short and not _is_title_like(line.text)


def _join_lines(lines: list[_Line]) -> list[str]:
    width = _typical_width(lines)
    if not _is_wrapped(lines, width):
        return [line.text for line in lines]
    joiner = _Joiner(width)
    paragraphs = [_Paragraph(lines[0])]
    for last, line in zip(lines, lines[1:]):
        if joiner.breaks(paragraphs[-1], last, line):
            paragraphs.append(_Paragraph(line))
        elif paragraphs[-1].is_attachment_list and _LIST_ITEM.match(line.text):
            paragraphs[-1].add(line.text, " ")
        else:
            paragraphs[-1].add(line.text)
    return [paragraph.text for paragraph in paragraphs]


def _content_lines(raw: str) -> Iterator[_Line]:
    """The lines that survive cleaning, one at a time (NFKC never joins across a line break)."""
    for line in raw.split("\n"):
        layout = _layout_line(normalize_chars(line))
        if layout.text and not _PAGE_NOISE.match(layout.text):
            yield layout


def clean_text(raw: str) -> str:
    """Normalise characters, drop page noise and re-join wrapped lines into paragraphs."""
    lines = list(_content_lines(raw))
    return "\n".join(_join_lines(lines)) if lines else ""


def has_text(raw: str) -> bool:
    """Whether cleaning leaves anything; stops at the first line that does."""
    return any(True for _ in _content_lines(raw))


