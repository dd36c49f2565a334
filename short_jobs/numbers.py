"""The one type of every numeric option of ``short-jobs``: a finite number within its range.

click's ``FloatRange(min=0)`` lets ``nan`` through (every comparison with NaN is false, so no
bound refuses it) and ``inf`` too; ``--timeout nan`` then ran a whole job. :class:`Bounded` parses
the value, refuses NaN and the infinities, then checks both bounds, and click's usage error names
the option (``Invalid value for '--timeout': ...``, exit 2) before anything is sent.

typer vendors its own click (``typer._click``, private): the type subclasses that click's
``ParamType``, as typer's ``click_type=`` expects; typer is pinned to one minor version.
"""

from __future__ import annotations

import math
from typing import Any

from typer._click import Context, Parameter
from typer._click.types import ParamType

__all__ = ["Bounded", "count", "seconds"]


class Bounded(ParamType):
    """A finite number in ``[low, high]`` (``high`` ``None``: no upper bound); whole with
    ``whole``. Its metavar shows the range, so ``--help`` says what is accepted."""

    def __init__(self, low: float, high: float | None = None, *, whole: bool = False) -> None:
        self.low = low
        self.high = high
        self.whole = whole
        self.name = "integer" if whole else "float"

    def get_metavar(self, param: Parameter, ctx: Context) -> str:
        kind = "INTEGER" if self.whole else "SECONDS"
        top = "" if self.high is None else f"{self.high:g}"
        return f"{kind} [{self.low:g}-{top}]" if top else f"{kind} [>={self.low:g}]"

    def convert(self, value: Any, param: Parameter | None, ctx: Context | None) -> float | int:
        number = self._parse(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        if number < self.low or (self.high is not None and number > self.high):
            self.fail(f"{value!r} is not in {self._range()}.", param, ctx)
        return number

    def _parse(self, value: Any, param: Parameter | None, ctx: Context | None) -> float | int:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value  # a default, already a number
        try:
            return int(value) if self.whole else float(value)
        except (TypeError, ValueError):
            kind = "an integer" if self.whole else "a number"
            self.fail(f"{value!r} is not {kind}.", param, ctx)

    def _range(self) -> str:
        if self.high is None:
            return f"the range x>={self.low:g}"
        return f"the range {self.low:g}<=x<={self.high:g}"


def seconds() -> Bounded:
    """A duration in seconds: finite and not negative (``inf`` would be a wait without end, and
    every layer below measures against a finite deadline)."""
    return Bounded(0.0)


def count(low: int, high: int) -> Bounded:
    """A whole number in ``[low, high]``."""
    return Bounded(low, high, whole=True)
