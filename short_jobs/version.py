"""``--version`` for the console scripts, one way for both (``short-jobs``, ``short-jobs-mock``).

Add to a typer command or callback::

    version: Annotated[bool, typer.Option("--version", callback=version_callback(PROG),
                                          is_eager=True, help="Print the version.")] = False
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

__all__ = ["DISTRIBUTION", "package_version", "version_callback"]

DISTRIBUTION = "short-jobs-toolkit"


def package_version() -> str:
    """The installed distribution's version (``short-jobs-toolkit``), or ``unknown``."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def version_callback(prog: str) -> Callable[[bool], None]:
    """An eager option's callback printing ``{prog} {version}`` and exiting 0."""

    def show(value: bool) -> None:
        # typer only here: the mock's start reads `package_version` and never needs typer
        import typer

        if value:
            typer.echo(f"{prog} {package_version()}")
            raise typer.Exit()

    return show
