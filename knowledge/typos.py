"""Typos and near-homophones of the texts' own words ("最墙" → "最强"), found by their pinyin (pypinyin):
a word of two to four characters (as jieba cuts it) that the texts never use and no dictionary knows,
sounding (tones aside) like a word of the texts that differs from it in one character. Said back to the
user: "（按“最强”理解）"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.text import vocabulary

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")
KNOWN_WORD = 50  # a run jieba's dictionary counts this often is a word of its own, not a typo


@dataclass(frozen=True)
class Correction:
    typed: str
    meant: str


def correct(question: str, search) -> tuple[str, tuple[Correction, ...]]:
    """The question with typos of the texts' words replaced, and what was replaced."""
    from knowledge.text import _jieba

    corrections = []
    for word in dict.fromkeys(_jieba().lcut(question)):  # a typo is cut as one unknown word ("最墙")
        meant = _meant(word, search) if 2 <= len(word) <= 4 else None
        if meant:
            corrections.append(Correction(word, meant))
    for correction in corrections:
        question = question.replace(correction.typed, correction.meant)
    return question, tuple(corrections)


def _meant(typed: str, search) -> str | None:
    if not _CJK.match(typed) or search.passages_with(typed) or _is_word(typed):
        return None  # most questions stop here: the sound index is built only for a word that may be a typo
    index = _sound_index(search.words)
    sounds = [word for word in index.get(_sound(typed), ()) if _one_apart(typed, word)]
    return sounds[0] if len(sounds) == 1 else None


def _one_apart(typed: str, word: str) -> bool:
    return len(typed) == len(word) and sum(a != b for a, b in zip(typed, word)) == 1


@lru_cache(maxsize=4096)
def _is_word(text: str) -> bool:
    from knowledge.text import _jieba

    vocab = vocabulary()
    return (_jieba().dt.FREQ.get(text, 0) >= KNOWN_WORD or text in vocab["synonyms"]
            or text in vocab["stopwords"])


def _sound(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(text))  # without tones: 墙 and 强 are both qiang


@lru_cache(maxsize=4)
def _sound_index(tokens: frozenset[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """The texts' words of two to four characters (the search's own jieba tokens), by how they sound."""
    index: dict[tuple[str, ...], list[str]] = {}
    for word in sorted(token for token in tokens if 2 <= len(token) <= 4 and _CJK.match(token)):
        index.setdefault(_sound(word), []).append(word)
    return {sound: tuple(found) for sound, found in index.items()}
