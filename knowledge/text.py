"""Keyword side of retrieval: jieba tokens with the domain vocabulary, and query expansion."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources

import yaml

# Single characters and particles that carry no policy meaning.
_STOPWORDS = frozenset(
    "的 了 和 与 及 是 在 有 对 把 被 为 等 中 上 下 也 都 就 要 将 或 并 又 而 之 其 该 这 那 个 吗 呢 吧 啊 呀 么 什么 怎么 怎样 如何 哪些 哪 "
    "多少 几 我们 我 你 他 她 它 咱们 请问 一下 可以 能 会 应该 需要 还 没有 不 一".split()
)
_WORD = re.compile(r"[\w\u4e00-\u9fff]")


@lru_cache(maxsize=1)
def vocabulary() -> dict:
    text = resources.files("knowledge").joinpath("data/vocabulary.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
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
        if token and token not in _STOPWORDS and _WORD.search(token)
    ]


def expand_query(question: str) -> list[str]:
    """Query tokens plus the policy-text forms of the colloquial words found in the question."""
    tokens = tokenize(question)
    extra = [form for key, forms in vocabulary()["synonyms"].items() if key in question for form in forms]
    return tokens + [t for form in extra for t in tokenize(form)]
