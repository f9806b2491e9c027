"""ASGI middleware the application factory installs."""

from starlette.types import ASGIApp, Receive, Scope, Send


class RootPathMiddleware:
    """Serve the API under ROOT_PATH, with or without the prefix in the request path.

    Like FastAPI's deprecated `root_path=` argument, it only sets the ASGI
    `root_path`, which Starlette strips from paths that start with it. So an
    ingress that forwards /prefix/health and one that rewrites it to /health
    both work, and the OpenAPI docs link to /prefix/openapi.json.
    (`fastapi run --root-path` would instead prepend the prefix to every path.)
    """

    def __init__(self, app: ASGIApp, root_path: str) -> None:
        self.app = app
        self.root_path = root_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "root_path": self.root_path}
        await self.app(scope, receive, send)
