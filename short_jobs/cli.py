"""``short-jobs``: the command line over :class:`short_jobs.ShortJobs`.

Design rules, and why:

- stdout carries results only (a table, or with ``--json`` exactly one JSON document), so the
  output pipes into ``jq`` or a file; progress bars and notes go to stderr.
- A failure is one line on stderr (``status``, ``error_code``, ``error_msg``, ``request_id``,
  what support needs) and a non-zero exit, never a traceback: a missing file, a bad endpoint and
  a refused connection are the user's to fix, not bugs to debug. ``SHORT_JOBS_DEBUG=1`` re-raises
  unexpected exceptions for the developer. A stdout that refuses the results is such a line
  too (:class:`short_jobs.terminal.StdoutFailed`), naming the job so that it is not lost.
- Credentials come from the official SDK's environment variables by default, so nothing secret
  needs to be on the command line (where other users' ``ps`` would see it).

- Messages speak the command line's language: ``--project-id``, not ``project_id=``. A global
  option placed after the command (or a command's option before it) gets a hint where it goes.
- ``--json`` prints the job whatever the outcome: the final job when it FAILED (exit 3), the last
  one seen when ``wait`` timed out (exit 4); the failure line still goes to stderr.
- Ctrl-C while waiting says what became of the job: a committed job goes on in the service and
  ``short-jobs wait JOB_ID`` picks it up.

Exit codes: 0 success; 1 an error; 2 a usage error (a mistake found before anything was sent);
3 the job FAILED; 4 ``wait`` timed out; 5 ``conformance`` found a drift; 130 interrupted.

Adding a command: decorate a function with ``@app.command()`` taking ``ctx: typer.Context``;
``_settings(ctx).facade()`` gives the configured client and ``_reported()`` the failure
handling. The global-option hint covers it by itself.
"""

from __future__ import annotations

import json
import os
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
from typer._click import Context
from typer._click.core import ParameterSource
from typer._click.exceptions import NoSuchOption
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from short_jobs import terminal
from short_jobs._base import check_app_user_id
from short_jobs.client import (
    AK_ENV,
    PROJECT_ID_ENV,
    SECURITY_TOKEN_ENV,
    SK_ENV,
    TOKEN_ENV,
    ShortJobs,
)
from short_jobs.conformance.command import conformance
from short_jobs.endpoints import ENDPOINT_ENV
from short_jobs.errors import (
    JobFailedError,
    JobNotCommittedError,
    ShortJobsError,
    UsageError,
    WaitTimeoutError,
)
from short_jobs.numbers import seconds
from short_jobs.report import print_to_stdout, render_job
from short_jobs.version import version_callback
from short_jobs.zipping import Source
from short_jobs_client.models import CreateShortJobResponse, Language, ShowShortJobResponse

__all__ = ["app", "main"]

APP_USER_ID_ENV = "SHORT_JOBS_APP_USER_ID"
DEBUG_ENV = "SHORT_JOBS_DEBUG"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_JOB_FAILED = 3
EXIT_TIMEOUT = 4
EXIT_INTERRUPTED = 130
PROG = "short-jobs"

GLOBAL_OPTIONS = ("--endpoint", "--project-id", "--ak", "--sk", "--token", "--app-user-id")
"""The options of ``short-jobs`` itself, which go before the command."""


def _option(name: str) -> str:
    """A Python argument's name as this command line spells it (``project_id`` in)."""
    return "--" + name.replace("_", "-")


class _Group(terminal.LostStdout, terminal.EscapedErrors, TyperGroup):
    """The top-level command: says where an option goes when it is given on the wrong side,
    prints every usage error escaped (:class:`short_jobs.terminal.EscapedErrors`) and a stdout
    that refused the results as one line (:class:`short_jobs.terminal.LostStdout`).

    ``TyperGroup`` is typer's documented extension point (``typer.Typer(cls=...)``); the
    exceptions and context come from the click typer vendors (``typer._click``, private), so
    typer is pinned to one minor version and tests/client/test_cli.py fails loudly if the hint
    breaks.
    """

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except NoSuchOption as error:
            if error.option_name in GLOBAL_OPTIONS:
                command = ctx.invoked_subcommand or "COMMAND"
                raise ClickUsageError(
                    f"{error.option_name} is an option of {PROG} itself: put it before the "
                    f"command, as in `{PROG} {error.option_name} VALUE {command} ...`",
                    error.ctx,
                ) from None
            raise

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except NoSuchOption as error:
            owners = [
                name
                for name, command in self.commands.items()
                if any(error.option_name in p.opts for p in command.params)
            ]
            given = next((arg for arg in args if arg in owners), None)
            if owners:
                example = given or owners[0]
                raise ClickUsageError(
                    f"{error.option_name} is an option of the command "
                    f"({given or ', '.join(owners)}): put it after the command, as in "
                    f"`{PROG} {example} ... {error.option_name}`",
                    ctx,
                ) from None
            raise


app = typer.Typer(
    name=PROG,
    help="Assess voice recordings with Huawei Cloud MetaStudio's short jobs (or its mock).",
    epilog="Exit codes: 0 ok, 1 error, 2 usage, 3 job FAILED, 4 wait timed out, "
    "5 conformance drift, 130 interrupted.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Group,
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


def _stderr() -> Console:
    return Console(stderr=True, emoji=False)


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
    # Plain write, not rich: rich would wrap a long line at the terminal width. A failure is one
    # line whatever its fields hold: clean() escapes a newline from the service too.
    terminal.echo(terminal.clean(line), err=True)
    raise typer.Exit(code)


@dataclass
class _Job:
    """What the command knows of its job, to say what became of it if the user interrupts."""

    job_id: str | None = None
    committed: bool = False


def _interrupted(job: _Job | None) -> str:
    if job is None or job.job_id is None:
        return f"{PROG}: interrupted"
    if not job.committed:
        return (
            f"{PROG}: interrupted; job {job.job_id} was created but not committed, so nothing "
            f"runs: start again with `{PROG} assess`"
        )
    return (
        f"{PROG}: interrupted; job {job.job_id} goes on in the service: "
        f"pick it up with `{PROG} wait {job.job_id}`"
    )


def _not_committed(error: JobNotCommittedError) -> str:
    return (
        f"{PROG}: {type(error).__name__}: job_id={error.job_id} was never committed (still "
        f"{error.job.state.value} after {error.grace:g} s): upload its zip with `{PROG} upload "
        f"URL FILES...` and run `{PROG} commit {error.job_id}`, or do every step with "
        f"`{PROG} assess FILES...`"
    )


@contextmanager
def _reported(job: _Job | None = None, as_json: bool = False) -> Iterator[None]:
    """Turn every failure into one stderr line and an exit code (see the module docstring).

    With ``as_json`` the job a failure carries (FAILED, or last seen before a timeout) is
    printed on stdout first, so ``--json`` always answers the job.
    """
    try:
        yield
    except (typer.Exit, terminal.StdoutFailed):
        raise
    except JobFailedError as error:
        _fail_with_job(error.job if as_json else None, _failure_line(error), EXIT_JOB_FAILED)
    except WaitTimeoutError as error:
        _fail_with_job(error.last if as_json else None, _failure_line(error), EXIT_TIMEOUT)
    except JobNotCommittedError as error:
        _fail_with_job(error.job if as_json else None, _not_committed(error), EXIT_ERROR)
    except UsageError as error:
        _fail(f"{PROG}: error: {_one_line(error.describe(_option))}", EXIT_USAGE)
    except ShortJobsError as error:
        _fail(_failure_line(error), EXIT_ERROR)
    except (OSError, ValueError) as error:
        _fail(f"{PROG}: error: {_one_line(_describe_local(error))}", EXIT_ERROR)
    except KeyboardInterrupt:
        _fail(_interrupted(job), EXIT_INTERRUPTED)
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        _fail(
            f"{PROG}: internal error: {type(error).__name__}: {_one_line(str(error))} "
            f"(set {DEBUG_ENV}=1 for a traceback)",
            EXIT_ERROR,
        )


def _fail_with_job(job: ShowShortJobResponse | None, line: str, code: int) -> NoReturn:
    """``--json``'s job on stdout, then the failure's line and exit code. A stdout that refuses
    the job adds why to that one line (which names the job already): the failure stays the news."""
    if job is not None:
        try:
            _print_json(job.to_dict())
        except terminal.StdoutFailed as lost:
            if not lost.broken_pipe:
                line += f" (its JSON could not be written to stdout: {lost.reason})"
    _fail(line, code)


def _describe_local(error: Exception) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        return f"{error.strerror}: {error.filename}"
    return str(error) or type(error).__name__


def _print_json(data: dict[str, Any], *, secrets_shown: bool = False) -> None:
    terminal.echo_json(data, secrets_shown=secrets_shown)


def _show_result(detail: ShowShortJobResponse, as_json: bool, language: Language) -> None:
    # The job's id goes with a stdout failure: the job exists, only its printout is lost.
    with terminal.writing("the job", detail.job_id):
        if as_json:
            _print_json(detail.to_dict())
        else:
            print_to_stdout(lambda console: render_job(detail, console, language))


class _Bars:
    """Rich progress on stderr for the upload (bytes) and the wait (state, elapsed time)."""

    def __init__(self, job: _Job | None = None) -> None:
        self.job = job if job is not None else _Job()
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
        self._zip: TaskID | None = None
        self._upload: TaskID | None = None
        self._wait: TaskID | None = None
        self.uploaded_bytes = 0

    def zipped(self, done: int, total: int) -> None:
        if self._zip is None:
            self._zip = self.progress.add_task("zip", total=total, detail="")
        self.progress.update(self._zip, completed=done, total=total, detail=f"{done}/{total} files")

    def created(self, job: CreateShortJobResponse) -> None:
        self.job.job_id = job.job_id
        # A note for the person watching; a log or pipe gets only results and the failure line.
        if not self.progress.disable:
            self.progress.console.print(
                f"created job {terminal.markup(job.job_id)}", highlight=False
            )

    def uploaded(self, sent: int, total: int) -> None:
        self.uploaded_bytes = sent
        if self._zip is not None:
            self.progress.update(self._zip, visible=False)
        if self._upload is None:
            self._upload = self.progress.add_task("upload", total=total, detail="")
        detail = f"{sent / 1e6:.1f}/{total / 1e6:.1f} MB"
        self.progress.update(self._upload, completed=sent, total=total, detail=detail)

    def polled(self, detail: ShowShortJobResponse) -> None:
        self.job.committed = True  # only a committed job is polled
        if self._wait is None:
            if self._upload is not None:
                self.progress.update(self._upload, visible=False)
            self._wait = self.progress.add_task("wait", total=None, detail="")
        self.progress.update(self._wait, detail=terminal.markup(detail.state.value))


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
        # Read from the variable by ShortJobs itself, not by typer, so a bad value is reported
        # as the variable's.
        typer.Option(
            help=f"API endpoint URL, or a region name such as cn-north-4 (env: {ENDPOINT_ENV})."
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
    _version: Annotated[
        bool,
        typer.Option(
            "--version", callback=version_callback(PROG), is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Global options. Credentials not given here come from the official SDK's variables
    (HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_PROJECT_ID, and
    HUAWEICLOUD_SDK_SECURITY_TOKEN with temporary AK/SK), or HUAWEICLOUD_SDK_TOKEN."""
    if ctx.get_parameter_source("app_user_id") is ParameterSource.ENVIRONMENT:
        with _reported():
            check_app_user_id(app_user_id, APP_USER_ID_ENV)
    ctx.obj = Settings(endpoint, project_id, ak, sk, token, app_user_id, security_token)


LanguageOption = Annotated[
    Language,
    typer.Option(case_sensitive=False, help="Language of the recordings and of the advice."),
]
AdviceLanguageOption = Annotated[
    Language, typer.Option(case_sensitive=False, help="Language of the advice printed.")
]
PathsArgument = Annotated[
    list[Path],
    typer.Argument(help="A .zip of WAV files, directories of them, or WAV files (one or more)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the job as JSON, nothing else.")]
TimeoutOption = Annotated[
    float, typer.Option(click_type=seconds(), help="Seconds to wait for the assessment.")
]


def _source(paths: list[Path]) -> Source:
    return paths[0] if len(paths) == 1 else paths


@app.command()
def assess(
    ctx: typer.Context,
    paths: PathsArgument,
    language: LanguageOption = Language.CN,
    timeout: TimeoutOption = 600.0,
    as_json: JsonOption = False,
) -> None:
    """Zip, upload, commit and wait: the whole job, then its assessment."""
    bars = _Bars()
    with _reported(bars.job, as_json), _settings(ctx).facade() as sj, bars.progress:
        detail = sj.assess(
            _source(paths),
            language=language,
            timeout=timeout,
            progress=bars.uploaded,
            on_zip=bars.zipped,
            on_created=bars.created,
            on_poll=bars.polled,
        )
    _show_result(detail, as_json, language)


@app.command()
def create(
    ctx: typer.Context,
    language: LanguageOption = Language.CN,
    as_json: JsonOption = False,
) -> None:
    """Create a job; prints its id and the URL to upload the zip to."""
    with _reported(), _settings(ctx).facade() as sj:
        job = sj.create(language)
    # The upload URL's signature is the credential this command exists to hand over: shown on
    # stdout, never on stderr; a stdout that refuses it still gets the job's id said.
    with terminal.writing("the created job", job.job_id):
        if as_json:
            _print_json(job.to_dict(), secrets_shown=True)
        else:
            terminal.echo(
                f"job_id: {terminal.clean(job.job_id)}\n"
                f"data_uploading_url: {terminal.escape(job.data_uploading_url)}",
                secrets_shown=True,
            )


@app.command()
def upload(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The job's data_uploading_url.")],
    paths: PathsArgument,
) -> None:
    """PUT recordings to a job's pre-signed upload URL (a zip as it is; anything else zipped)."""
    bars = _Bars()
    started = time.monotonic()
    with _reported(), _settings(ctx).facade() as sj, bars.progress:
        sj.upload(url, _source(paths), progress=bars.uploaded, on_zip=bars.zipped)
    terminal.echo(f"uploaded {bars.uploaded_bytes} bytes in {time.monotonic() - started:.1f} s")


@app.command()
def commit(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
) -> None:
    """Start the assessment of a job whose zip is uploaded."""
    with _reported(), _settings(ctx).facade() as sj:
        sj.commit(job_id)
    terminal.echo(f"committed {terminal.clean(job_id)}")


@app.command()
def show(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    language: AdviceLanguageOption = Language.CN,
    as_json: JsonOption = False,
) -> None:
    """Show a job once."""
    with _reported(), _settings(ctx).facade() as sj:
        detail = sj.show(job_id)
    _show_result(detail, as_json, language)


@app.command()
def wait(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(help="The job id.")],
    timeout: TimeoutOption = 600.0,
    language: AdviceLanguageOption = Language.CN,
    as_json: JsonOption = False,
) -> None:
    """Poll a committed job until it is SUCCEED (exit 0) or FAILED (exit 3).

    A job still CREATING after a few seconds was never committed: said at once, not after
    the timeout.
    """
    bars = _Bars(_Job(job_id, committed=True))
    with _reported(bars.job, as_json), _settings(ctx).facade() as sj, bars.progress:
        detail = sj.wait(job_id, timeout, on_poll=bars.polled)
    _show_result(detail, as_json, language)


app.command()(conformance)


def main() -> None:
    """Console-script entry point (``short-jobs = "short_jobs.cli:main"``)."""
    app(prog_name=PROG)


if __name__ == "__main__":
    main()
