"""Response headers for every page and file of the web chat (a plain ASGI middleware: no per-request task).

The CSP allows scripts and styles from this site only — no inline script or style, no CDN — and no
framing. The referrer goes to this site only (an invitation link carries its code in the path); not
"no-referrer", under which Chromium sends `Origin: null` and a form could not be told from a foreign one.
"""

from __future__ import annotations

from zhibu.http_headers import adding

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


class SecurityHeaders:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")  # pages and answers are one secretary's own: not stored
        await self.app(scope, receive, adding(HEADERS, send, no_store=not static))
