"""The page's messages, kept in the session row: the dialogue core's replies applied the web's way.

Like Telegram: an `edit` rewrites the message whose button was pressed, a `notice` is a passing note, a
document becomes a download. Unlike Telegram: 查看原文 opens the clause inside the answer that cites it,
and when a message asks for a new choice the older messages lose their choice buttons (the core would
refuse them as stale anyway), so the page offers only what can be answered now.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.events import Reply

KEPT_MESSAGES = 200
SOURCE_HEADS = ("src", "srh")  # 查看原文: the core's reply is the clause itself


@dataclass
class Changes:
    """What one turn did to the page: messages added and rewritten (by id) and a passing note."""

    added: list[int] = field(default_factory=list)
    rewritten: list[int] = field(default_factory=list)
    notice: str = ""

    def as_json(self) -> dict:
        return {"added": self.added, "rewritten": self.rewritten, "notice": self.notice}

    @classmethod
    def from_json(cls, data: dict) -> "Changes":
        return cls(list(data["added"]), list(data["rewritten"]), data["notice"])


def rows_of(reply: Reply) -> list[list[dict]]:
    return [[{"label": b.label, "data": b.data, "choice": b.choice} for b in row] for row in reply.buttons]


def is_source(data: str | None) -> bool:
    return data is not None and data.split("|", 1)[0] in SOURCE_HEADS


class Transcript:
    """A mutable view over the stored list of messages and the next message id."""

    def __init__(self, messages: list[dict], next_id: int, retention_days: int) -> None:
        self.messages = [dict(message) for message in messages]
        self.next_id = next_id
        self._retention_s = retention_days * 86400
        self.stripped: set[int] = set()  # messages that lost their choice buttons to a newer question

    def find(self, message_id: int | None) -> dict | None:
        return next((m for m in self.messages if m["id"] == message_id), None)

    def add(self, who: str, text: str, rows: list | None = None, file: dict | None = None) -> int:
        if rows and any(button["choice"] for row in rows for button in row):
            for earlier in self.messages:
                kept = _without_choices(earlier.get("rows", []))
                if kept != earlier.get("rows", []):
                    earlier["rows"] = kept
                    self.stripped.add(earlier["id"])
        message = {"id": self.next_id, "who": who, "text": text, "rows": rows or [], "file": file, "passages": [],
                   "at": time.time()}
        self.messages.append(message)
        self.next_id += 1
        return message["id"]

    def apply(self, replies: list[Reply], pressed: int | None, button: str | None, keep_document) -> Changes:
        """Apply the core's replies; `pressed`: the message whose button was pressed; `keep_document(reply)`
        stores a document and returns its download token."""
        changes = Changes()
        first_added = self.next_id
        target = self.find(pressed)
        target_before = repr(target)
        for reply in replies:
            if reply.kind == "notice":
                changes.notice = reply.text
            elif reply.kind == "edit" and target is not None:
                target["text"], target["rows"] = reply.text, rows_of(reply)
            elif is_source(button) and target is not None and reply.kind == "message":
                target["passages"] = [p for p in target["passages"] if p["key"] != button] + [
                    {"key": button, "text": reply.text}]
            else:
                file = None
                if reply.kind == "document" and reply.document is not None:
                    file = {"token": keep_document(reply), "name": reply.document.filename}
                changes.added.append(self.add("bot", reply.text, rows_of(reply), file))
        # Rewritten (of the messages the page had): edited, opened a clause, or lost its choices to a newer question.
        rewritten = set(self.stripped) | ({target["id"]} if target is not None and repr(target) != target_before else set())
        changes.rewritten = [m["id"] for m in self.messages if m["id"] < first_added and m["id"] in rewritten]
        return changes

    def kept(self) -> list[dict]:
        """The newest messages, none older than the question log's retention."""
        cutoff = time.time() - self._retention_s
        return [m for m in self.messages if m["at"] >= cutoff][-KEPT_MESSAGES:]


def _without_choices(rows: list[list[dict]]) -> list[list[dict]]:
    kept = [[button for button in row if not button["choice"]] for row in rows]
    return [row for row in kept if row]
