"""The records store: the one place that reads and writes the tables (bot, terminal, console, CLI).

Every method opens and closes its own short transaction, so the store is safe to share between
threads and between processes (the bot and the console on one `ZHIBU_HOME`).
"""

from __future__ import annotations

import errno
import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from records.database import session_factory
from records.models import (ADMIN, ANSWERED, DOWN, FINISHED, NOT_COVERED, PARTIAL, REASONS, STARTED, UP, VIEWER,
                            ConsoleSession, ConsoleUser, Feedback, KbChange, LoginThrottle, Question, SelfCheckEvent,
                            Target)
from records.privacy import Hasher, log_salt
from zhibu.errors import BadInput
from zhibu.settings import Settings

CHINA = timezone(timedelta(hours=8))  # days in the statistics are Beijing days
SESSION_LIFETIME = timedelta(hours=8)
_PASSWORDS = PasswordHasher()
_DUMMY_HASH = _PASSWORDS.hash("never a password")  # unknown names cost as much time as known ones
# What can go wrong under the store: the database (locked, read-only, down, full) or the records folder.
STORE_FAILURES = (SQLAlchemyError, OSError)


@dataclass(frozen=True)
class Budget:
    """Sign-in attempts one key may make before each further one waits, doubling up to `longest_s`."""

    free: int
    longest_s: int


# Per client address, per name (known or not: the same answer for both) and per browser that signed in
# as that name before (its signed cookie replaces the other two, so an attacker slowing a name down does not
# slow down its owner). Counts are forgotten an hour after the last attempt.
BUDGETS = {"client": Budget(free=10, longest_s=900), "name": Budget(free=5, longest_s=300),
           "device": Budget(free=10, longest_s=60)}
BUDGET_WINDOW = timedelta(hours=1)
FIRST_WAIT_S = 4  # the first wait past a budget; each further attempt doubles it


def now() -> datetime:
    return datetime.now(timezone.utc)


def _pending():
    """Questions staff should look at: not answered in full, or 👎, and not yet handled."""
    return and_(Question.handled_at.is_(None), or_(Question.status != ANSWERED, Question.rating == DOWN))


def _handled():
    """Questions staff have marked handled (of those that were pending)."""
    return and_(Question.handled_at.is_not(None), or_(Question.status != ANSWERED, Question.rating == DOWN))


@dataclass(frozen=True)
class PendingGroup:
    wording: str
    count: int
    not_covered: int
    partial: int
    thumbs_down: int
    last_asked: datetime
    example: str
    cited: list[str]
    reasons: dict[str, int]  # 👎 reason → how many
    answer: str = ""  # the answer the latest asker saw
    handled_by: str | None = None  # for handled groups: who, and when (the latest)
    handled_at: datetime | None = None


class Records:
    def __init__(self, settings: Settings) -> None:
        """Nothing is opened here: a database that is down or a read-only folder fails the first use (and
        each use until it is back), never the start of the bot or the console."""
        self.settings = settings
        self._factory: sessionmaker[Session] | None = None
        self._hasher: Hasher | None = None
        self._counting = threading.Lock()  # one sign-in attempt counted at a time in this process

    @property
    def _session(self) -> sessionmaker[Session]:
        if self._factory is None:
            self._factory = session_factory(self.settings)
        return self._factory

    @property
    def hash_id(self) -> Hasher:
        if self._hasher is None:
            self._hasher = Hasher(log_salt(self.settings))
        return self._hasher

    # ---- question log and feedback -----------------------------------------------------------
    def log_question(self, *, channel: str, chat_id: int, user_id: int, question: str, answer: str, status: str,
                     cited: list[str], generation: str, wording: str, asked_at: datetime | None = None) -> int:
        asked_at = asked_at or now()
        row = Question(asked_at=asked_at, day=china_day(asked_at), channel=channel, chat_hash=self.hash_id(chat_id),
                       user_hash=self.hash_id(user_id), question=question, answer=answer, status=status,
                       cited=cited, generation=generation, wording=wording[:200])
        with self._session.begin() as session:
            session.add(row)
            session.flush()
            return row.id

    def rate(self, question_id: int, chat_id: int, user_id: int, rating: int, reason: str | None = None) -> bool:
        """Record (or change) one person's 👍/👎; False when the question is no longer in the log
        (purged) or was asked in another chat (forged button data)."""
        if rating not in (UP, DOWN) or (reason is not None and reason not in REASONS):
            raise BadInput("无效的反馈。")
        user_hash = self.hash_id(user_id)
        with self._session.begin() as session:
            question = session.get(Question, question_id)
            if question is None or question.chat_hash != self.hash_id(chat_id):
                return False
            given = session.scalar(select(Feedback).where(Feedback.question_id == question_id,
                                                          Feedback.user_hash == user_hash))
            if given is None:
                given = Feedback(question_id=question_id, user_hash=user_hash)
                session.add(given)
            given.rating, given.given_at = rating, now()
            given.reason = reason if rating == DOWN else None
            question.rating = rating
            question.reason = (reason or question.reason) if rating == DOWN else None
            return True

    def question(self, question_id: int) -> Question | None:
        with self._session() as session:
            return session.get(Question, question_id)

    def feedback_of(self, question_id: int) -> list[Feedback]:
        with self._session() as session:
            return list(session.scalars(select(Feedback).where(Feedback.question_id == question_id)))

    def questions_of_chat(self, chat_id: int) -> list[Question]:
        with self._session() as session:
            return list(session.scalars(select(Question).where(Question.chat_hash == self.hash_id(chat_id))
                                        .order_by(Question.id)))

    def purge(self, retention_days: int | None = None) -> int:
        """Delete questions (and their feedback) older than the retention; returns how many."""
        days = retention_days or self.settings.zhibu_log_retention_days
        cutoff = now() - timedelta(days=days)
        with self._session.begin() as session:
            old = select(Question.id).where(Question.asked_at < cutoff)
            session.execute(delete(Feedback).where(Feedback.question_id.in_(old)))
            return session.execute(delete(Question).where(Question.asked_at < cutoff)).rowcount

    def count_selfcheck(self, kind: str) -> None:
        if kind not in (STARTED, FINISHED):
            raise ValueError(kind)
        with self._session.begin() as session:
            session.add(SelfCheckEvent(at=now(), kind=kind))

    # ---- the console's view of the log -------------------------------------------------------
    def pending_groups(self, limit: int = 200, *, since: datetime | None = None, status: str | None = None,
                       reason: str | None = None, search: str = "", handled: bool = False) -> list[PendingGroup]:
        """Pending (or, with `handled`, handled) questions grouped by identical wording, most asked first, in
        one pass over the covering index (the console merges near wordings). Filters: asked since, status
        (or DOWN for a 👎), 👎 reason, words in the question."""
        count = func.count(Question.id)

        def how_many(condition):
            return func.sum(case((condition, 1), else_=0))

        shown = [_handled() if handled else _pending()]
        if since is not None:
            shown.append(Question.asked_at >= since)
        if status == "down":
            shown.append(Question.rating == DOWN)
        elif status:
            shown.append(Question.status == status)
        if reason:
            shown.append(and_(Question.rating == DOWN, Question.reason == reason))
        if search.strip():
            shown.append(Question.question.contains(search.strip(), autoescape=True))
        rows = (select(Question.wording, count, how_many(Question.status == NOT_COVERED),
                       how_many(Question.status == PARTIAL), how_many(Question.rating == DOWN),
                       func.max(Question.asked_at), func.max(Question.id), func.max(Question.handled_at),
                       *(how_many(and_(Question.rating == DOWN, Question.reason == reason)) for reason in REASONS))
                .where(*shown).group_by(Question.wording)
                .order_by(*((func.max(Question.handled_at).desc(),) if handled else (count.desc(),)),
                          func.max(Question.id).desc())
                .limit(limit))
        with self._session() as session:
            groups = session.execute(rows).all()
            latest = {q.id: q for q in session.scalars(select(Question).where(Question.id.in_([g[6] for g in groups])))}
        return [PendingGroup(wording, total, not_covered, partial, down, last, latest[last_id].question,
                             list(latest[last_id].cited), {r: n for r, n in zip(REASONS, reasons) if n},
                             latest[last_id].answer, latest[last_id].handled_by, handled_at)
                for wording, total, not_covered, partial, down, last, last_id, handled_at, *reasons in groups]

    def mark_handled(self, wordings: list[str], by: str) -> int:
        with self._session.begin() as session:
            done = update(Question).where(_pending(), Question.wording.in_(wordings)).values(handled_at=now(), handled_by=by)
            return session.execute(done).rowcount

    def unmark_handled(self, wordings: list[str]) -> int:
        """Undo `mark_handled`: the group's questions are pending again."""
        with self._session.begin() as session:
            undone = (update(Question).where(_handled(), Question.wording.in_(wordings))
                      .values(handled_at=None, handled_by=None))
            return session.execute(undone).rowcount

    def stats(self, days: int = 30) -> dict[str, Any]:
        since = now() - timedelta(days=days)
        first_day = china_day(since)
        with self._session() as session:
            per_day = session.execute(select(Question.day, func.count()).where(Question.day >= first_day)
                                      .group_by(Question.day).order_by(Question.day)).all()
            statuses = dict(session.execute(select(Question.status, func.count()).where(Question.day >= first_day)
                                            .group_by(Question.status)).all())
            ratings = dict(session.execute(select(Feedback.rating, func.count()).where(Feedback.given_at >= since)
                                           .group_by(Feedback.rating)).all())
            checks = dict(session.execute(select(SelfCheckEvent.kind, func.count()).where(SelfCheckEvent.at >= since)
                                          .group_by(SelfCheckEvent.kind)).all())
        return {"days": days, "per_day": per_day, "statuses": statuses,
                "up": ratings.get(UP, 0), "down": ratings.get(DOWN, 0),
                "started": checks.get(STARTED, 0), "finished": checks.get(FINISHED, 0)}

    # ---- targets -----------------------------------------------------------------------------
    def targets(self) -> list[Target]:
        with self._session() as session:
            return list(session.scalars(select(Target).order_by(Target.parameter, Target.year)))

    def set_target(self, *, parameter: str, year: int, value: float, source: dict[str, str], entered_by: str) -> Target:
        """Add or replace the value of `parameter` for `year` (one value per parameter and year)."""
        with self._session.begin() as session:
            target = session.scalar(select(Target).where(Target.parameter == parameter, Target.year == year))
            if target is None:
                target = Target(parameter=parameter, year=year)
                session.add(target)
            target.value, target.entered_by, target.entered_at = value, entered_by, now()
            target.doc_id, target.document = source["doc_id"], source["document"]
            target.doc_number, target.section, target.quote = source.get("doc_number", ""), source["section"], source["quote"]
            return target

    def delete_target(self, parameter: str, year: int) -> bool:
        with self._session.begin() as session:
            return session.execute(delete(Target).where(Target.parameter == parameter, Target.year == year)).rowcount > 0

    # ---- console accounts ----------------------------------------------------------------------
    def add_user(self, name: str, password: str, role: str = VIEWER) -> None:
        """Create an account, or reset its password and role: every session it had ends (a reset is what
        follows a leaked password)."""
        name = name.strip()
        if role not in (VIEWER, ADMIN):
            raise BadInput(f"角色只能是 {VIEWER} 或 {ADMIN}。")
        if not name or len(name) > 80 or not name.isprintable():
            raise BadInput("用户名不能为空、不能含控制字符，且不超过 80 个字符。")
        if len(password) < 8:
            raise BadInput("密码至少 8 位。")
        with self._session.begin() as session:
            user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name))
            if user is None:
                user = ConsoleUser(name=name, created_at=now())
                session.add(user)
            else:
                session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
            user.password_hash, user.role = _PASSWORDS.hash(password), role

    def users(self) -> list[ConsoleUser]:
        with self._session() as session:
            return list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.name)))

    def is_account(self, name: str) -> bool:
        with self._session() as session:
            return session.scalar(select(ConsoleUser.id).where(ConsoleUser.name == name.strip())) is not None

    def check_password(self, name: str, password: str) -> tuple[ConsoleUser | None, bool]:
        """(the user when the password is right, whether the name is an account); unknown names cost one
        hash too. Throttling is `login_wait`'s, before this."""
        with self._session() as session:
            user = session.scalar(select(ConsoleUser).where(ConsoleUser.name == name.strip()))
        if user is None:
            _verify(_DUMMY_HASH, password)
            return None, False
        return (user if _verify(user.password_hash, password) else None), True

    def login_wait(self, keys: dict[str, str]) -> int:
        """Seconds before a sign-in may be tried against these budgets ({budget: who}); 0 counts the attempt
        now, before its password is hashed, so parallel attempts cannot all slip through."""
        hashed = {kind: self.hash_id(f"{kind}:{who}") for kind, who in keys.items()}
        with self._counting, self._session.begin() as session:
            moment = database_now(session)
            rows = {row.key: row for row in session.scalars(select(LoginThrottle)
                                                             .where(LoginThrottle.key.in_(hashed.values())))}
            counted = {kind: _counted(rows.get(key), moment) for kind, key in hashed.items()}
            wait = max((_wait_s(BUDGETS[kind], row, moment) for kind, row in counted.items() if row), default=0)
            if wait:
                return wait
            for kind, key in hashed.items():
                row = counted[kind]
                if row is None:
                    row = LoginThrottle(key=key, attempts=0, last_at=moment)
                    session.add(row)
                row.attempts, row.last_at = row.attempts + 1, moment
            return 0

    def login_succeeded(self, keys: dict[str, str]) -> None:
        """A right password clears the name's and the browser's budgets and takes its own attempt off the
        client address's (an office behind one address signs in many times a day)."""
        hashed = {kind: self.hash_id(f"{kind}:{who}") for kind, who in keys.items()}
        with self._session.begin() as session:
            session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(
                [key for kind, key in hashed.items() if kind != "client"])))
            if "client" in hashed:
                session.execute(update(LoginThrottle).where(LoginThrottle.key == hashed["client"],
                                                            LoginThrottle.attempts > 0)
                                .values(attempts=LoginThrottle.attempts - 1))

    def open_session(self, user: ConsoleUser) -> tuple[str, str]:
        """(cookie token, CSRF token) of a new sign-in; expired sessions are swept on the way."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._session.begin() as session:
            moment = database_now(session)
            session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < moment))
            session.add(ConsoleSession(token_hash=_token_hash(token), user_id=user.id, csrf=csrf,
                                       expires_at=moment + SESSION_LIFETIME))
        return token, csrf

    def session_user(self, token: str) -> tuple[ConsoleUser, str] | None:
        """(user, CSRF token) of a live session, else None."""
        with self._session() as session:
            found = session.get(ConsoleSession, _token_hash(token))
            if found is None or found.expires_at < database_now(session):
                return None
            return found.user, found.csrf

    def close_session(self, token: str) -> None:
        with self._session.begin() as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == _token_hash(token)))

    # ---- who changed the knowledge base ------------------------------------------------------
    def record_kb_change(self, actor: str, action: str, doc_ids: list[str], generation: str | None) -> None:
        with self._session.begin() as session:
            session.add(KbChange(at=now(), actor=actor, action=action, doc_ids=doc_ids, generation=generation or ""))

    def kb_changes(self, limit: int = 50) -> list[KbChange]:
        with self._session() as session:
            return list(session.scalars(select(KbChange).order_by(KbChange.id.desc()).limit(limit)))


def _verify(stored: str, password: str) -> bool:
    try:
        return _PASSWORDS.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _counted(row: LoginThrottle | None, moment: datetime) -> LoginThrottle | None:
    """The row while its count holds; an hour after the last attempt it starts over."""
    if row is not None and moment - row.last_at > BUDGET_WINDOW:
        row.attempts = 0
    return row


def _wait_s(budget: Budget, row: LoginThrottle, moment: datetime) -> int:
    over = row.attempts - budget.free
    if over < 0:
        return 0
    wait = min(FIRST_WAIT_S * 2 ** over, budget.longest_s) - (moment - row.last_at).total_seconds()
    return max(0, int(wait + 0.999))


def database_now(session: Session) -> datetime:
    """The database's clock (aware UTC): consoles sharing a store may disagree; the store does not."""
    if session.get_bind().dialect.name == "sqlite":
        stamp = session.scalar(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')"))
        return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc)
    return session.scalar(select(func.now())).astimezone(timezone.utc)


_PROBLEMS = (("database is locked", "记录库正被其他程序占用"), ("readonly", "记录库所在文件夹只读或没有写入权限"),
             ("read-only", "记录库所在文件夹只读或没有写入权限"), ("disk is full", "磁盘空间不足"),
             ("unable to open", "无法打开记录库文件"), ("connection", "无法连接数据库服务器"),
             ("unknown records schema", "记录库由另一版本的程序写入，本版本无法识别（请核对程序版本）"))
_OS_PROBLEMS = {errno.ENOSPC: "磁盘空间不足", errno.EROFS: "记录库所在文件夹只读", errno.EACCES: "没有写入记录库的权限",
                errno.EPERM: "没有写入记录库的权限"}


def store_problem(error: BaseException) -> str:
    """What went wrong with the store, in Chinese, for a page or a log line (never the driver's words)."""
    if isinstance(error, OSError):
        return _OS_PROBLEMS.get(error.errno, "记录库文件夹无法使用")
    words = str(getattr(error, "orig", error)).lower()
    return next((problem for marker, problem in _PROBLEMS if marker in words), "记录库出错")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_stores: dict[tuple, Records] = {}


def open_records(settings: Settings) -> Records:
    """One store per home and database per process."""
    key = (str(settings.zhibu_home), settings.zhibu_database_url.get_secret_value() if settings.zhibu_database_url else "")
    if key not in _stores:
        _stores[key] = Records(settings)
    return _stores[key]


def china_day(moment: datetime) -> str:
    return moment.astimezone(CHINA).date().isoformat()
