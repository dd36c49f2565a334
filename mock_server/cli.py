"""`short-jobs-mock`: run the mock server (also `python -m mock_server` and `make mock`)."""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

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
    region: Annotated[
        str,
        typer.Option(
            envvar=_env("region"),
            help="The project's region: its name in IAM (GET /v3/projects?name=REGION).",
        ),
    ] = _D.region,
    iam_port: Annotated[
        int | None,
        typer.Option(
            envvar=_env("iam_port"),
            min=0,
            max=65535,
            help="Port of the IAM endpoint (default: --port + 1; any free port when --port is 0).",
        ),
    ] = None,
    iam_user: Annotated[
        str, typer.Option(envvar=_env("iam_user"), help="The IAM user name tokens are issued to.")
    ] = _D.iam_user,
    iam_password: Annotated[
        str, typer.Option(envvar=_env("iam_password"), help="Its password.")
    ] = _D.iam_password,
    iam_domain: Annotated[
        str | None,
        typer.Option(
            envvar=_env("iam_domain"), help="The user's domain (account) name (default: any)."
        ),
    ] = None,
    token_ttl: Annotated[
        int,
        typer.Option(
            envvar=_env("token_ttl"), min=1, help="How long IAM tokens are valid, seconds."
        ),
    ] = _D.token_ttl,
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
    """Serve the short-jobs API, its pre-signed upload endpoint, IAM (on --iam-port) and, with
    --control, the control plane."""
    settings = Settings(
        host=host,
        port=port,
        data_dir=data_dir,
        ak=ak,
        sk=sk,
        project_id=project_id,
        token=token,
        region=region,
        iam_port=iam_port,
        iam_user=iam_user,
        iam_password=iam_password,
        iam_domain=iam_domain,
        token_ttl=token_ttl,
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
    """Start uvicorn; workers rebuild the app from the environment, so settings go there.

    The API and IAM listen on two sockets bound here (uvicorn binds only one); the app tells
    them apart by the local port, so the IAM port that was really bound goes into the settings.
    """
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    options: dict[str, Any] = {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "log_level": log_level,
        "access_log": False,
        "lifespan": "on",
    }
    config = uvicorn.Config("mock_server.app:app_from_environ", **options)
    sockets = [config.bind_socket(), _bind(settings.host, settings.iam_listen_port)]
    settings = settings.with_overrides(iam_port=sockets[1].getsockname()[1])
    logging.getLogger("mock_server").info(
        "IAM on http://%s:%d (HUAWEICLOUD_SDK_IAM_ENDPOINT)", settings.host, settings.iam_port
    )
    os.environ.update(settings.to_environ())
    os.environ[GENERATION_ENV] = uuid.uuid4().hex
    if settings.workers > 1 and hasattr(os, "fork"):
        _run_forked(config, settings.workers, sockets)
    elif settings.workers > 1:  # no fork() (Windows): uvicorn's own (spawned) workers
        config.workers = settings.workers
        Multiprocess(config, sockets=sockets).run()
    else:
        uvicorn.Server(config).run(sockets=sockets)


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket as uvicorn's `Config.bind_socket` makes one (IPv6 when host is)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as failure:
        sock.close()
        raise SystemExit(f"cannot listen on {host}:{port} for IAM: {failure}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _run_forked(config: uvicorn.Config, workers: int, sockets: list[socket.socket]) -> None:
    """Workers forked from this process after it imported the app's modules (a 'preload'): each
    starts in milliseconds instead of re-importing connexion in a fresh interpreter, as uvicorn's
    spawned workers do. The app itself (and its SQLite connection) is built in each worker."""
    import mock_server.app  # noqa: F401  (the preload)

    log = logging.getLogger("mock_server")
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
                uvicorn.Server(config).run(sockets=sockets)
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
    for sock in sockets:
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
    app()
