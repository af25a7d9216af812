"""Where the records live and how they are opened: one engine per URL and process, migrated on first open.

SQLite (`$ZHIBU_HOME/records/records.sqlite3`, WAL so the bot and the console share it) unless
`ZHIBU_DATABASE_URL` names another database, e.g. `postgresql+psycopg://zhibu:…@127.0.0.1/zhibu`.
"""

from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from zhibu.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x7A686962  # "zhib": one migrating process at a time on a shared server
_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def records_dir(settings: Settings) -> Path:
    folder = settings.zhibu_home / "records"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_url(settings: Settings) -> str:
    if settings.zhibu_database_url is not None and settings.zhibu_database_url.get_secret_value():
        url = settings.zhibu_database_url.get_secret_value()
        # A bare postgresql:// URL means psycopg 3, the driver we install.
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    return f"sqlite:///{records_dir(settings) / 'records.sqlite3'}"


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (the console) never block the writer (the bot)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def engine_for(url: str) -> Engine:
    """The process's engine for `url`, the schema brought up to date the first time."""
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            # A database that cannot be reached must fail fast: the bot waits for the log before answering.
            options = {"connect_args": {"connect_timeout": 5}} if url.startswith("postgresql") else {}
            engine = create_engine(url, pool_pre_ping=True, **options)
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _sqlite_pragmas)
            migrate(engine)
            _engines[url] = engine
        return engine


def dispose_all() -> None:
    """Close every pooled connection (tests that stop a database server)."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """The bot and the console may start together: only one of them runs the migrations."""
    if engine.dialect.name == "sqlite":
        database = Path(engine.url.database)
        with open(database.with_name(database.name + ".migrate.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
    elif engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_MIGRATION_LOCK})
    else:
        yield


class UnknownSchema(SQLAlchemyError):
    """The database was last written by a version of Zhibu whose schema this one does not know (a newer
    one, or another branch): a store failure like a locked or unreachable database, never a traceback."""


def migrate(engine: Engine) -> None:
    """`alembic upgrade head` on this engine, without an ini file."""
    from alembic import command
    from alembic.config import Config
    from alembic.script.revision import RevisionError
    from alembic.util.exc import CommandError

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine), engine.begin() as connection:
        config.attributes["connection"] = connection
        try:
            command.upgrade(config, "head")
        except (CommandError, RevisionError) as error:
            raise UnknownSchema(f"unknown records schema: {error}") from error


def session_factory(settings: Settings) -> sessionmaker[Session]:
    return sessionmaker(engine_for(database_url(settings)), expire_on_commit=False)
