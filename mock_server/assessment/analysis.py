"""Per-file measurements from the 10 ms frame energies: syllable nuclei and phonation time (the
speaking rate), free decays (reverberation).

Speaking rate after N. H. de Jong and T. Wempe, "Praat script to detect syllable nuclei and measure
speech rate automatically", Behavior Research Methods 41(2), 2009, pp. 385-390: the intensity
contour (here the 50 ms moving average of the frame energies, in dB); a silence threshold 25 dB
under its 99th percentile (here also at least 6 dB above the noise floor, the mean energy of the
quietest 10 % of frames); syllable nuclei are its peaks above the threshold that are followed by a
dip of more than 2 dB and are voiced (`voicing`); the articulation rate is nuclei per second of
phonation time, the recording less its pauses of 0.3 s or more.

Reverberation is a documented heuristic (`decay_times`); its activity threshold is
max(N + 6 dB, P - 30 dB), N the noise floor and P the 95th percentile frame level.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from mock_server.assessment.frames import db, fill_gaps, runs, smooth

__all__ = ["FrameStats", "analyse_frames", "decay_times", "syllable_nuclei"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

NOISE_FLOOR: Final = 1e-10


@dataclass(frozen=True)
class FrameStats:
    """What the frame energies of one file say."""

    noise_db: float  # the quietest 10 % of frames, dBFS
    syllables: int
    speaking_seconds: float
    decays: list[float]  # RT60-like times of the free decays, seconds


def syllable_nuclei(
    intensity: FloatArray, threshold: float, voiced: BoolArray, dip_db: float
) -> int:
    """Count syllable nuclei as de Jong & Wempe (2009) do: local maxima of the intensity contour
    above `threshold`, each followed by a dip of more than `dip_db` before the next peak (the last
    peak: before the end), and voiced (`voiced` true within 30 ms of the peak)."""
    if intensity.size < 3:
        return 0
    inner = intensity[1:-1]
    is_peak = (inner > intensity[:-2]) & (inner >= intensity[2:]) & (inner > threshold)
    peaks = (np.flatnonzero(is_peak) + 1).tolist()
    count = 0
    for i, at in enumerate(peaks):
        following = peaks[i + 1] if i + 1 < len(peaks) else intensity.size
        dip = float(intensity[at:following].min())
        if intensity[at] - dip <= dip_db:
            continue
        near = voiced[max(at - 3, 0) : at + 4]
        if near.any():
            count += 1
    return count


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


def analyse_frames(energies: FloatArray, voiced: BoolArray, frame_seconds: float) -> FrameStats:
    """The measurements of one file from its frame energies and voicing flags (at least one
    frame)."""
    levels = db(energies)
    dt = frame_seconds
    quiet_cut = float(np.percentile(levels, 10.0))
    noise = max(float(np.mean(energies[levels <= quiet_cut])), NOISE_FLOOR)
    noise_db = float(db(noise))
    intensity = db(smooth(energies, max(1, round(0.05 / dt))))
    # de Jong & Wempe: the silence threshold is 25 dB under the 99th percentile of intensity;
    # here never under 6 dB above the noise floor (no pitch tracker vets every noise peak)
    silence = max(float(np.percentile(intensity, 99.0)) - 25.0, noise_db + 6.0)
    syllables = syllable_nuclei(intensity, silence, voiced[: intensity.size], dip_db=2.0)
    # phonation time: everything but pauses of 0.3 s or more, as in de Jong & Wempe
    speaking = fill_gaps(intensity > silence, max(1, round(0.3 / dt)))
    # reverberation: the free decays after phrase ends (threshold as for activity)
    top = float(np.percentile(levels, 95.0))
    threshold = max(noise_db + 6.0, top - 30.0)
    decay_level = db(smooth(energies, 3))
    decays = decay_times(decay_level, decay_level > threshold, noise_db, dt)
    return FrameStats(
        noise_db=noise_db,
        syllables=syllables,
        speaking_seconds=float(np.count_nonzero(speaking)) * dt,
        decays=decays,
    )
