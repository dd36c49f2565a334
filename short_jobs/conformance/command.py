"""The ``short-jobs conformance`` subcommand (registered by :mod:`short_jobs.cli`).

It uses the CLI's global options through the object the CLI's callback stores on the context (its
``facade()`` builds the :class:`~short_jobs.ShortJobs` every command uses), so the endpoint,
project and credentials are read exactly as for ``assess``. The checking modules are imported
only when the command runs: without the ``conformance`` extra the rest of the CLI still works.

Exit codes: 0 no statement drifted; 5 at least one drifted; otherwise the CLI's own (1 an error,
such as no answer, refused credentials or an output file that failed to write; 2 usage: an
output path, ``--spec``, the endpoint or the credentials found wrong before the first request;
4 the job did not finish within ``--timeout`` and nothing drifted; 130 interrupted).

Order, so that nothing measured is lost: every option is checked first; the report goes to
stdout as soon as the run ends; only then are ``--junit-xml`` and ``--record`` written (a run
cut short still writes its HAR file, the evidence of what happened).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from short_jobs.numbers import count, seconds

if TYPE_CHECKING:
    from short_jobs import ShortJobs
    from short_jobs.conformance.har import Recorder
    from short_jobs.conformance.report import Report
    from short_jobs.conformance.runner import Target
    from short_jobs.conformance.spec import Contract
    from short_jobs.output_file import OutputFile

__all__ = ["EXIT_DRIFT", "conformance"]

EXIT_DRIFT = 5
EXTRA_HINT = "pip install 'short-jobs-toolkit[conformance]'"


def _fail(line: str, code: int) -> NoReturn:
    from short_jobs import terminal

    terminal.echo(terminal.clean(line), err=True)
    raise typer.Exit(code)


@contextmanager
def _failures() -> Iterator[None]:
    """Every failure that is not a drift: one stderr line and the CLI's exit code (a usage
    error, found before anything is sent, is 2)."""
    from short_jobs.cli import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, PROG
    from short_jobs.cli import _option as option
    from short_jobs.errors import ShortJobsError, UsageError

    try:
        yield
    except typer.Exit:
        raise
    except UsageError as error:
        _fail(f"{PROG} conformance: error: {' '.join(error.describe(option).split())}", EXIT_USAGE)
    except ShortJobsError as error:
        name = type(error).__name__
        _fail(f"{PROG} conformance: {name}: {' '.join(str(error).split())}", EXIT_ERROR)
    except (OSError, ValueError, RuntimeError) as error:
        _fail(f"{PROG} conformance: error: {' '.join(str(error).split())}", EXIT_ERROR)
    except KeyboardInterrupt:
        _fail(f"{PROG} conformance: interrupted", EXIT_INTERRUPTED)


def open_outputs(outputs: dict[str, Path | None]) -> dict[str, OutputFile]:
    """Open every output file named (:class:`~short_jobs.output_file.OutputFile`: refused now,
    exit 2, whatever the kernel would refuse later); two options naming one file are refused too.
    On a refusal the ones already opened are discarded."""
    from short_jobs.errors import UsageError
    from short_jobs.output_file import OutputFile

    opened: dict[str, OutputFile] = {}
    try:
        for option, path in outputs.items():
            if path is not None:
                opened[option] = OutputFile.open(path, option)
        files = list(opened.items())
        for index, (option, output) in enumerate(files):
            for other, later in files[index + 1 :]:
                if output.same_file(later):
                    raise UsageError(f"{option} and {other} name the same file")
    except BaseException:
        for output in opened.values():
            output.discard()
        raise
    return opened


def _load_contract(spec: Path | None) -> Contract:
    """The spec to check against; one that cannot be read is a usage error (exit 2)."""
    import yaml

    from short_jobs.conformance.spec import Contract
    from short_jobs.errors import UsageError, literal

    try:
        return Contract.load(spec)
    except (OSError, ValueError, yaml.YAMLError) as error:
        if spec is None:
            raise  # our own spec missing: a broken install, not the user's mistake
        detail = getattr(error, "strerror", None) or " ".join(str(error).split())
        raise UsageError(
            f"--spec {literal(repr(str(spec)))} cannot be read as an OpenAPI document: "
            f"{literal(str(detail))}"
        ) from None


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
        int,
        typer.Option(
            click_type=count(0, 2), help="Jobs the run may create: 2 (CN and EN), 1 (CN) or 0."
        ),
    ] = 2,
    timeout: Annotated[
        float,
        typer.Option(click_type=seconds(), help="Seconds to wait for the job's final state."),
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
        from short_jobs.conformance.spec import Contract  # noqa: F401 - the extra's check
    except ImportError as error:
        _fail(
            f"{PROG} conformance: error: needs the 'conformance' extra ({error.name} is missing): "
            f"{EXTRA_HINT}",
            EXIT_ERROR,
        )
    from short_jobs import terminal

    settings = ctx.obj
    recorder = Recorder()
    # Everything the user gave is checked before the first request (exit 2): the output files
    # (opened now, written at the end), the spec, the endpoint and credentials (the facade).
    with _failures():
        outputs = open_outputs({"--record": record, "--junit-xml": junit_xml})
    har, junit = outputs.get("--record"), outputs.get("--junit-xml")
    report: Report | None = None
    try:
        with _failures():
            contract = _load_contract(spec)
            with settings.facade() as facade:
                target = _target(facade, settings.ak, settings.sk)
            try:
                report = run(
                    target,
                    Options(max_jobs=max_jobs, timeout=timeout),
                    contract,
                    recorder,
                    say=_say,
                )
            finally:
                if report is None and har is not None:
                    # Cut short (refused credentials, no answer): the exchanges are the evidence.
                    _write_har(recorder, har, quiet=True)
    finally:
        if report is None:
            for output in outputs.values():
                output.discard()  # a file the check created and nothing was written to
    # What was measured goes out first; a file that then fails to write loses nothing of it, and
    # a stdout that refuses the report loses none of the files (said after they are written).
    lost: terminal.StdoutFailed | None = None
    try:
        with terminal.writing("the conformance report"):
            terminal.echo((report.json() if as_json else report.text()).rstrip("\n"))
    except terminal.StdoutFailed as error:
        lost = error
    failed = False
    if junit is not None:
        failed |= not _write(junit, report.junit_xml)
    if har is not None:
        failed |= not _write_har(recorder, har)
    if lost is not None:
        raise lost
    if failed:
        raise typer.Exit(EXIT_ERROR)
    if report.drifted:
        raise typer.Exit(EXIT_DRIFT)
    if report.timed_out:
        raise typer.Exit(EXIT_TIMEOUT)


def _say(line: str) -> None:
    from short_jobs import terminal

    terminal.echo(terminal.clean(line), err=True)


def _write(output: OutputFile, content: Callable[[], bytes], *, quiet: bool = False) -> bool:
    """Write an output file; on failure one stderr line (the run's result is already out), or
    with ``quiet`` (another failure is being reported) nothing."""
    from short_jobs import terminal
    from short_jobs.cli import PROG

    try:
        output.write(content())
    except (OSError, RuntimeError) as error:
        if not quiet:
            detail = getattr(error, "strerror", None) or " ".join(str(error).split())
            line = f"{PROG} conformance: error: {output.option} {output.path}: {detail}"
            terminal.echo(terminal.clean(line), err=True)
        return False
    finally:
        output.discard()  # closed by write; removed only if created and nothing got written
    return True


def _write_har(recorder: Recorder, output: OutputFile, *, quiet: bool = False) -> bool:
    """Write the HAR file (``quiet``: see :func:`_write`)."""
    version = _version()
    return _write(output, lambda: recorder.har_bytes(version), quiet=quiet)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("short-jobs-toolkit")
    except PackageNotFoundError:
        return ""
