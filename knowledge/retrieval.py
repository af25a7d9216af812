"""Retrieval choice for one analysed question: the hybrid search with the domain's sections as
candidates and the user's domain in the keyword query; passages of the previous answer first when a
follow-up asks something of it ("这个钱谁来出"); and for a rare word the question names that the texts do
hold ("备案", "后进"), the best passage holding it, when none of the k best does."""

from __future__ import annotations

from langchain_core.documents import Document

from knowledge.analysis import Analysis
from knowledge.terms import folded

POOL = 30  # passages searched for one holding a rare word


def retrieve(search, analysis: Analysis, k: int) -> list[Document]:
    from knowledge.retriever import hit_to_document

    wanted = [forms for forms in analysis.rare]
    hits = search.search(analysis.text, POOL if wanted else k, analysis.boost, analysis.sections)
    documents = [hit_to_document(hit) for hit in hits]
    chosen = documents[:k]
    for forms in wanted:
        if not any(_holds(doc, forms) for doc in chosen):
            chosen += [doc for doc in documents[k:] if _holds(doc, forms)][:1]
    chosen.sort(key=lambda doc: doc.metadata["chunk_id"] not in analysis.prefer)  # stable: rank kept otherwise
    return chosen


def _holds(doc: Document, forms: tuple[str, ...]) -> bool:
    text = folded(doc.metadata["section"] + doc.page_content)
    return any(form in text for form in forms)
