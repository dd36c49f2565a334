"""The pages people look at: the docs (always) and the dashboard (with `--control`). Their exact
paths are routes of the route table (routing.py), which the front door sends here. Neither needs
credentials, and neither is journaled."""

from __future__ import annotations

from mock_server.control.store import ControlStore
from mock_server.core.asgi import Receive, Scope, Send
from mock_server.core.spec import spec_document
from mock_server.http.docs import Docs
from mock_server.pages.dashboard import DASHBOARD_PATH, Dashboard
from mock_server.service.handlers import Service


class Pages:
    def __init__(self, service: Service, control: ControlStore | None) -> None:
        self.docs = Docs(spec_document())
        self.dashboard = Dashboard(service, control) if control is not None else None

    def paths(self) -> frozenset[str]:
        """The exact paths served (GET and HEAD), for the route table."""
        dashboard = {DASHBOARD_PATH} if self.dashboard is not None else set()
        return self.docs.paths() | dashboard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request the route table placed on one of `paths()`."""
        if self.dashboard is not None and scope["path"] == DASHBOARD_PATH:
            await self.dashboard(scope, receive, send)
        else:
            await self.docs(scope, receive, send)
