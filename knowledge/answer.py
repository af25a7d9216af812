"""What an answer is: three honest outcomes (answered, partly covered, not covered), the quotes it rests
on and their citations. Built by `knowledge.pipeline` (one analysis of the question, then retrieval,
quote picking, the coverage judge, the answer line and the composer, each in its own module)."""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.documents import Document

from knowledge.quotes import Unit, render
from zhibu.text import chinese_punctuation

ANSWERED, PARTIAL, NOT_COVERED = "answered", "partial", "not_covered"
# What the message was, besides a policy question: small talk or a request outside the policy, a
# question about the assistant itself, a greeting or unusable input. Kept apart so the eval and the
# question log can tell them from questions the texts do not cover.
QUESTION, OFF_TOPIC, IDENTITY, NOTICE = "question", "off_topic", "identity", "notice"


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
    line: str = ""  # the direct answer line ("答：赤峰市。"), also the first line of `answer`
    intent: str = QUESTION

    def to_dict(self) -> dict:
        payload = {"question": self.question, "found": self.found, "answer": self.answer,
                   "citations": [c.to_dict() for c in self.citations], "status": self.status,
                   "related": [c.to_dict() for c in self.related], "mode": self.mode}
        if self.resolved and self.resolved != self.question:
            payload["resolved_question"] = self.resolved
        if self.line:
            payload["answer_line"] = self.line
        if self.intent != QUESTION:
            payload["intent"] = self.intent
        return payload


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
    """One question (one part of a message) answered: its outcome, the quotes, the caveat of a partial
    answer, the direct answer line and the passages retrieved for it."""

    question: str
    status: str
    quotes: list[Quote]
    caveat: str = ""
    documents: list[Document] = field(default_factory=list)
    line: str = ""
    given: Answer | None = None  # answered before retrieval (a pre-retrieval answerer), composed as it is
    asked: str = ""  # the part in the user's words, when `question` was read against the one before
