"""The knowledge base opened at start, before anyone asks (`zhibu console`, `zhibu bot`).

On an empty home the shipped documents are built first (minutes with the e5 model), with progress in the
log; then one question is answered so the search, the model and the dictionaries are loaded, and the
first real question is answered at once.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from knowledge.store import KnowledgeBase
from zhibu.settings import Settings

WARM_QUESTION = "最强党支部多长时间评定一次？"
log = logging.getLogger(__name__)


def warm_up(settings: Settings, on_progress: Callable[[int, int], None] | None = None) -> float:
    """Build or open the knowledge base and ask it once; the seconds it took."""
    from knowledge.service import get_qa_service

    started = time.monotonic()
    service = get_qa_service(settings)
    if KnowledgeBase(settings.zhibu_home).active_name() is None:
        log.info("knowledge base: building the shipped documents in %s (a few minutes)", settings.kb_dir)

        def indexed(done: int, total: int) -> None:
            log.info("knowledge base: %d of %d passages indexed", done, total)
            if on_progress:
                on_progress(done, total)

        service.reload(progress=indexed)
    else:
        log.info("knowledge base: opening %s", settings.kb_dir)
    service.ask(WARM_QUESTION)
    took = time.monotonic() - started
    log.info("knowledge base: ready after %.1f s", took)
    return took
