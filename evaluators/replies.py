"""Everyday replies to the self-check, read with the vocabulary in `data/replies.yaml`.

The words are data; this module only knows the shapes a reply takes: yes/no words (also inside a longer
reply, "没有发生过劳资纠纷"), a number with what makes it approximate ("五万多", "将近5万",
"三四次"), a list with "除了…都有" / "就缺…", an opening ("自查") and an edit ("第5题改成50").
Numerals are read by `profile.core_number` (digits, 万, or Chinese numerals via cn2an).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import yaml

from evaluators.profile import core_number, typed

VOCABULARY = Path(__file__).parent / "data" / "replies.yaml"
# Punctuation is dropped, except a decimal point (92.5, 2015.6) and the range marks ~ and -.
_PUNCTUATION = re.compile(r"[\s，,。！!？?；;：:…“”\"'（）()]+|(?<!\d)\.|\.(?!\d)")
_LIST_PUNCTUATION = re.compile(r"[，,;；\s]+")  # list items may be separated by any of these: read as 、
_CLAUSES = re.compile(r"[，,。；;！!\s]+")
_DIGITS = "一二三四五六七八九"
# Two neighbouring numerals said together are a range: 三四次, 十七八人, 两三万, 三四十.
_SPOKEN_RANGE = re.compile(r"^(.*?)([一两二三四五六七八九])([二三四五六七八九])([十百千万]*)$")
_NUMBER_WORD = "[0-9一二两三四五六七八九十百]+"
_INNER_MORE = re.compile(r"^(.+?)(多|余|来)([万千百])$")
_NUMBER_TOKEN = re.compile(r"\d+(?:\.\d+)?万?|[零〇一二两三四五六七八九十百千万]+")


class Amount(NamedTuple):
    """A number as said: `low` (and `high` for a range); `kind` exact | more | under | about | range."""

    low: float
    kind: str = "exact"
    high: float | None = None


class Vocabulary(NamedTuple):
    words: dict[str, frozenset[str]]  # category → its words (unsure, yes, no, partly, all_of, …)
    contrasts: tuple[str, ...]  # 但/不过: what follows carries the point
    approximate: dict[str, dict[str, tuple[str, ...]]]  # more/under/about → prefix/suffix words
    units: tuple[str, ...]
    fillers: tuple[str, ...]
    range_joiners: tuple[str, ...]
    choice_words: dict[str, str]
    all_but: tuple[re.Pattern, ...]
    only: tuple[re.Pattern, ...]
    item_separator: re.Pattern
    start_patterns: tuple[re.Pattern, ...]
    edit: re.Pattern
    particles: tuple[str, ...]
    date_words: dict[str, str]
    date_endings: tuple[str, ...]
    unit_kinds: dict[str, str]  # a unit word → what it counts (颗 → 星, 块钱 → 元)


@lru_cache(maxsize=1)
def _data() -> dict:
    return yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    data = _data()
    items = "(?P<items>.+?)"
    words = {name: frozenset(plain(str(word)) or str(word) for word in data[name])
             for name in ("unsure", "not_in_use", "all_of", "none_of", "everyone", "confirm", "accept", "reject")}
    words.update({name: frozenset(plain(str(word)) for word in values) for name, values in data["yes_no"].items()})
    contrasts = tuple(data["contrasts"])
    words["start"] = frozenset(plain(word) for word in data["start"]["words"])
    by_length = lambda values: tuple(sorted(values, key=len, reverse=True))  # noqa: E731  longest first
    return Vocabulary(
        words=words,
        contrasts=contrasts,
        approximate={kind: {side: by_length(spec.get(side, ())) for side in ("prefix", "suffix")}
                     for kind, spec in data["approximate"].items()},
        units=by_length(data["units"]),
        fillers=by_length(data["fillers"]),
        range_joiners=tuple(data["range_joiners"]),
        choice_words={plain(word): label for word, label in data["choice_words"].items()},
        all_but=tuple(re.compile("^" + pattern.replace("{items}", items) + "$") for pattern in data["all_but"]),
        only=tuple(re.compile("^" + pattern.replace("{items}", items) + "$") for pattern in data["only"]),
        item_separator=re.compile("|".join(["[、,，;；/]+", *map(re.escape, data["item_separators"])])),
        start_patterns=tuple(re.compile(pattern) for pattern in data["start"]["patterns"]),
        edit=re.compile("^" + data["edit"].replace("{number}", f"(?P<number>{_NUMBER_WORD})")
                        .replace("{answer}", "(?P<answer>.+)") + "$"),
        particles=by_length(data["particles"]),
        date_words=data["date_words"],
        date_endings=by_length(data["date_endings"]),
        unit_kinds={unit: kind for kind, units in data["unit_kinds"].items() for unit in units},
    )


def plain(text: str) -> str:
    """A reply without spaces and punctuation, full-width forms folded, in lower case: what is compared."""
    return _PUNCTUATION.sub("", typed(str(text))).lower()


def dialogue_words(step: str) -> frozenset[str]:
    """The words that answer one step of the dialogue (exit, back, yes, no, more, result, change, help, export)."""
    return frozenset(plain(word) for word in _data()["dialogue"][step])


def is_word(text: str, category: str) -> bool:
    """True when the whole reply is one of `category`'s words (unsure, accept, confirm, start, …)."""
    words = vocabulary().words[category]
    return plain(text) in words or typed(str(text)) in words  # "?" is all punctuation: compared as typed


def meanings(text: str) -> set[str]:
    """What an everyday yes/no reply says, clause by clause: 'yes', 'no', 'fine' (all is well: 没问题,
    不错), 'partly' (基本上是), 'unsure'. Empty when nothing known is in it; more than one when its
    clauses say different things ("效益不错，没出过事故"), for the question to sort out.

    A clause is a known word as a whole, else the longest known word in it; a "yes" word right after
    不/没/未 is not taken ("不属实"). After 但/不过 the clauses before no longer count.
    """
    clauses = [plain(clause) for clause in _CLAUSES.split(typed(str(text)))]
    for number, clause in enumerate(clauses):
        turned = next((word for word in vocabulary().contrasts if clause.startswith(word)), None)
        if turned:
            clauses = [clause[len(turned):]] + clauses[number + 1:]
    asking = bool(_ASKING.search(str(text)))  # "有什么要求吗？" is a question to answer, not a 有
    return {meaning for clause in clauses
            if clause and (meaning := _clause_meaning(clause, whole_only=asking)) != "neutral" and meaning}


_MEANINGS = ("unsure", "partly", "fine", "no", "yes", "neutral")
_NEGATIONS = "不没未无"
_ASKING = re.compile(r"[?？]|吗|什么|怎么|怎样|如何|哪|为什么|为何|能否|可否|是否")
_LEADING_WORDS = "有没"


def _clause_meaning(clause: str, whole_only: bool = False) -> str | None:
    words = vocabulary().words
    exact = next((name for name in _MEANINGS if clause in words[name]), None)
    if exact or whole_only:
        return exact
    found = [(len(word), -order, name) for order, name in enumerate(_MEANINGS) for word in words[name]
             if _said(word, clause, negatable=name in ("yes", "fine"))]
    return max(found)[2] if found else None


def _said(word: str, clause: str, negatable: bool) -> bool:
    """`word` stands in `clause` (a one-character word only at its start), not negated when that matters."""
    if len(word) == 1:  # 有… / 没… at the start; 不… alone says too little (不直接面向社会)
        return word in _LEADING_WORDS and clause.startswith(word)
    at = clause.find(word)
    while at >= 0:
        if not (negatable and at > 0 and clause[at - 1] in _NEGATIONS):
            return True
        at = clause.find(word, at + 1)
    return False


def unit_kind(unit: str) -> str | None:
    """What a unit counts (颗星 → 星, 元 → 元); None for one that counts many things (个, 名)."""
    return vocabulary().unit_kinds.get(unit)


def unit_kind_said(text: str) -> str | None:
    """What the unit typed right after the reply's number counts ("9颗" → 星), if it says."""
    vocab = vocabulary()
    match = _NUMBER_TOKEN.search(plain(text))
    after = plain(text)[match.end():] if match else ""
    unit = next((u for u in vocab.units if after.startswith(u)), "")
    return vocab.unit_kinds.get(unit)


def read_amount(text: str) -> Amount:
    """A number as said, with what makes it approximate; ValueError when there is no number in it.

    A longer reply ("24个评的优秀", "看错了，是28个") is read by the one number in it, when it names one
    number only (the same number twice counts once: "改成五万整，刚好五万").
    """
    word = plain(text).replace(",", "")
    try:
        return _amount(word, text)
    except ValueError:
        pass
    said = {}
    for match in _NUMBER_TOKEN.finditer(word):
        try:
            amount = _amount(_around(word, match), text)
        except ValueError:
            continue
        said.setdefault(amount.low, amount)
    if len(said) != 1:
        raise ValueError(f"“{text}”中没有一个确定的数字")
    return said.popitem()[1]


def _around(word: str, match: re.Match) -> str:
    """A number in a sentence with the approximating words right before and after it (将近十万块, 三十多个)."""
    vocab = vocabulary()
    before, after = word[: match.start()], word[match.end():]
    prefix = next((w for k in vocab.approximate.values() for w in k["prefix"] if before.endswith(w)), "")
    unit = next((u for u in vocab.units if after.startswith(u)), "")
    rest = after[len(unit):]
    suffix = next((w for k in vocab.approximate.values() for w in k["suffix"] if after.startswith(w) or rest.startswith(w)), "")
    tail = after[: len(suffix)] if after.startswith(suffix) else unit + suffix
    return prefix + match.group(0) + (tail if suffix else "")


def _amount(word: str, text: str) -> Amount:
    vocab = vocabulary()
    kinds: set[str] = set()
    word = _strip(word, vocab, kinds)
    inner = _INNER_MORE.match(word)
    if inner:  # 四百多万: more than 四百万
        word, kinds = inner[1] + inner[3], kinds | {"more"}
    for joiner in vocab.range_joiners:
        if joiner in word.strip(joiner):
            first, _, second = word.partition(joiner)
            return _range(_strip(first, vocab, kinds), _strip(second, vocab, kinds), text)
    spoken = _SPOKEN_RANGE.match(word)
    if spoken and _DIGITS.index(spoken[3]) == _DIGITS.index(spoken[2].replace("两", "二")) + 1:
        head, low, high, tail = spoken.groups()
        return Amount(core_number(head + low + tail, text), "range", core_number(head + high + tail, text))
    kind = next((k for k in ("more", "under", "about") if k in kinds), "exact")
    return Amount(core_number(word, text), kind)


def _strip(word: str, vocab: Vocabulary, kinds: set[str]) -> str:
    """Take fillers, units and approximating words off both ends, noting which kind of approximation."""
    changed = True
    while changed and word:
        changed = False
        for filler in vocab.fillers:
            if word.startswith(filler) and len(word) > len(filler):
                word, changed = word[len(filler):], True
        for unit in vocab.units + vocab.particles:
            if word.endswith(unit) and len(word) > len(unit):
                word, changed = word[: -len(unit)], True
        for kind, sides in vocab.approximate.items():
            for prefix in sides["prefix"]:
                if word.startswith(prefix) and len(word) > len(prefix):
                    word, changed = word[len(prefix):], True
                    kinds.add(kind)
            for suffix in sides["suffix"]:
                if word.endswith(suffix) and len(word) > len(suffix):
                    word, changed = word[: -len(suffix)], True
                    kinds.add(kind)
    return word


def _range(first: str, second: str, text: str) -> Amount:
    scale = re.search(r"[万千百]$", second)
    if scale and not re.search(r"[万千百十]$", first):  # 3到4万: the 万 belongs to both
        first += scale.group(0)
    low, high = core_number(first, text), core_number(second, text)
    return Amount(min(low, high), "range", max(low, high))


def read_items(text: str, labels: list[str]) -> tuple[list[str], str] | None:
    """The labels a list reply names, and how it named them ('all', 'none', 'all_but', 'only', 'listed').

    None when the reply is none of these shapes. ValueError names an item that is not a choice.
    """
    vocab = vocabulary()
    word = _LIST_PUNCTUATION.sub("、", typed(str(text)).lower()).strip("、。.!！?？")
    if plain(word) in vocab.words["all_of"]:
        return list(labels), "all"
    if plain(word) in vocab.words["none_of"]:
        return [], "none"
    for shape, patterns in (("all_but", vocab.all_but), ("only", vocab.only)):
        for pattern in patterns:
            match = pattern.match(word)
            if match:
                named = _labels(match["items"], labels)
                if named is not None:
                    return ([label for label in labels if label not in named] if shape == "all_but" else named), shape
    named = _labels(word, labels)
    return (named, "listed") if named is not None else None


def _labels(words: str, labels: list[str]) -> list[str] | None:
    """The labels named in `words` (each item a label, its number, or a word for it); None if one is not."""
    vocab = vocabulary()
    found = []
    for item in (part for part in vocab.item_separator.split(words) if part):
        label = _label(item.removeprefix("有"), labels, vocab)
        if label is None:
            return None
        found.append(label)
    return [label for label in labels if label in found] if found else None


def _label(item: str, labels: list[str], vocab: Vocabulary) -> str | None:
    if item in labels:
        return item
    if item.isdigit() and 1 <= int(item) <= len(labels):
        return labels[int(item) - 1]
    if vocab.choice_words.get(item) in labels:
        return vocab.choice_words[item]
    # 名册 → 党员名册, 有党旗 → 党旗; not a whole sentence that happens to name one ("书报也配齐了")
    partial = [label for label in labels if item in label or (label in item and len(item) <= len(label) + 2)]
    return partial[0] if len(partial) == 1 else None


def choice_word(text: str) -> str | None:
    """The choice label an everyday word stands for (教工 → 教师党支部): the whole reply, else the longest
    such word in it ("研究生支部，学生的" → 学生党支部)."""
    word = plain(text)
    words = vocabulary().choice_words
    if word in words:
        return words[word]
    inside = sorted((name for name in words if len(name) > 1 and name in word), key=len, reverse=True)
    return words[inside[0]] if inside else None


def date_text(text: str) -> str:
    """A date as said, made plain for the date reader: 1998年七一建的 → 1998年7月1日; 2026年3月才成立 → 2026年3月."""
    vocab = vocabulary()
    word = plain(text)
    for ending in vocab.date_endings:
        word = word.removesuffix(ending)
    for spoken, written in vocab.date_words.items():
        if word.endswith(spoken) and "月" not in word:
            word = word[: -len(spoken)] + written
    return word


def wants_to_start(text: str) -> bool:
    """"自查", "重新开始", "我们支部能评最强党支部吗": the person asks for the self-check."""
    word = plain(text)
    return word in vocabulary().words["start"] or any(p.search(word) for p in vocabulary().start_patterns)


def edit_request(text: str) -> tuple[int, str] | None:
    """(question number, new answer) from "第5题改成50" / "把第3题改成是"; None for anything else."""
    match = vocabulary().edit.match(plain(text))
    if not match:
        return None
    try:
        number = core_number(match["number"], text)
    except ValueError:
        return None
    return (int(number), match["answer"]) if float(number).is_integer() and number > 0 else None


def mentions(text: str, category: str) -> bool:
    """True when a word of `category` of three or more characters stands in the reply ("本地不搞量化积分")."""
    word = plain(text)
    return any(len(known) > 2 and known in word for known in vocabulary().words[category])
