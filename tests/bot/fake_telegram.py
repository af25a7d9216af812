"""A FAKE Telegram Bot API server on 127.0.0.1 for the bot's tests and benchmark.

It is not Telegram: it speaks just enough of the Bot API (same URLs, same JSON envelopes, same
request encodings as python-telegram-bot sends) for the real `Application` to long-poll it, and it
records every call so tests can assert on what the bot did. Tests play the users: they queue
updates (messages, button presses, documents) and wait for the bot's replies.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

BOT_ID = 7000000001
BOT_USERNAME = "zhibu_test_bot"
# Values sent as plain strings by PTB; everything else arrives JSON-encoded.
_STRING_FIELDS = frozenset({"text", "caption", "callback_query_id", "file_id", "action", "url", "secret_token",
                            "parse_mode", "data"})


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entities(text: str) -> list[dict]:
    """What Telegram's clients attach: a bot_command for a leading /command, and @mentions."""
    found = []
    if text.startswith("/"):
        command = text.split()[0]
        found.append({"type": "bot_command", "offset": 0, "length": _utf16_len(command)})
    start = 0
    while (at := text.find("@", start)) >= 0:
        end = at + 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_") and text[end].isascii():
            end += 1
        if end - at > 1 and not (found and at < found[0]["length"]):
            found.append({"type": "mention", "offset": _utf16_len(text[:at]), "length": _utf16_len(text[at:end])})
        start = end
    return found


class FakeTelegram:
    def __init__(self, token: str = "123456:FAKE-TOKEN") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) -> current message
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._fetched_up_to = 0  # highest update_id handed out by getUpdates
        self._in_flight = 0
        self._changed = asyncio.Condition()
        self._faults: dict[str, list[tuple[int, str]]] = {}
        # Called with (call, result) after each successful call: the benchmark routes replies with it.
        self.listeners: list[Callable[[Call, Any], None]] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- server lifecycle ----------------------------------------------------------------
    async def start(self) -> "FakeTelegram":
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ---- faults --------------------------------------------------------------------------
    def fail_next(self, method: str, code: int = 400, description: str = "Bad Request: injected failure") -> None:
        self._faults.setdefault(method, []).append((code, description))

    # ---- what users do -------------------------------------------------------------------
    @staticmethod
    def user(user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}", "language_code": "zh-hans"}

    @staticmethod
    def private_chat(user_id: int) -> dict:
        return {"id": user_id, "type": "private", "first_name": f"用户{user_id}"}

    @staticmethod
    def group_chat(chat_id: int) -> dict:
        return {"id": chat_id, "type": "supergroup", "title": "支部书记交流群"}

    def _message(self, user_id: int, chat: dict | None, **content: Any) -> dict:
        chat = chat or self.private_chat(user_id)
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": self.user(user_id), **content}
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _queue(self, update: dict) -> dict:
        update["update_id"] = next(self._update_ids)
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def send_text(self, user_id: int, text: str, chat: dict | None = None, reply_to: dict | None = None) -> dict:
        content: dict[str, Any] = {"text": text}
        if entities := _entities(text):
            content["entities"] = entities
        if reply_to is not None:
            content["reply_to_message"] = reply_to
        return await self._queue({"message": self._message(user_id, chat, **content)})

    async def press(self, user_id: int, message: dict, data: str) -> dict:
        query = {"id": str(next(self._ids)), "from": self.user(user_id), "chat_instance": "fake-instance",
                 "message": message, "data": data}
        return await self._queue({"callback_query": query})

    async def send_document(self, user_id: int, filename: str, content: bytes, mime: str = "application/octet-stream",
                            announced_size: int | None = None) -> dict:
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = (f"documents/{file_id}{filename[filename.rfind('.'):] if '.' in filename else ''}", content)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename, "mime_type": mime,
                    "file_size": len(content) if announced_size is None else announced_size}
        return await self._queue({"message": self._message(user_id, None, document=document)})

    # ---- what tests read -----------------------------------------------------------------
    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def bot_messages(self, chat_id: int) -> list[dict]:
        """The bot's messages in a chat as they stand now (after edits), oldest first."""
        return [m for (chat, _), m in sorted(self.messages.items()) if chat == chat_id and m["from"]["id"] == BOT_ID]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        async def until() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(until(), timeout)

    async def reply(self, chat_id: int, contains: str = "", after: int = 0, timeout: float = 15.0) -> dict:
        """The first bot message in `chat_id` with message_id > `after` whose text contains `contains`."""

        def found() -> dict | None:
            return next((m for m in self.bot_messages(chat_id)
                         if m["message_id"] > after and contains in (m.get("text") or m.get("caption") or "")), None)

        return await self.wait_for(found, timeout)

    async def settle(self, quiet: float = 0.3, timeout: float = 15.0) -> None:
        """Until every queued update was fetched, no call is in flight and none came for `quiet` s
        (the long poll itself, getUpdates, does not count)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = next((call.at for call in reversed(self.calls) if call.method != "getUpdates"), 0.0)
            pending = self._updates and self._updates[-1]["update_id"] > self._fetched_up_to
            if not pending and self._in_flight == 0 and time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(quiet / 3)
        raise TimeoutError("the bot did not settle")

    @property
    def last_message_id(self) -> int:
        return max((mid for _, mid in self.messages), default=0)

    # ---- the Bot API ---------------------------------------------------------------------
    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = dict(request.query)
        uploads: dict[str, tuple[str, bytes]] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
            return params, uploads
        if request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[key] = (value.filename, value.file.read())
                elif key in _STRING_FIELDS:
                    params[key] = value
                else:
                    try:
                        params[key] = json.loads(value)
                    except ValueError:
                        params[key] = value
        return params, uploads

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        polling = method == "getUpdates"
        self._in_flight += not polling
        try:
            params, uploads = await self._params(request)
            call = Call(method, {**params, **{k: {"filename": n, "content": c} for k, (n, c) in uploads.items()}})
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()
            if self._faults.get(method):
                code, description = self._faults[method].pop(0)
                return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                return web.json_response({"ok": False, "error_code": 404, "description": "Not Found: method not found"},
                                         status=404)
            result = await handler(call.params)
            for listener in self.listeners:
                listener(call, result)
            async with self._changed:
                self._changed.notify_all()
            return web.json_response({"ok": True, "result": result})
        finally:
            self._in_flight -= not polling

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        content = next((data for file_path, data in self.files.values() if file_path == path), None)
        return web.Response(body=content) if content is not None else web.Response(status=404)

    @staticmethod
    def _bot_user() -> dict:
        return {"id": BOT_ID, "is_bot": True, "first_name": "支部", "username": BOT_USERNAME}

    async def _m_getme(self, params: dict) -> dict:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getupdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones go
            if not self._updates and timeout > 0:
                with_timeout = asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), timeout)
                try:
                    await with_timeout
                except TimeoutError:
                    pass
            batch = self._updates[:limit]
            if batch:
                self._fetched_up_to = max(self._fetched_up_to, batch[-1]["update_id"])
            return batch

    def _bot_message(self, chat_id: Any, **content: Any) -> dict:
        chat_id = int(chat_id)
        chat = self.private_chat(chat_id) if chat_id > 0 else self.group_chat(chat_id)
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat,
                   "from": self._bot_user(), **{k: v for k, v in content.items() if v is not None}}
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_sendmessage(self, params: dict) -> dict:
        if len(params["text"]) > 4096:
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400, "description":
                                                      "Bad Request: message is too long"}),
                                     content_type="application/json")
        return self._bot_message(params["chat_id"], text=params["text"], reply_markup=params.get("reply_markup"))

    async def _m_senddocument(self, params: dict) -> dict:
        upload = params["document"]
        file_id = f"file-{next(self._ids)}"
        self.files[file_id] = (f"documents/{upload['filename']}", upload["content"])
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": upload["filename"],
                    "file_size": len(upload["content"])}
        return self._bot_message(params["chat_id"], document=document, caption=params.get("caption"))

    def _stored(self, params: dict) -> dict:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise web.HTTPBadRequest(text=json.dumps({"ok": False, "error_code": 400,
                                                      "description": "Bad Request: message to edit not found"}),
                                     content_type="application/json")
        return self.messages[key]

    async def _m_editmessagetext(self, params: dict) -> dict:
        message = self._stored(params)
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_editmessagereplymarkup(self, params: dict) -> dict:
        message = self._stored(params)
        message.pop("reply_markup", None)
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_getfile(self, params: dict) -> dict:
        file_path, content = self.files[params["file_id"]]
        return {"file_id": params["file_id"], "file_unique_id": f"u{params['file_id']}", "file_size": len(content),
                "file_path": file_path}

    async def _accept(self, params: dict) -> bool:
        return True

    _m_answercallbackquery = _m_sendchataction = _m_setmycommands = _m_deletemycommands = _accept
    _m_deletewebhook = _m_setwebhook = _m_close = _m_logout = _accept

    async def _m_getwebhookinfo(self, params: dict) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}


def buttons_of(message: dict) -> list[tuple[str, str]]:
    """(label, callback data) of a message's inline keyboard, row by row."""
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in keyboard for button in row]


def button_data(message: dict, label: str) -> str:
    """The callback data of the button whose label starts with `label`."""
    for text, data in buttons_of(message):
        if text.startswith(label):
            return data
    raise AssertionError(f"no button {label!r} on message: {message.get('text')!r} {buttons_of(message)}")
