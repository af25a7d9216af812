"""The Q&A service the CLI and both chat transports share: one knowledge base, one model, per process.

Questions are answered from the serving generation while a new one builds (the ingest holds only the
knowledge base's file lock); opening a new generation's search is done by one thread while the others
keep answering from the old one, and the switch itself is one assignment.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

from knowledge.answer import Answer, Citation
from knowledge.pipeline import Answerer
from knowledge.store import IngestReport, KnowledgeBase, ProgressFn
from knowledge.text import keep_dictionary_cache_in
from zhibu.settings import Settings

log = logging.getLogger(__name__)
SHIPPED = "shipped"


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    title: str
    doc_number: str
    version: str
    chunks: int
    origin: str
    ingested_at: str


class QAService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        keep_dictionary_cache_in(settings.zhibu_home / "cache")
        self.kb = KnowledgeBase(settings.zhibu_home, settings.zhibu_chroma_host, settings.zhibu_chroma_port)
        self._opening = threading.Lock()  # one thread opens a new generation's search at a time
        self._search = None
        # Consulted in order before retrieval, per part of a message (`knowledge.pipeline.Answerer`):
        # each takes the analysed question and returns an Answer, or None to leave it to retrieval.
        self.answerers: list[Answerer] = [self._pre_answer]

    @cached_property
    def embeddings(self):
        from knowledge.embeddings import make_embeddings

        return make_embeddings(self.settings.zhibu_embedding)

    @cached_property
    def composer(self):
        """The LLM composer when configured, else None (extractive answers)."""
        if not (self.settings.zhibu_llm_base_url and self.settings.zhibu_llm_model):
            return None
        from knowledge.llm import LLMComposer

        return LLMComposer(self.settings)

    # ---- knowledge base maintenance ------------------------------------------------------
    def _sync(self, documents, origins, *, remove=(), prune_origin=None, progress: ProgressFn | None = None) -> IngestReport:
        report = self.kb.sync(documents, origins=origins, remove=list(remove), prune_origin=prune_origin,
                              embeddings=self.embeddings, progress=progress)
        if report.generation is not None and self._search is not None:
            self._ensure()  # a serving process opens the new generation here, so no question waits for it
        return report

    def ingest(self, paths: list[Path], *, include_corpus: bool = False, remove=(), progress: ProgressFn | None = None) -> IngestReport:
        from ingest.documents import iter_documents
        from ingest.loaders import Limits

        shipped, origins = self._shipped_corpus() if include_corpus else ([], {})
        given = iter_documents(paths, Limits.from_settings(self.settings)) if paths else []
        origins = origins | {doc.meta.doc_id: "user" for doc in given}
        return self._sync(shipped + given, origins, remove=remove, prune_origin=SHIPPED if include_corpus else None, progress=progress)

    @staticmethod
    def _shipped_corpus() -> tuple[list, dict[str, str]]:
        from ingest.documents import iter_documents, shipped_corpus_paths

        shipped = iter_documents(shipped_corpus_paths())
        return shipped, {doc.meta.doc_id: SHIPPED for doc in shipped}

    def reload(self, progress: ProgressFn | None = None) -> IngestReport:
        return self.ingest([], include_corpus=True, progress=progress)

    def remove(self, doc_id: str) -> IngestReport:
        return self._sync([], {}, remove=[doc_id])

    def documents(self) -> list[DocumentInfo]:
        generation = self._ensure().generation
        return [
            DocumentInfo(doc_id, d["title"], d["doc_number"], d["version"], d["chunks"], d["origin"], d["ingested_at"])
            for doc_id, d in generation.documents.items()
        ]

    # ---- answering -----------------------------------------------------------------------
    def _ensure(self):
        """The search over the active generation; builds the shipped corpus on an empty home."""
        search, name = self._search, self.kb.active_name()
        if search is not None and search.generation.name == name:
            return search
        if not self._opening.acquire(blocking=search is None):
            return search  # another thread is opening the new generation: answer from the serving one
        try:
            if self.kb.active_name() is None:
                log.info("empty knowledge base: building the shipped corpus")
                shipped, origins = self._shipped_corpus()
                self.kb.sync(shipped, origins=origins, prune_origin=SHIPPED, embeddings=self.embeddings)
            if self._search is None or self._search.generation.name != self.kb.active_name():
                self._search = self._open(self.kb.active())
            return self._search
        finally:
            self._opening.release()

    def _open(self, generation):
        from knowledge.embeddings import embedding_id
        from knowledge.retriever import HybridSearch

        same_space = self.embeddings is not None and generation.embedding == embedding_id(self.embeddings)
        if self.embeddings is not None and not same_space:
            log.warning("index built with %s, model is %s: keyword-only until `zhibu ingest`",
                        generation.embedding, embedding_id(self.embeddings))
        vectors = self.kb.vectors_of(generation) if same_space else None
        return HybridSearch(generation, vectors, self.embeddings if same_space else None)

    def retriever(self, k: int = 5):
        """A langchain `BaseRetriever` over the active knowledge base."""
        from knowledge.langchain_retriever import PolicyRetriever

        return PolicyRetriever(search=self._ensure(), k=k)

    def ask(self, question: str, k: int = 5, *, context: dict | None = None, domain: str | None = None,
            channel: str | None = None) -> Answer:
        """A grounded answer; `context` is the previous answer's (follow-ups), `domain` the user's branch domain,
        `channel` where the user is ("telegram", "terminal"; else the `zhibu` command), named in hints."""
        from knowledge.compose import refusal
        from knowledge.messages import reply_without_search
        from knowledge.pipeline import answer_question

        reply = reply_without_search(question.strip(), channel)
        if reply:  # no knowledge base needed (nor built) to say so
            return refusal(question.strip(), reply[1], reply[0])
        answer = answer_question(self._ensure(), question, k, context=context, domain=domain, this_year=date.today().year,
                                 channel=channel, answerers=tuple(self.answerers))
        if answer.found and self.composer is not None:
            return self.composer.compose(answer.resolved or question, answer)
        return answer

    # ---- answers before retrieval (knowledge.preanswer) ---------------------------------------
    def _pre_answer(self, analysis) -> Answer | None:
        """Curated answers, then the rulebook's yes/no (`knowledge.preanswer`), for one analysed part: the
        question as understood (a follow-up rewritten from its topic, a part of a message alone)."""
        from knowledge.embeddings import embedding_id
        from knowledge.preanswer import PreAnswerContext, pre_answer

        search = self._ensure()
        dense = search._query_vector is not None  # the retriever's cached query embedding: embedded once per question
        context = PreAnswerContext(home=self.settings.zhibu_home, generation=search.generation, this_year=date.today().year,
                                   domain=analysis.domain, query_vector=search._query_vector,
                                   embedding_id=embedding_id(self.embeddings) if dense else "none",
                                   own_words=analysis.focus)
        return pre_answer(analysis.text.strip(), context)

    def passage(self, chunk_id: str) -> Citation | None:
        passage = self._ensure().generation.by_id.get(chunk_id)
        if passage is None:
            return None
        return Citation(passage.document, passage.doc_number, passage.section, passage.text, 0.0, passage.chunk_id, passage.short_title)


_services: dict[tuple, QAService] = {}
_services_lock = threading.Lock()


def get_qa_service(settings: Settings) -> QAService:
    """One service per configuration and process (the model and index load once)."""
    key = (str(settings.zhibu_home), settings.zhibu_embedding, settings.zhibu_chroma_host, settings.zhibu_chroma_port,
           settings.zhibu_llm_base_url, settings.zhibu_llm_model)
    with _services_lock:
        if key not in _services:
            _services[key] = QAService(settings)
        return _services[key]
