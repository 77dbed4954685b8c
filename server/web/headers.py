"""Security headers on every response: CSP, no framing, no MIME sniffing, a same-origin referrer.

The dashboard and My page use no inline script or style (one script file, two style sheets, inline
SVG with attributes only), so the policy allows scripts and styles from this origin alone.  The
API's generated documents (/docs, /redoc) load Swagger's files from a CDN with inline scripts, so
they keep the other headers but no CSP (restrict them at the reverse proxy, docs/security.md).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CSP", "SECURITY_HEADERS", "SecurityHeadersMiddleware"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),  # same-origin: the CSRF page's "back" link reads the referrer
)
NO_CSP_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """Adds SECURITY_HEADERS (and CSP outside /docs and /redoc) to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = list(SECURITY_HEADERS)
        if not str(scope.get("path", "")).startswith(NO_CSP_PATHS):
            wanted.append(("content-security-policy", CSP))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {name.lower() for name, _ in headers}
                headers += [(n.encode(), v.encode()) for n, v in wanted if n.encode() not in have]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
