"""Admin actions on the knowledge base, with an audit trail; no transport here.

Every attempt — allowed, refused, rejected or failed — is logged and appended as one JSON line to
`$ZHIBU_HOME/logs/admin.log`. An uploaded file is written only under a fresh temporary folder in
`$ZHIBU_HOME`, under a name we build: the sender's file name is never used as a path.

An upload is ingested by a child process (`zhibu ingest --no-corpus`) with a memory limit and a
deadline: a hostile file can neither freeze nor exhaust the bot, and stopping the child (deadline,
memory, the operator's Ctrl-C) leaves the knowledge base as it was — the ingest is atomic.
The bot's own service notices the new generation on the next question.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import resource
import sys
import tempfile
import unicodedata
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from bot.library import Library
from zhibu.errors import BadInput
from zhibu.settings import Settings

log = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".pdf", ".docx", ".txt", ".md")
COMMANDS = (("docs", "（管理员）查看知识库文件"), ("reload", "（管理员）重新载入内置文件"),
            ("remove", "（管理员）删除文件：/remove 文件编号"))
REFUSED = "抱歉，这个操作仅限管理员使用。如需更新政策文件，请联系管理员。"
KB_UNCHANGED = "知识库保持原样。"
_KEPT_STDERR_CHARS = 2000
_SECRETS = ("TELEGRAM_BOT_TOKEN", "ZHIBU_WEBHOOK_SECRET", "ZHIBU_LLM_API_KEY")  # an ingest needs none of them


class UploadStopped(Exception):
    """The ingest of an upload was stopped (deadline, memory) or died: a message for the admin."""
_UNSAFE = re.compile(r"[^\w\-（）()]+")
_MAX_STEM = 80


def safe_filename(name: str | None) -> str:
    """The base name only, in tame characters, with an allowed suffix; raises BadInput otherwise."""
    base = PurePosixPath(unicodedata.normalize("NFKC", name or "").replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ALLOWED_SUFFIXES:
        raise BadInput(f"只支持 {' / '.join(ALLOWED_SUFFIXES)} 文件。")
    stem = _UNSAFE.sub("_", stem).strip("._")[:_MAX_STEM] or "upload"
    return f"{stem}.{suffix.lower()}"


class AuditLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path

    def record(self, user_id: int | None, action: str, outcome: str, detail: str = "") -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "user": user_id,
                 "action": action, "outcome": outcome, "detail": detail}
        line = json.dumps(entry, ensure_ascii=False)
        log.info("admin action %s", line)
        with self._path.open("a", encoding="utf-8") as audit:
            audit.write(line + "\n")


class Admin:
    def __init__(self, library: Library, settings: Settings) -> None:
        self._library = library
        self.ids = settings.admin_ids
        self._audit = AuditLog(settings.zhibu_home / "logs" / "admin.log")
        self._uploads = settings.zhibu_home / "bot" / "uploads"
        self._max_bytes = settings.zhibu_max_upload_mb * 1024 * 1024
        self._settings = settings

    def allows(self, user_id: int | None) -> bool:
        return user_id in self.ids

    async def _run(self, user_id: int | None, action: str, detail: str, work: Callable[[], Awaitable[str]]) -> str:
        if not self.allows(user_id):
            self._audit.record(user_id, action, "refused", detail)
            return REFUSED
        try:
            text = await work()
        except BadInput as exc:
            self._audit.record(user_id, action, "rejected", f"{detail} {exc}".strip())
            return f"未完成：{exc}"
        except UploadStopped as exc:
            self._audit.record(user_id, action, "failed", f"{detail} {exc}".strip())
            return f"未完成：{exc}"
        except Exception as exc:
            self._audit.record(user_id, action, "failed", f"{detail} {type(exc).__name__}".strip())
            raise
        self._audit.record(user_id, action, "ok", detail)
        return text

    async def docs(self, user_id: int | None) -> str:
        return await self._run(user_id, "docs", "", self._list_documents)

    async def _list_documents(self) -> str:
        documents = await self._library.documents()
        lines = [f"知识库共有 {len(documents)} 份文件："]
        for doc in documents:
            number = f"（{doc.doc_number}）" if doc.doc_number else ""
            lines.append(f"• {doc.doc_id}：《{doc.title}》{number} 版本 {doc.version}，{doc.chunks} 段，"
                         f"{'内置' if doc.origin == 'shipped' else '上传'}，{doc.ingested_at}")
        lines.append("删除某份文件：/remove 文件编号（冒号前的部分）")
        return "\n".join(lines)

    async def remove(self, user_id: int | None, args: list[str]) -> str:
        async def work() -> str:
            if len(args) != 1:
                raise BadInput("用法：/remove 文件编号（发送 /docs 查看编号）。")
            return str(await self._library.remove(args[0]))

        return await self._run(user_id, "remove", " ".join(args), work)

    async def reload(self, user_id: int | None) -> str:
        async def work() -> str:
            return str(await self._library.reload())

        return await self._run(user_id, "reload", "", work)

    async def upload(self, user_id: int | None, name: str | None, size: int | None,
                     fetch: Callable[[Path], Awaitable[None]]) -> str:
        """Check the file, let the transport `fetch` it to a path we choose, then add or replace it."""

        async def work() -> str:
            filename = safe_filename(name)
            self._check_size(size)
            self._uploads.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self._uploads) as folder:
                path = Path(folder) / filename
                await fetch(path)
                self._check_size(path.stat().st_size)  # the announced size may be missing or wrong
                return str(await self._ingest_in_child(path))

        return await self._run(user_id, "upload", repr(name), work)

    async def _ingest_in_child(self, path: Path):
        from knowledge.store import IngestReport

        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "zhibu", "ingest", "--no-corpus", "--json", str(path.resolve()),
            cwd=path.parent, env=self._child_environment(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        memory = self._settings.zhibu_upload_memory_mb * 1024 * 1024
        try:
            resource.prlimit(child.pid, resource.RLIMIT_AS, (memory, memory))  # long before it reads the file
        except ProcessLookupError:
            pass  # it has already ended: its exit status tells
        try:
            out, err = await asyncio.wait_for(child.communicate(), self._settings.zhibu_upload_timeout_s)
        except asyncio.TimeoutError:
            raise UploadStopped(f"处理时间超过 {self._settings.zhibu_upload_timeout_s / 60:g} 分钟，已停止。{KB_UNCHANGED}") from None
        finally:
            if child.returncode is None:  # deadline, or the bot is stopping
                child.kill()
                await child.wait()
        errors = err.decode("utf-8", "replace")
        if child.returncode == 2:  # bad input: its message is for the admin
            raise BadInput(errors.strip().removeprefix("error:").strip() or "文件无法导入。")
        if child.returncode != 0:
            log.error("upload ingest exited with %s: %s", child.returncode, errors[-_KEPT_STDERR_CHARS:])
            cause = "超出内存上限" if "MemoryError" in errors or "memory" in errors.lower() else "出错"
            raise UploadStopped(f"处理这个文件时{cause}，已停止。{KB_UNCHANGED}")
        return IngestReport(**json.loads(out))

    def _child_environment(self) -> dict[str, str]:
        """The bot's own settings, passed on explicitly (they may not come from the environment)."""
        settings = self._settings
        passed = {
            "ZHIBU_HOME": str(settings.zhibu_home),
            "ZHIBU_EMBEDDING": settings.zhibu_embedding,
            "ZHIBU_CHROMA_HOST": settings.zhibu_chroma_host or "",
            "ZHIBU_CHROMA_PORT": str(settings.zhibu_chroma_port),
            "ZHIBU_MAX_TEXT_MB": str(settings.zhibu_max_text_mb),
            "ZHIBU_MAX_UNPACKED_MB": str(settings.zhibu_max_unpacked_mb),
            "ZHIBU_MAX_PASSAGES_PER_DOC": str(settings.zhibu_max_passages_per_doc),
        }
        inherited = {key: value for key, value in os.environ.items() if key not in _SECRETS}
        return {**inherited, **passed}

    def _check_size(self, size: int | None) -> None:
        if size is not None and size > self._max_bytes:
            raise BadInput(f"文件太大（{size / 1024 / 1024:.1f} MB），上限是 {self._max_bytes // 1024 // 1024} MB。")
