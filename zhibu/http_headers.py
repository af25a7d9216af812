"""Security headers on every response of the console and of the web chat: each face keeps its own policy
(the web chat needs Referrer-Policy same-origin for its Origin check; the console sends no referrer), one
way of adding them."""

from __future__ import annotations

from starlette.types import Message, Send

NO_STORE = (b"cache-control", b"no-store")


def adding(headers: tuple[tuple[bytes, bytes], ...], send: Send, *, no_store: bool = False) -> Send:
    """`send` with `headers` added to the response start (a header the app set itself is kept), and
    Cache-Control: no-store when asked for."""

    async def with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {name.lower() for name, _ in message.get("headers", [])}
            extra = [header for header in headers if header[0] not in names]
            if no_store and NO_STORE[0] not in names:
                extra.append(NO_STORE)
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return with_headers
