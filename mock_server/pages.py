"""The pages people look at, for the front door to route to: the docs (always) and the
dashboard (with `--control`). Neither needs credentials, and neither is journaled."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from mock_server.config import Settings
from mock_server.dashboard import DASHBOARD_PATH, Dashboard
from mock_server.docs import Docs
from mock_server.service import Service


class Pages:
    def __init__(self, settings: Settings, service: Service) -> None:
        from mock_server.app import spec_document

        self.docs = Docs(spec_document())
        self.dashboard = Dashboard(service) if settings.control else None

    def handles(self, method: str, path: str) -> bool:
        if self.dashboard is not None and path == DASHBOARD_PATH:
            return method in ("GET", "HEAD")
        return self.docs.handles(method, path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.dashboard is not None and scope["path"] == DASHBOARD_PATH:
            await self.dashboard(scope, receive, send)
        else:
            await self.docs(scope, receive, send)
