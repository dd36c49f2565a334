"""`--ready-file PATH`: the mock's addresses as JSON, written once it answers, for CI to wait on.

The file (format 1; new keys may be added, none removed or changed)::

    {"format": 1, "version": "0.1.0", "pid": 4242, "workers": 2,
     "api": "http://127.0.0.1:41234", "iam": "http://127.0.0.1:41235",
     "contract": "http://127.0.0.1:41234/openapi.json", "docs": "http://127.0.0.1:41234/ui/",
     "control": null, "dashboard": null}

`pid` is the process that was started (the one to signal to stop it: with `--workers` gunicorn's
arbiter); `docs` is null without Swagger UI, `control` and `dashboard` without `--control`; the
ports are the ones really bound (`--port 0` included); `api` is `--public-url` when set.

When it is written (`ReadyReporter`): each serving process, once its server has started (uvicorn's
`callback_notify`, called first right after startup), notes its pid in a registry directory the
started process made; the one that finds every worker noted (`--workers`, live pids) sends a real
request to the API's own address (`GET /`, which needs no credentials and is not journaled) until
it answers 200, checks that IAM's port accepts a connection (an IAM request would be journaled,
as every IAM request is, and show in a test's journal), and only then writes the file: a
temporary file in the same directory, renamed over PATH (atomic: a reader sees no file or the
whole file). A worker that replaces a crashed one writes the same content again.

The started process removes an old file at start (once its addresses are bound: a start that
fails because the port is taken leaves the file of the mock that holds it alone) and removes its
own file when it stops (not a file with another pid: a newer mock's). A mock killed with SIGKILL
leaves its file; the next start replaces it, and the `pid` in it tells a stale file apart.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from mock_server.core.config import Settings, env_name, option_name
from mock_server.faces.banner import reachable_host, urls
from short_jobs.version import package_version

log = logging.getLogger("mock_server.ready")

FORMAT = 1
# Bounds, not expectations: the wait ends as soon as the mock answers.
ANSWER_SECONDS = 60.0
RETRY_SECONDS = 0.05
REQUEST_TIMEOUT_SECONDS = 5.0


def document(settings: Settings, pid: int) -> dict[str, Any]:
    """The ready file's content (the module's doc) for a mock whose ports are bound."""
    found = urls(settings)
    return {
        "format": FORMAT,
        "version": package_version(),
        "pid": pid,
        "workers": settings.workers,
        "api": found.api,
        "iam": found.iam,
        "contract": found.contract,
        "docs": found.docs,
        "control": found.control,
        "dashboard": found.dashboard,
    }


def write_atomically(path: Path, content: dict[str, Any]) -> None:
    """`content` as JSON at `path`, through a temporary file in its directory and a rename."""
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(content, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _pid_in(path: Path) -> int | None:
    try:
        pid = json.loads(path.read_text(encoding="utf-8")).get("pid")
    except (OSError, ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


@dataclass
class ReadyReporter:
    """Writes `settings.ready_file` once every worker serves and the API answers (the module's
    doc). Awaited as uvicorn's `callback_notify` (plain uvicorn, or gunicorn's worker calls it);
    picklable, for uvicorn's spawned workers. Made by `prepare` in the started process."""

    settings: Settings
    owner: int  # the started process's pid
    registry: Path  # one file per serving process, named by its pid
    _started: bool = field(default=False, repr=False)

    async def __call__(self) -> None:
        if self._started:  # uvicorn calls it again every `timeout_notify` seconds
            return
        self._started = True
        # off the event loop: the request to itself may be served by this very process
        threading.Thread(target=self._report, name="short-jobs-mock-ready", daemon=True).start()

    def _report(self) -> None:
        try:
            (self.registry / str(os.getpid())).touch()
            serving = [
                p for p in self.registry.iterdir() if p.name.isdigit() and _alive(int(p.name))
            ]
        except OSError:
            return  # the registry is gone: the started process is stopping
        if len(serving) < self.settings.workers:
            return  # the last worker to start writes it (each notes itself, then counts)
        if not self._answers():
            log.error("the mock did not answer itself within %g s: no ready file", ANSWER_SECONDS)
            return
        assert self.settings.ready_file is not None
        try:
            write_atomically(self.settings.ready_file, document(self.settings, self.owner))
        except OSError as error:
            log.error("cannot write the ready file %s: %s", self.settings.ready_file, error)
            return
        log.info("ready: wrote %s", self.settings.ready_file)

    def _answers(self) -> bool:
        host = reachable_host(self.settings.host)
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            if _api_answers(host, self.settings.port) and _accepts(
                host, self.settings.iam_listen_port
            ):
                return True
            time.sleep(RETRY_SECONDS)
        return False

    def stopped(self) -> None:
        """In the started process when it stops: its own ready file and the registry go."""
        if os.getpid() != self.owner:
            return  # a forked worker unwinding the started process's stack
        shutil.rmtree(self.registry, ignore_errors=True)
        path = self.settings.ready_file
        if path is not None and _pid_in(path) == self.owner:
            with contextlib.suppress(OSError):
                path.unlink()


def _api_answers(host: str, port: int) -> bool:
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        body = response.read()
        return response.status == 200 and b'"ready"' in body
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=REQUEST_TIMEOUT_SECONDS):
            return True
    except OSError:
        return False


def prepare(settings: Settings) -> ReadyReporter | None:
    """In the started process, once the addresses are bound (`settings` has the real ports):
    the reporter for `settings.ready_file` (None without one), with any old file removed and the
    directory checked writable; click.ClickException (exit 1) naming the option if it is not."""
    path = settings.ready_file
    if path is None:
        return None
    where = f"{option_name('ready_file')} ({env_name('ready_file')}) {path}"
    try:
        path.unlink(missing_ok=True)
        probe, probe_path = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        os.close(probe)
        os.unlink(probe_path)
        registry = Path(tempfile.mkdtemp(prefix="short-jobs-mock-ready-"))
    except OSError as error:
        raise click.ClickException(f"cannot write the ready file {where}: {error}") from error
    return ReadyReporter(settings, os.getpid(), registry)
