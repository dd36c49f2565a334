"""10 ms frame energies, computed as the samples stream by, and small helpers over them.

A frame's energy is the variance of its samples (DC removed); its level `10*log10(energy)` in dBFS
(a full-scale square wave = 0 dBFS), floored at -120 dB.
"""

from __future__ import annotations

import itertools
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["ENERGY_FLOOR", "FRAME_SECONDS", "FrameEnergies", "db", "fill_gaps", "runs", "smooth"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

FRAME_SECONDS: Final = 0.01
ENERGY_FLOOR: Final = 1e-12


def db(power: float | FloatArray) -> FloatArray:
    """10*log10(power), floored at -120 dB."""
    return np.asarray(10.0 * np.log10(np.maximum(power, ENERGY_FLOOR)), dtype=np.float64)


def smooth(x: FloatArray, frames: int) -> FloatArray:
    """A centred moving average over `frames` values."""
    if frames <= 1 or x.size == 0:
        return x
    kernel = np.ones(frames) / frames
    out: FloatArray = np.convolve(x, kernel, mode="same")
    return out


def runs(mask: BoolArray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def fill_gaps(mask: BoolArray, max_gap: int) -> BoolArray:
    """`mask` with False gaps shorter than `max_gap` between True runs set True."""
    out = mask.copy()
    for (_, end), (start, _) in itertools.pairwise(runs(mask)):
        if start - end < max_gap:
            out[end:start] = True
    return out


class FrameEnergies:
    """Feed mono chunks; `energies()` is one value per complete 10 ms frame."""

    def __init__(self, sample_rate: int) -> None:
        self.hop = max(1, round(sample_rate * FRAME_SECONDS))
        self.frame_seconds = self.hop / sample_rate
        self._pending: FloatArray = np.zeros(0)
        self._parts: list[FloatArray] = []

    def feed(self, mono: FloatArray) -> None:
        buf = np.concatenate((self._pending, mono)) if self._pending.size else mono
        full = buf.size // self.hop
        if full:
            frames = buf[: full * self.hop].reshape(full, self.hop)
            mean = frames.sum(axis=1) / self.hop
            power = np.einsum("ij,ij->i", frames, frames) / self.hop
            self._parts.append(np.maximum(power - mean * mean, 0.0))  # the frame's variance
        self._pending = buf[full * self.hop :].copy()

    def energies(self) -> FloatArray:
        return np.concatenate(self._parts) if self._parts else np.zeros(0)
