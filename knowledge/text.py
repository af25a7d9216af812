"""Keyword side of retrieval: jieba tokens with the domain vocabulary, and query expansion."""

from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import yaml

_WORD = re.compile(r"[\w\u4e00-\u9fff]")


_VOCABULARY = Path(__file__).parent / "data" / "vocabulary.yaml"
# Bump when `tokenize` itself changes: passage tokens saved with a generation are then made again.
_TOKENIZE_VERSION = 1


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    return yaml.safe_load(_VOCABULARY.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def tokenizer_fingerprint() -> str:
    """What passage tokens depend on: jieba's version, our vocabulary, `tokenize` itself. Tokens saved
    under another fingerprint are stale (a changed vocabulary takes effect without re-ingesting)."""
    parts = (str(_TOKENIZE_VERSION), version("jieba"), hashlib.sha256(_VOCABULARY.read_bytes()).hexdigest())
    return "/".join(parts)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    return frozenset(vocabulary()["stopwords"])


_cache_folder: list[Path] = []


def keep_dictionary_cache_in(folder: Path) -> None:
    """Where jieba keeps its parsed dictionary: our own state folder rather than the shared /tmp, where a
    file left by another user (or a cleaned /tmp) makes every cold start parse the dictionary again
    (~1.5 s instead of ~0.6 s). Takes effect when jieba is first used."""
    _cache_folder[:] = [folder]


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    for folder in _cache_folder:
        from knowledge.lexicon import use_lexicon

        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(folder)
        use_lexicon(jieba, folder)  # the dictionary looked up in SQLite, not loaded whole
    for term in vocabulary()["terms"]:
        jieba.add_word(term, freq=20000)
    for forms in vocabulary()["synonyms"].values():
        for form in forms:
            jieba.add_word(form)
    return jieba


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens (long words plus their parts), without stopwords or punctuation."""
    return [
        token
        for token in (t.strip().lower() for t in _jieba().lcut_for_search(text))
        if token and token not in _stopwords() and _WORD.search(token)
    ]


def expand_query(question: str) -> list[str]:
    """Query tokens plus the policy-text forms of the colloquial words found in the question."""
    tokens = tokenize(question)
    extra = {t for key, forms in vocabulary()["synonyms"].items() if key in question for form in forms for t in tokenize(form)}
    return tokens + sorted(extra - set(tokens))


def pos_cut(text: str) -> list[tuple[str, str]]:
    """jieba's part-of-speech cut with the domain vocabulary: (word, flag) pairs."""
    from knowledge.lexicon import tag_posseg

    _jieba()
    from jieba import posseg  # after _jieba(): with the lexicon, its import reads no dictionary

    tag_posseg(posseg)
    return [(pair.word, pair.flag) for pair in posseg.lcut(text)]


def key_terms(question: str) -> list[tuple[str, tuple[str, ...], bool]]:
    """The question's meaningful words (jieba's part-of-speech cut, no stopwords), each with the forms
    that count as it in a policy sentence (itself plus the text forms of a colloquial word it overlaps)
    and whether it names a thing (noun-like) rather than an action or a manner."""
    synonyms = vocabulary()["synonyms"]
    keys = [key for key in synonyms if key in question]
    terms: dict[str, tuple[tuple[str, ...], bool]] = {}
    for word, flag in pos_cut(question):
        word = word.strip().lower()
        if not word or word in terms or word in _stopwords() or not _WORD.search(word):
            continue
        forms = [word] + [form for key in keys if key in word or word in key for form in synonyms[key]]
        terms[word] = (tuple(dict.fromkeys(forms)), flag.startswith(_NOUN_FLAGS))
    return [(word, forms, noun) for word, (forms, noun) in terms.items()]


# jieba's tags for names of things: nouns, abbreviations (j), verbal nouns, idioms, our own terms (x).
_NOUN_FLAGS = ("n", "j", "vn", "x", "eng", "l", "i")
