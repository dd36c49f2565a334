"""`--workers 2`: both worker processes serve the same jobs from the shared SQLite store.

Each request goes over a fresh connection, and the test finds which process accepted that
connection (Linux: the server side of the socket, by sock_diag or /proc/net/tcp, then the
process, the mock or one of its descendants, whose file descriptors hold it), so it can send a
request to the worker it wants; how the workers are started (spawned or forked) does not matter.
Waiting is always for a condition (a connection accepted, a job finished), bounded, never a
fixed sleep.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import plain_http
import pytest
from helpers import free_port, stop
from worker_sockets import ATTEMPTS, START_SECONDS, Workers, family

from mock_server.core.config import DEFAULT_PROJECT_ID, DEFAULT_TOKEN

pytestmark = [
    pytest.mark.slow,  # every test here starts the mock with --workers
    pytest.mark.skipif(
        not Path("/proc/net/tcp").is_file(), reason="finds the serving worker through Linux /proc"
    ),
]

COLLECTION = f"/v1/{DEFAULT_PROJECT_ID}/voice-training-manage/user/short-jobs"
HEADERS = {"X-Auth-Token": DEFAULT_TOKEN, "Content-Type": "application/json"}


def _call(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    try:
        connection.request(method, path, body=body, headers=headers or HEADERS)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    data = (
        json.loads(raw) if raw and response.getheader("content-type", "").endswith("json") else raw
    )
    return response.status, data


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mock_server",
            "--workers",
            "2",
            "--port",
            str(port),
            "--iam-port",
            "0",
            "--data-dir",
            str(tmp_path / "data"),
            "--processing-seconds",
            "0",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        server = Workers(process, port)
        server.wait_started()
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _create(server: Workers, pid: int | None = None) -> tuple[dict[str, str], int]:
    if pid is None:
        connection, pid = server.connect()
    else:
        connection = server.connect_to(pid)
    status, job = _call(connection, "POST", COLLECTION, b'{"job_type": "VOICE_ASSESS"}')
    assert status == 200, job
    return job, pid


def test_every_show_after_create_succeeds_on_fresh_connections(workers: Workers) -> None:
    """50 jobs, each created and then shown over fresh connections: every show finds its job,
    and some jobs were created by one worker and shown by the other, both ways round."""
    pairs: set[tuple[int, int]] = set()
    for n in range(ATTEMPTS):
        job, created_by = _create(workers)
        connection, shown_by = workers.connect()
        status, shown = _call(connection, "GET", f"{COLLECTION}/{job['job_id']}")
        assert status == 200, shown
        assert shown["job_id"] == job["job_id"] and shown["state"] == "CREATING"
        pairs.add((created_by, shown_by))
        a, b = workers.pids
        if n + 1 >= 50 and {(a, b), (b, a)} <= pairs:
            break
    a, b = workers.pids
    assert {(a, b), (b, a)} <= pairs, f"no cross-worker create/show in {ATTEMPTS}: {pairs}"


@pytest.mark.parametrize("direction", ["first-to-second", "second-to-first"])
def test_a_job_created_by_one_worker_goes_all_the_way_through_the_other(
    workers: Workers, recordings: Path, direction: str
) -> None:
    creator, other = workers.pids if direction == "first-to-second" else workers.pids[::-1]
    job, _ = _create(workers, creator)
    item = f"{COLLECTION}/{job['job_id']}"

    status, shown = _call(workers.connect_to(other), "GET", item)
    assert status == 200 and shown["state"] == "CREATING", shown

    url = urlsplit(job["data_uploading_url"])
    status, answer = _call(
        workers.connect_to(other),
        "PUT",
        f"{url.path}?{url.query}",
        body=recordings.read_bytes(),
        headers={"Content-Type": "application/zip"},
    )
    assert status == 200, answer

    # committed through the creator, after the other worker stored the upload
    status, answer = _call(workers.connect_to(creator), "POST", item)
    assert status == 200, answer
    # a second commit is refused by the other worker: it sees the first one
    status, refused = _call(workers.connect_to(other), "POST", item)
    assert status == 400 and refused["error_code"] == "MSS.00000003", refused

    deadline = time.monotonic() + 60
    while True:
        status, shown = _call(workers.connect_to(other), "GET", item)
        assert status == 200, shown
        if shown["state"] in ("SUCCEED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert shown["state"] == "SUCCEED", shown
    status, again = _call(workers.connect_to(creator), "GET", item)
    assert status == 200 and again == shown


# -- supervision (gunicorn) -----------------------------------------------------------------------

GONE_SECONDS = 30.0


def _start(data_dir: Path, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    with log.open("wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mock_server",
                "--workers",
                str(workers),
                "--port",
                str(port),
                "--iam-port",
                "0",  # not --port + 1: another test's server may hold that one
                "--data-dir",
                str(data_dir),
                "--log-level",
                "info",
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    return process, port


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited


def _children(pid: int) -> list[int]:
    return [p for p in family(pid) if p != pid]


def test_fresh_data_dirs_start_every_worker_without_a_lock_error(tmp_path: Path) -> None:
    """The new user's finding: `--workers 2` on a fresh data dir crashed a worker 1 in 8
    starts ('database is locked'). Several starts, more workers, each on a fresh dir."""
    for start in range(4):
        log = tmp_path / f"start-{start}.log"
        process, port = _start(tmp_path / f"data-{start}", 3, log)
        try:
            server = Workers(process, port)
            deadline = time.monotonic() + START_SECONDS
            while not server._ready():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the mock did not become ready"
                time.sleep(0.05)
            # every worker booted and stayed up
            deadline = time.monotonic() + START_SECONDS
            while len(_children(process.pid)) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(_children(process.pid)) == 3, log.read_text()
            _, created = _call(
                server.connect()[0], "POST", COLLECTION, b'{"job_type": "VOICE_ASSESS"}'
            )
            assert "job_id" in created, created
        finally:
            stop(process)
        assert process.returncode == 0  # a graceful stop, not a crash loop
        text = log.read_text()
        assert "Traceback" not in text and "locked" not in text, text
        assert "exited with code" not in text, text


def test_workers_die_with_their_supervisor_even_after_kill_9(tmp_path: Path) -> None:
    process, port = _start(tmp_path / "data", 2, tmp_path / "log")
    try:
        server = Workers(process, port)
        server.wait_started()
        workers = _children(process.pid)
        assert sorted(workers) == server.pids
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + GONE_SECONDS
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(pid) for pid in workers), (tmp_path / "log").read_text()
    finally:
        stop(process)


def test_a_data_dir_that_cannot_be_used_stops_the_command_at_once(tmp_path: Path) -> None:
    """Built in the supervisor before any fork: one line, exit status 1, no worker forked."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    process, _ = _start(not_a_dir, 2, tmp_path / "log")
    try:
        assert process.wait(START_SECONDS) == 1
    finally:
        stop(process)
    text = (tmp_path / "log").read_text()
    assert "cannot serve from" in text and "Traceback" not in text, text
    assert "Booting worker" not in text, text


_FAILS_TO_BOOT = """
import sys
from pathlib import Path
from mock_server.core.config import Settings
from mock_server.faces.supervisor import supervise

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "cannot start"})

supervise(Settings(port=0, workers=2, data_dir=Path(sys.argv[1])), app)
"""


def test_a_worker_that_cannot_boot_stops_the_supervisor_instead_of_restarting(
    tmp_path: Path,
) -> None:
    """gunicorn's rule, as configured here: a worker that fails to boot halts the arbiter
    (exit status 3) rather than being forked again and again."""
    result = subprocess.run(
        [sys.executable, "-c", _FAILS_TO_BOOT, str(tmp_path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 3, stderr
    assert "Worker failed to boot" in stderr
    assert stderr.count("Booting worker") <= 2, stderr


_CRASHES_AFTER_BOOT = """
import asyncio, os, sys
from pathlib import Path
from mock_server.core.config import Settings
from mock_server.faces.supervisor import supervise

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        asyncio.get_running_loop().call_later(0.05, os._exit, 1)  # booted, then crashes
        await receive()

supervise(Settings(port=0, workers=2, data_dir=Path(sys.argv[1])), app)
"""


def test_workers_that_keep_crashing_after_boot_stop_the_supervisor(tmp_path: Path) -> None:
    """Replaced a few times, then the crash loop stops the server (exit status 1)."""
    result = subprocess.run(
        [sys.executable, "-c", _CRASHES_AFTER_BOOT, str(tmp_path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 1, stderr
    assert "workers keep exiting" in stderr, stderr
    booted = stderr.count("Booting worker")
    assert 2 < booted <= 2 + 6, stderr  # replaced, then stopped: never forked forever


class _FakeArbiter:
    def __init__(self, listening: bool) -> None:
        self.LISTENERS = ["socket"] if listening else []


class _FakeWorker:
    pid = 4242


def test_the_crash_loop_guard_counts_exits_but_not_while_stopping() -> None:
    from gunicorn.errors import HaltServer

    from mock_server.faces.supervisor import crash_loop_guard

    stopping = crash_loop_guard(limit=2, window=60)
    for _ in range(10):  # a graceful stop of many workers is no crash loop
        stopping(_FakeArbiter(listening=False), _FakeWorker())
    serving = crash_loop_guard(limit=2, window=60)
    serving(_FakeArbiter(listening=True), _FakeWorker())
    serving(_FakeArbiter(listening=True), _FakeWorker())
    with pytest.raises(HaltServer) as halted:
        serving(_FakeArbiter(listening=True), _FakeWorker())
    assert halted.value.exit_status == 1
    assert "workers keep exiting (3 in 60 s" in halted.value.reason


def test_run_picks_one_process_gunicorn_or_uvicorns_own_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One worker: plain uvicorn with the app built here; more: gunicorn (supervise); more
    without fork() (Windows): uvicorn's spawned workers, rebuilding the app from the
    environment. uvicorn serves two sockets it bound (the API's, IAM's): the IAM port really
    bound is what the workers read."""
    import uvicorn

    from mock_server.core.config import Settings
    from mock_server.faces import cli, supervisor

    calls: list[tuple[str, Any, dict[str, Any]]] = []

    def serve(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        ports = [sock.getsockname()[1] for sock in sockets]
        for sock in sockets:
            sock.close()
        options = {"factory": config.factory, "workers": config.workers, "ports": ports}
        calls.append(("uvicorn", config.app, options))

    monkeypatch.setattr(cli, "_serve", serve)
    monkeypatch.setattr(
        supervisor,
        "supervise",
        lambda settings, app, *_: calls.append(("gunicorn", app, {})),
    )
    # run() exports the settings and configures logging: not for the rest of the test session
    monkeypatch.setattr(os, "environ", dict(os.environ))
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)

    cli.run(Settings(data_dir=tmp_path / "one", workers=1, port=0))
    cli.run(Settings(data_dir=tmp_path / "two", workers=2, port=0))
    monkeypatch.delattr(os, "fork")
    cli.run(Settings(data_dir=tmp_path / "spawned", workers=3, port=0))

    (one, app_one, one_options), (two, app_two, _), (spawned, target, options) = calls
    assert one == "uvicorn" and callable(app_one) and one_options["workers"] == 1
    assert two == "gunicorn" and callable(app_two)
    assert spawned == "uvicorn" and target == "mock_server.app:app_from_environ"
    assert options["factory"] is True and options["workers"] == 3
    assert Settings.from_environ().workers == 3  # what the spawned workers will read
    assert Settings.from_environ().iam_port == options["ports"][1] != 0
    assert app_one.iam_port == one_options["ports"][1] != 0  # the port bound, for port 0
    for app in (app_one, app_two):
        app.service.store.close()


def test_under_gunicorn_iam_answers_on_its_port_and_its_tokens_work_on_every_worker(
    tmp_path: Path,
) -> None:
    """One server, two addresses: IAM on --iam-port issues a token (into the shared store) that
    the API port accepts, whichever worker serves it."""
    port, iam_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "mock_server", "--workers", "2"),
            *("--port", str(port), "--iam-port", str(iam_port)),
            *("--data-dir", str(tmp_path / "data"), "--log-level", "warning"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        Workers(process, port).wait_started()
        user = {"name": "mock-user", "password": "mock-password-0000", "domain": {"name": "d"}}
        body = {
            "auth": {
                "identity": {"methods": ["password"], "password": {"user": user}},
                "scope": {"project": {"name": "cn-north-4"}},
            }
        }
        issued = plain_http.post(
            f"http://127.0.0.1:{iam_port}/v3/auth/tokens", json=body, timeout=30
        )
        assert issued.status_code == 201, issued.text
        token = issued.headers["X-Subject-Token"]
        for _ in range(6):  # fresh connections: both workers get their turn
            created = plain_http.post(
                f"http://127.0.0.1:{port}{COLLECTION}",
                json={"job_type": "VOICE_ASSESS"},
                headers={"X-Auth-Token": token},
                timeout=30,
            )
            assert created.status_code == 200, created.text
        on_api_port = plain_http.get(f"http://127.0.0.1:{port}/v3/projects", timeout=30)
        assert on_api_port.status_code == 404 and str(iam_port) in on_api_port.text
    finally:
        process.terminate()
        process.wait(20)


def test_gunicorn_serves_the_sockets_bound_before_it_in_api_then_iam_order() -> None:
    """gunicorn binds nothing itself: `bind` names the sockets listen.py bound (`fd://N`, the
    API's first), so their ports, a port 0 included, are known before the app is built."""
    from mock_server.core.config import Settings
    from mock_server.faces.listen import listen
    from mock_server.faces.supervisor import Supervisor

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never served")

    settings = Settings(port=0, workers=2)
    listeners = listen(settings)
    try:
        supervisor = Supervisor(listeners.bound_settings(settings), app, listeners)
        bind = supervisor.gunicorn_settings()["bind"]
        served = [socket.socket(fileno=int(fd.removeprefix("fd://"))) for fd in bind]
        try:
            assert [sock.getsockname()[1] for sock in served] == list(listeners.ports)
        finally:
            for sock in served:
                sock.close()
        assert 0 not in listeners.ports
    finally:
        listeners.close()
