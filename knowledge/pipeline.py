"""The whole exchange: a message analysed once (`knowledge.analysis`), then for each part a
pre-retrieval answerer's answer if one has it, else retrieval (`knowledge.retrieval`), the coverage judge
(`knowledge.judge`), quote picking (`knowledge.picker`), the answer line (`knowledge.answer_line`) and the
composer (`knowledge.compose`); the answer carries the context the next message may refer to."""

from __future__ import annotations

import re
from typing import Protocol

from langchain_core.documents import Document

from knowledge.analysis import Analysis, Reading, read
from knowledge.answer import ANSWERED, NOT_COVERED, PARTIAL, Answer, Citation, PartAnswer, Quote
from knowledge.answer_line import answer_line
from knowledge.compose import compose, refusal
from knowledge.judge import is_covered, judge
from knowledge.messages import reply_without_search
from knowledge.picker import pick
from knowledge.quotes import Unit, item_label, render, segment
from knowledge.retrieval import retrieve
from zhibu.text import chinese_punctuation

_RANK = {NOT_COVERED: 0, PARTIAL: 1, ANSWERED: 2}


class Answerer(Protocol):
    """Answers a question before retrieval (the rulebook's eligibility rules, staff-curated answers), or
    returns None to leave it to retrieval. Consulted in order, per part of a message."""

    def __call__(self, analysis: Analysis) -> Answer | None: ...


def answer_question(search, question: str, k: int = 5, *, context: dict | None = None, domain: str | None = None,
                    this_year: int = 2026, channel: str | None = None, answerers: tuple[Answerer, ...] = ()) -> Answer:
    """Answer one message: follow-ups resolved against `context`, each part of a multi-part question
    answered on its own; the returned answer carries the context for the next message."""
    question = question.strip()
    reply = reply_without_search(question, channel)
    if reply:
        return refusal(question, reply[1], reply[0])
    reading = read(search, question, context, domain, this_year)
    if reading.resolution.ref is not None:
        answer = _answer_reference(search, question, reading.resolution.ref)
        if answer is not None:
            answer.context = context  # "第四条呢" may follow "第三条具体是啥"
            return answer
    answered = [answer_part(search, part, k, answerers) for part in reading.parts]
    resolved, keeps_topic = reading.resolution.question, reading.resolution.keeps_topic
    if reading.continuation and (reading.leans or answered[0].status != ANSWERED):
        combined = answer_part(search, reading.continuation, k, answerers)
        if _RANK[combined.status] + (1 if reading.leans else 0) > _RANK[answered[0].status]:
            answered, resolved, keeps_topic = [combined], combined.question, True
    if len(answered) == 1 and answered[0].given is not None and not reading.corrections:
        return _given(answered[0], resolved)  # as its source composed it (经审核, the rulebook's clause)
    answer = compose(question, answered, resolved, channel, _note(reading))
    answer.context = _context(search, answered, reading.topic if keeps_topic else None)
    return answer


def _given(part: PartAnswer, resolved: str) -> Answer:
    """A pre-retrieval answer of the whole message, with what retrieval found still listed."""
    answer = part.given
    answer.line = answer.line or part.line
    answer.resolved = resolved
    answer.retrieved = answer.retrieved or [Citation.from_document(doc) for doc in part.documents]
    return answer


def _note(reading: Reading) -> str:
    return "".join(f"（按“{c.meant}”理解）" for c in reading.corrections)


def answer_part(search, analysis: Analysis, k: int, answerers: tuple[Answerer, ...] = ()) -> PartAnswer:
    """One question (one part of a message): a pre-retrieval answer, else its retrieved passages judged."""
    for answerer in answerers:
        given = answerer(analysis)
        if given is not None:  # what retrieval finds is still listed (the console's sources, the quality report)
            first = given.answer.split("\n")[0]
            return PartAnswer(analysis.text, given.status, [], given=given, asked=analysis.asks,
                              line=given.line or (first if first.startswith("答：") else ""),
                              documents=retrieve(search, analysis, k))
    documents = retrieve(search, analysis, k)
    asked = analysis.asks if analysis.focus else ""
    if not documents or not is_covered(documents, analysis.terms):
        return PartAnswer(analysis.text, NOT_COVERED, [], documents=documents, asked=asked)
    quotes = pick(analysis, documents, search)
    verdict = judge(analysis, quotes, documents, search)
    if verdict.status == NOT_COVERED:
        return PartAnswer(analysis.text, NOT_COVERED, [], documents=documents, asked=asked)
    line = answer_line(analysis, quotes) if verdict.status == ANSWERED else ""
    return PartAnswer(analysis.text, verdict.status, quotes, verdict.caveat, documents, line, asked=asked)


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
