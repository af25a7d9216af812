"""Does a quoted clause stand, word for word, in a document of the knowledge base?

The comparison is `zhibu rules check`'s: both sides through `normalize_for_match` (full-width folded to
half-width, all whitespace removed), and every quotation mark as one (staff paste from Word or type ""),
so quotes copied with other quotation marks or spaces still match.
Used for the console's yearly targets and for curated answers.
"""

from __future__ import annotations

from functools import lru_cache

from ingest.clean import normalize_for_match
from knowledge.store import Generation
from zhibu.errors import BadInput

MIN_QUOTE_CHARS = 8  # a clause must say something: a few characters are found anywhere
_QUOTES = str.maketrans({'"': "“", "'": "“", "”": "“", "‘": "“", "’": "“", "「": "“", "」": "“", "『": "“", "』": "“"})


def clause_form(text: str) -> str:
    """A clause as compared with the documents: cleaned, no whitespace, one form of every quotation mark."""
    return normalize_for_match(text).translate(_QUOTES)


def document_text(generation: Generation | None, doc_id: str) -> str | None:
    if generation is None or doc_id not in generation.documents:
        return None
    passages = sorted((p for p in generation.passages if p.doc_id == doc_id), key=lambda p: p.ordinal)
    return "".join(p.text for p in passages)


def clause_stands(generation: Generation | None, doc_id: str, quote: str) -> bool:
    return clause_form(quote) in clause_form(document_text(generation, doc_id) or "\0")


def locate_clause(generation: Generation | None, doc_id: str, quote: str, then: str) -> dict[str, str]:
    """The citation of `quote` in document `doc_id`: doc_id, document (title), doc_number, version.
    BadInput in Chinese when the document is not in the knowledge base or the quote is not in it;
    `then` says what the user was doing ("录入数值")."""
    meta = generation.documents.get(doc_id) if generation else None
    if meta is None:
        raise BadInput(f"知识库中没有这份文件（{doc_id}）：请先上传依据文件，再{then}。")
    if len(clause_form(quote)) < MIN_QUOTE_CHARS:
        raise BadInput(f"请摘录依据条款的原文（至少 {MIN_QUOTE_CHARS} 个字）。")
    if not clause_stands(generation, doc_id, quote):
        raise BadInput(f"在《{meta['title']}》中找不到这段原文，请逐字复制文件中的条款（标点、数字须一致）：“{quote.strip()[:60]}”")
    return {"doc_id": doc_id, "document": meta["title"], "doc_number": meta.get("doc_number", ""),
            "version": meta.get("version", "")}


@lru_cache(maxsize=2)
def _normalized(generation: Generation) -> tuple[tuple[object, str], ...]:
    """Every passage with its text as compared (once per generation: answers cite clauses often)."""
    return tuple((p, clause_form(p.text)) for p in generation.passages)


def passage_holding(generation: Generation | None, doc_id: str, quote: str):
    """The passage of document `doc_id` that holds `quote` whole, or None (a quote across two passages)."""
    if generation is None:
        return None
    wanted = clause_form(quote)
    return next((p for p, text in _normalized(generation) if p.doc_id == doc_id and wanted in text), None)
