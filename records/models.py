"""The tables of the records store. Alembic migrations (records/migrations) create them; keep both in step.

Nothing here names a person: chat and user ids are salted hashes (records.privacy), console users are
staff accounts, self-check events carry only a day and a kind.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Answer statuses, as the knowledge service reports them.
ANSWERED, PARTIAL, NOT_COVERED = "answered", "partial", "not_covered"
STATUSES = (ANSWERED, PARTIAL, NOT_COVERED)
UP, DOWN = 1, -1
# Why a 👎 (optional), in the order the chat offers them.
REASONS = ("答非所问", "内容不全", "没有回答", "其他")
VIEWER, ADMIN = "viewer", "admin"
STARTED, FINISHED = "started", "finished"


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC (the same on SQLite and PostgreSQL), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(timezone.utc).replace(tzinfo=None) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Base(DeclarativeBase):
    pass


class Question(Base):
    """One question asked in a chat and what the knowledge base answered."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    day: Mapped[str] = mapped_column(String(10))  # the Beijing date, YYYY-MM-DD: statistics count by it
    channel: Mapped[str] = mapped_column(String(16))  # telegram | terminal
    chat_hash: Mapped[str] = mapped_column(String(64), index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    cited: Mapped[list] = mapped_column(JSON, default=list)  # chunk ids, best first
    generation: Mapped[str] = mapped_column(String(64), default="")
    wording: Mapped[str] = mapped_column(String(200), default="")  # sorted content words: groups similar questions
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the latest 👍 (1) / 👎 (-1) given on it
    reason: Mapped[str | None] = mapped_column(String(16), nullable=True)  # and the latest 👎 reason
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    handled_by: Mapped[str | None] = mapped_column(String(80), nullable=True)

    feedback: Mapped[list["Feedback"]] = relationship(back_populates="question", cascade="all, delete-orphan",
                                                      passive_deletes=True)

    # Covering indexes: the console's pending groups and daily statistics read only the index, never the rows.
    __table_args__ = (Index("ix_questions_pending", "handled_at", "wording", "status", "rating", "reason", "asked_at"),
                      Index("ix_questions_day", "day", "status"))


class Feedback(Base):
    """A 👍/👎 on an answer, one per person and answer (pressing again changes it)."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    user_hash: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())

    question: Mapped[Question] = relationship(back_populates="feedback")

    __table_args__ = (UniqueConstraint("question_id", "user_hash", name="uq_feedback_once"),
                      Index("ix_feedback_given", "given_at", "rating"))


class SelfCheckEvent(Base):
    """A self-check started or finished: counted, never the answers."""

    __tablename__ = "selfcheck_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16))


class Target(Base):
    """A dated parameter of the rulebook for one year, with the clause it comes from."""

    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    parameter: Mapped[str] = mapped_column(String(120))
    year: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    doc_id: Mapped[str] = mapped_column(String(120))
    document: Mapped[str] = mapped_column(Text)
    doc_number: Mapped[str] = mapped_column(String(120), default="")
    section: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(80))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("parameter", "year", name="uq_target_year"),)


class ConsoleUser(Base):
    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsoleSession(Base):
    """A signed-in browser; the cookie holds a random token, the table only its hash."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[ConsoleUser] = relationship()


class LoginThrottle(Base):
    """Sign-in attempts counted against one budget: a client address, a name or a known browser (the key is
    a salted hash of which). Nothing here is a lock: the store turns the count into a wait (backoff)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the database's clock, never a console's


class KbChange(Base):
    """Who changed the knowledge base from the console, and which generation it made."""

    __tablename__ = "kb_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(16))  # upload | remove | rollback
    doc_ids: Mapped[list] = mapped_column(JSON, default=list)
    generation: Mapped[str] = mapped_column(String(64), default="")
