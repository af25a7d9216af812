"""PTB persistence in one SQLite file, so conversations and user data survive a restart.

Values are stored as JSON (the dialogue keeps its state JSON-friendly on purpose; a value that is
not JSON fails loudly instead of being pickled). SQLite runs in WAL mode with `synchronous=NORMAL`:
a commit then costs no fsync, so the calls stay on the event loop without stalling it.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

USER, CHAT, BOT, CALLBACK = "user", "chat", "bot", "callback"
_CONVERSATION = "conversation:"
# PTB's own aliases for these shapes live in a private module; spelled out here instead.
CallbackData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
Conversations = dict[tuple[int | str, ...], object]
_SCHEMA = "CREATE TABLE IF NOT EXISTS kv (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key))"


class SqlitePersistence(BasePersistence[dict, dict, dict]):
    # PTB writes changed data every `update_interval` seconds and on a clean stop; a crash loses at
    # most that much of a conversation, so the interval is short (the writes are cheap).
    def __init__(self, path: Path, update_interval: float = 5, store_data: PersistenceInput | None = None) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    # ---- storage -------------------------------------------------------------------------
    def _load(self, kind: str) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM kv WHERE kind = ?", (kind,))
        return {key: json.loads(value) for key, value in rows}

    def _save(self, kind: str, key: object, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO kv (kind, key, value) VALUES (?, ?, ?)",
                         (kind, str(key), json.dumps(value, ensure_ascii=False)))

    def _delete(self, kind: str, key: object) -> None:
        self._db.execute("DELETE FROM kv WHERE kind = ? AND key = ?", (kind, str(key)))

    # ---- user, chat and bot data ---------------------------------------------------------
    async def get_user_data(self) -> dict[int, dict]:
        return {int(key): value for key, value in self._load(USER).items()}

    async def get_chat_data(self) -> dict[int, dict]:
        return {int(key): value for key, value in self._load(CHAT).items()}

    async def get_bot_data(self) -> dict:
        return self._load(BOT).get("", {})

    async def update_user_data(self, user_id: int, data: dict) -> None:
        self._save(USER, user_id, data)

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        self._save(CHAT, chat_id, data)

    async def update_bot_data(self, data: dict) -> None:
        self._save(BOT, "", data)

    async def drop_user_data(self, user_id: int) -> None:
        self._delete(USER, user_id)

    async def drop_chat_data(self, chat_id: int) -> None:
        self._delete(CHAT, chat_id)

    # This process is the only writer, so the in-memory copies are always the freshest.
    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass

    # ---- callback data (only used with arbitrary_callback_data) --------------------------
    async def get_callback_data(self) -> CallbackData | None:
        stored = self._load(CALLBACK).get("")
        if stored is None:
            return None
        buttons, queries = stored
        return [(uuid, stamp, data) for uuid, stamp, data in buttons], queries

    async def update_callback_data(self, data: CallbackData) -> None:
        self._save(CALLBACK, "", data)

    # ---- ConversationHandler states ------------------------------------------------------
    async def get_conversations(self, name: str) -> Conversations:
        return {tuple(json.loads(key)): state for key, state in self._load(_CONVERSATION + name).items()}

    async def update_conversation(self, name: str, key: tuple[int | str, ...], new_state: object | None) -> None:
        stored_key = json.dumps(list(key))
        if new_state is None:
            self._delete(_CONVERSATION + name, stored_key)
        else:
            self._save(_CONVERSATION + name, stored_key, new_state)

    async def flush(self) -> None:
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._db.close()
