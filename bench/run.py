"""Benchmarks of the mock and the client against what users would pick instead; run by hand.

    make bench                      # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --sections load,cold --rounds 5
    .venv/bin/python bench/run.py --candidate /path/to/other/checkout   # its mock too, same session

Prints ONE table: every figure is the median of alternating runs (subject A, B, C, then C, B, A,
...), and every ratio compares medians from this same session. Single runs differ by up to 25%
on a shared machine: read the medians and the ratios, never one run. Writes the table and the
raw runs to bench/results/. Never a test: nothing here asserts a time.

Sections (see bench/README.md):
  load       create and show throughput and latency, c=16 and c=64, wrk closed loop: the mock
             (token auth, request validation, SQLite) with 1 and --workers worker processes,
             Stoplight Prism 5, a bare Starlette app (the Python ceiling) and a trivial connexion
             app (the framework's floor)
  cold       process launch to the first 200
  upload     512 MiB through the pre-signed URL against a bare ASGI sink; the server's RSS growth
  client     client CPU per show call: ShortJobs against the official SDK (AK/SK both)
  lifecycle  AsyncShortJobs.assess lifecycles per second at concurrency 50
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchlib import (
    BENCH,
    COLLECTION,
    CREATE_BODY,
    MIB,
    PRISM_JOB_ID,
    PYTHON,
    ROOT,
    TOKEN,
    Row,
    Running,
    Subject,
    WrkResult,
    machine,
    median,
    mock_subject,
    prism_subject,
    render_table,
    request_json,
    require_tools,
    rss_kib,
    running,
    script_subject,
    wait_rss_settled,
    wrk,
)

from mock_server.core.config import LOG_LEVELS

SECTIONS = ("load", "cold", "upload", "client", "lifecycle")
# issue 23: the mock at c=16, both quiet, against Prism in the same session
LOAD_TARGETS = {"create": 2.0, "show": 3.0}
# issue 23: the access line (log=info) costs at most this share of the same mock's quiet rate
ACCESS_LINE_TARGET = 0.15
COLD_TARGET_S = 1.0
UPLOAD_TARGET = 0.7  # >= 0.7x the bare sink's MiB/s
RSS_TARGET_MIB = 64.0
CLIENT_TARGET = 0.7  # ShortJobs CPU per call <= 0.7x the SDK's


def alternating(items: Sequence[Any], round_number: int) -> list[Any]:
    """A, B, C in even rounds and C, B, A in odd ones, so drift hits every subject alike."""
    return list(items) if round_number % 2 == 0 else list(reversed(items))


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[Row] = []
        self.raw: dict[str, Any] = {}
        self.work = Path(tempfile.mkdtemp(prefix="bench-", dir=BENCH / "results"))
        self.logs = self.work / "logs"

    def cleanup(self) -> None:
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def say(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    # -- who is measured ----------------------------------------------------------------------

    def mocks(self, tag: str, processing_seconds: float = 0.0) -> list[Subject]:
        """The mock with 1 and with --workers processes (and the candidate checkout's, if any)."""
        counts = sorted({1, self.args.workers})
        sources: list[tuple[str, Path | None]] = [("mock", None)]
        sources.extend(self.args.candidates.items())
        subjects = []
        for label, source in sources:
            for workers in counts:
                for level in self.args.log_level_list:
                    # the default (quiet) keeps its plain name, so earlier tables still compare
                    suffix = "" if level == "warning" else f" log={level}"
                    subjects.append(
                        mock_subject(
                            f"{label} w={workers}{suffix}",
                            self.work / f"{tag}-{label}-w{workers}-{level}",
                            workers=workers,
                            source=source,
                            processing_seconds=processing_seconds,
                            log_level=level,
                        )
                    )
        return subjects

    def judged(self, subject_name: str) -> bool:
        """Targets apply to the mock as configured for them: --workers processes."""
        return subject_name.endswith(f"w={self.args.workers}")

    def references(self) -> list[Subject]:
        subjects = [
            prism_subject(),
            script_subject("Starlette (bare)", "bare_starlette.py", "starlette"),
        ]
        if not self.args.no_connexion:
            subjects.append(
                script_subject("connexion (trivial)", "trivial_connexion.py", "connexion")
            )
        return subjects

    # -- 1. throughput and latency --------------------------------------------------------------

    def load(self) -> None:
        subjects = [*self.mocks("load"), *self.references()]
        scenarios = [(op, c) for op in ("create", "show") for c in self.args.connection_levels]
        seconds = self.args.seconds
        self.say(
            f"load: {len(subjects)} servers x {len(scenarios)} scenarios x "
            f"{self.args.rounds} rounds x {seconds:g} s"
        )
        results: dict[tuple[str, str, int], list[WrkResult]] = {}
        with running(subjects, self.logs) as servers:
            targets = {name: self._load_targets(server) for name, server in servers.items()}
            for name in servers:  # warm-up, not recorded: imports, JIT, first connections
                for op in ("create", "show"):
                    wrk(**targets[name][op], connections=16, seconds=1)
            for round_number in range(self.args.rounds):
                for op, connections in scenarios:
                    for name in alternating(list(servers), round_number):
                        result = wrk(**targets[name][op], connections=connections, seconds=seconds)
                        results.setdefault((op, name, connections), []).append(result)
                self.say(f"load: round {round_number + 1}/{self.args.rounds} done")
        self.raw["load"] = {
            f"{op} c={c} {name}": [asdict(r) | {"rate": r.rate} for r in runs]
            for (op, name, c), runs in results.items()
        }
        for op, connections in scenarios:
            prism = median([r.rate for r in results[(op, "Prism 5", connections)]])
            for subject in subjects:
                runs = results[(op, subject.name, connections)]
                rate = median([r.rate for r in runs])
                errors = sum(r.errors for r in runs)
                judged = connections == 16 and subject.kind == "mock" and self.judged(subject.name)
                goal = LOAD_TARGETS[op]
                row = Row(
                    section="load",
                    figure=f"{op} c={connections}",
                    subject=subject.name,
                    value=rate,
                    unit="req/s",
                    runs=[r.rate for r in runs],
                    latency=f"{median([r.p50_ms for r in runs]):.1f}/"
                    f"{median([r.p99_ms for r in runs]):.1f}",
                    ratio="" if subject.kind == "prism" else f"{rate / prism:.2f}x Prism",
                    target=f">= {goal:g}x Prism" if judged else "",
                    met=verdict(rate >= goal * prism) if judged else "",
                    note=f"({errors} errors!)" if errors else "",
                )
                self.rows.append(row)
            self._access_line_rows(op, connections, subjects, results)

    def _access_line_rows(
        self,
        op: str,
        connections: int,
        subjects: list[Subject],
        results: dict[tuple[str, str, int], list[WrkResult]],
    ) -> None:
        """The access line's cost: each `log=info` mock against the same mock quiet, same rounds."""
        suffix = " log=info"
        for subject in subjects:
            if not subject.name.endswith(suffix):
                continue
            quiet = median(
                [r.rate for r in results[(op, subject.name[: -len(suffix)], connections)]]
            )
            loud = median([r.rate for r in results[(op, subject.name, connections)]])
            share = 1 - loud / quiet
            self.rows.append(
                Row(
                    section="load",
                    figure=f"{op} c={connections} access line",
                    subject=subject.name,
                    value=share * 100,
                    unit="% of rate",
                    runs=[r.rate for r in results[(op, subject.name, connections)]],
                    latency="",
                    ratio=f"{loud:.0f} vs {quiet:.0f} req/s",
                    target=f"<= {ACCESS_LINE_TARGET:.0%}" if connections == 16 else "",
                    met=verdict(share <= ACCESS_LINE_TARGET) if connections == 16 else "",
                    note="",
                )
            )

    def _load_targets(self, server: Running) -> dict[str, dict[str, Any]]:
        """wrk arguments for create and show on this server (show reads a job it created)."""
        headers = {"X-Auth-Token": TOKEN}
        create = {
            "url": server.url + COLLECTION,
            "method": "POST",
            "body": CREATE_BODY,
            "headers": {**headers, "Content-Type": "application/json"},
        }
        if server.subject.kind == "prism":
            job_id = PRISM_JOB_ID
        else:
            status, body = request_json(
                server.port, "POST", COLLECTION, CREATE_BODY, headers=headers
            )
            if status != 200:
                raise RuntimeError(f"{server.subject.name}: create answered {status}: {body}")
            job_id = body["job_id"]
        show = {"url": f"{server.url}{COLLECTION}/{job_id}", "headers": headers}
        return {"create": create, "show": show}

    # -- 2. cold start ---------------------------------------------------------------------------

    def cold(self) -> None:
        subjects = [*self.mocks("cold"), *self.references()]
        rounds = max(self.args.rounds, 7)  # cheap, and launches vary more than loads
        self.say(f"cold start: {len(subjects)} servers x {rounds} rounds")
        times: dict[str, list[float]] = {s.name: [] for s in subjects}
        for round_number in range(rounds):
            for subject in alternating(subjects, round_number):
                data_dir = self.work / f"cold-{round_number}-{subject.name}"
                fresh = subject
                if subject.kind == "mock":  # a fresh data dir every launch
                    fresh = mock_subject(
                        subject.name,
                        data_dir,
                        workers=int(subject.name.rsplit("=", 1)[1]),
                        source=self._source_of(subject),
                    )
                server = Running(fresh, self.logs / f"cold-{subject.name}.log")
                try:
                    times[subject.name].append(server.wait_ready())
                finally:
                    server.stop()
                shutil.rmtree(data_dir, ignore_errors=True)
        self.raw["cold"] = times
        prism = median(times["Prism 5"])
        for subject in subjects:
            value = median(times[subject.name])
            judged = subject.kind == "mock"
            self.rows.append(
                Row(
                    section="cold",
                    figure="launch to first 200",
                    subject=subject.name,
                    value=value,
                    unit="s",
                    runs=times[subject.name],
                    ratio="" if subject.kind == "prism" else f"{value / prism:.2f}x Prism",
                    target=f"< {COLD_TARGET_S:g} s" if judged else "",
                    met=verdict(value < COLD_TARGET_S) if judged else "",
                )
            )

    def _source_of(self, subject: Subject) -> Path | None:
        label: str = subject.name.rsplit(" w=", 1)[0]
        candidate: Path | None = self.args.candidates.get(label)
        return candidate

    # -- 3. upload -------------------------------------------------------------------------------

    def upload(self) -> None:
        size = self.args.upload_mib * MIB
        sink_dir = self.work / "sink"
        mock = mock_subject("mock w=1", self.work / "upload-mock", workers=1)
        sink = script_subject(
            "bare ASGI sink", "bare_sink.py", "sink", "--dir", str(sink_dir.resolve())
        )
        rounds = self.args.rounds
        self.say(f"upload: {self.args.upload_mib} MiB x {rounds} rounds, mock and sink")
        rates: dict[str, list[float]] = {mock.name: [], sink.name: []}
        growth: dict[str, list[float]] = {mock.name: [], sink.name: []}
        with running([mock, sink], self.logs) as servers:
            for server in servers.values():
                wait_rss_settled(server)  # start-up's own growth (the mock's DNSMOS) first
            for round_number in range(rounds):
                for name in alternating([mock.name, sink.name], round_number):
                    server = servers[name]
                    if server.subject.kind == "mock":
                        path = self._upload_path(server)
                    else:
                        path = "/sink/recordings.zip"
                    rate, grown = put_stream(server, path, size)
                    rates[name].append(rate)
                    growth[name].append(grown)
                    for stored in (self.work / "upload-mock" / "uploads").glob("*.zip"):
                        stored.unlink()
                    shutil.rmtree(sink_dir, ignore_errors=True)
                    sink_dir.mkdir(exist_ok=True)
        self.raw["upload"] = {"MiB/s": rates, "RSS growth MiB": growth}
        ceiling = median(rates[sink.name])
        for name in (mock.name, sink.name):
            is_mock = name == mock.name
            value = median(rates[name])
            self.rows.append(
                Row(
                    section="upload",
                    figure=f"PUT {self.args.upload_mib} MiB",
                    subject=name,
                    value=value,
                    unit="MiB/s",
                    runs=rates[name],
                    ratio=f"{value / ceiling:.2f}x sink" if is_mock else "",
                    target=f">= {UPLOAD_TARGET}x sink" if is_mock else "",
                    met=verdict(value >= UPLOAD_TARGET * ceiling) if is_mock else "",
                )
            )
        for name in (mock.name, sink.name):
            is_mock = name == mock.name
            worst = max(growth[name])
            self.rows.append(
                Row(
                    section="upload",
                    figure="server RSS growth",
                    subject=name,
                    value=median(growth[name]),
                    unit="MiB",
                    runs=growth[name],
                    target=f"<= {RSS_TARGET_MIB:g} MiB (max)" if is_mock else "",
                    met=verdict(worst <= RSS_TARGET_MIB) if is_mock else "",
                )
            )

    def _upload_path(self, server: Running) -> str:
        status, body = request_json(
            server.port, "POST", COLLECTION, CREATE_BODY, headers={"X-Auth-Token": TOKEN}
        )
        if status != 200:
            raise RuntimeError(f"create answered {status}: {body}")
        url = urlsplit(body["data_uploading_url"])
        return f"{url.path}?{url.query}"

    # -- 4. client CPU per call ------------------------------------------------------------------

    def client(self) -> None:
        clients = ["shortjobs", "sdk", "httpx", "generated"]
        labels = {
            "shortjobs": "ShortJobs.show",
            "sdk": "official SDK show_short_job",
            "httpx": "httpx + AkSkAuth",
            "generated": "generated sync_detailed + AkSkAuth",
        }
        calls = self.args.calls
        self.say(f"client CPU: {len(clients)} clients x {self.args.rounds} rounds x {calls} calls")
        cpu: dict[str, list[float]] = {c: [] for c in clients}
        missing: set[str] = set()
        mock = mock_subject("mock w=1", self.work / "client-mock", workers=1)
        with running([mock], self.logs) as servers:
            server = servers[mock.name]
            status, body = request_json(
                server.port, "POST", COLLECTION, CREATE_BODY, headers={"X-Auth-Token": TOKEN}
            )
            if status != 200:
                raise RuntimeError(f"create answered {status}: {body}")
            for round_number in range(self.args.rounds):
                for name in alternating(clients, round_number):
                    result = run_json(
                        [
                            PYTHON,
                            str(BENCH / "client_cpu.py"),
                            "--url",
                            server.url,
                            "--job-id",
                            body["job_id"],
                            "--client",
                            name,
                            "--calls",
                            str(calls),
                        ]
                    )
                    if result.get("missing"):
                        missing.add(name)
                    else:
                        cpu[name].append(result["cpu_us"])
        self.raw["client"] = cpu
        sdk = median(cpu["sdk"])
        for name in clients:
            judged = name == "shortjobs"
            if name in missing:
                self.rows.append(
                    Row(
                        section="client",
                        figure="CPU per show call",
                        subject=labels[name],
                        value=float("nan"),
                        unit="us",
                        target=f"<= {CLIENT_TARGET}x SDK",
                        met="-",
                        note="(slot: ShortJobs not importable yet)",
                    )
                )
                continue
            value = median(cpu[name])
            self.rows.append(
                Row(
                    section="client",
                    figure="CPU per show call",
                    subject=labels[name],
                    value=value,
                    unit="us",
                    runs=cpu[name],
                    ratio="" if name == "sdk" else f"{value / sdk:.2f}x SDK",
                    target=f"<= {CLIENT_TARGET}x SDK" if judged else "",
                    met=verdict(value <= CLIENT_TARGET * sdk) if judged else "",
                )
            )

    # -- 5. whole lifecycles ---------------------------------------------------------------------

    def lifecycle(self) -> None:
        from mock_server.samples import sample_zip

        recordings = sample_zip(self.work / "recordings.zip", count=3)
        n, c = self.args.lifecycles, self.args.concurrency
        subjects = self.mocks("lifecycle")
        self.say(f"lifecycles: {n} at c={c} on {', '.join(s.name for s in subjects)}")
        for subject in subjects:
            with running([subject], self.logs) as servers:
                server = servers[subject.name]
                result = run_json(
                    [
                        PYTHON,
                        str(BENCH / "lifecycles.py"),
                        "--url",
                        server.url,
                        "--zip",
                        str(recordings),
                        "--lifecycles",
                        str(n),
                        "--concurrency",
                        str(c),
                    ]
                )
            self.raw.setdefault("lifecycle", {})[subject.name] = result
            if result.get("missing"):
                self.rows.append(
                    Row(
                        section="lifecycle",
                        figure=f"assess x{n} at c={c}",
                        subject=f"AsyncShortJobs, {subject.name}",
                        value=float("nan"),
                        unit="/s",
                        target=f"{n}/{n} SUCCEED",
                        met="-",
                        note="(slot: AsyncShortJobs not importable yet)",
                    )
                )
                continue
            stored = store_states(self._data_dir(subject))
            succeeded = result["states"].get("SUCCEED", 0)
            ok = succeeded == n and result["distinct_job_ids"] == n and stored == {"SUCCEED": n}
            self.rows.append(
                Row(
                    section="lifecycle",
                    figure=f"assess x{n} at c={c}",
                    subject=f"AsyncShortJobs, {subject.name}",
                    value=result["per_second"],
                    unit="/s",
                    runs=[result["per_second"]],
                    target=f"{n}/{n} SUCCEED",
                    met=verdict(ok),
                    note=f"({succeeded} SUCCEED, {result['distinct_job_ids']} ids, store {stored})",
                )
            )

    @staticmethod
    def _data_dir(subject: Subject) -> Path:
        return Path(subject.argv[subject.argv.index("--data-dir") + 1])

    # -- all of it -------------------------------------------------------------------------------

    def run(self, sections: Sequence[str]) -> None:
        steps: dict[str, Callable[[], None]] = {
            "load": self.load,
            "cold": self.cold,
            "upload": self.upload,
            "client": self.client,
            "lifecycle": self.lifecycle,
        }
        for section in sections:
            steps[section]()


def put_stream(server: Running, path: str, size: int) -> tuple[float, float]:
    """PUT `size` bytes in 1 MiB chunks; (MiB/s, the server's RSS growth in MiB)."""
    chunk = bytes(range(256)) * (MIB // 256)
    pids = server.children()
    baseline = sum(rss_kib(pid) or 0 for pid in pids)
    peak = baseline
    sampling = True

    def sample() -> None:
        nonlocal peak
        while sampling:
            peak = max(peak, sum(rss_kib(pid) or 0 for pid in pids))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    try:
        started = time.perf_counter()
        connection.putrequest("PUT", path, skip_accept_encoding=True)
        connection.putheader("Content-Type", "application/zip")
        connection.putheader("Content-Length", str(size))
        connection.endheaders()
        sent = 0
        while sent < size:
            piece = chunk[: min(len(chunk), size - sent)]
            connection.send(piece)
            sent += len(piece)
        response = connection.getresponse()
        answer = response.read()
        seconds = time.perf_counter() - started
    finally:
        connection.close()
        sampling = False
        sampler.join()
    if response.status != 200:
        raise RuntimeError(f"upload answered {response.status}: {answer[:300]!r}")
    return size / MIB / seconds, (peak - baseline) / 1024


def run_json(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def store_states(data_dir: Path) -> dict[str, int]:
    """Jobs by state, read straight from the mock's SQLite store (after the mock stopped)."""
    with contextlib.closing(
        sqlite3.connect(f"file:{data_dir / 'jobs.sqlite3'}?mode=ro", uri=True)
    ) as db:
        return dict(db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per figure")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one wrk run")
    parser.add_argument("--workers", type=int, default=2, help="the mock's worker processes")
    parser.add_argument("--connections", default="16,64", help="wrk concurrency levels (load)")
    parser.add_argument("--upload-mib", type=int, default=512)
    parser.add_argument("--calls", type=int, default=1000, help="show calls per client run")
    parser.add_argument("--lifecycles", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument(
        "--candidate",
        type=Path,
        action="append",
        default=[],
        help="also measure the mock of this checkout (load, cold, lifecycle), named after its"
        " directory; repeatable",
    )
    parser.add_argument(
        "--log-levels",
        default="warning",
        help="the mock's --log-level, comma-separated: 'warning,info' also measures it with an"
        " access line per request (the line's cost: same session, same rounds)",
    )
    parser.add_argument("--no-connexion", action="store_true", help="skip the connexion floor")
    parser.add_argument("--no-setup", action="store_true", help="do not run bench/setup.sh")
    parser.add_argument("--keep", action="store_true", help="keep data dirs and server logs")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    args.section_list = sections
    args.log_level_list = [level.strip() for level in args.log_levels.split(",") if level.strip()]
    if not set(args.log_level_list) <= set(LOG_LEVELS):
        parser.error("--log-levels takes the mock's --log-level values")
    try:
        args.connection_levels = [int(c) for c in args.connections.split(",") if c.strip()]
    except ValueError:
        parser.error("--connections takes comma-separated integers")
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers must be >= 1")
    args.candidates = {}
    for candidate in args.candidate:
        label = candidate.resolve().name
        while label in args.candidates or label == "mock":
            label += "'"
        args.candidates[label] = candidate.resolve()
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.no_setup:
        subprocess.run(["bash", str(BENCH / "setup.sh")], check=True)
    require_tools()
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    info = machine()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    bench = Bench(args)
    try:
        bench.run(args.section_list)
    finally:
        bench.cleanup()
    heading = (
        f"short-jobs bench, {started}: nproc={info['nproc']}, {info['cpu']}, "
        f"Python {info['python']}, {info['wrk']}, node {info['node']}, Prism {info['prism']}; "
        f"medians of {args.rounds} alternating runs ({args.seconds:g} s wrk runs, 1 wrk thread)"
    )
    table = render_table(bench.rows)
    print(heading)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"{stamp}.txt").write_text(f"{heading}\n{table}\n", encoding="utf-8")
    record = {
        "machine": info,
        "started": started,
        "args": {k: str(v) for k, v in vars(args).items()},
        "rows": [asdict(row) for row in bench.rows],
        "raw": bench.raw,
    }
    (out / f"{stamp}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
