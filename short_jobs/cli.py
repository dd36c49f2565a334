"""``short-jobs``: the command line over :class:`short_jobs.ShortJobs`.

Design rules, and why:

- stdout carries results only (a table, or with ``--json`` exactly one JSON document), so the
  output pipes into ``jq`` or a file; progress bars and notes go to stderr.
- A failure is one line on stderr (``status``, ``error_code``, ``error_msg``, ``request_id``,
  what support needs) and a non-zero exit, never a traceback: a missing file, a bad endpoint and
  a refused connection are the user's to fix, not bugs to debug. ``SHORT_JOBS_DEBUG=1`` re-raises
  unexpected exceptions for the developer.
- Credentials come from the official SDK's environment variables by default, so nothing secret
  needs to be on the command line (where other users' ``ps`` would see it).

Exit codes: 0 success; 1 an error; 2 a usage error; 3 the job FAILED; 4 ``wait`` timed out;
130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from short_jobs.client import (
    AK_ENV,
    PROJECT_ID_ENV,
    SECURITY_TOKEN_ENV,
    SK_ENV,
    TOKEN_ENV,
    ShortJobs,
)
from short_jobs.endpoints import ENDPOINT_ENV
from short_jobs.errors import JobFailedError, ShortJobsError, WaitTimeoutError
from short_jobs.zipping import Source
from short_jobs_client.models import (
    AssessProperty,
    CreateShortJobResponse,
    Language,
    ShowShortJobResponse,
)
from short_jobs_client.types import Unset

__all__ = ["app", "main"]

APP_USER_ID_ENV = "SHORT_JOBS_APP_USER_ID"
DEBUG_ENV = "SHORT_JOBS_DEBUG"
EXIT_ERROR = 1
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130
PROG = "short-jobs"

METRICS: tuple[tuple[str, str], ...] = (
    ("speed", "speaking rate"),
    ("sound", "loudness"),
    ("snr", "signal-to-noise"),
    ("reverb", "reverberation"),
    ("dnsmos_ovrl", "DNSMOS overall"),
    ("dnsmos_bak", "DNSMOS background"),
)
"""The six assessed properties, in the order the API documents them, with a readable name."""

app = typer.Typer(
    name=PROG,
    help="Assess voice recordings with Huawei Cloud MetaStudio's short jobs (or its mock).",
    epilog="Exit codes: 0 ok, 1 error, 2 usage, 3 job FAILED, 4 wait timed out.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@dataclass(frozen=True)
class Settings:
    """The global options, handed from the callback to the commands."""

    endpoint: str | None
    project_id: str | None
    ak: str | None
    sk: str | None
    token: str | None
    app_user_id: str | None
    security_token: str | None = None

    def facade(self) -> ShortJobs:
        # Credentials left as None fall back to the environment inside ShortJobs, where the one
        # rule for AK/SK versus token lives.
        return ShortJobs(
            self.endpoint,
            project_id=self.project_id,
            ak=self.ak,
            sk=self.sk,
            token=self.token,
            security_token=self.security_token,
            app_user_id=self.app_user_id,
        )


# --- output --------------------------------------------------------------------------------


def _stdout() -> Console:
    # Piped into a file or another program there is no terminal width to respect: a wide
    # console keeps table cells from being cut at rich's fallback of 80 columns.
    return Console(width=None if sys.stdout.isatty() else 200)


def _stderr() -> Console:
    return Console(stderr=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _failure_line(error: ShortJobsError) -> str:
    """``short-jobs: AuthError: status=401 error_code=... error_msg="..." request_id=...``."""
    fields: list[tuple[str, object]] = [("status", error.status)]
    if isinstance(error, JobFailedError | WaitTimeoutError):
        fields.insert(0, ("job_id", error.job_id))
    fields += [
        ("error_code", error.error_code),
        ("error_msg", error.error_msg),
        ("request_id", error.request_id),
    ]
    shown = [
        f"{name}={json.dumps(_one_line(str(value)), ensure_ascii=False)}"
        if name == "error_msg"
        else f"{name}={value}"
        for name, value in fields
        if value is not None
    ]
    if error.error_msg is None:
        shown.append(f"message={json.dumps(_one_line(str(error)), ensure_ascii=False)}")
    return f"{PROG}: {type(error).__name__}: {' '.join(shown)}"


def _fail(line: str, code: int) -> NoReturn:
    # Plain write, not rich: rich would wrap a long line at the terminal width.
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


@contextmanager
def _reported() -> Iterator[None]:
    """Turn every failure into one stderr line and an exit code (see the module docstring)."""
    try:
        yield
    except typer.Exit:
        raise
    except JobFailedError as error:
        _fail(_failure_line(error), EXIT_JOB_FAILED)
    except WaitTimeoutError as error:
        _fail(_failure_line(error), EXIT_TIMEOUT)
    except ShortJobsError as error:
        _fail(_failure_line(error), EXIT_ERROR)
    except (OSError, ValueError) as error:
        _fail(f"{PROG}: error: {_one_line(_describe_local(error))}", EXIT_ERROR)
    except KeyboardInterrupt:
        _fail(f"{PROG}: interrupted", EXIT_INTERRUPTED)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        _fail(
            f"{PROG}: internal error: {type(error).__name__}: {_one_line(str(error))} "
            f"(set {DEBUG_ENV}=1 for a traceback)",
            EXIT_ERROR,
        )


def _describe_local(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _text(value: object) -> str:
    return "" if isinstance(value, Unset) or value is None else str(value)


def _status_cell(prop: AssessProperty) -> str:
    if isinstance(prop.status, Unset):
        return ""
    return "[green]ok[/green]" if prop.status == 0 else "[red]out of range[/red]"


def _suggestion_cell(prop: AssessProperty) -> str:
    lines = [_text(prop.suggestion), _text(prop.suggestion_en)]
    return "\n".join(line for line in lines if line)


def _print_detail(detail: ShowShortJobResponse) -> None:
    """The job's state, and the assessment as a table when there is one."""
    out = _stdout()
    out.print(f"job [bold]{detail.job_id}[/bold]: {detail.state.value}", highlight=False)
    if not isinstance(detail.job_failed_code, Unset):
        out.print(
            f"failed: {detail.job_failed_code}: {_text(detail.job_failed_reason)}",
            highlight=False,
            markup=False,
        )
    result = detail.assess_result
    if isinstance(result, Unset):
        return
    table = Table(title="Assessment", title_justify="left", show_lines=True)
    for column in ("metric", "expected", "actual", "status", "suggestion"):
        table.add_column(column, overflow="fold")
    for key, label in METRICS:
        prop = getattr(result, key)
        if isinstance(prop, AssessProperty):
            table.add_row(
                label,
                _text(prop.expected),
                _text(prop.actual),
                _status_cell(prop),
                _suggestion_cell(prop),
            )
    out.print(table)
    if not isinstance(result.suggestion, Unset):
        out.print(f"suggestion: {result.suggestion}", highlight=False, markup=False)


def _show_result(detail: ShowShortJobResponse, as_json: bool) -> None:
    if as_json:
        _print_json(detail.to_dict())
    else:
        _print_detail(detail)


class _Bars:
    """Rich progress on stderr for the upload (bytes) and the wait (state, elapsed time)."""

    def __init__(self) -> None:
        console = _stderr()
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            # Bars are for people: in a log or a pipe they would only add stray lines.
            disable=not console.is_terminal,
        )
        self._upload: TaskID | None = None
        self._wait: TaskID | None = None

    def created(self, job: CreateShortJobResponse) -> None:
        # A note for the person watching; a log or pipe gets only results and the failure line.
        if not self.progress.disable:
            self.progress.console.print(f"created job {job.job_id}", highlight=False)

    def uploaded(self, sent: int, total: int) -> None:
        if self._upload is None:
            self._upload = self.progress.add_task("upload", total=total, detail="")
        detail = f"{sent / 1e6:.1f}/{total / 1e6:.1f} MB"
        self.progress.update(self._upload, completed=sent, total=total, detail=detail)

    def polled(self, detail: ShowShortJobResponse) -> None:
        if self._wait is None:
            if self._upload is not None:
                self.progress.update(self._upload, visible=False)
            self._wait = self.progress.add_task("wait", total=None, detail="")
        self.progress.update(self._wait, detail=detail.state.value)


# --- commands ------------------------------------------------------------------------------


def _settings(ctx: typer.Context) -> Settings:
    settings = ctx.obj
    assert isinstance(settings, Settings)
    return settings


@app.callback()
def _options(
    ctx: typer.Context,
    endpoint: Annotated[
        str | None,
        typer.Option(
            envvar=ENDPOINT_ENV, help="API endpoint URL, or a region name such as cn-north-4."
        ),
    ] = None,
    project_id: Annotated[
        str | None, typer.Option(help=f"Project id (env: {PROJECT_ID_ENV}).")
    ] = None,
    ak: Annotated[str | None, typer.Option(help=f"Access key (env: {AK_ENV}).")] = None,
    sk: Annotated[
        str | None,
        typer.Option(help=f"Secret key (env: {SK_ENV}); prefer the variable."),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(help=f"IAM token instead of AK/SK (env: {TOKEN_ENV})."),
    ] = None,
    security_token: Annotated[
        str | None,
        typer.Option(
            help=f"Security token of temporary AK/SK from IAM (env: {SECURITY_TOKEN_ENV})."
        ),
    ] = None,
    app_user_id: Annotated[
        str | None,
        typer.Option(envvar=APP_USER_ID_ENV, help="Sent as X-App-UserId (visible ASCII)."),
    ] = None,
) -> None:
    """Global options. Credentials not given here come from the official SDK's variables
    (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, and
    HUAWEICLOUD_SDK_SECURITY_TOKEN with temporary AK/SK), or HUAWEICLOUD_SDK_TOKEN."""
    ctx.obj = Settings(endpoint, project_id, ak, sk, token, app_user_id, security_token)


LanguageOption = Annotated[
    Language, typer.Option(case_sensitive=False, help="Language of the recordings.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the job as JSON, nothing else.")]
TimeoutOption = Annotated[float, typer.Option(min=0.0, help="Seconds to wait for the assessment.")]


@app.command()
def assess(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(help="A .zip of WAV files, a directory of them, or WAV files."),
    ],
    language: LanguageOption = Language.CN,
    timeout: TimeoutOption = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Zip, upload, commit and wait: the whole job, then its assessment."""
    source: Source = paths[0] if len(paths) == 1 else paths
    bars = _Bars()
    with _reported(), _settings(ctx).facade() as sj, bars.progress:
        detail = sj.assess(
            source,
            language=language,
            timeout=timeout,
            progress=bars.uploaded,
            on_created=bars.created,
            on_poll=bars.polled,
        )
    _show_result(detail, as_json)


@app.command()
def create(
    ctx: typer.Context,
    language: LanguageOption = Language.CN,
    as_json: JsonOption = False,
) -> None:
    """Create a job; prints its id and the URL to upload the zip to."""
    with _reported(), _settings(ctx).facade() as sj:
        job = sj.create(language)
    if as_json:
        _print_json(job.to_dict())
    else:
        typer.echo(f"job_id: {job.job_id}\ndata_uploading_url: {job.data_uploading_url}")


@app.command()
def upload(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The job's data_uploading_url.")],
    file: Annotated[Path, typer.Argument(help="The zip of WAV files.")],
) -> None:
    """PUT a zip to a job's pre-signed upload URL (streamed)."""
    bars = _Bars()
    started = time.monotonic()
    with _reported(), _settings(ctx).facade() as sj, bars.progress:
        sj.upload(url, file, progress=bars.uploaded)
    size = file.stat().st_size
    typer.echo(f"uploaded {size} bytes in {time.monotonic() - started:.1f} s")


@app.command()
def commit(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
) -> None:
    """Start the assessment of a job whose zip is uploaded."""
    with _reported(), _settings(ctx).facade() as sj:
        sj.commit(job_id)
    typer.echo(f"committed {job_id}")


@app.command()
def show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    as_json: JsonOption = False,
) -> None:
    """Show a job once."""
    with _reported(), _settings(ctx).facade() as sj:
        detail = sj.show(job_id)
    _show_result(detail, as_json)


@app.command()
def wait(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    timeout: TimeoutOption = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Poll a committed job until it is SUCCEED (exit 0) or FAILED (exit 3)."""
    bars = _Bars()
    with _reported(), _settings(ctx).facade() as sj, bars.progress:
        detail = sj.wait(job_id, timeout, on_poll=bars.polled)
    _show_result(detail, as_json)


def main() -> None:
    """Console-script entry point (``short-jobs = "short_jobs.cli:main"``)."""
    app(prog_name=PROG)


if __name__ == "__main__":
    main()
