"""The application factory: everything a service gets from the template.

The project's own app/main.py only names its routers,
`app = create_app(title=..., routers=[me.router])`; the settings, middleware,
logging, start-up checks and /health live here and in the modules this one
imports. They are the template's files, so `copier update` brings their fixes
to services that already exist, while app/main.py is never overwritten.
"""

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.auth import token_validator_for
from app.config import load_config
from app.middleware import RootPathMiddleware
from app.routes import health
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def configure_logging(debug: bool) -> None:
    """DEBUG=true shows this service's debug messages; libraries stay at WARNING."""
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(logging.DEBUG if debug else logging.INFO)


def check_startup(settings: Settings) -> None:
    """Fail now, with the reason, on a configuration that would fail every request later."""
    token_validator_for(settings)  # also warns when VERIFY_SSL=false
    load_config(settings.config_file_url)
    if settings.disable_auth:
        logger.warning("DISABLE_AUTH=true: accepting fake tokens signed with 'fake-secret'; never in production")


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    check_startup(get_settings())
    yield


def create_app(title: str, routers: Iterable[APIRouter] = (), **options: Any) -> FastAPI:
    """Build the application from the current environment, with /health and the given routers.

    `options` go to FastAPI (e.g. version, description); the lifespan is the factory's.
    """
    settings = get_settings()
    configure_logging(settings.debug)
    application = FastAPI(title=title, lifespan=lifespan, **options)
    # Behind the ingress the connection comes from the proxy: X-Forwarded-Proto
    # tells that the client used https, so redirects (e.g. /health/ -> /health)
    # keep the scheme. Done here rather than by the server so the rule is the
    # same under any server, and tested. Believed only from FORWARDED_ALLOW_IPS,
    # or anyone could claim any client address.
    application.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.root_path:
        application.add_middleware(RootPathMiddleware, root_path=settings.root_path)
    application.include_router(health.router)
    for router in routers:
        application.include_router(router)
    return application
