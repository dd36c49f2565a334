"""What the layers learn about a request on its way through them, typed: `RequestState`.

ASGI gives each request a `scope["state"]` dict (the ASGI specification's "state" key; starlette's
`request.state` wraps the same dict). The mock keeps one `RequestState` in it, under
`STATE_KEY`, instead of loose string keys: every field is declared here, with who writes it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from mock_server.core.asgi import Scope
from mock_server.core.text import Printable

STATE_KEY = "short_jobs_mock"

signature_log = logging.getLogger("mock_server.signature")


@dataclass
class RequestState:
    """One request's state. Written by the front door (`route`, `job_id`), the request id's
    maker (`request_id`), the body reader (`body`), validation (`document`), whoever answers
    with an error (`error_code`), a fault (`fault`, `answer_cut`), IAM's endpoint (`iam_caller`);
    read by the journal, the access log, the fast lane, connexion's adapters and the handlers."""

    request_id: str | None = None
    # the route table's placement (an `http.routing.Route`; typed loosely: core is below http)
    route: Any = None
    job_id: str | None = None  # the job the request names, for the journal
    body: bytes | None = None  # the request body, read once
    document: Any = None  # the body's validated JSON document (None: none or not JSON)
    error_code: str | None = None  # the code answered, for the journal and the access log
    answer_cut: bool = False  # a fault broke the answer off: the client got none
    fault: bool = False  # an armed fault answered (its status is the test's, not the spec's)
    iam_caller: str | None = None  # who IAM's endpoint authenticated, when anyone
    signature_check: dict[str, Any] | None = None  # a refused signature's forensics (journal)


def state_of(scope: Scope) -> RequestState:
    """The request's `RequestState`, made on first ask."""
    bag: dict[str, Any] = scope.setdefault("state", {})
    state = bag.get(STATE_KEY)
    if state is None:
        state = bag[STATE_KEY] = RequestState()
    assert isinstance(state, RequestState)
    return state


def note_signature_check(scope: Scope, check: dict[str, Any] | None) -> None:
    """Keep a refused signature's forensics for the journal (and so the dashboard's row), and
    log them at debug (logger `mock_server.signature`): the one place for the gateway's, IAM's
    and the upload URL's refusals. `check` holds no secret (its maker scrubbed it)."""
    state_of(scope).signature_check = check
    if check is not None and signature_log.isEnabledFor(logging.DEBUG):
        signature_log.debug(
            "signature refused on %s %s: %s",
            Printable(scope["method"]),
            Printable(scope["path"]),
            Printable(json.dumps(check, ensure_ascii=False)),
        )
