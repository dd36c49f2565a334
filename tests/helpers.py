"""Small helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import plain_http
from hypothesis.stateful import RuleBasedStateMachine
from ports import free_port as free_port
from ports import free_ports as free_ports
from recording_proxy import RecordingProxy, exchange_problems

from mock_server.faces.inprocess import RunningMock

# The checkout: where openapi.yaml, README.md and docs/ are (tests sit in folders below tests/).
ROOT = Path(__file__).resolve().parent.parent

COLLECTION = "/v1/{project}/voice-training-manage/user/short-jobs"
FINAL = ("SUCCEED", "FAILED")
# pytest plugins of this project's dev environment that a user's project does not have. A user's
# suite run here (the docs' examples, the CI recipe) goes without them: they would cost its
# process most of a second of CPU (schemathesis' alone ~0.4 s) and are not what a user runs.
DEV_ONLY_PLUGINS = ("schemathesis", "hypothesispytest", "anyio", "respx")
WITHOUT_DEV_PLUGINS = tuple(arg for name in DEV_ONLY_PLUGINS for arg in ("-p", f"no:{name}"))


def token_client(server: RunningMock) -> httpx.Client:
    return plain_http.client(
        base_url=server.url, headers={"X-Auth-Token": server.token}, timeout=30
    )


def collection(server: RunningMock, project: str | None = None) -> str:
    return COLLECTION.format(project=project or server.project_id)


def item(server: RunningMock, job_id: str, project: str | None = None) -> str:
    return f"{collection(server, project)}/{job_id}"


def create(client: httpx.Client, server: RunningMock, **body: Any) -> dict[str, str]:
    response = client.post(collection(server), json={"job_type": "VOICE_ASSESS", **body})
    assert response.status_code == 200, response.text
    result: dict[str, str] = response.json()
    return result


def upload(url: str, path: Path, content_type: str = "application/zip") -> httpx.Response:
    with path.open("rb") as data:
        return plain_http.put(url, content=data.read(), headers={"Content-Type": content_type})


def wait_final(
    client: httpx.Client, server: RunningMock, job_id: str, timeout: float = 20
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(item(server, job_id))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in FINAL or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def sdk_wait_final(client: Any, job_id: str, timeout: float = 20) -> Any:
    """Show the job with the official SDK's `client` until SUCCEED or FAILED (or `timeout`
    seconds): its last ShowShortJobResponse."""
    from huaweicloudsdkmetastudio.v1 import ShowShortJobRequest

    deadline = time.monotonic() + timeout
    shown = client.show_short_job(ShowShortJobRequest(job_id=job_id))
    while shown.state not in FINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        shown = client.show_short_job(ShowShortJobRequest(job_id=job_id))
    return shown


def wait_ready(process: subprocess.Popen[Any], port: int, seconds: float = 30) -> None:
    """Until the mock on `port` answers `GET /` with 200; fails if it exits or takes longer."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if plain_http.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, "the mock exited"
        assert time.monotonic() < deadline, "the mock did not become ready"
        time.sleep(0.05)


@contextmanager
def mock_process(
    port: int, *options: str, cwd: Path | None = None, record: bool | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m mock_server --port PORT OPTIONS...` in its own process, as a user runs it
    (none of the developer's SHORT_JOBS_MOCK_* variables), ready when the block starts and
    stopped (SIGTERM, then SIGKILL) when it ends.

    Recorded (`record`; by default unless `--workers` is more than 1, whose tests find which
    worker accepted a connection from the mock's own sockets): the mock listens on free ports
    of its own, and a `recording_proxy.RecordingProxy` on PORT (and on IAM's port, unless
    `--iam-port 0`) forwards to it byte for byte; when the block ends without an error, every
    exchange is checked against its spec, and an answer the specs do not declare fails it."""
    if record is None:
        record = int(_option(options, "--workers") or 1) <= 1
    if not record:
        process = _start_mock(port, options, cwd)
        try:
            wait_ready(process, port)
            yield process
        finally:
            stop(process)
        return
    iam = _option(options, "--iam-port")
    iam_port = int(iam) if iam is not None else port + 1
    inner, inner_iam = free_ports(2, avoid=(port, iam_port))
    if iam_port:
        options = (*_without(options, "--iam-port"), "--iam-port", str(inner_iam))
    # the proxies take PORT (and IAM's) first, as the mock would at its start: a port probed
    # free is soon a likely pick for a connection's own end (wait_ready's, say)
    proxies = [RecordingProxy(port, inner, "api")]
    try:
        if iam_port:
            proxies.append(RecordingProxy(iam_port, inner_iam, "iam"))
        process = _start_mock(inner, options, cwd)
        try:
            wait_ready(process, inner)
            yield process
        finally:
            stop(process)
    finally:
        for proxy in proxies:
            proxy.close()
    control = _flag(options, "--control")
    problems = exchange_problems([e for p in proxies for e in p.exchanges], control)
    assert not problems, "answers the specs do not declare:\n  " + "\n  ".join(
        dict.fromkeys(problems)
    )


def _start_mock(port: int, options: Sequence[str], cwd: Path | None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", str(port), *options],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")},
    )


def _option(options: Sequence[str], name: str) -> str | None:
    """The last value of `--name VALUE` or `--name=VALUE` among `options`, or None."""
    found = None
    for index, option in enumerate(options):
        if option == name and index + 1 < len(options):
            found = options[index + 1]
        elif option.startswith(name + "="):
            found = option.split("=", 1)[1]
    return found


def _without(options: Sequence[str], name: str) -> tuple[str, ...]:
    kept: list[str] = []
    skip = False
    for option in options:
        if skip:
            skip = False
        elif option == name:
            skip = True
        elif not option.startswith(name + "="):
            kept.append(option)
    return tuple(kept)


def _flag(options: Sequence[str], name: str) -> bool:
    """Whether the last of `--name`/`--no-name` among `options` is `--name` (False if neither)."""
    negative = "--no-" + name.removeprefix("--")
    found = [option for option in options if option in (name, negative)]
    return bool(found) and found[-1] == name


def stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it is still there after 20 s; reaped either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class StubServer(ThreadingHTTPServer):
    """The standard library's threading HTTP server for stand-ins (stub services, proxies), quiet
    about a client that hung up (it prints a traceback to stderr by default, which the CLI
    tests would read as the CLI's own)."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


Machine = TypeVar("Machine", bound=RuleBasedStateMachine)


@contextmanager
def machine_of(machine_class: type[Machine]) -> Iterator[Machine]:
    """One run of a hypothesis state machine driven by hand (an example test calls its rules
    and invariants in a chosen order), its `teardown` run however the test ends."""
    machine = machine_class()
    try:
        yield machine
    finally:
        machine.teardown()


def cli_env(server: RunningMock) -> dict[str, str]:
    """The variables that point ``short-jobs`` at ``server`` with its credentials."""
    return {
        "SHORT_JOBS_ENDPOINT": server.url,
        "HUAWEICLOUD_SDK_AK": server.ak,
        "HUAWEICLOUD_SDK_SK": server.sk,
        "HUAWEICLOUD_SDK_PROJECT_ID": server.project_id,
    }
