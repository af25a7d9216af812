"""Curated answers (问答对): a standard answer staff wrote for a group of questions, with the clauses it rests on.

The table is the record; `knowledge.curated` publishes it to `$ZHIBU_HOME` after every change for the
answer path, and decides there whether an entry still stands (its documents unchanged in the serving
knowledge base) — so a replaced or removed document suspends an answer without a write here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from records.database import session_factory
from records.models import Base, UTCDateTime
from records.store import now
from zhibu.settings import Settings


class CuratedAnswer(Base):
    __tablename__ = "curated_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)  # the standard wording
    wordings: Mapped[list] = mapped_column(JSON, default=list)  # how people asked it (the group's questions)
    answer: Mapped[str] = mapped_column(Text)  # the short answer, without “答：”
    # [{doc_id, document, doc_number, section, quote, version}]: version is the document's in the knowledge
    # base when the clause was verified; another version there suspends the answer until staff check it again.
    clauses: Mapped[list] = mapped_column(JSON, default=list)
    written_by: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def as_dict(self) -> dict:
        return {"id": self.id, "question": self.question, "wordings": list(self.wordings), "answer": self.answer,
                "clauses": [dict(clause) for clause in self.clauses], "written_by": self.written_by,
                "written_at": self.written_at.isoformat(timespec="seconds")}


class CuratedAnswers:
    """Reads and writes the curated answers; each method is one short transaction."""

    def __init__(self, settings: Settings) -> None:
        self._session: sessionmaker[Session] = session_factory(settings)

    def all(self) -> list[CuratedAnswer]:
        with self._session() as session:
            return list(session.scalars(select(CuratedAnswer).order_by(CuratedAnswer.id)))

    def get(self, answer_id: int) -> CuratedAnswer | None:
        with self._session() as session:
            return session.get(CuratedAnswer, answer_id)

    def save(self, *, question: str, wordings: list[str], answer: str, clauses: list[dict], by: str,
             answer_id: int | None = None) -> CuratedAnswer:
        """Add an entry, or change entry `answer_id`, or (import) the entry with the same question."""
        with self._session.begin() as session:
            entry = session.get(CuratedAnswer, answer_id) if answer_id else None
            if entry is None and answer_id is None:
                entry = session.scalar(select(CuratedAnswer).where(CuratedAnswer.question == question))
            if entry is None:
                entry = CuratedAnswer()
                session.add(entry)
            entry.question, entry.wordings, entry.answer, entry.clauses = question, wordings, answer, clauses
            entry.written_by, entry.written_at = by, now()
            return entry

    def delete(self, answer_id: int) -> bool:
        with self._session.begin() as session:
            return session.execute(delete(CuratedAnswer).where(CuratedAnswer.id == answer_id)).rowcount > 0
