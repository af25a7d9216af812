"""Answers given before retrieval: a staff-curated answer (经审核), then a yes/no eligibility question
answered from the evaluator's rulebook. Each source is a `pre_answer(question, context)` returning an
`Answer` or None (None: retrieval answers as usual)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from knowledge.store import Generation


@dataclass(frozen=True)
class PreAnswerContext:
    home: Path  # $ZHIBU_HOME: where the published curated answers are
    generation: Generation | None  # the serving knowledge base: clauses are checked against it
    this_year: int
    domain: str | None = None  # the user's branch domain (from /check), when known
    query_vector: Callable[[str], list[float]] | None = None  # the retriever's (cached) e5 query embedding
    embedding_id: str = "none"
    own_words: str | None = None  # a follow-up's own words ("那要是支部被问责了呢"): what it asks about


def follow_up_context(question: str, citations) -> dict:
    """What the next question may refer to (knowledge.conversation): this question, and the quoted passages
    ("这个钱谁来出" is asked of them)."""
    return {"topic": question, "question": question,
            "refs": [[c.chunk_id, None, c.text] for c in citations if c.chunk_id]}


def pre_answer(question: str, context: PreAnswerContext):
    """The first answer a pre-retrieval source gives (curated first, then the rulebook), else None."""
    from knowledge import curated, eligibility

    for source in (curated, eligibility):
        answer = source.pre_answer(question, context)
        if answer is not None:
            return answer
    return None
