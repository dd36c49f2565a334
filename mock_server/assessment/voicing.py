"""Which 10 ms frames are voiced (periodic), as the samples stream by.

For syllable nuclei (de Jong & Wempe, 2009) a peak of intensity counts only where there is a
pitch, i.e. the sound is voiced. The mock's voicing test, in the spirit of Praat's (Boersma, 1993,
"Accurate short-term analysis of the fundamental frequency and the harmonics-to-noise ratio of a
sampled sound"): over the 40 ms ending with each 10 ms frame, DC removed, the autocorrelation
normalised by its value at lag 0 and by the overlap of each lag (so a perfectly periodic signal
scores 1) has a maximum of at least 0.45 (Praat's default voicing threshold) for a period in the
pitch range 75-600 Hz (Praat's defaults), and the window is not digital silence.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from mock_server.assessment.frames import FRAME_SECONDS

__all__ = ["VOICING_THRESHOLD", "FrameVoicing"]

FloatArray = npt.NDArray[np.float64]

VOICING_THRESHOLD: Final = 0.45
PITCH_RANGE: Final = (75.0, 600.0)
WINDOW_FRAMES: Final = 4
_BLOCK: Final = 256


class FrameVoicing:
    """Feed mono chunks; `flags()` is one bool per complete 10 ms frame (as `FrameEnergies`)."""

    def __init__(self, sample_rate: int) -> None:
        self.hop = max(1, round(sample_rate * FRAME_SECONDS))
        self.size = self.hop * WINDOW_FRAMES
        self.min_lag = max(1, int(sample_rate / PITCH_RANGE[1]))
        self.max_lag = min(self.size - 1, int(np.ceil(sample_rate / PITCH_RANGE[0])))
        self.fft = 1 << int(np.ceil(np.log2(2 * self.size)))
        lags = np.arange(self.min_lag, self.max_lag + 1)
        self._overlap = (self.size - lags) / self.size
        # the first frames have no full window yet: they look back into silence
        self._history: FloatArray = np.zeros(self.size - self.hop)
        self._pending: FloatArray = np.zeros(0)
        self._parts: list[npt.NDArray[np.bool_]] = []

    def feed(self, mono: FloatArray) -> None:
        buf = np.concatenate((self._pending, mono)) if self._pending.size else mono
        full = buf.size // self.hop
        if not full:
            self._pending = buf.copy()
            return
        joined = np.concatenate((self._history, buf[: full * self.hop]))
        windows = np.lib.stride_tricks.sliding_window_view(joined, self.size)[:: self.hop][:full]
        # a few hundred windows at a time: the FFT's working arrays stay a few MiB
        for at in range(0, full, _BLOCK):
            self._parts.append(self._voiced(windows[at : at + _BLOCK]))
        keep = joined[-(self.size - self.hop) :] if self.size > self.hop else joined[:0]
        self._history = keep.copy()
        self._pending = buf[full * self.hop :].copy()

    def _voiced(self, windows: FloatArray) -> npt.NDArray[np.bool_]:
        x = windows - windows.mean(axis=1, keepdims=True)
        spectrum = np.fft.rfft(x, self.fft, axis=1)
        acf = np.fft.irfft(spectrum * np.conj(spectrum), self.fft, axis=1)
        energy = acf[:, 0]
        lagged = acf[:, self.min_lag : self.max_lag + 1] / self._overlap
        with np.errstate(invalid="ignore", divide="ignore"):
            peak = np.max(lagged, axis=1) / energy
        result: npt.NDArray[np.bool_] = (energy > 1e-10 * self.size) & (peak >= VOICING_THRESHOLD)
        return result

    def flags(self) -> npt.NDArray[np.bool_]:
        return np.concatenate(self._parts) if self._parts else np.zeros(0, dtype=bool)
