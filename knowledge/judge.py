"""The coverage judge: whether the retrieved passages are about the question at all, and whether the
quotes answer it (answered), come near (partial, with a caveat that is true) or not (not covered).

Judged the way a careful reader would, not by one similarity threshold: constraints the texts cannot
meet (a year, place or body they never speak of), whether the quote holds the kind of answer asked for,
and how much of the question's key terms (IDF-weighted) the quoted sentences cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from langchain_core.documents import Document

from knowledge.analysis import RARE_PASSAGES, Analysis
from knowledge.answer import ANSWERED, NOT_COVERED, PARTIAL, Quote
from knowledge.picker import has_type, type_present
from knowledge.question import type_label
from knowledge.quotes import segment
from knowledge.terms import Terms, folded
from knowledge.text import tokenize

# Passage-level relevance floors, calibrated on the dev sets and our own questions (docs/qa.md).
# coverage: IDF-weighted share of the question's words found in a top passage; dense: e5 cosine.
ALWAYS_REFUSE_BELOW_COVERAGE = 0.15
WEAK_COVERAGE = 0.30
WEAK_DENSE = 0.89
KEYWORD_ONLY_MIN_COVERAGE = 0.25  # with no dense model, coverage decides alone
# Sentence-level: share of the question's key terms (IDF-weighted) the quoted sentences cover.
ANSWERED_COVERAGE = 0.55
PARTIAL_COVERAGE = 0.25
_ASKING = re.compile(r"[哪几啥谁咋]|多少|什么")  # "哪几个" asks; it is not a thing the texts could name
_JOINT = re.compile(r"[和及与‘“’”]")
FIGURE_KINDS = ("amount", "ratio")  # a figure belongs to the thing its own clause names
_PER_PERIOD = re.compile(r"(?:每个?|一个?)(?P<unit>月|天|周)|月(?=工资|薪|补贴)")  # an amount per month, day or week


@dataclass(frozen=True)
class Verdict:
    status: str
    caveat: str = ""  # what the texts do not say, for a partial answer ("2026年的要求", "具体金额")


def is_covered(documents: list[Document], terms: Terms | None = None) -> bool:
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


def _passage_coverage(doc: Document, terms: Terms | None) -> float:
    if terms is None:
        return doc.metadata["coverage"]
    return max(doc.metadata["coverage"], terms.coverage(folded(doc.page_content), folded(doc.metadata["section"])))


def judge(analysis: Analysis, quotes: list[Quote], documents: list[Document], search) -> Verdict:
    """The outcome of the quotes picked for `analysis` from its retrieved `documents`."""
    terms, kind = analysis.terms, analysis.kind
    quoted_text = folded("".join(q.text for q in quotes))
    coverage = max(q.coverage for q in quotes)
    typed = has_type(kind, [u for q in quotes for u in q.units])
    if kind == "list" and not typed:  # a list written as clauses ("不设置…，不搞…，不搞…")
        typed = any(parallel_clauses(u.text) for q in quotes for u in q.units)
    if kind == "date" and not typed:  # "2.摸清底数，夯实基础（2020年5月）": the heading dates the step
        typed = any(type_present(kind, leaf_heading(q)) for q in quotes)
    period = _PER_PERIOD.search(analysis.text)
    if period and kind in ("amount", "ratio", "count") and (period.group("unit") or "月") not in quoted_text:
        typed = False  # "一个月交多少": the texts' yearly or one-off figures do not answer it
    if analysis.counted and in_knowledge_base(analysis.counted, search) and not _counts(analysis.counted, quotes):
        typed = False  # "几个委员": a figure of something else ("八项基本任务") is not the answer
    if (analysis.defines or analysis.items) and not all(_defines(term, quotes) for term in _named_terms(analysis.text, search.generation)):
        typed = False  # "三好一满意具体指啥", "三个表率是哪三个": a passage naming it in passing does not say what it is
    if analysis.items and analysis.items not in enumerations(quotes):
        typed = False  # "十颗星都是哪十个": a list of another length is not the one asked for
    if analysis.unmet:
        return Verdict(PARTIAL, analysis.unmet[0].what)
    apart = _figure_apart(analysis, quotes, search)
    if apart:  # "党费按工资百分之几交": "工作经费…不低于1%" is another thing's rate; say whose is not given
        return Verdict(PARTIAL, f"{apart}的{type_label(kind)}")
    headings = folded("".join(q.doc.metadata[key] for q in quotes for key in ("section", "document")) + "".join(q.item for q in quotes))
    # A thing the question names that few passages hold, and the quote lacks ("党费"), is what it asks about.
    missing = [w for w in terms.missing(quoted_text + headings, nouns_only=True)
               if len(w) > 1 and 0 < search.passages_with(w) <= RARE_PASSAGES]
    if coverage >= ANSWERED_COVERAGE and typed and not missing:
        return Verdict(ANSWERED)
    if coverage >= PARTIAL_COVERAGE:
        return Verdict(PARTIAL, caveat(analysis, typed, documents, search))
    return Verdict(NOT_COVERED)


def leaf_heading(quote: Quote) -> str:
    """The quote's own section heading ("2.摸清底数,夯实基础(2020年5月)")."""
    return quote.doc.metadata["section"].rpartition(" > ")[2]


def _figure_apart(analysis: Analysis, quotes: list[Quote], search) -> str:
    """A rare thing the question names that no quoted clause giving the figure asked for holds: the
    figure quoted is another thing's ("党费" asked, "工作经费…不低于1%" quoted)."""
    if analysis.kind not in FIGURE_KINDS:
        return ""
    figures = [folded(q.doc.metadata["section"] + q.item + u.lead + u.text)  # the clause with its headings
               for q in quotes for u in q.units if type_present(analysis.kind, u.text)]
    terms = analysis.terms
    for word, forms, noun in zip(terms.words, terms.forms, terms.nouns):
        if (figures and noun and len(word) > 1 and 0 < search.passages_with(word) <= RARE_PASSAGES
                and not any(form in unit for unit in figures for form in forms)):
            return word
    return ""


def _counts(thing: str, quotes: list[Quote]) -> bool:
    pattern = re.compile(rf"(?:\d+|[一二三四五六七八九十两]+)[^，。；]{{0,10}}?{re.escape(thing)}")
    return any(pattern.search(u.text) for q in quotes for u in q.units)


@lru_cache(maxsize=4)
def _glossary(generation) -> tuple[str, ...]:
    """The texts' own terms: what they print in quotation marks ("三好一满意", "五个基本"), longest first."""
    terms = {t for p in generation.passages for t in re.findall(r"[“\"]([^”\"]{2,12})[”\"]", p.text)}
    return tuple(sorted(terms, key=lambda t: (-len(t), t)))


def _named_terms(question: str, generation) -> list[str]:
    """The texts' terms a question names, none inside a longer one named."""
    named: list[str] = []
    for term in _glossary(generation):
        if term in question and not any(term in longer for longer in named):
            named.append(term)
    return named


def _defines(term: str, quotes: list[Quote]) -> bool:
    """The quotes say what `term` is: their heading names it, the text goes on "X是指…/X：…", or a series
    of its items leads up to it ("基本组织、基本队伍……“五个基本”要素")."""
    for quote in quotes:
        if term in quote.doc.metadata["section"] + quote.item:
            return True
        for unit in quote.units:
            for match in re.finditer(re.escape(term), unit.text):
                after = unit.text[match.end():].lstrip("”’")
                before = re.split(r"[，。；]", unit.text[:match.start()])[-1]
                leads_up = before.count("、") >= 2 and not before.rstrip("“‘").endswith(("”", "’"))  # not "…“六个好”“三个表率”"
                if re.match(r"是指|就是|即|指|包括|：|是|[^，。]{0,4}（即", after) or leads_up:
                    return True
    return False


def enumerations(quotes: list[Quote]) -> set[int]:
    """How many items the quotes enumerate: numbered items (or outline headings) of each quote, and the
    "；" pieces of a sentence, and the runs of each "、" series (in the text and inside its brackets)."""
    items = {len({u.item for u in q.units if u.item is not None}) for q in quotes}
    texts = [t for q in quotes for u in q.units for t in [u.text, *re.findall(r"（([^（）]*)）", u.text)]]
    clauses = [clause for text in texts for clause in top_level(re.sub(r"[，；：。]", "，", text), "，")]
    pieces = {len(top_level(text, "；")) for text in texts}  # "（即……“三中心”；……“三宣传”；……）"
    parallel = {len(run) for text in texts for run in parallel_clauses(text)}
    return items | pieces | parallel | {run for clause in clauses for run in _series_runs(clause)}


def parallel_clauses(text: str) -> list[list[str]]:
    """Runs of three or more clauses opening alike ("不设置…，不搞…，不搞…"): a list written as clauses."""
    runs: list[list[str]] = []
    for clause in top_level(re.sub(r"[；。]", "，", text), "，"):
        clause = clause.strip()
        if runs and clause and runs[-1][-1][:1] == clause[:1]:
            runs[-1].append(clause)
        elif clause:
            runs.append([clause])
    return [run for run in runs if len(run) >= 3]


def top_level(text: str, mark: str) -> list[str]:
    """`text` split at `mark` outside brackets ("旗县（市、区）、苏木乡镇" is two pieces)."""
    pieces, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += 1 if char in "（(" else -1 if char in "）)" else 0
        if char == mark and depth <= 0:
            pieces.append(text[start:i])
            start = i + 1
    return pieces + [text[start:]]


def _series_runs(clause: str) -> list[int]:
    """Lengths of the "、" series in a clause: a series ends at a quotation mark ("凝聚保障力‘四强’…") or
    takes one more item after 和/及/与 ("群众和社会"); "和谐" opening an item is a word, not a joint."""
    runs, run = [], 0
    for piece in top_level(clause, "、"):
        run += 1
        joint = _JOINT.search(piece, 1)
        if joint and run == 1:  # "…建设与‘政治功能强": the series starts after it
            continue
        if joint:
            runs.append(run + (joint.group() in "和及与"))
            run = 1 if joint.group() not in "和及与" else 0
    return runs + [run] if run > 1 else runs


def caveat(analysis: Analysis, typed: bool, documents: list[Document], search) -> str:
    """What the texts do not say, true by construction: things the question names that occur nowhere in
    the knowledge base (in any of their forms), else the kind of answer asked for when none of the
    retrieved passages holds one; else nothing is named ("文件没有直接回答这一问")."""
    absent = unknown_nouns(analysis.terms, search)
    if absent:
        return "、".join(f"“{word}”" for word in absent[:2])
    if not typed and not any(has_type(analysis.kind, list(segment(doc.page_content).units)) for doc in documents):
        return type_label(analysis.kind)
    return ""


def unknown_nouns(terms: Terms, search) -> list[str]:
    """The question's nouns (dictionary words of two characters or more) that the knowledge base holds
    nowhere, in none of their forms (text, headings or titles): a thing the texts never speak of."""
    return [word for word, forms, noun in zip(terms.words, terms.forms, terms.nouns)
            if noun and len(word) > 1 and not _ASKING.search(word) and is_dictionary_word(word)
            and not any(in_knowledge_base(form, search) for form in forms) and not _parts_known(word, search)]


def _parts_known(word: str, search) -> bool:
    """A compound whose parts the texts all hold ("汇报工作": 汇报, 工作) names nothing new."""
    parts = [token for token in tokenize(word) if len(token) > 1 and token != word]
    return bool(parts) and all(in_knowledge_base(token, search) for token in parts)


def is_dictionary_word(word: str) -> bool:
    """A word of jieba's dictionary, not a run its HMM cut from colloquial wording ("颗星", "能报")."""
    from knowledge.text import _jieba

    return _jieba().dt.FREQ.get(word, 0) > 0


def in_knowledge_base(form: str, search) -> bool:
    """Whether the texts hold `form` anywhere (passage, heading or title), quotation marks aside."""
    return folded(form) in _knowledge_base_text(search.generation)


@lru_cache(maxsize=4)
def _knowledge_base_text(generation) -> str:
    return folded("\n".join(f"{p.document}\n{p.section}\n{p.text}" for p in generation.passages))
