"""Quote picking: the units of the retrieved passages that answer, as a careful reader would quote
them — a whole list when one is asked for (with its lead-in), a whole short numbered item, a section's
outline when its sub-headings are the items, else the best sentence and one more that adds the answer
asked for; a second passage only when it says something the first does not."""

from __future__ import annotations

import re
from functools import lru_cache

from langchain_core.documents import Document

from knowledge.analysis import Analysis
from knowledge.answer import Quote
from knowledge.question import type_present
from knowledge.quotes import Segmented, Unit, item_label, segment
from knowledge.terms import HEADING_SHARE, Terms, folded as _folded
from zhibu.text import chinese_punctuation

RANK_PRIOR = 0.1  # retrieval's own order breaks near-ties between passages (best: +0.1, second: +0.05…)
TYPE_BONUS = 0.2  # a sentence holding the kind of answer asked for is preferred
DOMAIN_BONUS = 0.2  # a passage under the heading of the domain the question names
SECONDARY_SHARE = 0.8  # a second passage is quoted only when it covers the question nearly as well
SECONDARY_COVERAGE = 0.25  # …and covers it at all
OUTLINE_COVERAGE = 0.55  # a heading naming this much of the question is what it asks about
ITEM_WHOLE_CHARS = 220  # a numbered item up to this length is quoted whole
TITLE_CHARS = 16  # a unit this short opening an item ("1.组织评定。") is its title
SECOND_UNIT_SHARE = 0.75
MAX_LIST_UNITS = 4
NEARBY_UNITS = 3
LIST_SERIES = 4  # "、" in a sentence that make it a full series
MIN_OUTLINE = 3  # sub-headings that make a section's outline an answer to "有哪些"
_FIGURE = re.compile(r"(?<![\d.])\d+(?![.、\d])")
_LIST_LEAD = re.compile(r"(?:以下|如下|下列|之一)|：$")
_CHINESE_ORDINALS = "一二三四五六七八九十"
# A sub-heading inside a passage: "4.作用发挥强。", "（三）组织生活强。" — a number and a short title.
_SUBHEADING = re.compile(r"^(?:(\d{1,2})[.、]|（([一二三四五六七八九十]+)）)(?P<title>[^。；，：]{2,20})。")
_HEADING_NUMBER = re.compile(r"^(?:(\d{1,2})[.、]|（([一二三四五六七八九十]+)）|([一二三四五六七八九十]+)、)")


def pick(analysis: Analysis, documents: list[Document], search) -> list[Quote]:
    """The quotes that answer `analysis` from its retrieved passages (the k best, and any retrieval added
    for a rare word), best first."""
    terms, kind = analysis.terms, analysis.kind
    named = analysis.sections if analysis.named_domain else ()
    candidates = []
    for rank, doc in enumerate(documents):
        units, item, coverage = _choose_units(terms, kind, doc)
        dated_heading = kind == "date" and type_present(kind, doc.metadata["section"].rpartition(" > ")[2])
        value = coverage + (TYPE_BONUS if has_type(kind, units) or dated_heading else 0.0)  # "集中建设(2020年6月—11月)"
        value += DOMAIN_BONUS if any(alias in doc.metadata["section"] for alias in named) else 0.0
        candidates.append((value + RANK_PRIOR / (rank + 1), -rank, Quote(doc, units, item, coverage)))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    best_value = candidates[0][0]
    quotes = [candidates[0][2]]
    close = [quote for value, _, quote in candidates[1:] if value >= SECONDARY_SHARE * best_value
             and quote.coverage >= SECONDARY_COVERAGE and _adds(quote, quotes)]
    # Of the passages nearly as good, the one with figures the first lacks ("2000元至3000元") is the one to add.
    close.sort(key=lambda quote: not _new_numbers(quote, quotes))
    quotes += close[:1]
    outline = _outline_quote(terms, documents, search.generation) if kind == "list" else None
    if outline and outline.coverage >= quotes[0].coverage:
        # A sentence naming the same items in a series ("组织评定、党员评议、…") stays beside the outline.
        series = (has_type(kind, quotes[0].units) and quotes[0].coverage >= outline.coverage
                  and quotes[0].doc.metadata["chunk_id"] != outline.doc.metadata["chunk_id"])
        quotes = [outline] + quotes[:1] * series
    return quotes


def has_type(kind: str | None, units: list[Unit]) -> bool:
    """The quote holds the kind of answer asked for; for a list: several items, or a "、" series."""
    if kind == "list":
        return len({u.item for u in units if u.item is not None}) >= 2 or any(u.text.count("、") >= 2 for u in units)
    return type_present(kind, "".join(u.text for u in units))


def _unit_value(terms: Terms, kind: str | None, unit: Unit, heading: str, heading_share: float) -> float:
    value = terms.coverage(_folded(unit.lead + unit.text), heading, heading_share)
    if kind == "list":  # the longer the series ("系统化谋划、制度化规范、…"), the likelier it is the list asked for
        value += TYPE_BONUS * min(1.0, unit.text.count("、") / LIST_SERIES)
    elif kind is not None and type_present(kind, unit.text):
        value += TYPE_BONUS
    return value


def _is_list(seg: Segmented) -> bool:
    """Numbered lines that form one enumeration (items ending "；", or announced by the lead-in)."""
    if len(seg.items) < 2:
        return False
    lead = seg.units[seg.intro[-1]].text if seg.intro else ""
    endings = [seg.item_units(n)[-1].text for n in range(len(seg.items)) if seg.item_units(n)]
    return bool(_LIST_LEAD.search(lead)) or sum(e.endswith("；") for e in endings) >= len(endings) - 1


def _choose_units(terms: Terms, kind: str | None, doc: Document) -> tuple[list[Unit], str, float]:
    """The units of one passage that answer: a whole list when one is asked for, a whole short item,
    else the best sentence (and a second one that adds the asked-for answer)."""
    seg = segment(doc.page_content)
    heading = _folded(doc.metadata["section"])
    titles = [_folded(item.title) for item in seg.items]  # "创新推进“融合党建”" heads its item's sentences
    share = _heading_share(seg)
    values = [_unit_value(terms, kind, u, heading + (titles[u.item] if u.item is not None else ""), share) for u in seg.units]
    if not seg.units:
        return [], "", 0.0
    best = max(range(len(values)), key=lambda i: (values[i], -i))
    unit = seg.units[best]
    # A list asked for, or a question its heading answers better than any one item ("流动党员支部咋评最强"
    # under "九、流动党员党支部"): the list whole.
    whole = _is_list(seg) and (kind == "list" or terms.coverage(heading) >= terms.coverage(_folded(unit.text)))
    if whole:
        chosen = _list_lead(seg) + [u for u in seg.units if u.item is not None]
        # A whole list is titled by its heading ("二、社区党支部"): terms found there count in full.
        text = _folded("".join(u.text for u in chosen) + doc.metadata["section"])
        return chosen, "", terms.coverage(text)
    elif unit.item is not None and sum(len(u.text) for u in seg.item_units(unit.item)) <= ITEM_WHOLE_CHARS:
        chosen = seg.item_units(unit.item)
    else:
        # A list asked for in running text ("抓制度建设…。抓体系建设…。"): its parallel sentences, else one more.
        ranked = sorted((i for i in range(len(values)) if i != best), key=lambda i: (-values[i], i))
        more = MAX_LIST_UNITS - 1 if kind == "list" else 1
        chosen = [unit] + [seg.units[i] for i in ranked[:more] if values[i] > 0 and values[i] >= SECOND_UNIT_SHARE * values[best]]
        chosen = _with_items_of_titles(seg, chosen)
    chosen += _answer_nearby(kind, seg, chosen)
    text = _folded("".join(u.lead + u.text for u in chosen))
    return chosen, item_label(seg, chosen), terms.coverage(text, heading, share)


def _answer_nearby(kind: str | None, seg: Segmented, chosen: list[Unit]) -> list[Unit]:
    """The asked-for answer standing alone just after the chosen sentence, when it lacks one ("…现印发给
    你们。" and, two lines on, the date "2020年2月25日"): the first short unit holding it."""
    if kind in (None, "list") or has_type(kind, chosen):
        return []
    last = max(u.index for u in chosen)
    return [u for u in seg.units[last + 1:last + 1 + NEARBY_UNITS]
            if len(u.text) <= TITLE_CHARS and type_present(kind, u.text)][:1]


def _heading_share(seg: Segmented) -> float:
    """A checklist (the passage is numbered items under its heading, as in 附件1 and 附件2): the heading
    names what every item is about ("三、基层党（工）委主要职责"), so its words count in full."""
    return 1.0 if seg.items and not seg.intro else HEADING_SHARE


def _with_items_of_titles(seg: Segmented, chosen: list[Unit]) -> list[Unit]:
    """A unit that only titles a short item ("1.组织评定。") says nothing by itself: quote its item whole."""
    whole: list[Unit] = []
    for unit in chosen:
        item = seg.item_units(unit.item) if unit.item is not None else []
        is_title = bool(item) and item[0] is unit and len(unit.text) <= TITLE_CHARS
        if is_title and sum(len(u.text) for u in item) <= ITEM_WHOLE_CHARS:
            whole += [u for u in item if u not in whole]
        elif unit not in whole:
            whole.append(unit)
    return whole


def _list_lead(seg: Segmented) -> list[Unit]:
    """The sentence that announces a list ("有以下情形之一的，…"), else the one right before it."""
    lead = [seg.units[i] for i in seg.intro if _LIST_LEAD.search(seg.units[i].text)]
    return lead[:1] or [seg.units[i] for i in seg.intro[-1:]]


def _outline_quote(terms: Terms, documents: list[Document], generation) -> Quote | None:
    """"总体标准有哪些？": when the heading of a retrieved passage's section (or of one above it) is what the
    question names and its sub-headings are the items ("1.政治功能强 … 5.群众工作强"), the answer is that
    outline. Of equal matches the best-ranked passage wins, then the broader section (the one named)."""
    best: tuple[tuple[float, int, int], Quote] | None = None
    for rank, doc in enumerate(documents):
        path = doc.metadata["section"].split(" > ")
        for depth in range(1, len(path) + 1):
            section = " > ".join(path[:depth])
            headings = _outline(generation, doc.metadata["doc_id"], section)
            # The ending its items share names what they are ("…方面": "基本标准有哪几个方面").
            key = (terms.coverage(_folded(section + _shared_ending(headings))), -rank, -depth)
            if key[0] < OUTLINE_COVERAGE or (best and key <= best[0]):
                continue
            if len(headings) >= MIN_OUTLINE:
                units = [Unit(heading, n, n, n) for n, heading in enumerate(headings)]
                outlined = Document(id=doc.id, page_content="\n".join(headings),
                                    metadata={**doc.metadata, "section": section})
                best = (key, Quote(outlined, units, "", key[0]))
    return best[1] if best else None


def _shared_ending(headings: tuple[str, ...]) -> str:
    """The longest ending (two characters or more) every heading has: "方面" of "1.规范基本设置方面…"."""
    ending = ""
    while headings and all(len(h) > len(ending) + 1 for h in headings) and len({h[-len(ending) - 1:] for h in headings}) == 1:
        ending = headings[0][-len(ending) - 1:]
    return ending if len(ending) >= 2 else ""


@lru_cache(maxsize=256)
def _outline(generation, doc_id: str, section: str) -> tuple[str, ...]:
    """The numbered sub-headings of a section, in order: its sub-sections' headings and the short titled
    items in its own text; empty unless they run 1, 2, 3… without a gap (a partial outline would mislead)."""
    headings: list[str] = []
    for passage in generation.passages:
        if passage.doc_id != doc_id:
            continue
        if passage.section == section:
            lines = chinese_punctuation(passage.text).split("\n")
            headings += [f"{m.group(1) or '（' + m.group(2) + '）'}{'.' if m.group(1) else ''}{m['title']}"
                         for m in map(_SUBHEADING.match, lines) if m]
        elif passage.section.startswith(section + " > "):  # a sub-section, or one below it: its heading
            child = chinese_punctuation(passage.section[len(section) + 3:].split(" > ")[0])
            if child not in headings:
                headings.append(child)
    numbers = [_heading_number(h) for h in headings]
    return tuple(headings) if numbers == list(range(1, len(numbers) + 1)) else ()


def _heading_number(heading: str) -> int | None:
    match = _HEADING_NUMBER.match(heading)
    if not match:
        return None
    if match.group(1):
        return int(match.group(1))
    numeral = match.group(2) or match.group(3)
    return _CHINESE_ORDINALS.index(numeral) + 1 if len(numeral) == 1 else None


def _new_numbers(quote: Quote, others: list[Quote]) -> set[str]:
    """Figures in `quote` that the others lack (list numbers such as "11." do not count)."""
    return set(_FIGURE.findall(quote.text)) - set(_FIGURE.findall("".join(o.text for o in others)))


def _adds(quote: Quote, others: list[Quote]) -> bool:
    """A second passage is worth quoting when it says something the first does not (a number, mostly)."""
    if _new_numbers(quote, others):
        return True
    mine, theirs = _bigrams(quote.text), _bigrams("".join(o.text for o in others))
    return len(mine & theirs) < 0.6 * len(mine)


def _bigrams(text: str) -> set[str]:
    folded = _folded(text)
    return {folded[i:i + 2] for i in range(len(folded) - 1)}
