"""The web chat's tables in the records database (migration records/migrations/versions/0004_webchat.py).

A session row holds everything a turn reads and writes — the dialogue state (with the follow-up context),
the transcript the page shows, the flood stamps and the last turns' results — so any worker can take any
message. Invitation codes and session tokens are stored only as hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from records.models import Base, UTCDateTime

BRANCH, PERSON = "branch", "person"  # whom an invitation is for: a whole branch, or one secretary


class WebInvitation(Base):
    __tablename__ = "web_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))  # the branch or the person, as staff wrote it
    kind: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(80), nullable=True)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf: Mapped[str] = mapped_column(String(64))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("web_invitations.id", ondelete="CASCADE"),
                                                      nullable=True, index=True)  # None: opened in intranet mode
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    state: Mapped[dict] = mapped_column(JSON, default=dict)  # the dialogue core's state, as `zhibu chat` keeps it
    transcript: Mapped[list] = mapped_column(JSON, default=list)  # the messages the page shows
    recent: Mapped[list] = mapped_column(JSON, default=list)  # the last turns' ids and results: a resent turn is not re-applied
    flood: Mapped[dict] = mapped_column(JSON, default=dict)  # stamps of the last messages, and whether warned
    turns: Mapped[int] = mapped_column(Integer, default=0)  # turns applied
    next_message: Mapped[int] = mapped_column(Integer, default=1)
    # SQLite: the worker running a turn of this session, until when (PostgreSQL locks the row instead).
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    invitation: Mapped[WebInvitation | None] = relationship()


class WebDocument(Base):
    """A file a turn produced (the self-check export): downloaded by its session only."""

    __tablename__ = "web_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
