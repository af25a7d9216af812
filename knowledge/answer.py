"""Grounded answers: the extractive answerer (default, deterministic) and the refusal rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from langchain_core.documents import Document

from knowledge.text import tokenize

# Relevance floors, calibrated on the dev set and our own questions (README, "Refusal calibration").
# coverage: IDF-weighted share of the question's words found in one of the top passages;
# dense: cosine similarity of the best passage (multilingual-e5-small).
ALWAYS_REFUSE_BELOW_COVERAGE = 0.15
WEAK_COVERAGE = 0.30
WEAK_DENSE = 0.89
KEYWORD_ONLY_MIN_COVERAGE = 0.25  # with no dense model, coverage decides alone
POINTER_COVERAGE = 0.10  # a refusal still points to the nearest clauses above this
QUOTED_PASSAGES = 3
SECONDARY_SHARE = 0.7  # a lower-ranked passage is quoted only above this share of the best coverage
MAX_QUESTION_CHARS = 500
# A sentence ends at 。;!? or at a "." that is not a list number's ("1.党支部…").
_SENTENCE = re.compile(r"(?:[^。.;；!！?？\n]|(?<=\d)\.)+[。.;；!！?？]?")
_NO_WORDS = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")

COVERAGE_NOTE = (
    "知识库收录：《关于“五化协同、大抓基层”的指导意见》（内组通字〔2020〕2号）、"
    "《筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案》（内组通字〔2020〕4号）、"
    "《内蒙古自治区“最强党支部”建设工作指南》及其附件1、附件2。"
)
SELF_CHECK_HINT = "想知道自己的支部能否评为“最强党支部”，请用 /check 做一次逐项自评（终端里输入 check）。"


@dataclass(frozen=True)
class Citation:
    document: str
    doc_number: str
    section: str
    text: str
    score: float
    chunk_id: str
    short_title: str = ""

    @classmethod
    def from_document(cls, doc: Document) -> "Citation":
        m = doc.metadata
        return cls(m["document"], m["doc_number"], m["section"], doc.page_content, round(float(m["score"]), 6), m["chunk_id"], m["short_title"])

    @property
    def label(self) -> str:
        number = f"（{self.doc_number}）" if self.doc_number else ""
        return f"《{self.document}》{number} {self.section}".strip()

    def to_dict(self) -> dict:
        return {"document": self.document, "doc_number": self.doc_number, "section": self.section, "text": self.text,
                "score": self.score, "chunk_id": self.chunk_id}


@dataclass
class Answer:
    question: str
    found: bool
    answer: str
    citations: list[Citation] = field(default_factory=list)
    mode: str = "extractive"

    def to_dict(self) -> dict:
        return {"question": self.question, "found": self.found, "answer": self.answer,
                "citations": [c.to_dict() for c in self.citations], "mode": self.mode}


def problem_with_question(question: str) -> str | None:
    """A polite Chinese explanation when the question cannot be searched at all."""
    if not question.strip():
        return "问题是空的。请直接输入想了解的政策问题，例如：“最强党支部多长时间评定一次？”"
    if not _NO_WORDS.search(question):
        return "没有看懂这条消息。请用中文文字描述想了解的政策问题，例如：“党员评议优秀比例要达到多少？”"
    if len(question) > MAX_QUESTION_CHARS:
        return f"问题太长了（{len(question)} 字）。请把问题压缩到 {MAX_QUESTION_CHARS} 字以内，一次问一件事。"
    return None


def is_covered(documents: list[Document]) -> bool:
    """Whether the best passages answer the question, judged on the top three."""
    top = documents[:3]
    if not top:
        return False
    coverage = max(doc.metadata["coverage"] for doc in top)
    dense = top[0].metadata["dense"]
    if dense is None:
        return coverage >= KEYWORD_ONLY_MIN_COVERAGE
    if coverage < ALWAYS_REFUSE_BELOW_COVERAGE:
        return False
    return coverage >= WEAK_COVERAGE or dense >= WEAK_DENSE


def refusal(question: str, reason: str | None = None, pointers: list[Document] = ()) -> Answer:
    """found=false; near misses still point to the closest clauses, clearly marked as such."""
    text = reason or f"现有政策文件没有直接回答这个问题，我不能凭空作答。{COVERAGE_NOTE}{SELF_CHECK_HINT}"
    citations = [Citation.from_document(doc) for doc in pointers if doc.metadata["coverage"] >= POINTER_COVERAGE][:3]
    if citations:
        text += "\n可能相关的条文（仅供参考，并非直接答案）：" + "；".join(f"[{n}] {c.label}" for n, c in enumerate(citations, 1))
    return Answer(question=question, found=False, answer=text, citations=citations)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if len(s.strip()) > 1]


def _best_sentences(question_weights: dict[str, float], text: str, limit: int) -> list[str]:
    """The `limit` sentences sharing the most (IDF-weighted) words with the question, in text order."""
    sentences = _sentences(text)
    scored = [(sum(question_weights.get(t, 0.0) for t in set(tokenize(s))), -i) for i, s in enumerate(sentences)]
    chosen = sorted(-neg_i for score, neg_i in sorted(scored, reverse=True)[:limit] if score > 0)
    return [sentences[i] for i in chosen] or sentences[:1]


def extractive_answer(question: str, documents: list[Document], idf: Callable[[str], float] = lambda word: 1.0) -> Answer:
    """Quote the sentences of the relevant passages that share most (rare) words with the question."""
    if not is_covered(documents):
        return refusal(question, pointers=documents)
    weights = {word: idf(word) for word in tokenize(question)}
    citations = [Citation.from_document(doc) for doc in documents]
    lines = []
    for number, doc in enumerate(documents[:QUOTED_PASSAGES], start=1):
        if number > 1 and not _worth_quoting(doc, documents[0]):
            continue
        citation = citations[number - 1]
        quote = "".join(_best_sentences(weights, citation.text, 2 if number == 1 else 1))
        lines.append(f"{citation.short_title}·{citation.section}：“{quote}”[{number}]")
    return Answer(question=question, found=True, answer="\n".join(lines), citations=citations)


def _worth_quoting(doc: Document, best: Document) -> bool:
    """A lower-ranked passage is quoted only when it matches the question nearly as well as the best."""
    coverage = doc.metadata["coverage"]
    return coverage >= WEAK_COVERAGE and coverage >= SECONDARY_SHARE * best.metadata["coverage"]
