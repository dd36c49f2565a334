"""`short-jobs-mock`: run the mock server (also `python -m mock_server` and `make mock`).

Its options are made from the declaration of `Settings` (see `config.py`): one option per
setting, with the same environment variables that `Settings.from_environ` reads.

One server listens on two addresses, the API's (`--port`) and IAM's (`--iam-port`); the app
tells them apart by the port a request arrived on (`Frontdoor.iam_port`), so the IAM port that
was really bound (any free one for 0) is handed to the app before it serves.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import sys
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import click
import uvicorn

from mock_server.core.asgi import ASGIApp
from mock_server.core.config import (
    Settings,
    click_type,
    default,
    env_names,
    option_name,
    setting_docs,
    value_type,
)
from short_jobs.version import package_version

GENERATION_ENV = "SHORT_JOBS_MOCK_GENERATION"
PROG = "short-jobs-mock"


def _option(name: str) -> click.Option:
    doc = setting_docs()[name]
    flag = option_name(name)
    is_bool = value_type(name) is bool
    return click.Option(
        [f"{flag}/--no-{flag[2:]}" if is_bool else flag, name],
        type=None if is_bool else click_type(name),
        default=default(name),
        envvar=env_names(name),
        show_envvar=True,
        show_default=(doc.shown_default or "").replace("`", "") or True,  # Markdown off
        help=doc.help,
    )


@cache
def command() -> click.Command:
    """The `short-jobs-mock` command: one option per field of `Settings`."""
    return click.Command(
        PROG,
        params=[
            *(_option(name) for name in setting_docs()),
            click.Option(
                ["--version"],
                is_flag=True,
                expose_value=False,
                is_eager=True,
                callback=_print_version,
                help="Print the version and exit.",
            ),
        ],
        callback=lambda **values: run(Settings(**values)),
        help="Serve the short-jobs API, its pre-signed upload endpoint, IAM (on --iam-port) and, "
        "with --control, the control plane.",
        epilog=f"`{PROG} assess PATH...` checks recordings locally instead: what the mock would "
        f"answer for them (`{PROG} assess --help`).",
        context_settings={"max_content_width": 100},
    )


def run(settings: Settings) -> None:
    """Serve until stopped: one uvicorn process, or gunicorn supervising `settings.workers`
    uvicorn workers (uvicorn's own spawned workers where there is no fork(), as on Windows).
    Either way on two addresses: the API's and IAM's."""
    logging.basicConfig(
        level=logging.DEBUG if settings.log_level == "trace" else settings.log_level.upper(),
        format="%(asctime)s %(name)s %(message)s",
    )
    generation = uuid.uuid4().hex
    if settings.workers > 1 and hasattr(os, "fork"):
        from mock_server.faces.supervisor import supervise

        os.environ.update(settings.to_environ())
        os.environ[GENERATION_ENV] = generation
        app = _build(settings, generation)
        _announce(settings)  # here, in the arbiter: once, not once per worker
        # gunicorn binds both addresses (the API's first), after the app is built: a port 0
        # becomes known only then, before any worker is forked
        supervise(settings, app, lambda ports: _serve_iam_on(app, settings, ports[1]))
        return
    options: dict[str, Any] = {
        "host": settings.host,
        "log_level": settings.log_level,
        "access_log": False,  # the app logs one line per request itself
        "lifespan": "on",
    }
    target = "mock_server.app:app_from_environ"
    built = _build(settings, generation) if settings.workers == 1 else None
    _announce(settings)
    # uvicorn binds one address per Config: one for each (its own binding: IPv6, reuse...)
    sockets = [
        uvicorn.Config(target, port=settings.port, **options).bind_socket(),
        uvicorn.Config(target, port=settings.iam_listen_port, **options).bind_socket(),
    ]
    settings = settings.with_overrides(iam_port=sockets[1].getsockname()[1])
    # Worker processes that start from an import string read their settings from here.
    os.environ.update(settings.to_environ())
    os.environ[GENERATION_ENV] = generation
    if built is None:
        _log_iam(settings, settings.iam_listen_port)
        _serve(uvicorn.Config(target, factory=True, workers=settings.workers, **options), sockets)
    else:
        _serve_iam_on(built, settings, settings.iam_listen_port)
        _serve(uvicorn.Config(built, **options), sockets)


def _serve(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    """uvicorn on sockets bound already: one process, or its own spawned workers."""
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def _serve_iam_on(app: ASGIApp, settings: Settings, port: int) -> None:
    from mock_server.app import Frontdoor

    if isinstance(app, Frontdoor):
        app.iam_port = port
    _log_iam(settings, port)


def _log_iam(settings: Settings, port: int) -> None:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    logging.getLogger("mock_server").info(
        "IAM on http://%s:%d (HUAWEICLOUD_SDK_IAM_ENDPOINT)", host, port
    )


def _announce(settings: Settings) -> None:
    """The startup line (banner.py), logged once by the process that serves or supervises."""
    from mock_server.faces.banner import startup_line

    logging.getLogger("mock_server").info(startup_line(settings))


def _build(settings: Settings, generation: str) -> ASGIApp:
    """The app, or one line on stderr and exit status 1 if the data dir is unusable."""
    from mock_server.app import create_app

    try:
        return create_app(settings, generation)
    except (OSError, sqlite3.Error, RuntimeError) as error:
        raise click.ClickException(f"cannot serve from {settings.data_dir}: {error}") from error


def _print_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not context.resilient_parsing:
        click.echo(f"{PROG} {package_version()}")
        context.exit()


def main(args: Sequence[str] | None = None) -> None:
    """`short-jobs-mock [OPTIONS]` serves; `short-jobs-mock assess PATH...` checks recordings."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv[:1] == ["assess"]:
        from mock_server.faces.assess_cli import main as assess_main

        assess_main(argv[1:])
        return
    command().main(args=argv, prog_name=PROG)
