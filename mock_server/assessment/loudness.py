"""Integrated loudness per ITU-R BS.1770-4 (the measure EBU R128 uses), streamed.

ITU-R BS.1770-4 (10/2015), "Algorithms to measure audio programme loudness and true-peak audio
level": K-weighting (a high shelf, then a high pass), mean square over 400 ms blocks overlapping
by 75 %, an absolute gate at -70 LKFS and a relative gate 10 LU below the absolutely gated level;
loudness = -0.691 + 10 log10(mean square). The filters are pyloudnorm's (`IIRfilter`, the same
"K-weighting" its `Meter` uses, designed for any sample rate), run with scipy's `lfilter`
carrying its state from chunk to chunk, so a recording of any length is measured in one pass
holding only one 100 ms value per 100 ms of audio. The block bounds are pyloudnorm's
(`int(0.4 * (j * 0.25) * rate)` to `int(0.4 * (j * 0.25 + 1) * rate)`), so the result equals
`pyloudnorm.Meter(rate).integrated_loudness(x)` on the whole signal.

The mock measures the mono mix (one channel of gain 1.0), as for a mono recording.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = ["LoudnessStream"]

FloatArray = npt.NDArray[np.float64]

BLOCK_SECONDS: Final = 0.4
STEP: Final = 0.25  # of a block: 75 % overlap
ABSOLUTE_GATE: Final = -70.0
RELATIVE_GATE: Final = -10.0
SILENCE_LUFS: Final = -120.0  # what a recording with no block above the gates reads as


def _lufs(mean_square: float) -> float:
    return -0.691 + 10.0 * math.log10(mean_square) if mean_square > 0 else -math.inf


class LoudnessStream:
    """Feed mono chunks at `sample_rate`; `finish()` is the integrated loudness in LUFS
    (floored at -120 LUFS, also for clips shorter than one 400 ms block)."""

    def __init__(self, sample_rate: int) -> None:
        from pyloudnorm.iirfilter import IIRfilter
        from scipy.signal import lfilter_zi

        self.rate = sample_rate
        stages = (
            IIRfilter(4.0, 1 / math.sqrt(2), 1500.0, sample_rate, "high_shelf"),
            IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"),
        )
        self._stages = [(s.b, s.a, s.passband_gain, lfilter_zi(s.b, s.a) * 0.0) for s in stages]
        self._squares: list[float] = []  # cumulative sums of squares, at every block boundary
        self._cum = 0.0
        self._seen = 0
        self._marks = self._boundaries()
        self._next_mark = next(self._marks)

    def _boundaries(self) -> Iterator[int]:
        """Sample indices where block sums are read: every block's lower and upper bound."""
        j = 0
        while True:
            yield int(BLOCK_SECONDS * (j * STEP) * self.rate)
            j += 1

    def feed(self, mono: FloatArray) -> None:
        from scipy.signal import lfilter

        y = mono
        for i, (b, a, gain, zi) in enumerate(self._stages):
            y, zf = lfilter(b, a, y, zi=zi)
            y = y * gain
            self._stages[i] = (b, a, gain, zf)
        cum = np.cumsum(np.square(y))
        start = self._seen
        self._seen += y.size
        while self._next_mark <= self._seen:
            at = self._next_mark - start
            self._squares.append(self._cum + (float(cum[at - 1]) if at > 0 else 0.0))
            self._next_mark = next(self._marks)
        if cum.size:
            self._cum += float(cum[-1])

    def finish(self) -> float:
        t = self._seen / self.rate
        blocks = int(np.round((t - BLOCK_SECONDS) / (BLOCK_SECONDS * STEP))) + 1
        width = BLOCK_SECONDS * self.rate
        # A last block may reach past the end, as in pyloudnorm: its sum stops at the end.
        while len(self._squares) < blocks + 4:
            self._squares.append(self._cum)
        # Block j spans boundaries j .. j+4 (each a quarter block apart).
        z = [(self._squares[j + 4] - self._squares[j]) / width for j in range(max(blocks, 0))]
        loud = [_lufs(v) for v in z]
        gated = [v for v, lj in zip(z, loud, strict=True) if lj >= ABSOLUTE_GATE]
        if not gated:
            return SILENCE_LUFS
        relative = _lufs(math.fsum(gated) / len(gated)) + RELATIVE_GATE
        kept = [v for v, lj in zip(z, loud, strict=True) if lj > relative and lj > ABSOLUTE_GATE]
        if not kept:
            return SILENCE_LUFS
        return max(_lufs(math.fsum(kept) / len(kept)), SILENCE_LUFS)
