"""待处理问题: questions the texts did not answer (in full), or that got a 👎, grouped by wording.

The store groups questions with the same content words (`bot.feedback.wording_of`: word order, particles
and punctuation do not count); here groups whose words mostly overlap are merged too (Jaccard).
Each group shows the closest passages the answers cited: staff see which documents are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from console.auth import Staff, checked_form, current_staff, records_of, redirect
from console.knowledge import passage_labels
from records.store import CHINA, PendingGroup

router = APIRouter()
# Share of shared whole words (Jaccard) from which two wordings count as one question. Cautious on purpose:
# a wrong merge hides a question from staff, a missed one only shows two cards.
SIMILAR = 0.6
SHOWN_GROUPS = 50
EXAMPLES = 3


@dataclass
class QuestionGroup:
    words: set[str]
    wordings: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    count: int = 0
    not_covered: int = 0
    partial: int = 0
    thumbs_down: int = 0
    last_asked: datetime | None = None
    cited: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    passages: list[tuple[str, str]] = field(default_factory=list)

    def add(self, group: PendingGroup) -> None:
        self.wordings.append(group.wording)
        if len(self.examples) < EXAMPLES and group.example not in self.examples:
            self.examples.append(group.example)
        self.count += group.count
        self.not_covered += group.not_covered
        self.partial += group.partial
        self.thumbs_down += group.thumbs_down
        self.last_asked = max(filter(None, (self.last_asked, group.last_asked)))
        self.cited += [chunk for chunk in group.cited if chunk not in self.cited]
        for reason, count in group.reasons.items():
            self.reasons[reason] = self.reasons.get(reason, 0) + count

    @property
    def last_asked_text(self) -> str:
        return self.last_asked.astimezone(CHINA).strftime("%Y-%m-%d %H:%M") if self.last_asked else ""


def _similar(a: set[str], b: set[str]) -> bool:
    return bool(a and b) and len(a & b) / len(a | b) >= SIMILAR


def merge_similar(groups: list[PendingGroup]) -> list[QuestionGroup]:
    """Greedy merge in order of frequency: each wording joins the first group it resembles."""
    merged: list[QuestionGroup] = []
    for group in groups:
        words = set(group.wording.split())
        home = next((candidate for candidate in merged if _similar(candidate.words, words)), None)
        if home is None:
            home = QuestionGroup(words)
            merged.append(home)
        home.add(group)
    return sorted(merged, key=lambda g: (-g.count, -(g.last_asked.timestamp() if g.last_asked else 0)))


@router.get("/questions")
def questions_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    records = records_of(request)
    groups = merge_similar(records.pending_groups())[:SHOWN_GROUPS]
    labels = passage_labels(request.app.state.settings)
    for group in groups:
        group.passages = [labels.get(chunk, ("（该条文已不在当前知识库中）", "")) for chunk in group.cited[:3]]
    return request.app.state.render(request, "questions.html", {"groups": groups}, staff)


@router.post("/questions/handled")
def mark_handled(request: Request, wording: list[str] = Form([]), staff: Staff = Depends(checked_form)) -> Response:
    done = records_of(request).mark_handled(wording, staff.user.name) if wording else 0
    return redirect(request, "/questions", f"已将 {done} 条问题标记为已处理。")
