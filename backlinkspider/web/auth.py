"""HTTP basic auth over every route, for a dashboard bound beyond loopback.

``backlinks serve`` refuses a non-loopback address without ``BACKLINKS_UI_PASSWORD``;
with it, every request (pages, API, static files) must carry that password (any
user name). Basic auth sends it in the clear: put TLS in front (README shows a
reverse proxy). A pure ASGI middleware, as Starlette's own are.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class BasicAuth:
    def __init__(self, app: ASGIApp, password: str):
        self.app = app
        self.password = password.encode()

    def _allowed(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, encoded = value.partition(b" ")
                if scheme.lower() != b"basic":
                    return False
                try:
                    _user, _, given = base64.b64decode(encoded.strip(), validate=True).partition(b":")
                except (binascii.Error, ValueError):
                    return False
                return hmac.compare_digest(given, self.password)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        challenge = {"WWW-Authenticate": 'Basic realm="backlinkspider", charset="UTF-8"'}
        await PlainTextResponse("401: this dashboard needs its password\n", 401, headers=challenge)(
            scope, receive, send
        )
