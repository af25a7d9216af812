"""Small text utilities every package may import: character normalisation (what the ingest cleaner and
the evaluator's input parsing share), Chinese punctuation for display, and the folded form that compares
a displayed quote with the stored (normalised) text.

Stored passages keep the half-width marks NFKC leaves after PDF extraction (`, . ; : ( ) « »`);
people read ，。；：（）《》. Restoration leaves alone what is not sentence punctuation: decimals
(1.5), list numbers (1.), numbers with thousands separators (1,000), times (10:30) and English.
"""

from __future__ import annotations

import re
import unicodedata

# Private-use code points (BMP area and planes 15–16). The seed PDFs use U+1001B0 for "．".
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")


def normalize_chars(text: str) -> str:
    """Character-level normalisation: private-use dots, then NFKC (full-width → half-width)."""
    return unicodedata.normalize("NFKC", _PRIVATE_USE.sub("．", text))


def normalize_for_match(text: str) -> str:
    """Canonical form for comparing quotes with the corpus: normalised, with no whitespace at all."""
    return re.sub(r"\s+", "", normalize_chars(text))


# A "." that ends a sentence: not a decimal point (digit on both sides), not a list number
# ("1." opening a line or following a separator or a sentence's end), not inside English or a web address.
_LIST_NUMBER_DOT = re.compile(r"(?:(?<=^)|(?<=[\s:：;；,，、(（.。]))(\d{1,2})\.(?=[^\d\s])", re.MULTILINE)
_SAFE_DOT = "\u0000"  # list-number dots, hidden while the other dots are converted
_PAIRS = {";": "；", "!": "！", "?": "？", "«": "《", "»": "》"}
_DOUBLED = re.compile(r"[，。；：！？、]{2,}")
_STRONGEST = "。！？；：，、"  # of doubled marks the strongest one stays ("，。" → "。")


def _is_ascii_word(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _convert(text: str) -> str:
    out = []
    brackets: list[bool] = []  # for each open "(": was it made Chinese?
    for i, char in enumerate(text):
        before = text[i - 1] if i else ""
        after = text[i + 1] if i + 1 < len(text) else ""
        if char == "." and not (before.isdigit() and after.isdigit()) and not (_is_ascii_word(before) and _is_ascii_word(after)):
            out.append("。")
        elif char == "," and not (before.isdigit() and after.isdigit()):
            out.append("，")
        elif char == ":" and not (before.isdigit() and after.isdigit()) and after != "/":
            out.append("：")
        elif char in "!?;" and not (_is_ascii_word(before) and after in " \n"):
            out.append(_PAIRS[char])
        elif char == "(":
            brackets.append(not _is_ascii_word(before))  # "f(x)", "APP(v2)" stay ASCII
            out.append("（" if brackets[-1] else char)
        elif char == ")":
            out.append("）" if (brackets.pop() if brackets else True) else char)
        elif char in "«»":
            out.append(_PAIRS[char])
        else:
            out.append(char)
    return "".join(out)


def chinese_punctuation(text: str) -> str:
    """The passage as people read it: ，。；：（）《》！？ with no doubled marks."""
    if not text:
        return text
    text = _LIST_NUMBER_DOT.sub(lambda m: m.group(1) + _SAFE_DOT, text)
    text = _convert(text).replace(_SAFE_DOT, ".")
    return _DOUBLED.sub(lambda m: min(m.group(), key=_STRONGEST.index), text)


def quoted(text: str) -> str:
    """`text` inside “…”, its own quotation marks turned into ‘…’ (no doubled “ at the start)."""
    inner = text.replace("“", "‘").replace("”", "’")
    return f"“{inner}”"


# Marks that differ only in width or in their display form fold to one character for matching.
_FOLD = str.maketrans({"。": ".", "《": "«", "》": "»", "‘": "“", "’": "”", "…": None})


def fold_for_match(text: str) -> str:
    """Canonical form for comparing a displayed text with the stored one (or a gold string):
    NFKC, no whitespace, display punctuation folded back to the stored forms."""
    text = unicodedata.normalize("NFKC", text.translate(_FOLD))
    return re.sub(r"\s+", "", text)
