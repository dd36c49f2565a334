"""Per-file measurements from the 10 ms frame energies: levels, speech activity, syllable nuclei,
free decays.

From the frame levels: the noise floor N is the mean energy of the quietest 10 % of frames; the
active threshold is max(N + 6 dB, P - 30 dB), where P is the 95th percentile level; frames above
it are active speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mock_server.assessment.frames import ENERGY_FLOOR, db, fill_gaps, runs, smooth

__all__ = ["FrameStats", "analyse_frames", "decay_times", "syllable_peaks"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NOISE_FLOOR: Final = 1e-10


@dataclass(frozen=True)
class FrameStats:
    """What the frame energies of one file say."""

    level_db: float  # mean energy of the active frames, dBFS
    snr_db: float  # active against the quietest 10 % of frames, dB
    noise_db: float  # the quietest 10 % of frames, dBFS
    syllables: int
    speaking_seconds: float
    decays: list[float]  # RT60-like times of the free decays, seconds


def syllable_peaks(level: FloatArray, threshold: float, min_gap: int, dip_db: float) -> int:
    """Count prominent envelope peaks: local maxima above the threshold, separated by dips."""
    if level.size < 3:
        return 0
    inner = level[1:-1]
    is_peak = (inner > level[:-2]) & (inner >= level[2:]) & (inner > threshold)
    candidates = (np.flatnonzero(is_peak) + 1).tolist()
    kept: list[int] = []
    for idx in candidates:
        if not kept:
            kept.append(idx)
            continue
        last = kept[-1]
        dip = float(level[last : idx + 1].min())
        separated = idx - last >= min_gap
        if separated and dip <= level[last] - dip_db and dip <= level[idx] - dip_db:
            kept.append(idx)
        elif level[idx] > level[last]:
            kept[-1] = idx  # same syllable: keep the higher peak
    return len(kept)


def decay_times(
    level: FloatArray, active: BoolArray, noise_db: float, frame_seconds: float
) -> list[float]:
    """RT60-like times of the free decays at phrase ends.

    At each phrase end (active speech followed by at least 300 ms of pause) the smoothed level
    falls from its last peak; a line is fitted to the fall from 5 dB to 25 dB below that peak (or
    to 6 dB above the noise floor, needing at least a 10 dB span) and RT60 = 60 dB / slope.
    """
    min_pause = round(0.3 / frame_seconds)
    look_back = round(0.2 / frame_seconds)
    times: list[float] = []
    stretches = runs(active)
    for i, (start, end) in enumerate(stretches):
        next_start = stretches[i + 1][0] if i + 1 < len(stretches) else level.size
        if next_start - end < min_pause:
            continue
        first = max(start, end - look_back)
        peak_at = first + int(np.argmax(level[first:end]))
        peak = float(level[peak_at])
        floor = max(peak - 25.0, noise_db + 6.0)
        if floor > peak - 15.0:
            continue
        fall = level[peak_at:next_start]
        below_top = np.flatnonzero(fall <= peak - 5.0)
        if below_top.size == 0:
            continue
        i1 = int(below_top[0])
        below_floor = np.flatnonzero(fall[i1:] <= floor)
        if below_floor.size == 0:
            continue
        i2 = i1 + int(below_floor[0])
        if i2 - i1 < 2:
            # Faster than the frame rate can follow: a dry offset.
            times.append(60.0 / ((peak - 5.0 - floor) / ((i2 - i1 + 1) * frame_seconds)))
            continue
        t = np.arange(i1, i2 + 1) * frame_seconds
        slope = float(np.polyfit(t, fall[i1 : i2 + 1], 1)[0])
        if slope < 0:
            times.append(-60.0 / slope)
    return times


def analyse_frames(energies: FloatArray, frame_seconds: float) -> FrameStats:
    """The measurements of one file from its frame energies (at least one frame)."""
    levels = db(energies)
    dt = frame_seconds
    quiet_cut = float(np.percentile(levels, 10.0))
    noise = max(float(np.mean(energies[levels <= quiet_cut])), NOISE_FLOOR)
    noise_db = float(db(noise))
    top = float(np.percentile(levels, 95.0))
    threshold = max(noise_db + 6.0, top - 30.0)
    active = levels > threshold
    speech = float(np.mean(energies[active])) if active.any() else float(np.mean(energies))
    snr = float(db(max(speech - noise, ENERGY_FLOOR) / noise))
    smooth_level = db(smooth(energies, max(1, round(0.05 / dt))))
    syllables = syllable_peaks(smooth_level, threshold, min_gap=max(1, round(0.1 / dt)), dip_db=3.0)
    speaking = fill_gaps(active, max(1, round(0.25 / dt)))
    decay_level = db(smooth(energies, 3))
    decays = decay_times(decay_level, decay_level > threshold, noise_db, dt)
    return FrameStats(
        level_db=float(db(speech)),
        snr_db=max(snr, -20.0),
        noise_db=noise_db,
        syllables=syllables,
        # + 25 ms at each end of each stretch: weak edge consonants fall under the threshold.
        speaking_seconds=float(np.count_nonzero(speaking)) * dt + 0.05 * len(runs(speaking)),
        decays=decays,
    )
