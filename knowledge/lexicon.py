"""jieba's dictionary looked up word by word from SQLite instead of loaded whole: a question needs a few
hundred lookups, loading the dictionary (FREQ, 580,000 entries) and posseg's word tags (dict.txt parsed
again) cost most of a cold `zhibu ask`. The tokens are jieba's own: the same tables, the same code.

The database is made once per $ZHIBU_HOME/cache and jieba version, from jieba's loaded dictionary,
written beside and renamed into place; a process that cannot write it (a read-only home) uses jieba
as it comes. Words added at run time (our vocabulary) live in memory above the tables.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger(__name__)
_MISSING, _UNASKED = object(), object()  # not in the table; not looked up yet


class _Table:
    """The dict methods jieba uses (`in`, `[]`, `get`, `[]=`, `update`) over one SQLite table."""

    def __init__(self, connection: sqlite3.Connection, table: str) -> None:
        self._query = f"SELECT value FROM {table} WHERE word = ?"
        self._connection = connection
        self._added: dict[str, Any] = {}  # words added at run time, and every answer the table gave

    def get(self, word: str, default: Any = None) -> Any:
        value = self._added.get(word, _UNASKED)
        if value is _UNASKED:  # asked once, kept: an ingest tokenising megabytes asks the same words again
            row = self._connection.execute(self._query, (word,)).fetchone()
            value = self._added[word] = row[0] if row else _MISSING
        return default if value is _MISSING else value

    def __contains__(self, word: str) -> bool:
        return self.get(word, _MISSING) is not _MISSING

    def __getitem__(self, word: str) -> Any:
        value = self.get(word, _MISSING)
        if value is _MISSING:
            raise KeyError(word)
        return value

    def __setitem__(self, word: str, value: Any) -> None:
        self._added[word] = value

    def update(self, pairs: dict) -> None:
        self._added.update(pairs)


def database_path(cache: Path) -> Path:
    return cache / f"jieba-{version('jieba')}.sqlite3"


def use_lexicon(jieba, cache: Path) -> bool:
    """Point the default tokenizer (and posseg's, when imported later) at the database, making it first
    if needed. False (jieba stays as it comes) when it can be neither opened nor made."""
    path = database_path(cache)
    if not path.is_file() and not _make(jieba, path):
        return False
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        (total,) = connection.execute("SELECT value FROM meta WHERE name = 'total'").fetchone()
    except sqlite3.Error as error:
        log.warning("分词词典缓存 %s 无法读取（%s）：改为载入完整词典，结果相同，只是较慢。", path, error)
        return False
    jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = _Table(connection, "freq"), total, True
    jieba.dt.dictionary = os.devnull  # posseg's import parses this for word tags: nothing to parse
    _tags[:] = [_Table(connection, "tags")]
    return True


_tags: list[_Table] = []


def tag_posseg(posseg) -> None:
    """Give posseg the tag table (its own, read from os.devnull at import, is empty)."""
    if _tags and not isinstance(posseg.dt.word_tag_tab, _Table):
        _tags[0].update(posseg.dt.word_tag_tab)  # words added with a tag before the import
        posseg.dt.word_tag_tab = _tags[0]


def _make(jieba, path: Path) -> bool:
    jieba.dt.check_initialized()
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with sqlite3.connect(tmp) as connection:
            connection.execute("CREATE TABLE freq (word TEXT PRIMARY KEY, value INTEGER) WITHOUT ROWID")
            connection.execute("CREATE TABLE tags (word TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")
            connection.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER)")
            connection.executemany("INSERT INTO freq VALUES (?, ?)", jieba.dt.FREQ.items())
            connection.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?)", _word_tags(jieba.dt.get_dict_file()))
            connection.execute("INSERT INTO meta VALUES ('total', ?)", (jieba.dt.total,))
        connection.close()
        os.replace(tmp, path)
        return True
    except (OSError, sqlite3.Error) as error:
        log.warning("分词词典缓存无法写入 %s（%s）：每次启动改为载入完整词典，结果相同，只是较慢。", path, error)
        tmp.unlink(missing_ok=True)
        return False


def _word_tags(dictionary) -> Iterable[tuple[str, str]]:
    """(word, tag) from jieba's dict.txt lines "word frequency tag", as posseg's load_word_tag reads them."""
    with dictionary:
        for line in dictionary:
            parts = line.strip().decode("utf-8").split(" ")
            if len(parts) == 3:
                yield parts[0], parts[2]
