"""统计: questions per day, answer statuses, 👍/👎 and self-checks over the last days."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import Staff, current_staff, records_of
from records.models import ANSWERED, NOT_COVERED, PARTIAL

router = APIRouter()
STATUS_LABELS = {ANSWERED: "已回答", PARTIAL: "部分回答", NOT_COVERED: "未覆盖"}
PERIODS = (7, 30, 90, 180)


@router.get("/stats")
def stats_page(request: Request, days: int = 30, staff: Staff = Depends(current_staff)) -> Response:
    days = days if days in PERIODS else 30
    stats = records_of(request).stats(days)
    total = sum(stats["statuses"].values())
    shares = [(label, stats["statuses"].get(status, 0), stats["statuses"].get(status, 0) / total if total else 0.0)
              for status, label in STATUS_LABELS.items()]
    busiest = max((count for _, count in stats["per_day"]), default=0)
    rated = stats["up"] + stats["down"]
    context = {"stats": stats, "total": total, "shares": shares, "busiest": busiest, "periods": PERIODS,
               "up_share": stats["up"] / rated if rated else None}
    return request.app.state.render(request, "stats.html", context, staff)
