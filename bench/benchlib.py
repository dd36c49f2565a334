"""What the benchmark scripts share: servers under test, wrk, medians, the machine, the table."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
PRISM = BENCH / "node_modules" / ".bin" / "prism"
WRK_SCRIPT = BENCH / "wrk.lua"

PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
TOKEN = "mock-token"
AK = "MOCKACCESSKEY0000000"
SK = "mock-secret-key-0000000000000000000000000"
COLLECTION = f"/v1/{PROJECT_ID}/voice-training-manage/user/short-jobs"
CREATE_BODY = '{"job_type": "VOICE_ASSESS"}'
# Prism answers its examples: any job id shows the spec's example job.
PRISM_JOB_ID = "26f06524-4f75-4b3a-a853-b649a21aaf66"
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


# -- servers under test -------------------------------------------------------------------------


@dataclass
class Subject:
    """A server to measure: how to start it, and the URL that answers 200 once it is ready."""

    name: str
    argv: list[str]
    ready_path: str = "/"
    ready_headers: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    port: int = 0
    kind: str = "mock"  # mock | prism | starlette | connexion | sink

    def command(self, port: int) -> list[str]:
        return [part.replace("{port}", str(port)) for part in self.argv]


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")}
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def mock_subject(
    name: str,
    data_dir: Path,
    *,
    workers: int = 1,
    source: Path | None = None,
    processing_seconds: float = 0.0,
    log_level: str = "warning",
) -> Subject:
    """The mock as a user runs it: token auth on, request validation from the spec, SQLite.

    `source` runs the mock of another checkout (PYTHONPATH), to measure a change in one session;
    `log_level` "info" writes the access line of every request (into the subject's log file).
    """
    env = {"PYTHONWARNINGS": "ignore"}
    cwd = ROOT
    if source is not None:
        env["PYTHONPATH"] = f"{source}{os.pathsep}{source / 'generated'}"
        cwd = source
    return Subject(
        name=name,
        argv=[
            PYTHON,
            "-m",
            "mock_server",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--iam-port",
            "0",
            "--data-dir",
            str(data_dir.resolve()),  # absolute: the server runs in another directory
            "--workers",
            str(workers),
            "--processing-seconds",
            str(processing_seconds),
            "--log-level",
            log_level,
        ],
        env=env,
        cwd=cwd,
        kind="mock",
    )


def prism_subject() -> Subject:
    return Subject(
        name="Prism 5",
        argv=[str(PRISM), "mock", "-v", "error", "-h", "127.0.0.1", "-p", "{port}", "openapi.yaml"],
        # Prism has no GET /: it is ready when an operation answers.
        ready_path=f"{COLLECTION}/{PRISM_JOB_ID}",
        ready_headers={"X-Auth-Token": TOKEN},
        kind="prism",
    )


def script_subject(name: str, script: str, kind: str, *extra: str) -> Subject:
    return Subject(
        name=name,
        argv=[PYTHON, str(BENCH / script), "--port", "{port}", *extra],
        env={"PYTHONWARNINGS": "ignore"},
        kind=kind,
    )


class Running:
    """A started subject; `stop()` ends its whole process group (uvicorn workers included)."""

    def __init__(self, subject: Subject, log: Path) -> None:
        self.subject = subject
        self.port = subject.port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = log.open("ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            subject.command(self.port),
            cwd=subject.cwd,
            env=_clean_env(subject.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds from launch to the first 200 on the ready URL (polled every 5 ms)."""
        deadline = self.started + timeout
        while True:
            if probe(self.port, self.subject.ready_path, self.subject.ready_headers) == 200:
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.subject.name} exited with {self.process.returncode}; see {self.log}"
                )
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{self.subject.name} was not ready in {timeout} s")
            time.sleep(0.005)

    def children(self) -> list[int]:
        """The processes of this subject (itself and its workers)."""
        found = [self.pid]
        with contextlib.suppress(OSError):
            tasks = Path(f"/proc/{self.pid}/task")
            for task in tasks.iterdir():
                children = (task / "children").read_text().split()
                found.extend(int(child) for child in children)
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log_file.close()


def probe(port: int, path: str, headers: dict[str, str] | None = None) -> int | None:
    """The status of one GET, or None if nothing answers yet."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return None
    finally:
        connection.close()


def request_json(
    port: int,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


@contextlib.contextmanager
def running(subjects: Sequence[Subject], logs: Path) -> Iterator[dict[str, Running]]:
    """Start every subject at once, wait until each is ready, stop them all at the end."""
    started: dict[str, Running] = {}
    try:
        for subject in subjects:
            started[subject.name] = Running(subject, logs / f"{slug(subject.name)}.log")
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


# -- wrk ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    method: str = "GET",
    body: str = "",
    headers: dict[str, str] | None = None,
    threads: int = 1,
) -> WrkResult:
    """One closed-loop wrk run; `errors` counts socket errors, timeouts and non-2xx/3xx answers."""
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_BODY": body,
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in (headers or {}).items()),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    done = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            errors = sum(
                data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors")
            )
            return WrkResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                errors=errors + data["timeouts"],
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")


def require_tools() -> None:
    missing = [tool for tool in ("wrk",) if shutil.which(tool) is None]
    if not PRISM.exists():
        missing.append(str(PRISM))
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}: run bench/setup.sh")


# -- the machine -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break

    def version(*command: str) -> str:
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        except OSError:
            return "?"
        return (
            (out.stdout or out.stderr).strip().splitlines()[0] if out.stdout or out.stderr else "?"
        )

    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": version("wrk", "--version").split(" [")[0],
        "node": version("node", "--version"),
        "prism": version(str(PRISM), "--version") if PRISM.exists() else "?",
    }


def wait_rss_settled(
    server: Running, *, window: float = 1.0, tolerance_kib: int = 1024, limit: float = 60.0
) -> None:
    """Wait until the server's processes' RSS has moved less than `tolerance_kib` over `window`
    seconds (at most `limit`): the mock loads DNSMOS on a thread as it starts serving, about
    100 MiB, which a measurement of what a request grows must not count."""
    deadline = time.monotonic() + limit
    before = sum(rss_kib(pid) or 0 for pid in server.children())
    while time.monotonic() < deadline:
        time.sleep(window)
        now = sum(rss_kib(pid) or 0 for pid in server.children())
        if abs(now - before) < tolerance_kib:
            return
        before = now


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


# -- the table ----------------------------------------------------------------------------------


@dataclass
class Row:
    section: str
    figure: str
    subject: str
    value: float
    unit: str
    runs: list[float] = field(default_factory=list)
    latency: str = ""
    ratio: str = ""
    target: str = ""
    met: str = ""
    note: str = ""


def fmt(value: float, unit: str = "") -> str:
    if value != value:  # NaN
        return "-"
    if unit in ("req/s",) or abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def render_table(rows: Sequence[Row]) -> str:
    header = [
        "section",
        "figure",
        "subject",
        "median",
        "unit",
        "runs (alternating)",
        "p50/p99 ms",
        "ratio",
        "target",
        "met",
    ]
    cells = [header]
    for row in rows:
        runs = " ".join(fmt(v, row.unit) for v in row.runs)
        cells.append(
            [
                row.section,
                row.figure,
                row.subject,
                fmt(row.value, row.unit),
                row.unit,
                runs,
                row.latency,
                row.ratio,
                row.target,
                row.met + (f" {row.note}" if row.note else ""),
            ]
        )
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    right = {3, 5}
    out = []
    for n, line in enumerate(cells):
        out.append(
            "  ".join(
                cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                for i, cell in enumerate(line)
            ).rstrip()
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)
