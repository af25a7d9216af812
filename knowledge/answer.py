"""Grounded answers with three honest outcomes: answered, partly covered (a caveat first), not covered.

The outcome is judged the way a careful reader would, not by one similarity threshold:
constraints the texts cannot meet (a year, place or body they never speak of), whether the quoted
sentence holds the kind of answer asked for (an amount, a duration, a body…), and how much of the
question's key terms the quoted sentence itself covers. Quotes are whole units of the text (a
numbered list asked for is quoted whole), shown with Chinese punctuation; only what is quoted is cited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from langchain_core.documents import Document

from knowledge.question import (answer_type, constraints, domain_mentions, domain_terms, is_english, is_greeting,
                                split_each, split_pieces, type_label, type_present)
from knowledge.quotes import Segmented, Unit, item_label, render, segment
from knowledge.text import key_terms
from zhibu.text import chinese_punctuation, fold_for_match, quoted

ANSWERED, PARTIAL, NOT_COVERED = "answered", "partial", "not_covered"

# Passage-level relevance floors, calibrated on the dev sets and our own questions (README, Q&A).
# coverage: IDF-weighted share of the question's words found in a top passage; dense: e5 cosine.
ALWAYS_REFUSE_BELOW_COVERAGE = 0.15
WEAK_COVERAGE = 0.30
WEAK_DENSE = 0.89
KEYWORD_ONLY_MIN_COVERAGE = 0.25  # with no dense model, coverage decides alone
# Sentence-level: share of the question's key terms (IDF-weighted) the quoted sentences cover.
ANSWERED_COVERAGE = 0.55
PARTIAL_COVERAGE = 0.25
HEADING_SHARE = 0.5  # a term found only in the section heading counts half
SINGLE_CHAR_SHARE = 0.5
GENERIC_PASSAGES, GENERIC_SHARE = 0.3, 0.3
RANK_PRIOR = 0.1  # retrieval's own order breaks near-ties between passages (best: +0.1, second: +0.05…)
FOCUS_WEIGHT = 4.0  # a follow-up's own words, against the topic it continues
ACTION_SHARE = 0.6  # a verb, adverb or numeral the texts use
UNSEEN_ACTION_SHARE = 0.25  # …and one they never use ("挣", "达标"): colloquial wording, not the subject
RARE_PASSAGES = 8  # a word in at most this many passages is specific
TYPE_BONUS = 0.2  # a sentence holding the kind of answer asked for is preferred
POINTER_COVERAGE = 0.30  # a refusal points to a clause only when it is plausibly related
CANDIDATE_PASSAGES = 5
SECONDARY_SHARE = 0.8  # a second passage is quoted only when it covers the question nearly as well
ITEM_WHOLE_CHARS = 220  # a numbered item up to this length is quoted whole
TITLE_CHARS = 16  # a unit this short opening an item ("1.组织评定。") is its title
SECOND_UNIT_SHARE = 0.75
MAX_LIST_UNITS = 4
LIST_SERIES = 4  # "、" in a sentence that make it a full series
DOMAIN_BONUS = 0.2  # a passage under the heading of the domain the question names
MAX_QUESTION_CHARS = 500
_NO_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
_PER_PERIOD = re.compile(r"(?:每个?|一个?)(?P<unit>月|天|周)|月(?=工资|薪|补贴)")  # an amount per month, day or week
_FIGURE = re.compile(r"(?<![\d.])\d+(?![.、\d])")
_LIST_LEAD = re.compile(r"(?:以下|如下|下列|之一)|：$")
_CHINESE_ORDINALS = "一二三四五六七八九十"
# A sub-heading inside a passage: "4.作用发挥强。", "（三）组织生活强。" — a number and a short title.
_SUBHEADING = re.compile(r"^(?:(\d{1,2})[.、]|（([一二三四五六七八九十]+)）)(?P<title>[^。；，：]{2,20})。")
_HEADING_NUMBER = re.compile(r"^(?:(\d{1,2})[.、]|（([一二三四五六七八九十]+)）|([一二三四五六七八九十]+)、)")
MIN_OUTLINE = 3  # sub-headings that make a section's outline an answer to "有哪些"

COVERAGE_NOTE = (
    "知识库收录：《关于“五化协同、大抓基层”的指导意见》（内组通字〔2020〕2号）、"
    "《筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案》（内组通字〔2020〕4号）、"
    "《内蒙古自治区“最强党支部”建设工作指南》及其附件1、附件2。"
)
SELF_CHECK_HINT = "想知道自己的支部能否评为“最强党支部”，请用 /check 做一次逐项自评（终端里输入 check）。"
EXAMPLE = "最强党支部多长时间评定一次？"
GREETING = (
    "您好！我是“支部”助手，依据自治区“最强党支部”建设的政策原文回答问题，并注明出处。\n"
    f"• 直接用中文提问，例如：“{EXAMPLE}”“村里支部评上最强有啥奖励？”\n"
    "• 可以接着追问，例如“那社区呢？”“第三条具体指啥？”；发送 /new 开始新话题。\n"
    "• 发送 /check，逐项自检本支部能否申报“最强党支部”。"
)
ENGLISH = f"请用中文提问，例如：“{EXAMPLE}”（Please ask in Chinese.）"


@dataclass(frozen=True)
class Citation:
    document: str
    doc_number: str
    section: str
    text: str
    score: float
    chunk_id: str
    short_title: str = ""
    item: str = ""  # the numbered item quoted, where the passage holds several ("20、深化拓展…")

    @classmethod
    def from_document(cls, doc: Document, item: str = "") -> "Citation":
        m = doc.metadata
        return cls(m["document"], m["doc_number"], m["section"], doc.page_content, round(float(m["score"]), 6),
                   m["chunk_id"], m["short_title"], item)

    @property
    def place(self) -> str:
        """Section path and item, as people read it."""
        return f"{chinese_punctuation(self.section)} {self.item}".strip()

    @property
    def label(self) -> str:
        number = f"（{self.doc_number}）" if self.doc_number else ""
        return f"《{self.document}》{number} {self.place}".strip()

    def to_dict(self) -> dict:
        return {"document": self.document, "doc_number": self.doc_number, "section": self.section, "text": self.text,
                "score": self.score, "chunk_id": self.chunk_id, "item": self.item}


@dataclass
class Answer:
    question: str
    found: bool
    answer: str
    citations: list[Citation] = field(default_factory=list)  # the sources quoted, numbered [1], [2]… in order
    mode: str = "extractive"
    status: str = NOT_COVERED
    related: list[Citation] = field(default_factory=list)  # retrieved but not quoted ("更多相关条文")
    retrieved: list[Citation] = field(default_factory=list)  # every passage retrieved, best first
    resolved: str = ""  # the question as understood, when a follow-up was rewritten
    context: dict | None = None  # what the next question may refer to (see knowledge.conversation)

    def to_dict(self) -> dict:
        payload = {"question": self.question, "found": self.found, "answer": self.answer,
                   "citations": [c.to_dict() for c in self.citations], "status": self.status,
                   "related": [c.to_dict() for c in self.related], "mode": self.mode}
        if self.resolved and self.resolved != self.question:
            payload["resolved_question"] = self.resolved
        return payload


def problem_with_question(question: str) -> str | None:
    """A polite Chinese explanation when the question cannot be searched at all."""
    if not question.strip():
        return f"问题是空的。请直接输入想了解的政策问题，例如：“{EXAMPLE}”"
    if not _NO_WORDS.search(question):
        return "没有看懂这条消息。请用中文文字描述想了解的政策问题，例如：“党员评议优秀比例要达到多少？”"
    if len(question) > MAX_QUESTION_CHARS:
        return f"问题太长了（{len(question)} 字）。请把问题压缩到 {MAX_QUESTION_CHARS} 字以内，一次问一件事。"
    if is_greeting(question):
        return GREETING
    if is_english(question):
        return ENGLISH
    return None


def is_covered(documents: list[Document], terms: "Terms | None" = None) -> bool:
    """Whether the best passages are about the question at all, judged on the top three: their share
    of the question's words (with the text forms of colloquial ones) and, in the grey zone, e5."""
    top = documents[:3]
    if not top:
        return False
    coverage = max(_passage_coverage(doc, terms) for doc in top)
    dense = top[0].metadata["dense"]
    if dense is None:
        return coverage >= KEYWORD_ONLY_MIN_COVERAGE
    if coverage < ALWAYS_REFUSE_BELOW_COVERAGE:
        return False
    return coverage >= WEAK_COVERAGE or dense >= WEAK_DENSE


def _passage_coverage(doc: Document, terms: "Terms | None") -> float:
    if terms is None:
        return doc.metadata["coverage"]
    return max(doc.metadata["coverage"], terms.coverage(_folded(doc.page_content), _folded(doc.metadata["section"])))


def refusal(question: str, reason: str | None = None) -> Answer:
    return Answer(question=question, found=False, answer=reason or _not_covered_text(), status=NOT_COVERED)


def _not_covered_text() -> str:
    return f"现有政策文件没有直接回答这个问题，我不能凭空作答。{COVERAGE_NOTE}{SELF_CHECK_HINT}"


# ---- scoring sentences ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Terms:
    """The question's key terms with their weights (IDF) and the forms that count as each."""

    forms: tuple[tuple[str, ...], ...]
    weights: tuple[float, ...]
    words: tuple[str, ...]
    nouns: tuple[bool, ...]

    @classmethod
    def of(cls, question: str, search, focus: str | None = None) -> "Terms":
        terms = key_terms(question)
        own = {word for word, _, _ in key_terms(focus)} if focus else set()
        return cls(tuple(tuple(fold_for_match(f) for f in forms) for _, forms, _ in terms),
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


def _weight(search, word: str, noun: bool) -> float:
    """IDF, less for what carries less: a verb or adverb (more so one the texts never use), one character."""
    found_in = search.passages_with(word)
    share = 1.0 if noun else (ACTION_SHARE if found_in else UNSEEN_ACTION_SHARE)
    if found_in > GENERIC_PASSAGES * len(search.passages):  # "最强党支部": in most passages, tells little
        share *= GENERIC_SHARE
    return search.idf(word) * share * (SINGLE_CHAR_SHARE if len(word) == 1 else 1.0)


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    return fold_for_match(text)


@dataclass
class Quote:
    doc: Document
    units: list[Unit]
    item: str
    coverage: float

    @property
    def text(self) -> str:
        return render(self.units)


@dataclass
class PartAnswer:
    question: str
    status: str
    quotes: list[Quote]
    caveat: str = ""
    documents: list[Document] = field(default_factory=list)


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
    text = _folded("".join(u.lead + u.text for u in chosen))
    return chosen, item_label(seg, chosen), terms.coverage(text, heading, share)


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
            key = (terms.coverage(_folded(section)), -rank, -depth)
            if key[0] < ANSWERED_COVERAGE or (best and key <= best[0]):
                continue
            headings = _outline(generation, doc.metadata["doc_id"], section)
            if len(headings) >= MIN_OUTLINE:
                units = [Unit(heading, n, n, n) for n, heading in enumerate(headings)]
                outlined = Document(id=doc.id, page_content="\n".join(headings),
                                    metadata={**doc.metadata, "section": section})
                best = (key, Quote(outlined, units, "", key[0]))
    return best[1] if best else None


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


def answer_part(question: str, documents: list[Document], search, this_year: int, focus: str | None = None) -> PartAnswer:
    """One question (one part of a message) against its retrieved passages (`search`: the HybridSearch);
    `focus`: what a rewritten follow-up itself asks ("在啥会上评"): its kind of answer, its words weigh double."""
    kind = answer_type(focus or question)
    terms = Terms.of(question, search, focus)
    unmet = constraints(question, search.corpus_text, search.corpus_years, this_year)
    if not documents or not is_covered(documents, terms):
        return PartAnswer(question, NOT_COVERED, [], documents=documents)
    named = [alias for _, key in domain_mentions(question)[:1] for alias in domain_terms(key) if len(alias) > 1]
    candidates = []
    for rank, doc in enumerate(documents[:CANDIDATE_PASSAGES]):
        units, item, coverage = _choose_units(terms, kind, doc)
        value = coverage + (TYPE_BONUS if _has_type(kind, units) else 0.0)
        value += DOMAIN_BONUS if any(alias in doc.metadata["section"] for alias in named) else 0.0
        candidates.append((value + RANK_PRIOR / (rank + 1), -rank, Quote(doc, units, item, coverage)))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    best_value = candidates[0][0]
    quotes = [candidates[0][2]]
    close = [quote for value, _, quote in candidates[1:] if value >= SECONDARY_SHARE * best_value
             and quote.coverage >= PARTIAL_COVERAGE and _adds(quote, quotes)]
    # Of the passages nearly as good, the one with figures the first lacks ("2000元至3000元") is the one to add.
    close.sort(key=lambda quote: not _new_numbers(quote, quotes))
    quotes += close[:1]
    outline = _outline_quote(terms, documents[:CANDIDATE_PASSAGES], search.generation) if kind == "list" else None
    if outline and outline.coverage >= quotes[0].coverage:
        # A sentence naming the same items in a series ("组织评定、党员评议、…") stays beside the outline.
        series = (_has_type(kind, quotes[0].units) and quotes[0].coverage >= outline.coverage
                  and quotes[0].doc.metadata["chunk_id"] != outline.doc.metadata["chunk_id"])
        quotes = [outline] + quotes[:1] * series
    quoted_text = _folded("".join(q.text for q in quotes))
    coverage = max(q.coverage for q in quotes)
    has_type = _has_type(kind, [u for q in quotes for u in q.units])
    period = _PER_PERIOD.search(question)
    if period and kind in ("amount", "ratio", "count") and (period.group("unit") or "月") not in quoted_text:
        has_type = False  # "一个月交多少": the texts' yearly or one-off figures do not answer it
    if unmet:
        return PartAnswer(question, PARTIAL, quotes, unmet[0].what, documents)
    headings = _folded("".join(q.doc.metadata[key] for q in quotes for key in ("section", "document")) + "".join(q.item for q in quotes))
    # A thing the question names that few passages hold, and the quote lacks ("党费"), is what it asks about.
    missing = [w for w in terms.missing(quoted_text + headings, nouns_only=True)
               if len(w) > 1 and 0 < search.passages_with(w) <= RARE_PASSAGES]
    if coverage >= ANSWERED_COVERAGE and has_type and not missing:
        return PartAnswer(question, ANSWERED, quotes, "", documents)
    if coverage >= PARTIAL_COVERAGE:
        caveat = type_label(kind) if not has_type else _missing_words(missing or [w for w in terms.missing(quoted_text + headings, nouns_only=True) if len(w) > 1])
        return PartAnswer(question, PARTIAL, quotes, caveat, documents)
    return PartAnswer(question, NOT_COVERED, [], documents=documents)


def _has_type(kind: str | None, units: list[Unit]) -> bool:
    """The quote holds the kind of answer asked for; for a list: several items, or a "、" series."""
    if kind == "list":
        return len({u.item for u in units if u.item is not None}) >= 2 or any(u.text.count("、") >= 2 for u in units)
    return type_present(kind, "".join(u.text for u in units))


def _missing_words(missing: list[str]) -> str:
    missing = missing[:2]
    return "、".join(f"“{word}”" for word in missing) if missing else "这一点"


# ---- composing the reply -------------------------------------------------------------------------
def compose(question: str, parts: list[PartAnswer], resolved: str = "") -> Answer:
    """The reply text, the citations in the order they are first quoted, the rest as related."""
    cited: dict[str, Citation] = {}
    blocks = []
    for part in parts:
        lines = []
        for quote in part.quotes:
            chunk = quote.doc.metadata["chunk_id"]
            if chunk not in cited:
                cited[chunk] = Citation.from_document(quote.doc, quote.item)
            number = list(cited).index(chunk) + 1
            lines.append(f"{quote.doc.metadata['short_title']}·{cited[chunk].place}：{quoted(quote.text)}[{number}]")
        blocks.append(_part_text(part, lines, alone=len(parts) == 1))
    statuses = {part.status for part in parts}
    status = statuses.pop() if len(statuses) == 1 else PARTIAL
    if len(parts) > 1:
        text = "\n\n".join(f"{_CHINESE_ORDINALS[n] if n < 10 else n + 1}、{p.question}\n{block}"
                           for n, (p, block) in enumerate(zip(parts, blocks)))
        if NOT_COVERED in {p.status for p in parts}:
            text += f"\n\n{COVERAGE_NOTE}{SELF_CHECK_HINT}"
    else:
        text = blocks[0]
    retrieved = _retrieved(parts)
    related = [c for c, coverage in retrieved if c.chunk_id not in cited and coverage >= POINTER_COVERAGE]
    if status == NOT_COVERED:
        related = []  # a refusal names its pointers in the text already
    return Answer(question=question, found=status == ANSWERED, answer=text, citations=list(cited.values()),
                  status=status, related=related, retrieved=[c for c, _ in retrieved], resolved=resolved)


def _part_text(part: PartAnswer, lines: list[str], alone: bool) -> str:
    if part.status == ANSWERED:
        return "\n".join(lines)
    if part.status == PARTIAL:
        return f"文件没有直接规定{part.caveat}；最接近的规定是：\n" + "\n".join(lines)
    text = "现有政策文件没有直接回答这个问题，我不能凭空作答。" + (f"{COVERAGE_NOTE}{SELF_CHECK_HINT}" if alone else "")
    pointers = [Citation.from_document(d) for d in part.documents[:3] if d.metadata["coverage"] >= POINTER_COVERAGE]
    if pointers:
        text += "\n可能相关的条文（仅供参考，并非直接答案）：" + "；".join(p.label for p in pointers)
    return text


def _retrieved(parts: list[PartAnswer]) -> list[tuple[Citation, float]]:
    """Every passage retrieved for any part, best first, with its coverage of the question."""
    seen: dict[str, tuple[Citation, float]] = {}
    for part in parts:
        for doc in part.documents:
            seen.setdefault(doc.metadata["chunk_id"], (Citation.from_document(doc), doc.metadata["coverage"]))
    return list(seen.values())


def _sections_for(question: str, domain: str | None) -> tuple[str, ...]:
    """Names of the domain the question names (else the user's), as its sections are headed."""
    named = domain_mentions(question)
    key = named[0][1] if named else domain
    return tuple(alias for alias in domain_terms(key) if len(alias) > 1) if key else ()


def boost_for(question: str, domain: str | None) -> tuple[str, ...]:
    """The user's branch domain, unless the question names one itself."""
    if not domain or domain_mentions(question):
        return ()
    return tuple(domain_terms(domain)[:1])


# ---- the whole exchange --------------------------------------------------------------------------
_RANK = {NOT_COVERED: 0, PARTIAL: 1, ANSWERED: 2}
SHORT_QUESTION = 12  # content characters: a question this short may lean on the previous one


def answer_question(search, question: str, k: int = 5, *, context: dict | None = None, domain: str | None = None,
                    this_year: int = 2026) -> Answer:
    """Answer one message: follow-ups resolved against `context`, each part of a multi-part question
    answered on its own; the returned answer carries the context for the next message."""
    from knowledge.conversation import joined, resolve, rewrite

    question = question.strip()
    problem = problem_with_question(question)
    if problem:
        return refusal(question, problem)
    resolution = resolve(question, context)
    if resolution.ref is not None:
        answer = _answer_reference(search, question, resolution.ref)
        if answer is not None:
            answer.context = context  # "第四条呢" may follow "第三条具体是啥"
            return answer
    # (question, what it asks): a later piece that leans on the one before ("这钱从哪出") is read
    # against it but still asks its own kind of answer.
    if resolution.focus:
        parts = [(resolution.question, resolution.focus)]
    else:
        pieces = split_pieces(resolution.question)
        parts = [(part, part) for part in split_each(pieces[0])]
        for previous, piece in zip(pieces, pieces[1:]):
            leans = _leans_on(piece, search)
            parts += [(rewrite(piece, previous), piece)] if leans else [(part, part) for part in split_each(piece)]
    answered = [_answer_one(search, part, k, domain, this_year, resolution.prefer, asks if asks != part else None)
                for part, asks in parts]
    resolved, keeps_topic = resolution.question, resolution.keeps_topic
    topic = context.get("topic") if context else None
    leans = topic and not resolution.follow_up and len(parts) == 1 and _short(question) and _leans_on(question, search)
    if leans or (topic and not resolution.follow_up and len(parts) == 1 and _short(question) and answered[0].status != ANSWERED):
        # "一年评几次" after "最强党支部一般谁来评": a short question that names nothing of its own, or
        # does not stand alone, continues the topic.
        combined = _answer_one(search, joined(topic, question), k, domain, this_year, (), focus=question)
        if _RANK[combined.status] + (1 if leans else 0) > _RANK[answered[0].status]:
            answered, resolved, keeps_topic = [combined], combined.question, True
    answer = compose(question, answered, resolved)
    answer.context = _context(search, answered, topic if keeps_topic else None)
    return answer


def _leans_on(piece: str, search) -> bool:
    """A later piece of one message continues the one before when it names nothing of its own that the
    texts speak of ("哪几颗必须有？", "这钱从哪出") or says it continues ("那社区呢")."""
    from knowledge.conversation import is_ellipsis

    if is_ellipsis(piece):
        return True
    return not any(noun and len(word) > 1 and search.passages_with(word) for word, _, noun in key_terms(piece))


def _short(question: str) -> bool:
    return len(_NO_WORDS.findall(question)) <= SHORT_QUESTION


def _answer_one(search, part: str, k: int, domain: str | None, this_year: int, prefer: tuple[str, ...],
                focus: str | None = None) -> PartAnswer:
    from knowledge.retriever import hit_to_document

    documents = [hit_to_document(hit) for hit in search.search(part, k, boost_for(part, domain), _sections_for(part, domain))]
    documents.sort(key=lambda doc: doc.metadata["chunk_id"] not in prefer)  # stable: rank kept otherwise
    return answer_part(part, documents, search, this_year, focus)


def _context(search, parts: list[PartAnswer], topic: str | None) -> dict:
    """What the next message may refer to: the topic (for "那社区呢？") and the items of the list the
    answer quotes or belongs to (for "第三条", "经费那条"), as [chunk id, item number or null, text]."""
    listed = [(part, quote) for part in parts for quote in part.quotes if _item_count(quote) >= 2]
    main, quote = listed[0] if listed else (parts[-1], parts[-1].quotes[0] if parts[-1].quotes else None)
    refs = _references(search.generation, quote) if quote else []
    return {"topic": topic or main.question, "question": main.question, "refs": refs}


def _item_count(quote: Quote) -> int:
    return len({u.item for u in quote.units if u.item is not None})


def _references(generation, quote: Quote) -> list[list]:
    """The list a quote belongs to: numbered items of its section (split over several chunks) and the
    sub-sections under it; failing that the "；" pieces of the quote ("五个三"); failing that the
    items and sub-sections of its parent section; failing that the quote itself."""
    meta = quote.doc.metadata
    refs = _family(generation, meta["doc_id"], meta["section"])
    if len(refs) >= 2:
        return refs
    pieces = [p for p in re.split(r"(?<=；)", quote.text) if p.strip()]
    if len(pieces) >= 3:
        return [[meta["chunk_id"], None, piece.strip("“”")] for piece in pieces]
    parent = meta["section"].rpartition(" > ")[0]
    refs = _family(generation, meta["doc_id"], parent) if parent else []
    return refs if len(refs) >= 2 else [[meta["chunk_id"], None, quote.text]]


def _family(generation, doc_id: str, section: str) -> list[list]:
    refs = []
    for passage in generation.passages:
        if passage.doc_id != doc_id:
            continue
        if passage.section == section:
            seg = segment(passage.text)
            refs += [[passage.chunk_id, n, render(seg.item_units(n))] for n in range(len(seg.items))]
        elif passage.section.startswith(section + " > "):
            leaf = chinese_punctuation(passage.section[len(section) + 3:])
            refs.append([passage.chunk_id, None, leaf + "：" + chinese_punctuation(passage.text)])
    return refs


def _answer_reference(search, question: str, ref: list) -> Answer | None:
    """"第三条具体是啥意思？": the item (sub-section, or piece) of the previous answer, quoted whole."""
    chunk, item, text = ref
    passage = search.generation.by_id.get(chunk)
    if passage is None:
        return None
    seg = segment(passage.text)
    if item is not None and item < len(seg.items):
        units = seg.item_units(item)
    elif chinese_punctuation(passage.text).replace("\n", "") in text.replace("\n", ""):  # a whole sub-section
        units = list(seg.units)
    else:
        units = [Unit(text, 0, 0, None)]
    doc = Document(id=chunk, page_content=passage.text, metadata={
        "chunk_id": chunk, "doc_id": passage.doc_id, "document": passage.document, "short_title": passage.short_title,
        "doc_number": passage.doc_number, "section": passage.section, "score": 1.0, "keyword": 0.0, "dense": None,
        "coverage": 1.0})
    part = PartAnswer(question, ANSWERED, [Quote(doc, units, item_label(seg, units), 1.0)], documents=[doc])
    return compose(question, [part])
