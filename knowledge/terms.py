"""The question's key terms, weighed: IDF over the passages, less for verbs and adverbs (less again for
ones the texts never use), for a single character, and for words nearly every passage holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.text import key_terms
from zhibu.text import fold_for_match

HEADING_SHARE = 0.5  # a term found only in the section heading counts half
SINGLE_CHAR_SHARE = 0.5
GENERIC_PASSAGES, GENERIC_SHARE = 0.3, 0.3
FOCUS_WEIGHT = 4.0  # a follow-up's own words, against the topic it continues
ACTION_SHARE = 0.6  # a verb, adverb or numeral the texts use
UNSEEN_ACTION_SHARE = 0.25  # …and one they never use ("挣", "达标"): colloquial wording, not the subject


_MARKS = re.compile(r"[“”‘’\"'《》「」『』]")
# A word that asks ("啥时候", "哪年哪月", "几颗", "多久", "由谁来") names the kind of answer, not what it is about.
_ASKED_MEASURE = re.compile(r"(?:啥|什么|哪种|多大|多高|怎样的?)(程度|地步|水平|样子|规模)")
ASKING = re.compile(r"[哪几啥谁咋]|多少|什么|多久|多长|多大|怎么|怎样|如何")


@lru_cache(maxsize=8192)
def folded(text: str) -> str:
    """The form words are matched in: folded for matching, without quotation marks ("“三务”公开" holds 三务公开)."""
    return _MARKS.sub("", fold_for_match(text))


@dataclass(frozen=True)
class Terms:
    """The question's key terms with their weights (IDF) and the forms that count as each."""

    forms: tuple[tuple[str, ...], ...]
    weights: tuple[float, ...]
    words: tuple[str, ...]
    nouns: tuple[bool, ...]

    @classmethod
    def of(cls, question: str, search, focus: str | None = None) -> "Terms":
        measured = set(_ASKED_MEASURE.findall(question))  # "要到啥程度": 程度 is what is asked, not a thing named
        terms = [(word, forms, noun) for word, forms, noun in key_terms(question)
                 if not (_asks(word, search) and len(forms) == 1) and word not in measured]  # "多少钱" keeps 钱's forms
        own = {word for word, _, _ in key_terms(focus)} if focus else set()
        return cls(tuple(tuple(folded(f) for f in forms) for _, forms, _ in terms),
                   tuple(_weight(search, word, noun) * (FOCUS_WEIGHT if word in own else 1.0) for word, _, noun in terms),
                   tuple(word for word, _, _ in terms),
                   tuple(noun for _, _, noun in terms))

    def coverage(self, text: str, heading: str = "", heading_share: float = HEADING_SHARE) -> float:
        """IDF-weighted share of the terms found in `text` (folded); in `heading` only, `heading_share`."""
        total = sum(self.weights)
        if not total:
            return 0.0
        got = 0.0
        for forms, weight in zip(self.forms, self.weights):
            if any(f in text for f in forms):
                got += weight
            elif heading and any(f in heading for f in forms):
                got += heading_share * weight
        return got / total

    def missing(self, text: str, nouns_only: bool = False) -> list[str]:
        return [word for word, forms, noun in zip(self.words, self.forms, self.nouns)
                if not any(f in text for f in forms) and (noun or not nouns_only)]

    def forms_of(self, word: str) -> tuple[str, ...]:
        return self.forms[self.words.index(word)]


def _asks(word: str, search) -> bool:
    """A question word the texts never use: it says what kind of answer is wanted, nothing to find."""
    return bool(ASKING.search(word)) and not search.passages_with(word)


def _in_dictionary(word: str) -> bool:
    """A word of jieba's dictionary, not a run its HMM cut from colloquial wording ("旗用", "分能")."""
    from knowledge.judge import is_dictionary_word

    return is_dictionary_word(word)


def _weight(search, word: str, noun: bool) -> float:
    """IDF, less for what carries less: a verb or adverb (more so one the texts never use), one character."""
    found_in = search.passages_with(word)
    share = 1.0 if noun and (found_in or _in_dictionary(word)) else (ACTION_SHARE if found_in else UNSEEN_ACTION_SHARE)
    if found_in > GENERIC_PASSAGES * len(search.passages):  # "最强党支部": in most passages, tells little
        share *= GENERIC_SHARE
    return search.idf(word) * share * (SINGLE_CHAR_SHARE if len(word) == 1 else 1.0)
