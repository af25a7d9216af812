"""统计: questions per day, answer statuses, 👍/👎 and self-checks over the last days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import Staff, current_staff, records_of
from records.models import ANSWERED, NOT_COVERED, PARTIAL
from records.store import CHINA

router = APIRouter()
STATUS_LABELS = {ANSWERED: "已回答", PARTIAL: "部分回答", NOT_COVERED: "未覆盖"}
PERIODS = (7, 30, 90, 180)


def every_day(counted: list[tuple[str, int]], days: int) -> list[tuple[str, int]]:
    """Days without questions shown as 0, so the bars keep the calendar's rhythm (from the first asked day)."""
    if not counted:
        return []
    by_day = dict(counted)
    today = datetime.now(CHINA).date()
    first = max(date.fromisoformat(counted[0][0]), today - timedelta(days=days))
    return [(day.isoformat(), by_day.get(day.isoformat(), 0))
            for day in (first + timedelta(days=n) for n in range((today - first).days + 1))]


@router.get("/stats")
def stats_page(request: Request, days: int = 30, staff: Staff = Depends(current_staff)) -> Response:
    days = days if days in PERIODS else 30
    stats = records_of(request).stats(days)
    total = sum(stats["statuses"].values())
    shares = [(label, stats["statuses"].get(status, 0), stats["statuses"].get(status, 0) / total if total else 0.0)
              for status, label in STATUS_LABELS.items()]
    stats["per_day"] = every_day(stats["per_day"], days)
    busiest = max((count for _, count in stats["per_day"]), default=0)
    rated = stats["up"] + stats["down"]
    context = {"stats": stats, "total": total, "shares": shares, "busiest": busiest, "periods": PERIODS,
               "up_share": stats["up"] / rated if rated else None}
    return request.app.state.render(request, "stats.html", context, staff)
