"""Splitting long replies for Telegram (a message holds at most 4,096 characters)."""

from __future__ import annotations

MESSAGE_LIMIT = 4096
_CUT_MARKS = ("\n\n", "\n", "。", "；", "，")  # best first: a paragraph, a line, a sentence, a clause


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters; each cut is at the best mark in the piece's second half,
    so citations and numbered lists stay whole."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut_at(rest[:limit])
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _cut_at(window: str) -> int:
    for mark in _CUT_MARKS:
        at = window.rfind(mark)
        if at >= len(window) // 2:
            return at + len(mark)
    return len(window)
