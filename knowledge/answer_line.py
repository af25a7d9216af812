"""The direct answer line ("答：赤峰市。"), taken from the quoted text, never invented.

For a question asking for a kind of answer (an amount, a date, a body…): the clauses of the best quoted
sentence that hold it; a place as its name; a list as a short numbered list of its items. For a yes/no
question: 能 / 不能 (in the question's own verb: 算 / 不算, 会…) with the clause it rests on — 不 when the
clause forbids what the question describes, or requires what the question says is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from knowledge.analysis import Analysis
from knowledge.answer import Quote
from knowledge.judge import leaf_heading, parallel_clauses, top_level
from knowledge.question import qualifier_patterns, type_exact, type_present
from knowledge.quotes import Unit, segment
from knowledge.terms import folded
from knowledge.text import vocabulary
from zhibu.text import chinese_punctuation

MAX_LINE = 90
SHORT_CLAUSE = 12  # characters: a longer line keeps only the clauses holding the answer
MAX_ITEMS = 8
# What a list question names around its question word: the verb before ("要防止哪些") and the kind of
# thing after ("哪些部门"); a series whose clause holds them is the one asked for.
_ASKED_LIST = re.compile(r"([\u4e00-\u9fff]{2})?(?:哪些|哪几[个项种类条方]?|什么)([\u4e00-\u9fff]{2})?")
_SERIES = re.compile(r"(?:[^、，“”‘’（）]|（[^（）]*）)+(?:、(?:[^、，“”‘’（）]|（[^（）]*）)+)+")  # "旗县（市、区）" is one item
_NAME_AFTER = re.compile(r"[“‘]([^”’]{2,6})[”’]")
_GENERIC_CATEGORY = re.compile(r"情况|情形|条件|要求|标准|内容|东西|事情|地方")  # names no kind of item
_ABBREVIATION = re.compile(r"哪[一二三四五六七八九十两]个?([^个项种条类件\W\d])")  # "哪四优": each item holds 优
_MARKER = re.compile(r"^(?:\d{1,2}[.、]|（\d{1,2}）|（[一二三四五六七八九十]+）|[一二三四五六七八九十]+[、是要])")
_STEP_DATE = re.compile(r"^(?P<step>.+?)（(?P<date>\d{4}年[^（）]*月)）$")
_ENDING = re.compile(r"[；，、：。]+$")
_FORBIDS = re.compile(r"不得|不能|不予|严禁|不再|取消|不作为|不列入|不允许|不宜|不易|不应")  # 不易: the texts misprint 不宜
_REQUIRES = re.compile(r"要|应|必须|至少|以上|不低于|达到|纳入|落实|具备|满")
_ABSENCE = re.compile(r"(?:无|不存在|没有)([^，。；、]{2,12})")
_SHORTFALL = re.compile(r"没|不是|低|不到|才|未|不够|只有|只是|不满|差|不懂|不全|不足")
_TURN = re.compile(r"([\u4e00-\u9fff])[不没]\1")  # "是不是", "能不能": the question's turn, not a shortfall
_STANDARDS = re.compile(r"标准|条件|要求")
_HEDGED = re.compile(r"原则上")
_PERMITS = re.compile(r"可以|可不|可按|可作为|可结合|可探索|可到|可在|可视|可适当")
_OBLIGED = re.compile(r"都得|都要|必须|一定要|非得|非要|每年都")
_ADVERSE = re.compile(r"影响|取消|评不上|不算了")
_VERBS = ("可以", "需要", "一样", "能", "算", "是", "会", "要", "有", "行", "够", "用", "得")


def answer_line(analysis: Analysis, quotes: list[Quote]) -> str:
    if not quotes:
        return ""
    if analysis.kind == "list":
        return _list_line(analysis, quotes)
    if analysis.kind:
        return _typed_line(analysis, quotes)
    if analysis.yes_no:
        return _yes_no_line(analysis, quotes)
    return _open_line(analysis, quotes)


def _units(quotes: list[Quote]) -> list[Unit]:
    return [unit for quote in quotes for unit in quote.units]


def _best(analysis: Analysis, units: list[Unit]) -> Unit:
    """The unit covering most of the question (the first of equals)."""
    values = [analysis.terms.coverage(folded(u.lead + u.text)) for u in units]
    return units[max(range(len(units)), key=lambda i: (values[i], -i))]


def _clauses(text: str) -> list[str]:
    """A sentence's clauses at "，；：" outside brackets and quotation marks."""
    clauses, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += 1 if char in "（《“‘" else -1 if char in "）》”’" else 0
        if char in "，；：" and depth <= 0:
            clauses.append(text[start:i])
            start = i + 1
    clauses.append(text[start:])
    return [c.strip() for c in clauses if _ENDING.sub("", c.strip())]


def _line(text: str) -> str:
    return f"答：{_ENDING.sub('', _MARKER.sub('', text.strip()))}。"


def _typed_line(analysis: Analysis, quotes: list[Quote]) -> str:
    dated = _dated_heading(analysis, quotes) if analysis.kind == "date" else ""
    if dated:
        return dated
    units = [u for u in quotes[0].units if type_present(analysis.kind, u.text)]
    units = units or [u for u in _units(quotes) if type_present(analysis.kind, u.text)]
    if not units:
        return ""
    of_year = [u for u in units if _of_year(analysis, u.lead + u.text)]
    units = of_year or units  # "2023年呢？": the sentence of that year, not the first of the quote
    unit = _best(analysis, units)
    if analysis.kind == "place":
        names = sorted((name for name in _places() if name in unit.text), key=unit.text.find)  # as the text lists them
        if names:
            return _line("、".join(names))
    exact = type_exact(analysis.kind)
    if exact and exact.search(unit.text):
        return _line(exact.search(unit.text).group())
    clauses = _clauses(_MARKER.sub("", unit.text))
    text = "，".join(clauses)
    if len(text) > MAX_LINE:
        text = "，".join(c for c in clauses if type_present(analysis.kind, c))
    return _line(_with_lead(unit, text))


def _dated_heading(analysis: Analysis, quotes: list[Quote]) -> str:
    """A step dated in its heading ("3.锁定目标,集中建设(2020年6月—11月)"), when the heading names what is
    asked better than any dated sentence of the quotes: "答：2020年6月—11月（锁定目标，集中建设）。"."""
    dated = [c for u in _units(quotes) for c in _clauses(u.lead + "，" + u.text) if type_present("date", c)]
    best_clause = max((analysis.terms.coverage(folded(clause)) for clause in dated), default=0.0)  # the date's own clause
    for quote in quotes:
        heading = chinese_punctuation(leaf_heading(quote))
        step = _STEP_DATE.search(heading)
        if step and analysis.terms.coverage(folded(heading)) > best_clause:
            return _line(f"{step.group('date')}（{_MARKER.sub('', step.group('step'))}）")
    return ""


def _of_year(analysis: Analysis, text: str) -> bool:
    """The text speaks of a year the question asks about."""
    return any(f"{year}年" in text for year in analysis.years)


def _with_lead(unit: Unit, text: str) -> str:
    """A later clause keeps its sentence's qualifier ("到2021年，") unless it has one of its own."""
    own = any(pattern.search(text) for pattern in qualifier_patterns())
    return f"{unit.lead}，{text}" if unit.lead and not own and not text.startswith(unit.lead) else text


def _open_line(analysis: Analysis, quotes: list[Quote]) -> str:
    """"党员评议一般放在啥会上搞": the clause of the best sentence that covers most of the question,
    with the one after it when it is short."""
    units = list(quotes[0].units)  # the picker's best quote answers an open question
    unit = _best(analysis, [u for u in units if _of_year(analysis, u.lead + u.text)] or units)
    clauses = _clauses(_MARKER.sub("", unit.text))
    values = [analysis.terms.coverage(folded(c)) + _of_year(analysis, c) for c in clauses]  # "22年要到啥程度": 2022年's clause
    best = max(range(len(clauses)), key=lambda i: (values[i], -i))
    chosen = clauses[best:best + 2] if len(clauses[best]) < SHORT_CLAUSE else clauses[best:best + 1]
    end = best + len(chosen)
    while chosen[-1].endswith("的") and end < len(clauses) and len("，".join(chosen)) < MAX_LINE:
        chosen.append(clauses[end])  # "…被评定为‘最强党支部’的，": the rule is what follows its condition
        end += 1
    return _line(_with_lead(unit, "，".join(chosen)))


@dataclass(frozen=True)
class _Listed:
    """A list the quotes hold: a quote's numbered items, or a series of one sentence clause."""

    items: list[str]
    words: str  # what says what it lists: the clause, or the numbered items' heading and lead-in (folded)
    coverage: float  # of the question, by the sentence (or heading) it stands in
    line: str
    name: str | None = None  # the name a series is followed by ("四优"); None for numbered items


def _list_line(analysis: Analysis, quotes: list[Quote]) -> str:
    """The list the question asks for, among the quoted ones. Preferred in turn: the length the question
    names ("哪五个"); the list an abbreviation names ("哪四优": the series followed by “四优”, or whose items
    hold 优); a clause naming the verb and the kind asked ("要防止哪些", "哪些部门": "…等执纪执法部门"); the
    sentence (or for numbered items, the heading and lead-in) covering most of the question."""
    candidates = _listed(analysis, quotes)
    if not candidates:  # "A、B等": a short series of the best sentence
        series = [u for u in _units(quotes) if "、" in u.text]
        return _line(max(_clauses(_best(analysis, series).text), key=lambda c: c.count("、"))) if series else ""
    asked = _ASKED_LIST.search(analysis.asks)
    verb, category = (asked.group(1), asked.group(2)) if asked else (None, None)
    category = None if category and _GENERIC_CATEGORY.match(category) else category
    short = _ABBREVIATION.search(analysis.asks)

    def fit(listed: _Listed) -> tuple:
        named = 2 * bool(verb and verb in listed.words) + bool(category and category in listed.words)
        return (len(listed.items) == analysis.items, _abbreviated(short, listed), named, listed.coverage,
                analysis.terms.coverage(listed.words))

    chosen = max(candidates, key=fit)  # the first of equals: the picker's order
    if chosen.name is None and _misses_the_thing(analysis, chosen.words + folded("".join(chosen.items)), quotes):
        return _open_line(analysis, quotes)  # "对志愿者人数有啥要求": the sentence on 志愿者, not every standard
    return chosen.line


def _listed(analysis: Analysis, quotes: list[Quote]) -> list[_Listed]:
    """The lists of the quotes, in the picker's order: the best quote's numbered items, then each
    sentence's series and runs of parallel clauses ("不设置…，不搞…，不搞…")."""
    found = []
    numbered = _numbered(quotes[0])
    if len(numbered) >= 2:
        lead_in = folded(quotes[0].doc.metadata["section"] + "".join(u.text for u in quotes[0].units if u.item is None))
        line = "答：\n" + "\n".join(f"{n}. {title}" for n, title in enumerate(numbered[:MAX_ITEMS], start=1))
        found.append(_Listed(numbered, lead_in, analysis.terms.coverage(lead_in), line))
    for unit in _units(quotes):
        coverage = analysis.terms.coverage(folded(unit.lead + unit.text))
        for clause in _clauses(unit.text):
            found += [_Listed(items, folded(clause), coverage, _line(clause), name) for items, name in _series(clause)]
        found += [_Listed(run, folded("，".join(run)), coverage, _line("，".join(run)), "")
                  for run in parallel_clauses(unit.text)]
    return found


def _abbreviated(short: re.Match | None, listed: _Listed) -> float:
    """How far a list is the one an abbreviation names ("哪四优"): named right after it (“四优”), else the
    share of its items holding the abbreviation's character (优)."""
    if short is None:
        return 0.0
    if listed.name and short.group()[1:] in listed.name:
        return 1.0
    return sum(short.group(1) in item for item in listed.items) / len(listed.items)


def _misses_the_thing(analysis: Analysis, words: str, quotes: list[Quote]) -> bool:
    """The list names none of the rare things the question asks about, while a quoted sentence does."""
    wanted = [forms for forms in analysis.rare if not any(form in words for form in forms)]
    return bool(wanted) and len(wanted) == len(analysis.rare) and any(
        form in folded(unit.text) for forms in wanted for form in forms for unit in quotes[0].units)


def _series(clause: str) -> list[tuple[list[str], str]]:
    """The series of a clause ("A、B、C" or "A、B和C"; a quotation or a comma ends one), each with the
    name that follows it ("…群众评价“四优”党员": 四优); the "；" pieces of a bracketed list are one too."""
    found = []
    for match in _SERIES.finditer(clause):
        items = [piece for part in top_level(match.group(), "、") for piece in _last_joint(part)]
        name = _NAME_AFTER.match(clause, match.end())
        if len(items) >= 3:
            found.append((items, name.group(1) if name else ""))
    for inside in re.findall(r"（([^（）]*；[^（）]*)）", clause):
        found.append(([piece for piece in inside.split("；") if piece], ""))
    return found


def _last_joint(item: str) -> list[str]:
    """"基本制度和基本保障": two items when a joint stands inside the series' last item."""
    return re.split(r"(?<=.{2})[和及与](?=.{2})", item, maxsplit=1)


def _numbered(quote: Quote) -> list[str]:
    """A quote's numbered items, each as its title or first clause."""
    firsts: dict[int, Unit] = {}
    for unit in quote.units:
        if unit.item is not None:
            firsts.setdefault(unit.item, unit)
    seg = segment(quote.doc.page_content)
    return [_item_text(seg, unit) for unit in firsts.values()]


def _item_text(seg, unit: Unit) -> str:
    """An item as a list line: its title ("政治功能强"), else its first clause."""
    title = seg.items[unit.item].title if unit.item < len(seg.items) else ""
    text = title or _clauses(_MARKER.sub("", unit.text))[0]
    return _ENDING.sub("", _MARKER.sub("", text))


def _yes_no_line(analysis: Analysis, quotes: list[Quote]) -> str:
    # A rule decides a yes/no: one that forbids first ("有以下情形之一的，不能评定"), then one that permits
    # ("可不开展"), then a requirement; each in the picker's best quote first.
    kinds = (lambda u: bool(_FORBIDS.search(_rule_text(quotes, u))), lambda u: bool(_PERMITS.search(u.text)),
             lambda u: _is_requirement(quotes, u))
    rules = next(([u for u in units if is_rule(u)] for is_rule in kinds for units in (quotes[0].units, _units(quotes))
                  if any(is_rule(u) for u in units)), list(quotes[0].units))
    unit = _best(analysis, rules)
    rule = _rule_text(quotes, unit)
    negative = _against(analysis, rule, _is_requirement(quotes, unit))
    verb = _verb(analysis.asks)
    adverse = bool(_ADVERSE.search(analysis.asks))
    if _HEDGED.search(rule):
        word = "要看"  # "原则上应由…担任": the rule itself allows exceptions
    elif _OBLIGED.search(analysis.asks) and _PERMITS.search(rule) and not _FORBIDS.search(rule):
        word = "不一定"  # "是不是每年都得重新评": "可到任期届满后再重新评定" allows otherwise
    elif negative != adverse:
        word = "不会" if adverse else "没有" if verb == "有" else f"不{verb}"  # "就不算了吗": 不会 (it still counts)
    else:
        word = "会" if adverse else verb
    return f"答：{word}，{_ENDING.sub('', _MARKER.sub('', rule))}。"


def _is_requirement(quotes: list[Quote], unit: Unit) -> bool:
    """A sentence that requires ("要", "应", "不低于"…), or an item of a list of standards or conditions."""
    if _REQUIRES.search(unit.text):
        return True
    section = next((q.doc.metadata["section"] for q in quotes if unit in q.units), "")
    return unit.item is not None and bool(_STANDARDS.search(section))


def _rule_text(quotes: list[Quote], unit: Unit) -> str:
    """The clause the answer rests on; an item of a list that forbids ("有以下情形之一的，不能评定…")
    with the list's consequence."""
    text = unit.text
    if unit.item is None:
        return text
    for quote in quotes:
        if unit in quote.units:
            seg = segment(quote.doc.page_content)
            intro = [seg.units[i].text for i in seg.intro if _FORBIDS.search(seg.units[i].text)]
            if intro:
                consequence = _clauses(intro[0])[-1]
                return f"{_ENDING.sub('', _MARKER.sub('', text))}，{consequence}"
    return text


def _against(analysis: Analysis, rule: str, required: bool) -> bool:
    """Whether the rule goes against what the question describes: it forbids it, it requires the absence
    of something the question names, or it requires what the question says is missing or short."""
    asks = _TURN.sub("", analysis.asks)  # "是不是要求…" says nothing is missing
    if _FORBIDS.search(rule):
        return True
    if _PERMITS.search(rule):  # "…涉密单位等机关党支部，可不开展社会评价": allowed
        return False
    absent = [match.group(1) for match in _ABSENCE.finditer(rule)]
    if any(_shares_words(thing, asks) for thing in absent):
        return True
    return bool(required and _SHORTFALL.search(asks))


def _shares_words(thing: str, question: str) -> bool:
    """Two characters in a row of `thing` also in the question ("安全责任事故" ~ "安全事故")."""
    return any(thing[i:i + 2] in question for i in range(len(thing) - 1))


def _verb(question: str) -> str:
    """The verb a yes/no question turns on ("能不搞" → 能, "算不算" → 算, "还能评最强吗" → 能): the one
    before 不 or 没, else the last one of its last clause ("社会评价能…" is not 会)."""
    tail = _without_nouns(re.split(r"[，,。；]", question.rstrip("？?！! "))[-1])  # "行政" holds no 行
    turned = re.search(rf"({'|'.join(_VERBS)})[不没]", tail)
    if turned:
        return turned.group(1)
    found = [(tail.rfind(verb), verb) for verb in _VERBS if verb in tail]
    return max(found)[1] if found else "能"


def _without_nouns(text: str) -> str:
    """The text with its nouns of two characters or more left out (jieba's part-of-speech cut)."""
    from knowledge.text import pos_cut

    return "".join(word for word, flag in pos_cut(text) if not (len(word) > 1 and flag.startswith("n")))


@lru_cache(maxsize=1)
def _places() -> tuple[str, ...]:
    return tuple(vocabulary()["places"])
