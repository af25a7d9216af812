"""What a question asks: its parts, the kind of answer it wants, the constraints the texts would have
to meet, and the branch domain it names. Pure text work on the vocabulary (`data/vocabulary.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.text import vocabulary

_PART_END = re.compile(r"(?<=[？?！!；;。\n])")
_CONTENT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_YEAR = re.compile(r"(?<!\d)(20\d{2}|\d{2})\s*年(?!代|龄|纪|轻|级)")
_RELATIVE_YEARS = {"今年": 0, "明年": 1, "后年": 2}
_TARGET = re.compile(r"比例|目标|指标|达到|要到|多少个|百分")
# "村里的和机关的奖励分别是啥": two entities sharing one predicate that asks for each ("分别", "各").
_EACH = re.compile(r"^(?P<a>[^，,？?和与跟的]{1,10})的?(?:和|与|跟|以及|还有|、)(?P<b>[^，,？?的]{1,10}?)(?P<rest>(?:的[^，,？?]*?)?(?:分别|各自|各)[^，,？?]*[？?]?)$")
_ENGLISH_SHARE = 0.8
_ASKS = re.compile(r"[？?]|吗|呢|哪|啥|什么|多少|几|咋|怎|谁|是否|能不能|要不要|有没有|是不是|可不可以|行不行|如何")
_WH = re.compile(r"哪|啥|什么|多少|几|咋|怎|谁|如何|是否|能不能|要不要|有没有|是不是|可不可以")
MIN_PART_CHARS = 4


@dataclass(frozen=True)
class Constraint:
    """Something the question names that the texts cannot meet; `what` is said in the caveat."""

    what: str


@lru_cache(maxsize=1)
def _answer_types() -> list[tuple[str, str, tuple[re.Pattern, ...], tuple[re.Pattern, ...]]]:
    return [(name, spec["label"], tuple(re.compile(p) for p in spec["asked"]), tuple(re.compile(p) for p in spec["present"]))
            for name, spec in vocabulary()["answer_types"].items()]


def answer_type(question: str) -> str | None:
    """The kind of answer asked for (amount, ratio, frequency, duration, body, date, count, list)."""
    for name, _, asked, _ in _answer_types():
        if any(pattern.search(question) for pattern in asked):
            return name
    return None


def type_label(kind: str) -> str:
    return next(label for name, label, _, _ in _answer_types() if name == kind)


def without_slot(kind: str | None, question: str) -> str:
    """The question without the words that name the answer's category ("哪个盟市"), for kinds marked slot."""
    spec = vocabulary()["answer_types"].get(kind or "", {})
    if not spec.get("slot"):
        return question
    for pattern in spec["asked"]:
        question = re.sub(pattern, "", question)
    return question


_NAMED_COUNT = (re.compile(r"哪([一二三四五六七八九十两])"),
                re.compile(r"([一二三四五六七八九十两])(?:个|项|种|条|颗|类|大|件)[\u4e00-\u9fff]{0,6}?(?:都|分别|具体)?(?:是|有|包括|指)(?:的是)?(?:哪|啥|什么)"))
_NUMERALS = {c: n for n, c in enumerate("一二三四五六七八九十", start=1)} | {"两": 2}


def items_named(question: str) -> int | None:
    """How many items a list question names ("五强是哪五强" 5, "五个基本要素指的是啥" 5), if it does."""
    for pattern in _NAMED_COUNT:
        match = pattern.search(question)
        if match:
            return _NUMERALS[match.group(1)]
    return None


_COUNTER = re.compile(r"^(?:几|多少|多大)(?:个|名|位|项|条|颗|种|类|次)?$")
_MEASURE = re.compile(r"^(?:个|名|位|项|条|颗|种|类|次)$")
_DEFINITION = re.compile(r"(?:是个?啥|是什么|指啥|指的是啥|指什么|啥意思|什么意思|是干啥的)[？?。！!]*$")


def counted_thing(question: str) -> str | None:
    """What a count asks the number of ("几个委员" → 委员, "多少群众参加" → 群众), when it is a word."""
    from jieba import posseg

    from knowledge.text import _jieba

    _jieba()
    words = posseg.lcut(question)
    for n, pair in enumerate(words):
        if _COUNTER.match(pair.word):
            rest = [p for p in words[n + 1:n + 3] if not _MEASURE.match(p.word)]
            noun = rest and len(rest[0].word) > 1 and rest[0].flag.startswith(("n", "x"))  # x: our own terms (等次)
            return rest[0].word if noun else None  # "哪几颗必须有": 必须 is not what is counted
    return None


def asks_definition(question: str) -> bool:
    """"三好一满意具体指啥": what a term means."""
    return bool(_DEFINITION.search(question.strip()))


def type_exact(kind: str | None) -> re.Pattern | None:
    """The pattern of the answer itself, for kinds said alone ("内组通字〔2020〕2号")."""
    spec = vocabulary()["answer_types"].get(kind or "", {})
    return re.compile(spec["exact"]) if "exact" in spec else None


def type_present(kind: str | None, text: str) -> bool:
    """Whether `text` holds an answer of that kind (always true when no kind is asked)."""
    if kind is None:
        return True
    patterns = next(present for name, _, _, present in _answer_types() if name == kind)
    return any(p.search(text) for p in patterns)


@lru_cache(maxsize=1)
def qualifier_patterns() -> tuple[re.Pattern, ...]:
    return tuple(re.compile(p) for p in vocabulary()["qualifiers"])


def years_asked(question: str, this_year: int) -> list[int]:
    """Years named; "今年/明年" count only when a yearly target is asked ("今年比例要到多少")."""
    years = [int(y) if len(y) == 4 else 2000 + int(y) for y in _YEAR.findall(question)]
    if _TARGET.search(question) and not years:  # "今年也就是2020年底": the year named wins
        years += [this_year + offset for word, offset in _RELATIVE_YEARS.items() if word in question]
    return list(dict.fromkeys(years))


def constraints(question: str, corpus_text: str, corpus_years: frozenset[int], this_year: int) -> list[Constraint]:
    """Years, places and named bodies in the question that the texts never speak of."""
    found = [Constraint(f"{year}年的要求") for year in years_asked(question, this_year) if year not in corpus_years]
    vocab = vocabulary()
    found += [Constraint(f"{place}的做法（这些文件是内蒙古自治区的规定）")
              for place in vocab["other_places"] if place in question and place not in corpus_text][:1]
    found += [Constraint(f"“{body}”的职责") for body in _named_bodies(question) if body not in corpus_text]
    return found


def _named_bodies(question: str) -> list[str]:
    suffixes = vocabulary()["body_suffixes"]
    bodies = []
    for suffix in suffixes:
        for match in re.finditer(rf"[\u4e00-\u9fff]{{0,4}}{re.escape(suffix)}", question):
            name = match.group()
            if len(name) >= 3 or suffix == name:
                bodies.append(name)
    return list(dict.fromkeys(bodies))


@lru_cache(maxsize=1)
def _domain_pattern() -> tuple[re.Pattern, dict[str, str]]:
    """One alternation, longest alias first: at each place the longest name wins ("嘎查村党支部" → 嘎查村)."""
    owner = {alias: key for key, aliases in vocabulary()["domains"].items() for alias in aliases}
    aliases = sorted(owner, key=lambda alias: (-len(alias), alias))
    return re.compile("|".join(re.escape(alias) for alias in aliases)), owner


def domain_mentions(text: str) -> list[tuple[str, str]]:
    """(alias, domain) pairs named in `text`, in order of appearance."""
    pattern, owner = _domain_pattern()
    return [(match.group(), owner[match.group()]) for match in pattern.finditer(text)]


def domain_terms(domain: str) -> list[str]:
    return list(vocabulary()["domains"].get(domain, []))


def is_greeting(question: str) -> bool:
    text = re.sub(r"[\s，,。.!！?？~～]+", "", question.lower())
    return bool(text) and any(text.startswith(word) for word in vocabulary()["greetings"]) and len(text) <= 8


def is_english(question: str) -> bool:
    """Written in a Latin script: mostly ASCII letters, Chinese at most a word ("Python 怎么安装" is Chinese)."""
    letters = [c for c in question if c.isalpha()]
    chinese = sum(1 for c in letters if "\u3400" <= c <= "\u9fff")
    return chinese <= 2 and sum(c.isascii() for c in letters) >= _ENGLISH_SHARE * len(letters) and len(letters) >= 3


def split_pieces(question: str) -> list[str]:
    """The separate questions in one message (ended by ？；。 or, on a phone, by a space between two
    questions, or by a comma between two questions each with its question word); a piece too short to ask
    a kind of answer of its own stays with the one before ("文号？" does not)."""
    pieces = [p.strip() for chunk in _PART_END.split(question) for spaced in _split_at_spaces(chunk)
              for p in _split_at_commas(spaced) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        if parts and len(_CONTENT.findall(piece)) < MIN_PART_CHARS and answer_type(piece) is None:
            parts[-1] += piece
        else:
            parts.append(piece)
    return parts


def _split_at_spaces(text: str) -> list[str]:
    """"党员评议优秀要占多少 群众不满意的咋整": two questions when each side asks something."""
    sides = [side for side in re.split(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", text.strip())]
    if len(sides) > 1 and all(_ASKS.search(side) for side in sides):
        return sides
    return [text]


def _split_at_commas(text: str) -> list[str]:
    """"评上最强村里有啥奖励，谁来发": two questions when each side asks with a question word of its own
    ("这种能评吗" after a description stays one question)."""
    sides = [side for side in re.split(r"[，,]", text) if side.strip()]
    if len(sides) > 1 and all(_WH.search(side) for side in sides):
        return [side.strip() for side in sides]
    return [text]


def split_each(part: str) -> list[str]:
    """"A的和B的C分别是啥" → ["A的C是啥", "B的C是啥"]."""
    match = _EACH.match(part)
    if not match:
        return [part]
    rest = re.sub(r"分别|各自|各", "", match["rest"]).lstrip("的")
    return [f"{entity}的{rest}" for entity in (match["a"], match["b"])]


def is_identity(question: str) -> bool:
    """"你是谁", "你能干啥": a question about the assistant itself."""
    text = re.sub(r"[\s，,。.!！?？~～]+", "", question)
    return any(re.search(pattern, text) for pattern in vocabulary()["identity"])


def is_off_topic(question: str) -> bool:
    """Small talk or a request outside the policy ("今天天气怎么样", "帮我写一首诗")."""
    return any(re.search(pattern, question) for pattern in vocabulary()["off_topic"])


def asks_yes_no(question: str) -> bool:
    """"还能评最强吗", "算不算", "是不是得…": a question answered 能 / 不能 (when no kind of answer is asked)."""
    tail = re.split(r"[，,；;]", question.strip())[-1] or question
    return answer_type(tail) is None and any(re.search(p, tail) for p in vocabulary()["yes_no"])
