"""The fresh evaluation sets (tests/data/qa_fresh*.jsonl) are well formed and their gold is in the texts.

Gold strings are written in the matching form of the corpus (normalize_for_match), so an answer is
right when its own normalised text contains any one of them (every part's, for multi-part questions).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from ingest.clean import normalize_for_match

DATA = Path(__file__).resolve().parents[1] / "data"
CORPUS = Path(__file__).resolve().parents[2] / "knowledge" / "corpus"
ANSWERABLE_KINDS = {"single", "multi"}
UNCOVERED_KINDS = {"near_uncovered"}
CHAT_KINDS = {"greeting", "small_talk", "english"}
FOLLOWUP_KINDS = {"topic", "ellipsis", "reference", "near_uncovered"}
# Minimums the issue sets for the fresh set (issue 9), with a margin.
MINIMUMS = {"answerable": 85, "multi": 12, "near_uncovered": 32, "chat": 5, "conversations": 16}
# A question sharing this many consecutive characters with the texts copies their wording.
COPIED_RUN = 8


def load(name: str) -> list[dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def corpus() -> str:
    return "\n".join(normalize_for_match(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.txt")))


@pytest.fixture(scope="module")
def single_turn() -> list[dict]:
    return load("qa_fresh.jsonl")


@pytest.fixture(scope="module")
def followups() -> list[dict]:
    return load("qa_fresh_followups.jsonl")


def check_gold(row: dict, corpus: str) -> None:
    assert isinstance(row["question"], str) and row["question"].strip(), row
    assert isinstance(row["answerable"], bool), row
    assert row["answerable"] == bool(row["gold"]), f"{row['id']}: answerable iff gold is given"
    for gold in row["gold"]:
        assert gold == normalize_for_match(gold), f"{row['id']}: {gold!r} is not in matching form"
        assert 6 <= len(gold) <= 20, f"{row['id']}: {gold!r} is not a short clause"
        assert gold in corpus, f"{row['id']}: {gold!r} is not in the texts"


def longest_copied_run(question: str, corpus: str) -> str:
    text = normalize_for_match(question)
    for size in range(len(text), COPIED_RUN - 1, -1):
        for start in range(len(text) - size + 1):
            if text[start : start + size] in corpus:
                return text[start : start + size]
    return ""


def test_single_turn_rows_are_valid(single_turn, corpus):
    for row in single_turn:
        assert set(row) >= {"id", "question", "gold", "answerable", "kind"}, row
        check_gold(row, corpus)
        allowed = ANSWERABLE_KINDS if row["answerable"] else UNCOVERED_KINDS | CHAT_KINDS
        assert row["kind"] in allowed, row
        if row["kind"] == "multi":
            assert len(row["parts"]) >= 2 and all(row["parts"]), row
            assert row["gold"] == [gold for part in row["parts"] for gold in part], row


def test_followup_rows_are_valid(followups, corpus):
    for row in followups:
        assert set(row) >= {"conversation", "id", "question", "gold", "answerable"}, row
        check_gold(row, corpus)
        assert row.get("kind", "topic") in FOLLOWUP_KINDS, row
    turns = Counter(row["conversation"] for row in followups)
    assert all(2 <= count <= 3 for count in turns.values()), turns
    for row in followups:
        conversation, turn = row["id"].rsplit("-", 1)
        assert conversation == row["conversation"], row
    for conversation in turns:
        ids = [row["id"] for row in followups if row["conversation"] == conversation]
        assert ids == [f"{conversation}-{n}" for n in range(1, len(ids) + 1)], ids


def test_ids_and_questions_are_unique(single_turn, followups):
    for field in ("id", "question"):
        values = Counter(row[field] for row in single_turn + followups)
        assert max(values.values()) == 1, [value for value, n in values.items() if n > 1]


def test_questions_do_not_copy_the_texts(single_turn, followups, corpus):
    copied = {row["id"]: run for row in single_turn + followups if (run := longest_copied_run(row["question"], corpus))}
    assert not copied, copied


def test_counts_meet_the_minimums(single_turn, followups):
    kinds = Counter(row["kind"] for row in single_turn)
    counts = {
        "answerable": kinds["single"] + kinds["multi"],
        "multi": kinds["multi"],
        "near_uncovered": kinds["near_uncovered"],
        "chat": sum(kinds[kind] for kind in CHAT_KINDS),
        "conversations": len({row["conversation"] for row in followups}),
    }
    assert all(counts[name] >= minimum for name, minimum in MINIMUMS.items()), counts


def test_the_readers_judgements_are_of_the_blind_sets_typed_questions():
    """Each verdict names a typed question of the blind sets, says right or wrong, and why (in Chinese)."""
    blind = load("qa_blind.jsonl") + load("qa_blind_followups.jsonl")
    typed = {row["question"] for row in blind if row.get("kind") in ("fact", "yesno", "list")}
    judged = load("qa_blind_lines_judged.jsonl")
    assert judged and all(row["question"] in typed for row in judged)
    assert all(isinstance(row["right"], bool) and row["why"].strip() for row in judged)
    assert all(row["line"] == "" or row["line"].startswith("答：") or row["line"].startswith("一、") for row in judged)
