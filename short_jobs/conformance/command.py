"""The ``short-jobs conformance`` subcommand (registered by :mod:`short_jobs.cli`).

It uses the CLI's global options through the object the CLI's callback stores on the context (its
``facade()`` builds the :class:`~short_jobs.ShortJobs` every command uses), so the endpoint,
project and credentials are read exactly as for ``assess``. The checking modules are imported
only when the command runs: without the ``conformance`` extra the rest of the CLI still works.

Exit codes: 0 no statement drifted; 5 at least one drifted; otherwise the CLI's own (1 an error,
such as no answer or refused credentials; 2 usage; 4 the job did not finish within ``--timeout``
and nothing drifted; 130 interrupted).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from short_jobs import ShortJobs
    from short_jobs.conformance.runner import Target

__all__ = ["EXIT_DRIFT", "conformance"]

EXIT_DRIFT = 5
EXTRA_HINT = "pip install 'short-jobs-toolkit[conformance]'"


def _fail(line: str, code: int) -> NoReturn:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


@contextmanager
def _failures() -> Iterator[None]:
    """Every failure that is not a drift: one stderr line and the CLI's exit code."""
    from short_jobs.cli import EXIT_ERROR, EXIT_INTERRUPTED, PROG
    from short_jobs.errors import ShortJobsError

    try:
        yield
    except typer.Exit:
        raise
    except ShortJobsError as error:
        name = type(error).__name__
        _fail(f"{PROG} conformance: {name}: {' '.join(str(error).split())}", EXIT_ERROR)
    except (OSError, ValueError, RuntimeError) as error:
        _fail(f"{PROG} conformance: error: {' '.join(str(error).split())}", EXIT_ERROR)
    except KeyboardInterrupt:
        _fail(f"{PROG} conformance: interrupted", EXIT_INTERRUPTED)


def _target(facade: ShortJobs, ak: str | None, sk: str | None) -> Target:
    """The run's target from the facade the CLI built (its endpoint, project and auth).

    The signature probes sign with the same AK/SK themselves, so when the facade chose AK/SK
    auth, the keys are read the way it read them: the option, else the official variable.
    """
    from short_jobs.auth import AkSkAuth
    from short_jobs.client import AK_ENV, SK_ENV
    from short_jobs.conformance.runner import Target

    keys = None
    if isinstance(facade.auth, AkSkAuth):
        ak = ak or os.environ.get(AK_ENV)
        sk = sk or os.environ.get(SK_ENV)
        keys = (ak, sk) if ak and sk else None
    return Target(
        endpoint=facade.endpoint,
        project_id=facade.project_id,
        auth=facade.auth,
        keys=keys,
        app_user_id=facade.app_user_id,
    )


def conformance(
    ctx: typer.Context,
    max_jobs: Annotated[
        int, typer.Option(min=0, help="Jobs the run may create: 2 (CN and EN), 1 (CN) or 0.")
    ] = 2,
    timeout: Annotated[
        float, typer.Option(min=0.0, help="Seconds to wait for the job's final state.")
    ] = 600.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as one JSON document, nothing else.")
    ] = False,
    junit_xml: Annotated[
        Path | None, typer.Option("--junit-xml", help="Also write the report as JUnit XML here.")
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Write every exchange to this HAR 1.2 file, secrets scrubbed."),
    ] = None,
    spec: Annotated[
        Path | None, typer.Option(help="The OpenAPI document to check against (default: ours).")
    ] = None,
) -> None:
    """Check the endpoint against openapi.yaml and the API reference's statements.

    Creates at most --max-jobs jobs and uploads a few seconds of generated audio; never sends a
    destructive call. One line per statement (held, drifted, not tried), then a summary. Exit 0
    when nothing drifted, 5 when a statement drifted, 1 on other errors.
    """
    from short_jobs.cli import EXIT_ERROR, EXIT_TIMEOUT, PROG

    try:
        from short_jobs.conformance.har import Recorder
        from short_jobs.conformance.runner import Options, run
        from short_jobs.conformance.spec import Contract
    except ImportError as error:
        _fail(
            f"{PROG} conformance: error: needs the 'conformance' extra ({error.name} is missing): "
            f"{EXTRA_HINT}",
            EXIT_ERROR,
        )
    settings = ctx.obj
    recorder = Recorder()
    with _failures():
        contract = Contract.load(spec)
        with settings.facade() as facade:
            target = _target(facade, settings.ak, settings.sk)
        try:
            report = run(
                target,
                Options(max_jobs=max_jobs, timeout=timeout),
                contract,
                recorder,
                say=lambda line: typer.echo(line, err=True),
            )
        finally:
            if record is not None:
                recorder.write(record, _version())
        if junit_xml is not None:
            junit_xml.write_bytes(report.junit_xml())
    sys.stdout.write(report.json() if as_json else report.text())
    if report.drifted:
        raise typer.Exit(EXIT_DRIFT)
    if report.timed_out:
        raise typer.Exit(EXIT_TIMEOUT)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("short-jobs-toolkit")
    except PackageNotFoundError:
        return ""
