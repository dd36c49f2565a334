"""Every private framework hook the mock relies on, in one list: what it touches, why, the pin
that holds it, and the test that fails loudly when an upgrade breaks it.

A private hook is anything outside the frameworks' documented extension points (connexion:
`validator_map`, resolvers, middlewares, error handlers; uvicorn-worker: `CONFIG_KWARGS`). Each
needs its package pinned to a minor version in pyproject.toml and a canary test:
tests/mock/http/test_framework_hooks.py holds them (decorated-once's is in test_pipeline.py, where
the app is built) and checks that every hook below names a test that exists and a pin that
pyproject.toml holds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hook:
    name: str
    where: str  # the module that uses it
    touches: str  # the private names it relies on
    why: str
    pin: str  # the requirement (pyproject.toml) that holds it still
    canary: str  # the test that is to fail when it stops working


CONNEXION_PIN = "connexion>=3.3,<3.4"
UVICORN_PIN = "uvicorn>=0.54,<0.55"

HOOKS: tuple[Hook, ...] = (
    Hook(
        name="decorated-once",
        where="mock_server/http/factory.py",
        touches="AsyncApp._middleware_app.api_cls, AsyncApi.make_operation, "
        "AsyncOperation.fn/_fn/from_operation, StarletteDecorator.decorate",
        why="connexion decorates a handler on every request; the mock decorates it once",
        pin=CONNEXION_PIN,
        canary="test_handlers_are_decorated_once_through_the_private_hook",
    ),
    Hook(
        name="validator-internals",
        where="mock_server/http/validation.py",
        touches="AbstractRequestBodyValidator._schema/_required/_nullable/wrap_receive, "
        "ParameterValidator.validate_parameter/validate_header_parameter, "
        "JSONResponseBodyValidator._schema/validator",
        why="the validators in validator_map (documented) reuse connexion's private state",
        pin=CONNEXION_PIN,
        canary="test_validator_internals_are_where_validation_reads_them",
    ),
    Hook(
        name="swagger-ui-middleware",
        where="mock_server/http/docs.py",
        touches="ConnexionMiddleware(app, middlewares=[SwaggerUIMiddleware]).add_api",
        why="the docs page serves connexion's Swagger UI without the rest of its stack",
        pin=CONNEXION_PIN,
        canary="test_the_swagger_ui_middleware_serves_the_page_alone",
    ),
    Hook(
        name="uvicorn-worker-notify",
        where="mock_server/faces/supervisor.py",
        touches="UvicornWorker.callback_notify, UvicornWorker.ppid/alive/notify",
        why="a worker whose arbiter is gone exits instead of serving on as an orphan",
        pin="uvicorn-worker>=0.4,<0.5",
        canary="test_the_uvicorn_worker_still_calls_callback_notify",
    ),
    Hook(
        name="coalesced-writes",
        where="mock_server/faces/protocol.py",
        touches="uvicorn.protocols.http.httptools_impl.HttpToolsProtocol (h11_impl.H11Protocol "
        "without httptools) writing only through the transport its connection_made was given",
        why="an answer's head and body go out in one write(2), not two",
        pin=UVICORN_PIN,
        canary="test_uvicorns_protocol_writes_each_answer_once_through_the_coalescing_transport",
    ),
    Hook(
        name="unfinished-answer-message",
        where="mock_server/control/faults.py",
        touches="uvicorn's log message for an app that returned mid-answer",
        why="a cut-off upload (a fault asked for) is not logged as a server error",
        pin=UVICORN_PIN,
        canary="test_uvicorn_still_logs_an_unfinished_answer_as_the_cut_filter_expects",
    ),
)
