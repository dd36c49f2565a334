"""A job's result from its files' measurements: the values combined, then worded.

Per-file values are combined weighted by file duration (loudness, SNR and both DNSMOS scores:
each file's value counts in proportion to its seconds), except the speaking rate (total syllables
over total speaking time), clipping (clipped values over all values) and reverberation (the
median over all usable decays of all files).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mock_server.assessment import advice
from mock_server.assessment.measure import FileStats
from mock_server.assessment.result import Assessment

__all__ = ["JobValues", "combine", "score"]


@dataclass(frozen=True)
class JobValues:
    """The job's numbers, before rounding and wording."""

    files: int
    seconds: float
    syllables_per_second: float
    loudness_lufs: float
    clip_fraction: float
    snr_db: float
    rt60: float | None
    dnsmos_ovrl: float
    dnsmos_bak: float


def combine(stats: Sequence[FileStats]) -> JobValues:
    """The job's values from its files' (at least one)."""
    weights = np.array([s.seconds for s in stats])

    def weighted(values: list[float]) -> float:
        return float(np.average(np.array(values), weights=weights))

    speaking = sum(s.speaking_seconds for s in stats)
    decays = [d for s in stats for d in s.decays]
    return JobValues(
        files=len(stats),
        seconds=float(weights.sum()),
        syllables_per_second=sum(s.syllables for s in stats) / speaking if speaking > 0 else 0.0,
        loudness_lufs=weighted([s.loudness_lufs for s in stats]),
        clip_fraction=sum(s.clipped for s in stats) / sum(s.values for s in stats),
        snr_db=weighted([s.snr_db for s in stats]),
        rt60=float(np.median(decays)) if decays else None,
        dnsmos_ovrl=weighted([s.dnsmos_ovrl for s in stats]),
        dnsmos_bak=weighted([s.dnsmos_bak for s in stats]),
    )


def score(stats: Sequence[FileStats], language: str) -> Assessment:
    """The AssessResult for these files (at least one); `language` CN or EN."""
    return advice.assessment(combine(stats), english=language == "EN")
