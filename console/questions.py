"""待处理问题: questions the texts did not answer (in full), or that got a 👎, grouped by wording.

The store groups questions with the same content words (`bot.feedback.wording_of`: word order, particles
and punctuation do not count); here groups whose words mostly overlap are merged too (Jaccard).
Each group shows the answer the secretary saw and the closest passages it cited (in Chinese punctuation):
staff see which documents are missing. Filters (period, status, 👎 reason, words) travel in the address,
so marking a group handled comes back to the same list at the same place; a handled group can be undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from console.auth import Staff, checked_form, current_staff, records_of, redirect
from console.knowledge import passage_labels
from records.models import NOT_COVERED, PARTIAL, REASONS
from records.store import PendingGroup
from zhibu.text import chinese_punctuation

router = APIRouter()
# Share of shared whole words (Jaccard) from which two wordings count as one question. Cautious on purpose:
# a wrong merge hides a question from staff, a missed one only shows two cards.
SIMILAR = 0.6
SHOWN_GROUPS = 20
HANDLED_SHOWN = 10
EXAMPLES = 3
PERIODS = {"week": "本周", "month": "本月", "all": "全部"}  # calendar week (from Monday) and month, in local time
STATUSES = {"": "全部", NOT_COVERED: "未覆盖", PARTIAL: "部分回答", "down": "👎 没用"}


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
    answer: str = ""
    handled_by: str | None = None
    handled_at: datetime | None = None

    def add(self, group: PendingGroup) -> None:
        self.wordings.append(group.wording)
        self.answer = self.answer or group.answer
        self.handled_by = self.handled_by or group.handled_by
        self.handled_at = self.handled_at or group.handled_at
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


@dataclass(frozen=True)
class Filters:
    period: str = "all"
    status: str = ""
    reason: str = ""
    q: str = ""

    @classmethod
    def read(cls, period: str = "all", status: str = "", reason: str = "", q: str = "") -> "Filters":
        """Only known values: anything else in the address is the default (all)."""
        return cls(period if period in PERIODS else "all", status if status in STATUSES else "",
                   reason if reason in REASONS else "", q.strip()[:100])

    def query(self) -> str:
        return urlencode({key: value for key, value in vars(self).items() if value and value != "all"})

    def store_filters(self, timezone) -> dict:
        return {"since": self.since(datetime.now(timezone)), "status": self.status or None,
                "reason": self.reason or None, "search": self.q}

    def since(self, today: datetime) -> datetime | None:
        midnight = today.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.period == "week":
            return midnight - timedelta(days=midnight.weekday())
        return midnight.replace(day=1) if self.period == "month" else None


def _with_passages(groups: list[QuestionGroup], labels: dict[str, tuple[str, str]]) -> list[QuestionGroup]:
    for group in groups:
        group.passages = [tuple(map(chinese_punctuation, labels.get(chunk, ("（该条文已不在当前知识库中）", ""))))
                          for chunk in group.cited[:3]]
        group.answer = chinese_punctuation(group.answer)
    return groups


@router.get("/questions")
def questions_page(request: Request, period: str = "all", status: str = "", reason: str = "", q: str = "",
                   staff: Staff = Depends(current_staff)) -> Response:
    records = records_of(request)
    settings = request.app.state.settings
    filters = Filters.read(period, status, reason, q)
    wanted = filters.store_filters(settings.timezone)
    groups = merge_similar(records.pending_groups(**wanted))[:SHOWN_GROUPS]
    handled = merge_similar(records.pending_groups(limit=HANDLED_SHOWN * 3, handled=True))[:HANDLED_SHOWN]
    handled.sort(key=lambda group: group.handled_at.timestamp() if group.handled_at else 0, reverse=True)
    context = {"groups": _with_passages(groups, passage_labels(settings)), "handled": handled, "filters": filters,
               "periods": PERIODS, "statuses": STATUSES, "reasons": REASONS}
    return request.app.state.render(request, "questions.html", context, staff)


@router.post("/questions/handled")
def mark_handled(request: Request, wording: list[str] = Form([]), back: str = Form(""), at: int = Form(1),
                 staff: Staff = Depends(checked_form)) -> Response:
    done = records_of(request).mark_handled(wording, staff.user.name) if wording else 0
    return redirect(request, _back_to(back, at), f"已将 {done} 条问题标记为已处理。如需撤销，见本页下方“最近处理”。")


@router.post("/questions/undo")
def undo_handled(request: Request, wording: list[str] = Form([]), back: str = Form(""),
                 staff: Staff = Depends(checked_form)) -> Response:
    undone = records_of(request).unmark_handled(wording) if wording else 0
    return redirect(request, _back_to(back, 1), f"已撤销：{undone} 条问题回到待处理。")


def _back_to(back: str, at: int) -> str:
    """The list the action came from, at the group now in the acted-on one's place (never another site)."""
    filters = Filters.read(**{key: value for key, value in _pairs(back).items() if key in ("period", "status", "reason", "q")})
    query = filters.query()
    return f"/questions{'?' + query if query else ''}#g{max(1, min(at, SHOWN_GROUPS))}"


def _pairs(query: str) -> dict[str, str]:
    return dict(parse_qsl(query)[:8])
