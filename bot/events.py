"""Plain data that crosses the line between the dialogue core and a transport.

Everything here is transport-neutral: a transport turns its own input into an `Event` and renders
`Reply` objects its own way (Telegram messages and inline keyboards, or numbered and lettered terminal choices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReplyKind = Literal["message", "edit", "notice", "document"]


@dataclass(frozen=True)
class Event:
    """One user action: free text, a command (name without the slash) or a button press (its data)."""

    text: str = ""
    command: str | None = None
    args: tuple[str, ...] = ()
    button: str | None = None

    @classmethod
    def from_text(cls, text: str) -> "Event":
        """`/name args` becomes a command (Telegram's `/name@bot` suffix dropped); anything else is text."""
        text = text.strip()
        if text.startswith("/") and len(text) > 1:
            head, *args = text[1:].split()
            return cls(text=text, command=head.split("@", 1)[0].lower(), args=tuple(args))
        return cls(text=text)


@dataclass(frozen=True)
class Button:
    """choice: an answer to the current step (是/否, a domain, a year…); other buttons are actions
    (为什么问这个, 查看原文…). The terminal numbers choices and letters actions, so a number always
    answers the step on screen."""

    label: str
    data: str
    choice: bool = False


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes


@dataclass(frozen=True)
class Reply:
    """What the bot says.

    kind: `message` (a new message), `edit` (rewrite the message whose button was pressed),
    `notice` (a short transient note: a callback-query toast on Telegram) or `document` (a file).
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    kind: ReplyKind = "message"
    document: Document | None = None
