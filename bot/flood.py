"""Per-user flood limit: at most N messages in a sliding window of W seconds.

The first message over the limit gets one polite warning; later ones are dropped silently until the
user has been quiet for a window (dropped messages count too, so a sustained flood stays muted).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    PASS = "pass"
    WARN = "warn"
    DROP = "drop"


def judge(stamps: deque[float], now: float, limit: int, window: float, warned: bool) -> Verdict:
    """The verdict on a message at `now`, appended to `stamps` (a deque of maxlen limit+1: only the last
    limit+1 stamps matter, the oldest of them tells if the window overflows). `warned`: the sender was
    already told. Pure, so a transport that keeps the stamps elsewhere (the web chat's session row) uses it too."""
    stamps.append(now)
    if len(stamps) <= limit or now - stamps[0] > window:
        return Verdict.PASS
    return Verdict.DROP if warned else Verdict.WARN


class FloodGate:
    _SWEEP_AT = 4096  # users tracked before idle ones are forgotten

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()

    def check(self, user_id: int) -> Verdict:
        if self._limit <= 0:
            return Verdict.PASS
        now = self._clock()
        if len(self._seen) > self._SWEEP_AT:
            self._sweep(now)
        stamps = self._seen.setdefault(user_id, deque(maxlen=self._limit + 1))
        verdict = judge(stamps, now, self._limit, self._window, user_id in self._warned)
        if verdict is Verdict.PASS:
            self._warned.discard(user_id)
        else:
            self._warned.add(user_id)
        return verdict

    def _sweep(self, now: float) -> None:
        for user_id in [u for u, stamps in self._seen.items() if now - stamps[-1] > self._window]:
            del self._seen[user_id]
            self._warned.discard(user_id)
