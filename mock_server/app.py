"""The mock's ASGI application, composed: every layer's parts built and wired together.

This module is the top of the server's layers (ARCHITECTURE.md): it alone knows every domain
(the MetaStudio service, the OBS-style uploads, IAM, the control plane, the pages) and hands each
to the HTTP layer (`mock_server.http`), which alone speaks to the framework.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from mock_server.control.handlers import Control
from mock_server.control.store import ControlStore
from mock_server.core.asgi import ASGIApp
from mock_server.core.config import Settings
from mock_server.core.database import Database
from mock_server.core.errors import REQUEST_ID_HEADER
from mock_server.core.spec import control_document, control_spec_path, spec_document, spec_path
from mock_server.http.accesslog import access_queue
from mock_server.http.factory import JSONIFIER, SpecApi, connexion_app
from mock_server.http.fastlane import FastLane, resolved_spec
from mock_server.http.frontdoor import ERROR_HANDLERS, Frontdoor
from mock_server.http.gateway import GatewayMiddleware
from mock_server.http.iam import Iam
from mock_server.http.pages import Pages
from mock_server.http.routing import CONTROL_PREFIX, RouteTable
from mock_server.obs.endpoint import UploadEndpoint
from mock_server.service.handlers import Service

__all__ = ["Frontdoor", "app_from_environ", "create_app", "spec_document", "spec_path"]


def create_app(settings: Settings, generation: str | None = None) -> ASGIApp:
    """The mock as an ASGI app (a `Frontdoor`), its store opened in `settings.data_dir`.
    `generation` names this server run (worker processes of one run share it)."""
    database = Database(settings.data_dir / "jobs.sqlite3")
    control = ControlStore(database) if settings.control else None
    service = Service(
        settings,
        generation or uuid.uuid4().hex,
        database,
        progress=control.progress if control is not None else None,
    )
    iam = Iam(settings, database, service.clock)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        worker = asyncio.create_task(service.run_worker(), name="assessment-worker")
        try:
            with access_queue():  # the access lines' writer thread, drained at shutdown
                yield
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            service.store.close()

    apis = [SpecApi(spec_document(), service)]
    if control is not None:
        apis.append(SpecApi(control_spec_path(), Control(service, control), CONTROL_PREFIX))
    api = connexion_app(
        apis,
        id_header=REQUEST_ID_HEADER,
        error_handlers=ERROR_HANDLERS,
        validate_responses=settings.validate_responses,
        lifespan=lifespan,
    )
    inner: ASGIApp = api
    fast = None
    if settings.fast_lane:
        inner = fast = FastLane(api, resolved_spec, service, JSONIFIER, settings.validate_responses)
    gateway = GatewayMiddleware(
        inner, iam.credentials, settings.project_id, clock=service.clock.utcnow
    )
    pages = Pages(service, control)
    routes = RouteTable.from_specs(
        spec_document(), control_document() if settings.control else None, pages.paths()
    )
    uploads = UploadEndpoint(settings, service, service.uploads, service.clock.now)
    frontdoor = Frontdoor(api, gateway, uploads, routes, settings, service, iam, control, fast)
    frontdoor.pages = pages
    return frontdoor


def app_from_environ() -> ASGIApp:
    """uvicorn's factory: settings from the environment (see `cli.run`)."""
    return create_app(Settings.from_environ(), os.environ.get("SHORT_JOBS_MOCK_GENERATION"))
