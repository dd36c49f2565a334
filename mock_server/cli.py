"""`short-jobs-mock`: run the mock server (also `python -m mock_server` and `make mock`)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn

from mock_server.config import Settings, env_name

app = typer.Typer(add_completion=False, help=__doc__)
_D = Settings()


def _env(field: str, *sdk: str) -> list[str]:
    return [env_name(field), *sdk]


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar=_env("host"), help="Address to listen on.")] = _D.host,
    port: Annotated[
        int, typer.Option(envvar=_env("port"), help="Port to listen on (0: any free port).")
    ] = _D.port,
    data_dir: Annotated[
        Path,
        typer.Option(envvar=_env("data_dir"), help="Where the SQLite store and uploads live."),
    ] = _D.data_dir,
    ak: Annotated[
        str, typer.Option(envvar=_env("ak", "HUAWEICLOUD_SDK_AK"), help="Accepted access key.")
    ] = _D.ak,
    sk: Annotated[
        str, typer.Option(envvar=_env("sk", "HUAWEICLOUD_SDK_SK"), help="Its secret key.")
    ] = _D.sk,
    project_id: Annotated[
        str,
        typer.Option(
            envvar=_env("project_id", "HUAWEICLOUD_SDK_PROJECT_ID"),
            help="The one project the credentials are for.",
        ),
    ] = _D.project_id,
    token: Annotated[
        str, typer.Option(envvar=_env("token"), help="Accepted X-Auth-Token value.")
    ] = _D.token,
    processing_seconds: Annotated[
        float,
        typer.Option(
            envvar=_env("processing_seconds"),
            min=0.0,
            help="How long a committed job takes (fractions and 0 allowed).",
        ),
    ] = _D.processing_seconds,
    upload_url_ttl: Annotated[
        int,
        typer.Option(envvar=_env("upload_url_ttl"), min=1, help="Upload URL validity, seconds."),
    ] = _D.upload_url_ttl,
    max_upload_bytes: Annotated[
        int,
        typer.Option(envvar=_env("max_upload_bytes"), min=1, help="Largest accepted upload."),
    ] = _D.max_upload_bytes,
    public_url: Annotated[
        str | None,
        typer.Option(
            envvar=_env("public_url"),
            help="Base of upload URLs when behind a proxy (default: the request's own host).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(envvar=_env("workers"), min=1, help="Worker processes sharing the store."),
    ] = _D.workers,
    control: Annotated[
        bool,
        typer.Option(
            envvar=_env("control"), help="Serve the /_mock/ control plane (for tests only)."
        ),
    ] = _D.control,
    validate_responses: Annotated[
        bool,
        typer.Option(
            envvar=_env("validate_responses"), help="Check every response against the spec."
        ),
    ] = _D.validate_responses,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "info",
) -> None:
    """Serve the short-jobs API, its pre-signed upload endpoint and, with --control, the
    control plane."""
    settings = Settings(
        host=host,
        port=port,
        data_dir=data_dir,
        ak=ak,
        sk=sk,
        project_id=project_id,
        token=token,
        processing_seconds=processing_seconds,
        upload_url_ttl=upload_url_ttl,
        max_upload_bytes=max_upload_bytes,
        public_url=public_url,
        workers=workers,
        control=control,
        validate_responses=validate_responses,
    )
    run(settings, log_level)


def run(settings: Settings, log_level: str = "info") -> None:
    """Start uvicorn; workers rebuild the app from the environment, so settings go there."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    os.environ.update(settings.to_environ())
    os.environ[GENERATION_ENV] = uuid.uuid4().hex
    options: dict[str, Any] = {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
    }
    if settings.workers > 1 and hasattr(os, "fork"):
        _run_forked(uvicorn.Config("mock_server.app:app_from_environ", **options), settings.workers)
    else:  # one process, or no fork() (Windows): uvicorn's own (spawned) workers
        uvicorn.run("mock_server.app:app_from_environ", workers=settings.workers, **options)


def _run_forked(config: uvicorn.Config, workers: int) -> None:
    """Workers forked from this process after it imported the app's modules (a 'preload'): each
    starts in milliseconds instead of re-importing connexion in a fresh interpreter, as uvicorn's
    spawned workers do. The app itself (and its SQLite connection) is built in each worker."""
    import mock_server.app  # noqa: F401  (the preload)

    log = logging.getLogger("mock_server")
    sock = config.bind_socket()
    children: set[int] = set()
    stopping = False
    exit_code = 0

    def fork_worker() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _die_with_parent()
                uvicorn.Server(config).run(sockets=[sock])
            except BaseException:
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children.add(pid)

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for _ in range(workers):
        fork_worker()
    log.info("started %d forked worker processes: %s", workers, sorted(children))
    restarts: list[float] = []
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        if stopping:
            continue
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < _RESTART_WINDOW] + [now]
        if len(restarts) > _MAX_RESTARTS:
            # a worker that cannot start (bad data dir...) would otherwise be forked forever
            log.error("workers keep exiting (%d in %ds); stopping", len(restarts), _RESTART_WINDOW)
            stop(signal.SIGTERM, None)
            exit_code = 1
            continue
        log.error("worker %d exited (status %d); starting another", pid, status)
        fork_worker()
    sock.close()
    if exit_code:
        raise SystemExit(exit_code)


_RESTART_WINDOW = 10
_MAX_RESTARTS = 5


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the supervisor dies, even by kill -9."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


GENERATION_ENV = "SHORT_JOBS_MOCK_GENERATION"


def main() -> None:
    if sys.argv[1:2] == ["assess"]:  # `short-jobs-mock assess PATH...` (mock_server/assess_cli.py)
        from mock_server.assess_cli import main as assess_main

        assess_main(sys.argv[2:])
    else:
        app()
