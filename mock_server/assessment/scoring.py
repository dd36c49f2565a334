"""A job's result from its files' measurements: the values combined, then worded.

Per-file values are combined weighted by file duration, except the speaking rate (total syllables
over total speaking time), clipping (clipped values over all values) and reverberation (median
over all usable decays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mock_server.assessment import advice
from mock_server.assessment.measure import FileStats
from mock_server.assessment.result import Assessment

__all__ = ["score"]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clamp(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _dnsmos_bak(snr: float, noise_db: float, rt60: float | None) -> float:
    score = 1.0 + 3.4 * _sigmoid((snr - 17.0) / 5.0)
    score -= 0.3 * _clamp((noise_db + 45.0) / 15.0, 0.0, 1.0)
    if rt60 is not None:
        score -= 0.3 * _clamp((rt60 - 0.3) / 0.9, 0.0, 1.0)
    return _clamp(score, 1.0, 5.0)


def _dnsmos_ovrl(snr: float, level: float, clip_fraction: float, rt60: float | None) -> float:
    score = 1.0 + 2.6 * _sigmoid((snr - 15.0) / 6.0)
    if rt60 is not None:
        score -= 1.2 * _clamp((rt60 - 0.3) / 0.9, 0.0, 1.0)
    if clip_fraction > 1e-4:
        score -= _clamp(0.5 * math.log10(clip_fraction / 1e-4), 0.0, 1.5)
    low, high = advice.LEVEL_RANGE
    outside = max(low - level, level - high, 0.0)
    score -= min(0.05 * outside, 0.8)
    return _clamp(score, 1.0, 5.0)


def score(stats: Sequence[FileStats], language: str) -> Assessment:
    """The AssessResult for these files (at least one); `language` CN or EN."""
    english = language == "EN"
    weights = np.array([s.seconds for s in stats])
    seconds = float(weights.sum())

    def weighted(values: list[float]) -> float:
        return float(np.average(np.array(values), weights=weights))

    level = weighted([s.level_db for s in stats])
    snr = weighted([s.snr_db for s in stats])
    noise_db = weighted([s.noise_db for s in stats])
    clip_fraction = sum(s.clipped for s in stats) / sum(s.values for s in stats)
    speaking = sum(s.speaking_seconds for s in stats)
    rate = sum(s.syllables for s in stats) / speaking if speaking > 0 else 0.0
    decays = [d for s in stats for d in s.decays]
    rt60 = float(np.median(decays)) if decays else None
    metrics = {
        "speed": advice.speed_metric(rate, english=english),
        "sound": advice.sound_metric(level, clip_fraction),
        "snr": advice.snr_metric(snr),
        "reverb": advice.reverb_metric(rt60),
        "dnsmos_ovrl": advice.dnsmos_metric(
            _dnsmos_ovrl(snr, level, clip_fraction, rt60),
            "整体音质评分",
            "Overall quality score",
            "请降低噪声和混响，避免削波，并保持合适的音量。",  # noqa: RUF001
            "reduce noise and reverberation, avoid clipping and keep a moderate level.",
        ),
        "dnsmos_bak": advice.dnsmos_metric(
            _dnsmos_bak(snr, noise_db, rt60),
            "背景噪声评分",
            "Background noise score",
            "背景噪声明显，请在安静的环境中录音。",  # noqa: RUF001
            "the background is noisy; record in a quiet place.",
        ),
    }
    return Assessment(
        **metrics,
        suggestion=advice.overall(metrics, len(stats), seconds, english=english),
    )
