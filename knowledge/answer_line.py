"""The direct answer line ("答：赤峰市。"), taken from the quoted text, never invented.

For a question asking for a kind of answer (an amount, a date, a body…): the clauses of the best quoted
sentence that hold it; a place as its name; a list as a short numbered list of its items. For a yes/no
question: 能 / 不能 (in the question's own verb: 算 / 不算, 会…) with the clause it rests on — 不 when the
clause forbids what the question describes, or requires what the question says is missing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from knowledge.analysis import Analysis
from knowledge.answer import Quote
from knowledge.question import qualifier_patterns, type_exact, type_present
from knowledge.quotes import Unit, segment
from knowledge.terms import folded
from knowledge.text import vocabulary

MAX_LINE = 90
SHORT_CLAUSE = 12  # characters: a longer line keeps only the clauses holding the answer
MAX_ITEMS = 8
_MARKER = re.compile(r"^(?:\d{1,2}[.、]|（\d{1,2}）|（[一二三四五六七八九十]+）|[一二三四五六七八九十]+[、是要])")
_ENDING = re.compile(r"[；，、：。]+$")
_FORBIDS = re.compile(r"不得|不能|不予|严禁|不再|取消|不作为|不列入|不允许")
_REQUIRES = re.compile(r"要|应|必须|至少|以上|不低于|达到|纳入|落实|具备|满")
_ABSENCE = re.compile(r"(?:无|不存在|没有)([^，。；、]{2,12})")
_SHORTFALL = re.compile(r"没|不是|低|不到|才|未|不够|只有|只是|不满|差|不懂|不全|不足")
_TURN = re.compile(r"([\u4e00-\u9fff])[不没]\1")  # "是不是", "能不能": the question's turn, not a shortfall
_STANDARDS = re.compile(r"标准|条件|要求")
_HEDGED = re.compile(r"原则上")
_PERMITS = re.compile(r"可以|可不|可按|可作为|可结合|可探索")
_ADVERSE = re.compile(r"影响|取消|评不上|不算了")
_VERBS = ("可以", "需要", "能", "算", "是", "会", "要", "有", "行", "够", "用", "得")


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
    units = [u for u in quotes[0].units if type_present(analysis.kind, u.text)]
    units = units or [u for u in _units(quotes) if type_present(analysis.kind, u.text)]
    if not units:
        return ""
    unit = _best(analysis, units)
    if analysis.kind == "place":
        names = [name for name in _places() if name in unit.text]
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


def _with_lead(unit: Unit, text: str) -> str:
    """A later clause keeps its sentence's qualifier ("到2021年，") unless it has one of its own."""
    own = any(pattern.search(text) for pattern in qualifier_patterns())
    return f"{unit.lead}，{text}" if unit.lead and not own and not text.startswith(unit.lead) else text


def _open_line(analysis: Analysis, quotes: list[Quote]) -> str:
    """"党员评议一般放在啥会上搞": the clause of the best sentence that covers most of the question,
    with the one after it when it is short."""
    unit = _best(analysis, quotes[0].units)  # the picker's best quote answers an open question
    clauses = _clauses(_MARKER.sub("", unit.text))
    values = [analysis.terms.coverage(folded(c)) for c in clauses]
    best = max(range(len(clauses)), key=lambda i: (values[i], -i))
    chosen = clauses[best:best + 2] if len(clauses[best]) < SHORT_CLAUSE else clauses[best:best + 1]
    return _line(_with_lead(unit, "，".join(chosen)))


def _list_line(analysis: Analysis, quotes: list[Quote]) -> str:
    """The items of the quoted list (its titles where they have one), or the series of a sentence."""
    best = _best(analysis, _units(quotes))
    if best.text.count("、") >= 2:  # "六有是哪六有": the series the question names, not the list around it
        return _line(max(_clauses(best.text), key=lambda c: c.count("、")))
    quote = quotes[0]
    items = [u for u in quote.units if u.item is not None]
    if len({u.item for u in items}) >= 2:
        firsts = {}
        for unit in items:
            firsts.setdefault(unit.item, unit)
        seg = segment(quote.doc.page_content)
        titles = [_item_text(seg, unit) for unit in firsts.values()][:MAX_ITEMS]
        return "答：\n" + "\n".join(f"{n}. {title}" for n, title in enumerate(titles, start=1))
    series = [u for u in _units(quotes) if u.text.count("、") >= 2]
    if series:
        clause = max(_clauses(_best(analysis, series).text), key=lambda c: c.count("、"))
        return _line(clause)
    return ""


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
    elif negative != adverse:
        word = "没有" if verb == "有" else f"不{verb}"
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
    tail = re.split(r"[，,。；]", question.rstrip("？?！! "))[-1]
    turned = re.search(rf"({'|'.join(_VERBS)})[不没]", tail)
    if turned:
        return turned.group(1)
    found = [(tail.rfind(verb), verb) for verb in _VERBS if verb in tail]
    return max(found)[1] if found else "能"


@lru_cache(maxsize=1)
def _places() -> tuple[str, ...]:
    return tuple(vocabulary()["places"])
