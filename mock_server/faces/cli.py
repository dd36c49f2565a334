"""`short-jobs-mock`: run the mock server (also `python -m mock_server` and `make mock`).

Its options are made from the declaration of `Settings` (see `config.py`): one option per
setting, with the same environment variables that `Settings.from_environ` reads.

One server listens on two addresses, the API's (`--port`) and IAM's (`--iam-port`); the app
tells them apart by the port a request arrived on (`Frontdoor.iam_port`). Both are bound first
(`listen.py`: one line and exit status 3 for an address it cannot take), so the ports really
bound (any free ones for 0) are in the settings the app is built from, the startup line
(`banner.py`) and the ready file (`ready.py`, `--ready-file`).
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import sqlite3
import sys
import threading
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

import click
import uvicorn

from mock_server.core.asgi import ASGIApp
from mock_server.core.config import (
    KEEP_ALIVE_SECONDS,
    Settings,
    click_type,
    default,
    env_names,
    option_name,
    setting_docs,
    value_type,
)
from mock_server.faces.banner import startup_line
from mock_server.faces.listen import Listeners, listen
from mock_server.faces.protocol import PROTOCOL
from mock_server.faces.ready import ReadyReporter, prepare
from mock_server.http.accesslog import BatchedStreamHandler, CachedTimeFormatter
from short_jobs.terminal import EscapedErrors
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


class _Command(EscapedErrors, click.Command):
    """`click.Command`, its errors printed escaped (short_jobs.terminal.EscapedErrors): a data
    dir's name or an option's value is the user's text."""


@cache
def command() -> click.Command:
    """The `short-jobs-mock` command: one option per field of `Settings`."""
    return _Command(
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
    Either way on two addresses, the API's and IAM's, bound first (listen.py: an address that
    cannot be bound ends it with one line and exit status 3), then announced with the ports
    really bound; with `--ready-file`, the file is written once the mock answers (ready.py)."""
    _configure_logging(settings)
    if settings.ready_file is not None:
        settings = settings.with_overrides(ready_file=settings.ready_file.absolute())
    listeners = listen(settings)
    try:
        _run_bound(listeners.bound_settings(settings), listeners)
    finally:
        listeners.close()


LOG_FORMAT = "%(asctime)s %(name)s %(message)s"
# Writes of at most this many bytes to a pipe are atomic (pipe(7), POSIX's PIPE_BUF, 4096 on
# Linux): gunicorn's workers and its arbiter share stderr, so a batch of access lines must go out
# as writes of whole lines of at most this size, or another process's line lands inside one.
PIPE_BUF = 4096


def _configure_logging(settings: Settings) -> None:
    """As `logging.basicConfig` (nothing changes when the root logger has handlers: whoever
    embeds the mock configured it), with a stderr handler that writes the access log's batches
    in few writes (`accesslog.BatchedStreamHandler`)."""
    if logging.root.handlers:
        return
    handler = _stderr_handler()
    handler.setFormatter(CachedTimeFormatter(LOG_FORMAT))
    level = logging.DEBUG if settings.log_level == "trace" else settings.log_level.upper()
    logging.basicConfig(level=level, handlers=[handler])


def _stderr_handler() -> logging.Handler:
    """A handler on a stream of its own over stderr's file descriptor (`line_stream`; sys.stderr
    is line buffered: a write(2) per line); sys.stderr itself when it has no descriptor."""
    try:
        descriptor = os.dup(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # replaced by an object without one
        return BatchedStreamHandler(sys.stderr)
    return BatchedStreamHandler(line_stream(io.FileIO(descriptor, "w"), sys.stderr.encoding))


def line_stream(raw: io.RawIOBase, encoding: str) -> io.TextIOWrapper:
    """A text stream over `raw` whose every write(2) holds whole lines, at most `PIPE_BUF`
    bytes of them (a line longer than that goes out alone), when each `write` is one line (as
    `BatchedStreamHandler` writes a record, a traceback included).

    `write_through` hands each line straight to the buffer (a `TextIOWrapper` otherwise gathers
    8 KiB of text and writes it at once); the `BufferedWriter` of `PIPE_BUF` bytes writes what it
    holds before a line that would not fit, so each write ends where a line ends."""
    return io.TextIOWrapper(
        io.BufferedWriter(raw, PIPE_BUF),
        encoding=encoding,
        errors="backslashreplace",
        write_through=True,
    )


def _run_bound(settings: Settings, listeners: Listeners) -> None:
    reporter = prepare(settings)
    if reporter is None:
        _run_on(settings, listeners, reporter)
        return
    # uvicorn ends its graceful stop on SIGTERM by raising the signal again with the handler it
    # found: the default one would end the process before the ready file is removed
    terminated = False
    main = threading.current_thread() is threading.main_thread()  # signals: the main one only
    previous = signal.signal(signal.SIGTERM, _terminate) if main else None
    try:
        _run_on(settings, listeners, reporter)
    except _Terminated:
        terminated = True
    finally:
        reporter.stopped()  # only in the started process, not in a forked worker
        if main:
            signal.signal(signal.SIGTERM, previous)
    if terminated:  # stopped by SIGTERM, as the process that started it sees
        signal.raise_signal(signal.SIGTERM)


class _Terminated(BaseException):
    """SIGTERM reached the started process (after uvicorn's graceful stop)."""


def _terminate(_signum: int, _frame: object) -> None:
    raise _Terminated


def _run_on(settings: Settings, listeners: Listeners, reporter: ReadyReporter | None) -> None:
    generation = uuid.uuid4().hex
    # Worker processes that start from an import string read their settings from here.
    os.environ.update(settings.to_environ())
    os.environ[GENERATION_ENV] = generation
    if settings.workers > 1 and hasattr(os, "fork"):
        from mock_server.faces.supervisor import supervise

        app = _build(settings, generation)
        _announce(settings)  # here, in the arbiter: once, not once per worker
        supervise(settings, app, listeners, reporter)
        return
    options = uvicorn_options(settings, reporter)
    target = "mock_server.app:app_from_environ"
    built = _build(settings, generation) if settings.workers == 1 else None
    _announce(settings)
    if built is None:
        _serve(
            uvicorn.Config(target, factory=True, workers=settings.workers, **options),
            listeners.sockets,
        )
    else:
        _serve(uvicorn.Config(built, **options), listeners.sockets)


def uvicorn_options(settings: Settings, reporter: ReadyReporter | None) -> dict[str, Any]:
    """uvicorn's `Config` options for a mock of one process, or of uvicorn's own spawned
    workers (no fork): the app is served as `MockWorker.CONFIG_KWARGS` serves it under gunicorn."""
    return {
        "host": settings.host,
        "log_level": settings.log_level,
        "access_log": False,  # the app logs one line per request itself
        "http": PROTOCOL,  # uvicorn's, each answer in one write (protocol.py)
        "lifespan": "on",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "callback_notify": reporter,  # awaited first right after startup
    }


def _serve(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    """uvicorn on sockets bound already: one process, or its own spawned workers."""
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def _announce(settings: Settings) -> None:
    """The startup line (banner.py), logged once by the process that serves or supervises."""
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
