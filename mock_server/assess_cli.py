"""`short-jobs-mock assess PATH...`: what the mock would answer for these recordings, locally.

The same code as the mock's assessment: the recordings are zipped exactly as `short-jobs assess`
uploads them (`short_jobs.zipping`: a `.zip` as it is, a folder's `*.wav` files by relative path,
WAV files by name), the zip is read with the mock's limits and each WAV measured once; the job's
result is what ShowShortJob would return, and each file is also scored on its own.

Exit status: 0 the job would succeed (with `--strict`: and every metric, of the job and of each
file, is in range); 1 with `--strict`, a metric is out of range; 2 usage (no such path, no WAV in
a folder); 3 the job would be FAILED (`job_failed_code` and `job_failed_reason` printed), as
`short-jobs` exits for a FAILED job.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from mock_server.assessment import (
    Assessment,
    AssessmentFailed,
    FileStats,
    check_language,
    measure_zip,
    score,
)

__all__ = ["EXIT_FAILED", "EXIT_OUT_OF_RANGE", "app", "assess", "evaluate", "main"]

EXIT_OUT_OF_RANGE = 1
EXIT_FAILED = 3

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
        except AssessmentFailed as failure:
            return {
                "state": "FAILED",
                "job_failed_code": failure.code,
                "job_failed_reason": failure.reason,
            }
    return {
        "state": "SUCCEED",
        "assess_result": score(stats, lang).to_json(),
        "files": [_file_json(s, lang) for s in stats],
    }


def _file_json(stats: FileStats, language: str) -> dict[str, Any]:
    return {
        "name": stats.name,
        "seconds": round(stats.seconds, 3),
        "sample_rate": stats.sample_rate,
        "assess_result": score([stats], language).to_json(),
    }


def _out_of_range(answer: dict[str, Any]) -> bool:
    results = [answer["assess_result"]] + [f["assess_result"] for f in answer["files"]]
    return any(
        isinstance(prop, dict) and prop.get("status") == 1
        for result in results
        for prop in result.values()
    )


def _print(answer: dict[str, Any], console: Console) -> None:
    if answer["state"] == "FAILED":
        console.print(
            f"FAILED: {answer['job_failed_code']}: {answer['job_failed_reason']}",
            markup=False,
            highlight=False,
        )
        return
    result = answer["assess_result"]
    table = Table(title="The mock would answer: SUCCEED", title_justify="left")
    for column in ("metric", "expected", "actual", "status", "suggestion"):
        table.add_column(column, overflow="fold")
    for name in Assessment.__dataclass_fields__:
        prop = result.get(name)
        if isinstance(prop, dict):
            status = "[green]ok[/green]" if prop["status"] == 0 else "[red]out of range[/red]"
            table.add_row(name, prop["expected"], prop["actual"], status, prop["suggestion_en"])
    console.print(table)
    console.print(f"suggestion: {result['suggestion']}", markup=False, highlight=False)
    files = Table(title="Each file on its own", title_justify="left")
    for column in ("file", "s", "out of range", *_METRICS.values()):
        files.add_column(column, overflow="fold")
    for entry in answer["files"]:
        own = entry["assess_result"]
        bad = [n for n in _METRICS if own[n]["status"] == 1]
        files.add_row(
            entry["name"],
            f"{entry['seconds']:.1f}",
            ", ".join(bad) or "-",
            *(own[n]["actual"].split(" ")[0] for n in _METRICS),
        )
    console.print(files)


# The per-file table's headers: the metric and the unit of its number.
_METRICS = {
    "speed": "syl/s",
    "sound": "LUFS",
    "snr": "SNR dB",
    "reverb": "RT s",
    "dnsmos_ovrl": "OVRL",
    "dnsmos_bak": "BAK",
}


@app.command()
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
        raise typer.BadParameter(str(exc), param_hint="PATHS") from exc
    if as_json:
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2))
    else:
        _print(answer, Console(soft_wrap=False))
    if answer["state"] == "FAILED":
        raise typer.Exit(EXIT_FAILED)
    if strict and _out_of_range(answer):
        raise typer.Exit(EXIT_OUT_OF_RANGE)


def main(args: Sequence[str] | None = None) -> None:
    """Run the command (`args` without the program name and `assess`; default sys.argv)."""
    app(args=None if args is None else list(args), prog_name="short-jobs-mock assess")
