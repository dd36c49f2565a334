"""`short-jobs-mock assess PATH...`: what the mock would answer for these recordings, locally.

The same code as the mock's assessment: the recordings are zipped exactly as `short-jobs assess`
uploads them (`short_jobs.zipping`: a `.zip` as it is, a folder's `*.wav` files by relative path,
WAV files by name), the zip is read with the mock's limits and each WAV measured once; the job's
result is what ShowShortJob would return, and each file is also scored on its own.

Exit status: 0 the job would succeed (with `--strict`: and every metric, of the job and of each
file, is in range); 1 with `--strict`, a metric is out of range; 2 usage (no such path, no WAV in
a folder); 1 also when stdout refuses the answer (one line on stderr says so; a closed pipe,
`| head`, ends quietly); 3 the job would be FAILED (`job_failed_code` and `job_failed_reason`
printed), as `short-jobs` exits for a FAILED job.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand

from mock_server.assessment import (
    METRIC_NAMES,
    AssessmentFailed,
    FileStats,
    check_language,
    measure_zip,
    score,
)
from short_jobs.report import print_to_stdout, render_job, verdict
from short_jobs.terminal import EscapedErrors, LostStdout, clean, echo_json, writing
from short_jobs_client.models import AssessProperty, Language, ShowShortJobResponse

__all__ = [
    "EXIT_FAILED",
    "EXIT_OUT_OF_RANGE",
    "app",
    "assess",
    "evaluate",
    "file_block",
    "main",
]

EXIT_OUT_OF_RANGE = 1
EXIT_FAILED = 3


class _Command(LostStdout, EscapedErrors, TyperCommand):
    """The command, its usage errors printed escaped (short_jobs.terminal.EscapedErrors), a
    stdout that refuses the answer said in one line, exit 1 (short_jobs.terminal.LostStdout)."""


app = typer.Typer(add_completion=False, help=__doc__)


def evaluate(paths: Sequence[Path], language: str = "CN") -> dict[str, Any]:
    """The mock's answer for these recordings, plus each file's own result, as JSON-ready data:
    `{"state": "SUCCEED", "assess_result": {...}, "files": [{"name", "seconds", "sample_rate",
    "assess_result"}]}` or `{"state": "FAILED", "job_failed_code", "job_failed_reason"}`.

    Raises FileNotFoundError or ValueError (from `short_jobs.zipping`) for paths that cannot be
    zipped, ValueError for a language other than CN or EN.
    """
    from short_jobs.zipping import prepared_zip

    lang = check_language(language)
    source: str | list[str] = str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]
    with prepared_zip(source) as zip_path:
        try:
            stats = measure_zip(zip_path)
            result = score(stats, lang).to_json()
        except AssessmentFailed as failure:
            return {
                "state": "FAILED",
                "job_failed_code": failure.code,
                "job_failed_reason": failure.reason,
            }
    return {
        "state": "SUCCEED",
        "assess_result": result,
        "files": [_file_json(s, lang) for s in stats],
    }


def _file_json(stats: FileStats, language: str) -> dict[str, Any]:
    """A file's own entry; a take without speech has `no_speech` (why) and no assess_result."""
    entry: dict[str, Any] = {
        "name": stats.name,
        "seconds": round(stats.seconds, 3),
        "sample_rate": stats.sample_rate,
    }
    if stats.no_speech is not None:
        entry["no_speech"] = stats.no_speech
    else:
        entry["assess_result"] = score([stats], language).to_json()
    return entry


def _out_of_range(answer: dict[str, Any]) -> bool:
    results = [answer["assess_result"]] + [
        f["assess_result"] for f in answer["files"] if "assess_result" in f
    ]
    return any(
        isinstance(prop, dict) and prop.get("status") == 1
        for result in results
        for prop in result.values()
    )


def _print(answer: dict[str, Any], console: Console, language: str) -> None:
    """The job's answer as `short-jobs show` prints a job (`short_jobs.report`: the same
    verdicts, advice in `language`, the same widths), then a row per file."""
    if answer["state"] == "FAILED":
        console.print(
            f"FAILED: {clean(answer['job_failed_code'])}: {clean(answer['job_failed_reason'])}",
            markup=False,
            highlight=False,
        )
        return
    console.print("What the mock would answer for this job:", highlight=False)
    detail = ShowShortJobResponse.from_dict(
        {
            "job_id": "(local check)",
            "job_type": "VOICE_ASSESS",
            "state": "SUCCEED",
            "assess_result": answer["assess_result"],
        }
    )
    render_job(detail, console, Language(language))
    console.print()
    console.print("Each file on its own:", highlight=False)
    for entry in answer["files"]:
        for line in file_block(entry):
            console.print(line, overflow="fold", highlight=False)


def file_block(entry: dict[str, Any]) -> list[Text]:
    """One file's own result as lines: its name alone on the first (folded, never cut, at any
    width), then its length and rate, then a line per metric (its reading and, when not in
    range, the verdict). Readable at 80 columns whatever the name's length (a table's columns
    would share the width and cut names). Text from the upload is shown through `clean`."""
    lines = [Text(clean(entry["name"]), style="bold")]
    head = f"  {entry['seconds']:.1f} s, {entry['sample_rate']} Hz"
    if "no_speech" in entry:
        lines.append(Text(f"{head}: {clean(entry['no_speech'])}, left out of the job's metrics"))
        return lines
    lines.append(Text(head))
    for name in METRIC_NAMES:
        prop = AssessProperty.from_dict(entry["assess_result"][name])
        seen = verdict(prop)
        note = "" if seen in ("ok", "") else f"  ({seen})"
        lines.append(Text(f"  {name:<12} {clean(str(prop.actual))}{note}"))
    return lines


@app.command(cls=_Command)
def assess(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="WAV files, a folder of recordings, or one zip.",
            show_default=False,
            metavar="PATH...",
        ),
    ],
    language: Annotated[
        str, typer.Option(help="Language of the overall suggestion: CN or EN.")
    ] = "CN",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the job's answer and each file's).")
    ] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 when any metric is out of range.")] = False,
) -> None:
    """Print what the mock would answer for these recordings, and each file's own result."""
    try:
        answer = evaluate(paths, language)
    except (FileNotFoundError, ValueError) as exc:
        raise typer.BadParameter(clean(str(exc)), param_hint="PATHS") from exc
    with writing("the assessment"):
        if as_json:
            echo_json(answer)
        else:
            print_to_stdout(lambda console: _print(answer, console, language))
    if answer["state"] == "FAILED":
        raise typer.Exit(EXIT_FAILED)
    if strict and _out_of_range(answer):
        raise typer.Exit(EXIT_OUT_OF_RANGE)


def main(args: Sequence[str] | None = None) -> None:
    """Run the command (`args` without the program name and `assess`; default sys.argv)."""
    app(args=None if args is None else list(args), prog_name="short-jobs-mock assess")
