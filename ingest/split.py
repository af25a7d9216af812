"""Split a cleaned document along its Chinese outline into focused, self-contained chunks.

Outline levels: 附件N ⊃ 一、 ⊃ (一) ⊃ 1. (or 1、) ⊃ (1). A heading line may carry its body after the
first full stop: "(一)指导思想.以习近平…" is the section "(一)指导思想" with body "以习近平…".
Text before the first heading is the covering notice (通知) and the preamble (前言).
Sections longer than `max_chars` split at sentence ends into near-equal parts; a section shorter
than `min_chars` joins its next sibling in one chunk under the parent heading.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import re
from dataclasses import dataclass, field

from ingest.documents import Chunk, DocumentMeta

MAX_CHARS = 400
MIN_CHARS = 120
# Bump when the algorithm changes, so that stored documents are re-chunked and re-embedded.
_ALGORITHM = 1
CHUNKING_PARAMETERS = (_ALGORITHM, MAX_CHARS, MIN_CHARS)

NOTICE, PREAMBLE = "通知", "前言"
_CN_DIGITS = "一二三四五六七八九十"
_LEVELS = (
    re.compile(r"^附件(\d+)(?![\d.])"),
    re.compile(rf"^([{_CN_DIGITS}]+)、"),
    re.compile(rf"^\(([{_CN_DIGITS}]+)\)"),
    re.compile(r"^(\d{1,2})[.、](?!\d)"),
    re.compile(r"^\((\d{1,2})\)"),
)
# An inline title ends at the first full stop; longer or comma-laden "titles" are list items.
_TITLE_END = re.compile(r"[.。]")
_MAX_TITLE_CHARS = 30
_MAX_HEADING_LINE = 40
_BARE_ATTACHMENT = re.compile(r"^附件\d+$")
_TITLE_PUNCTUATION = re.compile(r"[,.;:!?。]")
_TRAILING_PARENTHESIS = re.compile(r"\([^()]*\)$")
_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_DISTRIBUTION_NOTE = re.compile(r"^〔[^〕]*〕$")
# Sentence ends; a "." right after a digit is an item marker ("1.") or a decimal point, not an end.
_SENTENCE = re.compile(r".*?(?:[。!?;]|(?<!\d)\.|$)")
_CLAUSE = re.compile(r".*?(?:[,、:]|$)")
# A part may grow or shrink by this share of the limit to end with its paragraph.
_PARAGRAPH_CUT_DETOUR = 0.15
# Balanced splits tried with this many parts more than the fewest possible, then greedy packing:
# bounds the work on text whose sentences do not divide evenly.
_MORE_PARTS_TRIED = 16


def _number(marker: str) -> int:
    """1 for "1" or "一", 12 for "十二", 20 for "二十"."""
    if marker.isdigit():
        return int(marker)
    if "十" not in marker:
        return _CN_DIGITS.index(marker) + 1
    tens, _, ones = marker.partition("十")
    return 10 * (_CN_DIGITS.index(tens) + 1 if tens else 1) + (_CN_DIGITS.index(ones) + 1 if ones else 0)


@dataclass
class _Section:
    title: str
    level: int
    lines: list[str] = field(default_factory=list)  # its paragraphs as they stand in the text
    body: list[str] = field(default_factory=list)  # the same, less the heading
    children: list[_Section] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.body)

    @property
    def full_text(self) -> str:
        """The section as printed, headings included: how it reads inside its parent's chunk."""
        return "\n".join(self.lines + [child.full_text for child in self.children])


@dataclass(frozen=True)
class _Heading:
    level: int
    number: int
    title: str
    rest: str


def _parse_heading(paragraph: str) -> _Heading | None:
    for level, pattern in enumerate(_LEVELS):
        if match := pattern.match(paragraph):
            title, rest = _split_title(paragraph, match.end())
            if title:
                return _Heading(level, _number(match.group(1)), title, rest)
    return None


def _split_title(paragraph: str, marker_end: int) -> tuple[str, str]:
    """("(一)指导思想", "以习近平…") for an inline title, (paragraph, "") for a heading line, or ("", "")."""
    stop = _TITLE_END.search(paragraph, marker_end)
    if stop is None:
        is_heading = len(paragraph) <= _MAX_HEADING_LINE and not _TITLE_PUNCTUATION.search(paragraph[marker_end:])
        return (paragraph, "") if is_heading else ("", "")
    title, rest = paragraph[: stop.start()], paragraph[stop.end():]
    name = _TRAILING_PARENTHESIS.sub("", title[marker_end:])  # "安排部署,组织动员(2020年3月—4月)"
    if rest and len(name) <= _MAX_TITLE_CHARS and name.count(",") <= 1 and not re.search(r"[;:]", name):
        return title, rest
    return "", ""


class _Outline:
    """Builds the section tree; a marker counts as a heading only when it continues its numbering."""

    def __init__(self) -> None:
        self.root = _Section("", -1)
        self.stack = [self.root]
        self.last_number: dict[int, int] = {}

    def add(self, paragraph: str, next_paragraph: str) -> bool:
        """Adds one paragraph; True when it also consumed `next_paragraph` (an attachment's title)."""
        heading = _parse_heading(paragraph)
        if heading and heading.number in (1, self.last_number.get(heading.level, 0) + 1):
            return self._open(heading, paragraph, next_paragraph)
        self.stack[-1].lines.append(paragraph)
        self.stack[-1].body.append(paragraph)
        return False

    def _open(self, heading: _Heading, paragraph: str, next_paragraph: str) -> bool:
        self.last_number[heading.level] = heading.number
        while self.stack[-1].level >= heading.level:
            self.stack.pop()
        section = _Section(heading.title, heading.level, [paragraph], [heading.rest] if heading.rest else [])
        # "附件2" stands alone; its title follows on the next line.
        attachment_title = bool(_BARE_ATTACHMENT.match(heading.title) and next_paragraph) \
            and _parse_heading(next_paragraph) is None and not _TITLE_PUNCTUATION.search(next_paragraph)
        if attachment_title:
            section.title = f"{heading.title} {next_paragraph}"
            section.lines.append(next_paragraph)
        self.stack[-1].children.append(section)
        self.stack.append(section)
        return attachment_title


def _front_matter(paragraphs: list[str], notes: list[str]) -> list[_Section]:
    """The covering notice (title "…的通知" down to its date, plus `notes`) and the preamble after it."""
    notice_end = 0
    if _opens_with_notice(paragraphs):
        dates = [i for i, p in enumerate(paragraphs) if _DATE.match(p)]
        notice_end = dates[0] + 1 if dates else len(paragraphs)
    parts = ((NOTICE, paragraphs[:notice_end] + notes), (PREAMBLE, paragraphs[notice_end:]))
    return [_Section(name, 0, lines, list(lines)) for name, lines in parts if lines]


def _opens_with_notice(paragraphs: list[str]) -> bool:
    return bool(paragraphs) and paragraphs[0].endswith(NOTICE)


def _outline(clean_text: str) -> list[_Section]:
    paragraphs = [p for p in clean_text.split("\n") if p.strip()]
    # A notice's distribution note ("〔此件发至…〕") is often printed at the very end of the document.
    notes = [p for p in paragraphs if _DISTRIBUTION_NOTE.match(p)] if _opens_with_notice(paragraphs) else []
    paragraphs = [p for p in paragraphs if not _DISTRIBUTION_NOTE.match(p)] if notes else paragraphs
    outline = _Outline()
    index = 0
    while index < len(paragraphs):
        next_paragraph = paragraphs[index + 1] if index + 1 < len(paragraphs) else ""
        index += 2 if outline.add(paragraphs[index], next_paragraph) else 1
    # What precedes the first heading stayed in the root.
    return _front_matter(outline.root.body, notes) + outline.root.children


# ---- sizing ---------------------------------------------------------------------------------


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [piece for piece in pattern.findall(text) if piece]


def _sentences(text: str, max_chars: int) -> list[str]:
    """Sentences (a paragraph break kept on the sentence before it); an overlong one split at commas."""
    units: list[str] = []
    for paragraph in text.split("\n"):
        for sentence in _pieces(paragraph, _SENTENCE):
            if len(sentence) <= max_chars:
                units.append(sentence)
            else:
                units += _pack(_pieces(sentence, _CLAUSE), max_chars, hard=True)
        units[-1] += "\n"
    units[-1] = units[-1].rstrip("\n")
    return units


def _pack(units: list[str], max_chars: int, hard: bool = False) -> list[str]:
    """Greedy packing; with `hard`, a unit longer than the limit is cut (no punctuation to cut at)."""
    if hard:
        units = [unit[i:i + max_chars] for unit in units for i in range(0, len(unit), max_chars)]
    packed = [""]
    for unit in units:
        if packed[-1] and len(packed[-1]) + len(unit) > max_chars:
            packed.append("")
        packed[-1] += unit
    return packed


def _balanced_split(text: str, max_chars: int) -> list[str]:
    """Cut at the sentence ends nearest to equal shares, so no part is a stub; paragraph ends preferred."""
    units = _sentences(text, max_chars)
    cutter = _Cutter(units, max_chars * _PARAGRAPH_CUT_DETOUR)
    first = math.ceil(len(text) / max_chars)
    for parts_count in range(first, min(len(units), first + _MORE_PARTS_TRIED) + 1):
        targets = [share * len(text) / parts_count for share in range(1, parts_count)]
        bounds = [0, *sorted({cutter.best(target) for target in targets}), len(units)]
        parts = ["".join(units[a:b]).strip() for a, b in zip(bounds, bounds[1:])]
        if all(len(part) <= max_chars for part in parts):
            return parts
    return [part.strip() for part in _pack(units, max_chars)]  # every unit fits: greedy packing cannot fail


class _Cutter:
    """The best cut between units for a target offset: the nearest, or a paragraph end within the detour.

    Only the nearest cut on each side of the target and the nearest paragraph end on each side can
    win (offsets grow strictly), so a target costs two binary searches, not a pass over every cut.
    """

    def __init__(self, units: list[str], detour: float) -> None:
        self.ends = [0, *itertools.accumulate(len(unit) for unit in units)]  # ends[cut]: offset of the cut
        self.last_cut = len(units) - 1
        # bonus[cut]: a cut after a paragraph's last sentence may stray `detour` further from its target.
        self.bonus = [0.0] + [detour if unit.endswith("\n") else 0.0 for unit in units]
        self.paragraph_cuts = [cut for cut in range(1, len(units)) if self.bonus[cut]]
        self.paragraph_ends = [self.ends[cut] for cut in self.paragraph_cuts]

    def best(self, target: float) -> int:
        """The cheapest cut; among equals the first, as a scan in order would find."""
        after = bisect.bisect_left(self.ends, target, 1, self.last_cut + 1)
        candidates = {cut for cut in (after - 1, after) if 1 <= cut <= self.last_cut}
        after = bisect.bisect_left(self.paragraph_ends, target)
        candidates.update(self.paragraph_cuts[i] for i in (after - 1, after) if 0 <= i < len(self.paragraph_cuts))
        return min(sorted(candidates), key=lambda cut: abs(self.ends[cut] - target) - self.bonus[cut])


# ---- chunk assembly -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    path: tuple[str, ...]
    text: str


class _Assembler:
    def __init__(self, max_chars: int, min_chars: int) -> None:
        self.max_chars = max_chars
        self.min_chars = min_chars

    def section(self, section: _Section, path: tuple[str, ...]) -> list[_Draft]:
        """Drafts for a section: its own body first, then its children, tiny ones merged forward."""
        # The body before the first child reads, inside a merged chunk, without the section's heading.
        intro = _Section(section.title, section.level, section.body, section.body) if section.body else None
        drafts: list[_Draft] = []
        for group in self._groups(([intro] if intro else []) + section.children):
            if len(group) > 1:
                drafts.append(_Draft(path, "\n".join(unit.full_text for unit in group)))
            elif group[0] is intro:
                drafts += self._split(path, intro.text)
            else:
                drafts += self.section(group[0], path + (group[0].title,))
        return drafts

    def _groups(self, units: list[_Section]) -> list[list[_Section]]:
        groups: list[list[_Section]] = []
        for unit in units:
            last = groups[-1] if groups else None
            if last and self._is_small(last) and self._fits(last + [unit]):
                last.append(unit)
            else:
                groups.append([unit])
        if len(groups) > 1 and self._is_small(groups[-1]) and self._fits(groups[-2] + groups[-1]):
            groups[-2:] = [groups[-2] + groups[-1]]  # a tiny last one has no next sibling: join the one before
        return groups

    def _is_small(self, group: list[_Section]) -> bool:
        return sum(len(unit.full_text) for unit in group) < self.min_chars

    def _fits(self, group: list[_Section]) -> bool:
        # Only leaves merge: a subtree keeps its own headings on its own chunks.
        leaves = all(not unit.children for unit in group)
        return leaves and len("\n".join(unit.full_text for unit in group)) <= self.max_chars

    def _split(self, path: tuple[str, ...], text: str) -> list[_Draft]:
        if len(text) <= self.max_chars:
            return [_Draft(path, text)]
        return [_Draft(path, part) for part in _balanced_split(text, self.max_chars)]


def _chunk_ids(doc_id: str, drafts: list[_Draft]) -> list[str]:
    """`{doc_id}:{hash}` from the draft's own path and text, so an edit elsewhere leaves it unchanged."""
    ids: dict[str, None] = {}  # ordered, with constant-time membership
    seen: dict[str, int] = {}  # occurrences so far of each (path, text): a passage repeated n times costs n hashes, not n²
    for draft in drafts:
        key = "\x1f".join((*draft.path, draft.text))
        occurrence = seen.get(key, 0)
        while (chunk_id := f"{doc_id}:{hashlib.sha256(f'{key}#{occurrence}'.encode()).hexdigest()[:12]}") in ids:
            occurrence += 1  # the same passage twice under the same heading
        ids[chunk_id] = None
        seen[key] = occurrence + 1
    return list(ids)


def split_document(clean_text: str, meta: DocumentMeta, max_chars: int = MAX_CHARS, min_chars: int = MIN_CHARS) -> list[Chunk]:
    """Chunks in reading order, each with its heading path and body text."""
    assembler = _Assembler(max_chars, min_chars)
    drafts = [draft for section in _outline(clean_text) for draft in assembler.section(section, (section.title,))]
    drafts = [draft for draft in drafts if draft.text.strip()]
    ids = _chunk_ids(meta.doc_id, drafts)
    return [
        Chunk(chunk_id, meta.doc_id, draft.path, draft.text, ordinal, meta.short_title)
        for ordinal, (chunk_id, draft) in enumerate(zip(ids, drafts))
    ]
