"""Invitations, browser sessions and the per-session turn lock, over the records database.

A turn runs under a lock on its session row, so concurrent messages of one session — on any worker — are
applied one after the other, each exactly once. PostgreSQL: `SELECT … FOR UPDATE NOWAIT` on the row, held
to the commit (NOWAIT and a short async wait between tries: a worker thread never blocks on another
worker's lock). SQLite: a claim written to the row in a short write transaction (SQLite's own write lock
makes the check-and-set atomic) and cleared by the transaction that saves the turn; SQLite's write lock
itself cannot be held for the turn, since the turn writes the question log through another connection.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, create_engine, delete, func, insert, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from records.database import database_url, engine_for
from records.store import CHINA, now
from webchat.models import BRANCH, PERSON, WebDocument, WebInvitation, WebSession
from zhibu.errors import BadInput
from zhibu.keyed_locks import KeyedLocks
from zhibu.settings import Settings

TURNS_AT_ONCE = 24  # per worker: turns holding a database connection (PostgreSQL) at the same time
WAIT_FOR_TURN_S = 60.0  # a message waits this long for the session's previous one before it is refused
_RETRY_S = 0.02
CLAIM_S = 120  # SQLite: a claim older than this belongs to a worker that died mid-turn
MAX_DAYS, MAX_USES = 365, 10_000
SESSION_ENDED = "您的访问已结束（邀请已被组织部收回或已过期）。请重新打开组织部发给您的邀请链接。"


class Refused(Exception):
    """An invitation or session that cannot be used; the message says why, in Chinese."""


class Busy(Exception):
    """The session's previous message is still being answered after WAIT_FOR_TURN_S."""


@dataclass(frozen=True)
class SignedIn:
    """A browser's live session: its row id and CSRF token."""

    id: int
    csrf: str


@dataclass
class TurnRow:
    """The columns of a session row that a turn reads and writes (the rest stay in the database)."""

    id: int
    state: dict
    transcript: list
    recent: list
    flood: dict
    turns: int
    next_message: int

    def saved(self) -> dict:
        """The bind parameters of SAVE."""
        return {f"new_{name}": getattr(self, name) for name in SAVED}


@dataclass
class Locked:
    """A session row during its turn, and the documents the turn made."""

    row: TurnRow
    documents: list[dict] = field(default_factory=list)

    def keep_document(self, filename: str, content: bytes) -> str:
        token = secrets.token_urlsafe(18)
        self.documents.append({"token": token, "session_id": self.row.id, "filename": filename[:200],
                               "content": content, "created_at": now()})
        return token


# Every message runs these: built once, in SQLAlchemy Core. The ORM's per-call statement building and unit of
# work were most of a turn's database time (an ORM UPDATE took 0.7 ms of CPU on SQLite, this one 0.15 ms).
SESSIONS = WebSession.__table__
SAVED = ("state", "transcript", "recent", "flood", "turns", "next_message")
TURN_COLUMNS = (SESSIONS.c.id, *(SESSIONS.c[name] for name in SAVED))
SIGNED_IN = (select(SESSIONS.c.id, SESSIONS.c.csrf, SESSIONS.c.expires_at, WebInvitation.__table__.c.revoked_at)
             .select_from(SESSIONS.outerjoin(WebInvitation.__table__))
             .where(SESSIONS.c.token_hash == bindparam("token_hash")))
LOCK_ROW = select(*TURN_COLUMNS).where(SESSIONS.c.id == bindparam("session_id")).with_for_update(nowait=True)
CLAIM = (update(SESSIONS)
         .where(SESSIONS.c.id == bindparam("session_id"),
                SESSIONS.c.claim.is_(None) | (SESSIONS.c.claimed_until < bindparam("moment")))
         .values(claim=bindparam("new_claim"), claimed_until=bindparam("until")).returning(*TURN_COLUMNS))
EXISTS = select(SESSIONS.c.id).where(SESSIONS.c.id == bindparam("session_id"))
SAVE = update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id")).values(
    {name: bindparam(f"new_{name}") for name in SAVED})
SAVE_CLAIMED = SAVE.where(SESSIONS.c.claim == bindparam("held_claim")).values(claim=None, claimed_until=None)
RELEASE = (update(SESSIONS).where(SESSIONS.c.id == bindparam("session_id"), SESSIONS.c.claim == bindparam("held_claim"))
           .values(claim=None, claimed_until=None))
KEEP_DOCUMENT = insert(WebDocument.__table__)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def beijing(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def check_invitation(name: str, kind: str, days: int, uses: int) -> str:
    name = name.strip()
    if not name or len(name) > 120:
        raise BadInput("请填写邀请对象（党支部名称或书记姓名），不超过 120 个字。")
    if kind not in (BRANCH, PERSON):
        raise BadInput("邀请对象只能是“党支部”或“个人”。")
    if not 1 <= days <= MAX_DAYS:
        raise BadInput(f"有效天数应在 1—{MAX_DAYS} 之间。")
    if not 1 <= uses <= MAX_USES:
        raise BadInput(f"可用次数应在 1—{MAX_USES} 之间。")
    return name


def refusal(invitation: WebInvitation | None, moment: datetime) -> str | None:
    """Why this invitation cannot be redeemed now (Chinese), or None when it can."""
    if invitation is None:
        return "邀请链接无效：请核对链接是否完整，或向组织部索取新的邀请链接。"
    if invitation.revoked_at is not None:
        return "这个邀请链接已被组织部收回，不能再使用。如需使用，请联系组织部。"
    if invitation.expires_at <= moment:
        return f"这个邀请链接已于 {beijing(invitation.expires_at)} 过期。请向组织部索取新的邀请链接。"
    if invitation.uses >= invitation.max_uses:
        return f"这个邀请链接已用满 {invitation.max_uses} 次。请向组织部索取新的邀请链接。"
    return None


class WebStore:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = database_url(settings)
        shared = engine_for(url)  # migrated on first open
        self._engine = shared
        self._session = sessionmaker(shared, expire_on_commit=False)
        self._postgres = shared.dialect.name == "postgresql"
        # PostgreSQL: the row locks hold their connections for a whole turn; their own pool keeps the question
        # log (written during the turn) from waiting for a connection a locked turn holds.
        self._locking: Engine = (create_engine(url, pool_size=TURNS_AT_ONCE, max_overflow=0, pool_pre_ping=True)
                                 if self._postgres else shared)
        self._turns = asyncio.Semaphore(TURNS_AT_ONCE) if self._postgres else None
        self._local = KeyedLocks()

    # ---- invitations -------------------------------------------------------------------------
    def create_invitation(self, name: str, kind: str, days: int, uses: int, by: str) -> tuple[WebInvitation, str]:
        """The new invitation and its code (shown once: only the hash is kept)."""
        name = check_invitation(name, kind, days, uses)
        code = secrets.token_urlsafe(16)
        moment = now()
        invitation = WebInvitation(code_hash=token_hash(code), name=name, kind=kind, created_by=by[:80],
                                   created_at=moment, expires_at=moment + timedelta(days=days), max_uses=uses, uses=0)
        with self._session.begin() as session:
            session.add(invitation)
        return invitation, code

    def invitations(self) -> list[tuple[WebInvitation, int]]:
        """Every invitation, newest first, with how many browsers are signed in with it now."""
        live = (select(WebSession.invitation_id, func.count().label("n")).where(WebSession.expires_at > now())
                .group_by(WebSession.invitation_id).subquery())
        rows = (select(WebInvitation, func.coalesce(live.c.n, 0)).outerjoin(live, live.c.invitation_id == WebInvitation.id)
                .order_by(WebInvitation.id.desc()))
        with self._session() as session:
            return [(invitation, count) for invitation, count in session.execute(rows).all()]

    def revoke(self, invitation_id: int, by: str) -> WebInvitation | None:
        """Revoke the invitation and end its sessions; None when there is no such invitation."""
        with self._session.begin() as session:
            invitation = session.get(WebInvitation, invitation_id)
            if invitation is None:
                return None
            if invitation.revoked_at is None:
                invitation.revoked_at, invitation.revoked_by = now(), by[:80]
            session.execute(delete(WebSession).where(WebSession.invitation_id == invitation_id))
            return invitation

    def invitation_for(self, code: str) -> WebInvitation | None:
        with self._session() as session:
            return session.scalar(select(WebInvitation).where(WebInvitation.code_hash == token_hash(code)))

    # ---- sessions ----------------------------------------------------------------------------
    def redeem(self, code: str) -> tuple[str, str]:
        """(session token, CSRF token) for a browser opening an invitation; Refused with the reason."""
        moment = now()
        with self._session.begin() as session:
            # One statement checks and counts the use: two browsers racing for the last use cannot both win.
            counted = session.execute(
                update(WebInvitation)
                .where(WebInvitation.code_hash == token_hash(code), WebInvitation.revoked_at.is_(None),
                       WebInvitation.expires_at > moment, WebInvitation.uses < WebInvitation.max_uses)
                .values(uses=WebInvitation.uses + 1).returning(WebInvitation.id)).scalar()
        if counted is None:
            raise Refused(refusal(self.invitation_for(code), moment))
        return self.open_session(counted)

    def open_session(self, invitation_id: int | None) -> tuple[str, str]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        moment = now()
        with self._session.begin() as session:
            session.add(WebSession(token_hash=token_hash(token), csrf=csrf, invitation_id=invitation_id,
                                   created_at=moment, expires_at=moment + self._lifetime(), state={}, transcript=[],
                                   recent=[], flood={}, turns=0, next_message=1))
        return token, csrf

    def session_for(self, token: str) -> SignedIn | None:
        """The live session of this cookie token (its lifetime renewed once a day of use), else None. Reads
        only the columns that say so: every request asks, and the conversation is not needed for it."""
        moment = now()
        with self._engine.connect() as connection:
            row = connection.execute(SIGNED_IN, {"token_hash": token_hash(token)}).first()
        if row is None or row.expires_at <= moment or row.revoked_at is not None:
            return None
        if row.expires_at - moment < self._lifetime() - timedelta(days=1):
            with self._session.begin() as session:
                session.execute(update(WebSession).where(WebSession.id == row.id)
                                .values(expires_at=moment + self._lifetime()))
        return SignedIn(row.id, row.csrf)

    def conversation(self, session_id: int) -> tuple[list[dict], dict]:
        """The transcript and the dialogue state, for the page."""
        with self._session() as session:
            row = session.execute(select(WebSession.transcript, WebSession.state)
                                  .where(WebSession.id == session_id)).first()
        return (row.transcript, row.state) if row else ([], {})

    def end_session(self, token: str) -> None:
        with self._session.begin() as session:
            session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))

    def _lifetime(self) -> timedelta:
        return timedelta(days=self.settings.zhibu_web_session_days)

    def document(self, session_id: int, token: str) -> WebDocument | None:
        with self._session() as session:
            return session.scalar(select(WebDocument).where(WebDocument.token == token,
                                                            WebDocument.session_id == session_id))

    def sweep(self) -> int:
        """Ended sessions and documents older than the question log's retention leave the database."""
        moment = now()
        cutoff = moment - timedelta(days=self.settings.zhibu_log_retention_days)
        with self._session.begin() as session:
            session.execute(delete(WebDocument).where(WebDocument.created_at < cutoff))
            ended = select(WebSession.id).where(WebSession.expires_at < moment)
            session.execute(delete(WebDocument).where(WebDocument.session_id.in_(ended)))
            return session.execute(delete(WebSession).where(WebSession.expires_at < moment)).rowcount

    # ---- the turn lock -----------------------------------------------------------------------
    @asynccontextmanager
    async def turn(self, session_id: int) -> AsyncIterator[Locked]:
        """The session row, locked for one turn; what the body sets on it is saved when it ends without error."""
        async with self._local.hold(session_id):
            if self._postgres:
                async with self._turns, self._row_lock(session_id) as locked:
                    yield locked
            else:
                async with self._claimed(session_id) as locked:
                    yield locked

    @asynccontextmanager
    async def _row_lock(self, session_id: int) -> AsyncIterator[Locked]:
        connection = await asyncio.to_thread(self._locking.connect)  # a checkout pings the server: not in the loop
        try:
            row = await _waiting(lambda: self._lock_row(connection, session_id))
            locked = Locked(row)
            yield locked
            await asyncio.to_thread(self._save_locked, connection, locked)
        finally:
            await asyncio.to_thread(connection.close)  # rolls back what was not committed

    @staticmethod
    def _lock_row(connection: Connection, session_id: int) -> TurnRow | None:
        try:
            row = connection.execute(LOCK_ROW, {"session_id": session_id}).first()
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != "55P03":  # lock_not_available: another worker's turn
                raise
            connection.rollback()
            return None
        if row is None:
            raise Refused(SESSION_ENDED)
        return TurnRow(**row._mapping)

    @staticmethod
    def _save_locked(connection: Connection, locked: Locked) -> None:
        connection.execute(SAVE, {"session_id": locked.row.id, **locked.row.saved()})
        if locked.documents:
            connection.execute(KEEP_DOCUMENT, locked.documents)
        connection.commit()

    @asynccontextmanager
    async def _claimed(self, session_id: int) -> AsyncIterator[Locked]:
        claim = secrets.token_hex(16)
        row = await _waiting(lambda: self._claim(session_id, claim))
        locked = Locked(row)
        try:
            yield locked
        except BaseException:
            await asyncio.to_thread(self._release, session_id, claim)
            raise
        await asyncio.to_thread(self._save_claimed, locked, claim)

    def _claim(self, session_id: int, claim: str) -> TurnRow | None:
        """One statement claims the row (if free) and reads it; None while another turn holds it."""
        moment = now()
        with self._engine.begin() as connection:
            row = connection.execute(CLAIM, {"session_id": session_id, "moment": moment, "new_claim": claim,
                                             "until": moment + timedelta(seconds=CLAIM_S)}).first()
            if row is None and connection.execute(EXISTS, {"session_id": session_id}).first() is None:
                raise Refused(SESSION_ENDED)
        return TurnRow(**row._mapping) if row is not None else None

    def _release(self, session_id: int, claim: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(RELEASE, {"session_id": session_id, "held_claim": claim})

    def _save_claimed(self, locked: Locked, claim: str) -> None:
        with self._engine.begin() as connection:
            saved = connection.execute(SAVE_CLAIMED, {"session_id": locked.row.id, "held_claim": claim,
                                                      **locked.row.saved()}).rowcount
            if not saved:  # revoked meanwhile, or the claim ran out and another turn took the row: never overwrite
                exists = connection.execute(EXISTS, {"session_id": locked.row.id}).first()
                raise Busy if exists else Refused(SESSION_ENDED)
            if locked.documents:
                connection.execute(KEEP_DOCUMENT, locked.documents)


async def _waiting(attempt) -> TurnRow:
    """Try `attempt` (in a thread) until it returns the row; Busy after WAIT_FOR_TURN_S."""
    deadline = time.monotonic() + WAIT_FOR_TURN_S
    while True:
        row = await asyncio.to_thread(attempt)
        if row is not None:
            return row
        if time.monotonic() > deadline:
            raise Busy
        await asyncio.sleep(_RETRY_S)
