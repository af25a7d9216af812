"""The policy passages as a langchain `BaseRetriever`, for any langchain chain.

Kept apart from `knowledge.retriever`: importing `langchain_core.retrievers` pulls in the tracing stack,
which a cold `zhibu ask` should not pay for.
"""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.retriever import HybridSearch, hit_to_document


class PolicyRetriever(BaseRetriever):
    """langchain retriever over the policy passages (scores in each document's metadata)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    search: HybridSearch
    k: int = 5

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [hit_to_document(hit) for hit in self.search.search(query, self.k)]
