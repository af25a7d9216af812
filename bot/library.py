"""Async access to the Q&A service for the chat transports.

The knowledge service is synchronous and some calls take seconds (retrieval, ingestion), so every
call runs in a worker thread and the event loop keeps serving other users. Changes to the knowledge
base are serialised here so two admins never rebuild it at the same time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from zhibu.settings import Settings

if TYPE_CHECKING:
    from knowledge.answer import Answer, Citation
    from knowledge.service import DocumentInfo, QAService
    from knowledge.store import IngestReport


class Library:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._writing = asyncio.Lock()

    def _service(self) -> "QAService":
        # Imported on first use: the knowledge stack is heavy and `zhibu chat` should start at once.
        from knowledge.service import get_qa_service

        return get_qa_service(self._settings)

    async def warm_up(self) -> None:
        """Open the knowledge base (building the shipped corpus on an empty home, progress in the log) before users ask."""
        from knowledge.warm import warm_up

        await asyncio.to_thread(warm_up, self._settings)

    async def ask(self, question: str, k: int = 5, *, context: dict | None = None, domain: str | None = None,
                  channel: str | None = None) -> "Answer":
        return await asyncio.to_thread(lambda: self._service().ask(question, k=k, context=context, domain=domain, channel=channel))

    async def passage(self, chunk_id: str) -> "Citation | None":
        return await asyncio.to_thread(lambda: self._service().passage(chunk_id))

    async def documents(self) -> "list[DocumentInfo]":
        return await asyncio.to_thread(lambda: self._service().documents())

    async def ingest(self, paths: list[Path]) -> "IngestReport":
        async with self._writing:
            return await asyncio.to_thread(lambda: self._service().ingest(paths))

    async def remove(self, doc_id: str) -> "IngestReport":
        async with self._writing:
            return await asyncio.to_thread(lambda: self._service().remove(doc_id))

    async def reload(self) -> "IngestReport":
        async with self._writing:
            return await asyncio.to_thread(lambda: self._service().reload())
