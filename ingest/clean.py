"""Undo PDF-extraction artefacts: full-width forms, private-use dots, lines broken mid-phrase.

The output keeps one paragraph (or heading) per line, so the splitter can read the outline.
"""

from __future__ import annotations

import re
import unicodedata

# Private-use code points (BMP area and planes 15–16). The seed PDFs use U+1001B0 for "．".
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
# Whitespace matters only between two ASCII word characters ("Bot API"); elsewhere it is layout.
_LAYOUT_SPACE = re.compile(r"(?<![A-Za-z0-9])[ \t\u3000\xa0]+|[ \t\u3000\xa0]+(?![A-Za-z0-9])")
_PAGE_NOISE = re.compile(r"^(?:[-—–]\s*\d+\s*[-—–]|第\s*\d+\s*页(?:\s*共\s*\d+\s*页)?|\d+\s*/\s*\d+)$")
HEADING = re.compile(
    r"^(?:附件\s*\d*|[一二三四五六七八九十]+、|\([一二三四五六七八九十]+\)|\d{1,2}\.(?!\d)|\(\d{1,2}\))"
)
_SENTENCE_END = tuple(".。!！?？:：;；")
# A wrapped line is "full"; a paragraph's last line is usually shorter than this share of the width.
_SHORT_LINE_SHARE = 0.8


def normalize_chars(text: str) -> str:
    """Character-level normalisation: private-use dots, then NFKC (full-width → half-width)."""
    return unicodedata.normalize("NFKC", _PRIVATE_USE.sub("．", text))


def _strip_layout_space(line: str) -> str:
    return _LAYOUT_SPACE.sub("", line.strip())


def _typical_width(lines: list[str]) -> int:
    widths = sorted(len(line) for line in lines if line)
    return widths[int(len(widths) * 0.75)] if widths else 0


def clean_text(raw: str) -> str:
    """Normalise characters, drop page noise and re-join wrapped lines into paragraphs."""
    lines = [_strip_layout_space(line) for line in normalize_chars(raw).replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line and not _PAGE_NOISE.match(line)]
    short = _typical_width(lines) * _SHORT_LINE_SHARE
    paragraphs: list[str] = []
    ends_paragraph = True
    for line in lines:
        if ends_paragraph or HEADING.match(line):
            paragraphs.append(line)
        else:
            paragraphs[-1] += line
        ends_paragraph = line.endswith(_SENTENCE_END) and len(line) < short
    return "\n".join(paragraphs)


def normalize_for_match(text: str) -> str:
    """Canonical form for comparing quotes with the corpus: cleaned, with no whitespace at all."""
    return re.sub(r"\s+", "", normalize_chars(text))
