"""The Starlette application behind ``backlinks serve``.

Read-only by construction: every route is a GET, and the store is only read.
The store's clients open with the app (its lifespan) and close with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from anyio import to_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from backlinkspider.web import api, pages
from backlinkspider.web.auth import BasicAuth
from backlinkspider.web.data import Store


def create_app(
    mongo_uri: str, database: str, password: str = "", redis: Any = None, crawl: str = "backlinks"
) -> Starlette:
    """The dashboard and API over ``database`` at ``mongo_uri``; ``password``: basic auth on every
    route; ``redis``: the settings of the distributed crawl's Redis (``REDIS_URL``, ``REDIS_PARAMS``,
    …), None when it is not distributed."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.store = Store(mongo_uri, database)
        try:
            yield
        finally:
            await app.state.store.close()

    async def crawl_status() -> dict[str, Any]:
        if redis is None:
            return {"distributed": False}
        return await to_thread.run_sync(_redis_status, redis, crawl)

    middleware = [Middleware(BasicAuth, password=password)] if password else []
    static = Mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    app = Starlette(
        routes=[*api.routes, *pages.routes, static],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_allowed, 500: _failed},
    )
    app.state.crawl_status = crawl_status
    return app


def _redis_status(settings: Any, crawl: str) -> dict[str, Any]:
    """``backlinks status --json``, on the client every command builds from the settings."""
    import redis

    from backlinkspider.frontier.connection import blocking_client
    from backlinkspider.frontier.status import cluster_status

    server = blocking_client(settings)
    try:
        return {"distributed": True, **cluster_status(server, crawl)}
    except redis.RedisError as exc:
        from backlinkspider.redact import redact

        return {"distributed": True, "error": redact(str(exc))}
    finally:
        server.close()


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def _not_found(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return api.error(404, f"no such route: {request.url.path}")
    return pages.page(request, "error.html", 404, title="Not found", message="No such page.")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return api.error(405, "read-only: only GET")
    return pages.page(request, "error.html", 405, title="Not allowed", message="This dashboard only reads.")


async def _failed(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return api.error(500, "the server failed to answer; its log says why")
    return pages.page(request, "error.html", 500, title="Error", message="The server failed; its log says why.")
