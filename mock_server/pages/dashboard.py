"""The dashboard at `/_mock/ui/` (with `--control`): what the mock holds and what it received.

One server-rendered HTML page, no JavaScript: the jobs (id, state, progress, times, outcome),
the request journal (newest first), the armed faults and the default progress mode. It reloads
itself (`<meta http-equiv="refresh">`) every `refresh` seconds (query parameter, default 2, 0
stops it). The journal is filtered by the query parameters `job_id` and `operation`, exactly as
`GET /_mock/requests` filters it; the jobs table by `job_id`.

Every value a client sent (a job's X-App-UserId, a path, a query string, a header) is escaped by
Jinja2's autoescaping (MarkupSafe), the one place HTML is made; the page has no inline script
for anything to break out into.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from mock_server.control.store import ControlStore
from mock_server.core.asgi import Answer, Receive, Scope, Send, query_params
from mock_server.service.handlers import Service
from mock_server.service.store import Job

DASHBOARD_PATH = "/_mock/ui/"
# How much one page shows, newest first; a heading says when there are more (a count is never
# cut to what is shown: issue 19, item 6).
MAX_JOBS = 200
MAX_REQUESTS = 200
DEFAULT_REFRESH_SECONDS = 2
_MAX_REFRESH_SECONDS = 3600
_ASCII_DIGITS = re.compile("[0-9]+")


@cache
def _templates() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Dashboard:
    def __init__(self, service: Service, control: ControlStore) -> None:
        self.service = service
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = query_params(scope)
        job_id = query.get("job_id") or None
        operation = query.get("operation") or None
        html = self.render(
            job_id=job_id, operation=operation, refresh=_refresh(query.get("refresh"))
        )
        await Answer.html(html, headers={"Cache-Control": "no-store"})(scope, receive, send)

    def render(
        self,
        *,
        job_id: str | None = None,
        operation: str | None = None,
        refresh: int = DEFAULT_REFRESH_SECONDS,
    ) -> str:
        """The page, as HTML text, for these filters."""
        store = self.service.store
        now = self.service.clock.now()  # the mock's one clock, as the jobs were settled by
        if job_id is None:
            listed, jobs_total = store.jobs(MAX_JOBS), store.count()
        else:  # the one job, however old (not only among the newest MAX_JOBS)
            found = store.get(job_id)
            listed = [] if found is None else [found]
            jobs_total = len(listed)
        jobs = [job_view(self.service.settle(job, now)) for job in listed]
        journal = [
            entry
            for entry in self.control.journal(0)
            if (job_id is None or entry.get("job_id") == job_id)
            and (operation is None or entry.get("operation") == operation)
        ]
        journal.reverse()  # newest first
        return (
            _templates()
            .get_template("dashboard.html")
            .render(
                jobs=jobs,
                jobs_total=jobs_total,
                requests=[request_view(entry) for entry in journal[:MAX_REQUESTS]],
                requests_total=len(journal),
                faults=self.control.faults(),
                progress=self.service.default_progress(),
                job_id=job_id or "",
                operation=operation or "",
                refresh=refresh,
                generated=_time(now),
            )
        )


def job_view(job: Job) -> dict[str, Any]:
    """One row of the jobs table; `outcome` is what the job's show answers beyond its state."""
    shown = job.to_api()
    if "job_failed_code" in shown:
        outcome = f"{shown['job_failed_code']}: {shown.get('job_failed_reason', '')}"
    elif "assess_result" in shown:
        outcome = _result_summary(shown["assess_result"])
    else:
        outcome = ""
    return {
        "job_id": job.job_id,
        "state": job.state,
        "progress": job.progress,
        "language": job.language,
        "app_user_id": job.app_user_id or "",
        "created": _time(job.create_time),
        "updated": _time(job.lastupdate_time),
        "outcome": outcome,
    }


def request_view(entry: dict[str, Any]) -> dict[str, Any]:
    query = entry.get("query") or ""
    return {
        "id": entry["id"],
        "time": _time(entry["time"]),
        "method": entry["method"],
        "path": entry["path"] + ("?" + query if query else ""),
        "operation": entry.get("operation") or "",
        "job_id": entry.get("job_id") or "",
        # None: the client got no complete answer (a cut upload)
        "status": "" if entry["status"] is None else entry["status"],
        "status_class": "none" if entry["status"] is None else str(entry["status"] // 100),
        "error_code": entry.get("error_code") or "",
        "request_id": entry.get("request_id", ""),
        "duration_ms": f"{entry.get('duration_ms', 0):.1f}",
        "app_user_id": (entry.get("headers") or {}).get("x-app-userid", ""),
        # a refused signature's forensics, shown folded in the error_code cell
        "signature_check": _signature_check(entry.get("signature_check")),
    }


def _signature_check(check: Any) -> str:
    return json.dumps(check, indent=2, ensure_ascii=False) if check else ""


def _result_summary(result: dict[str, Any]) -> str:
    metrics = [name for name, value in result.items() if isinstance(value, dict)]
    out_of_range = [name for name in metrics if result[name].get("status") not in (0, None)]
    summary = f"{len(metrics) - len(out_of_range)}/{len(metrics)} metrics in range"
    if out_of_range:
        summary += f" (out: {', '.join(out_of_range)})"
    return summary


def _time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _refresh(raw: str | None) -> int:
    """`?refresh=N`: N in ASCII digits (capped at an hour); anything else is the default.

    Only `0`-`9` count: `str.isdigit` also accepts superscripts (`²`) that `int` refuses, and
    `int` accepts other scripts' digits (`٣`) and more digits than it will convert (over 4300,
    Python's `sys.int_info.str_digits_check_threshold`); the page never depends on either.
    """
    text = (raw or "").strip()
    if not _ASCII_DIGITS.fullmatch(text):
        return DEFAULT_REFRESH_SECONDS
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(_MAX_REFRESH_SECONDS)):
        return _MAX_REFRESH_SECONDS
    return min(int(digits), _MAX_REFRESH_SECONDS)
