"""A job's result from its files' measurements: the values combined, then worded.

Per-file values are combined weighted by file duration (loudness, SNR and both DNSMOS scores:
each file's value counts in proportion to its seconds), except the speaking rate (total syllables
over total speaking time), clipping (clipped values over all values) and reverberation (the
median over all usable decays of all files).

Takes without speech (`FileStats.no_speech`: digital silence, noise only) are left out of every
value, so one silent take among good ones does not drag the job's loudness, SNR or scores; they
are named, with the reason, in the overall suggestion and in the `sound` metric's advice. The
job's file count and seconds still count every take. A job whose takes all lack speech has
nothing to measure: it fails with CODE_NO_SPEECH naming them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mock_server.assessment import advice
from mock_server.assessment.failures import CODE_NO_SPEECH, AssessmentFailed
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
    no_speech: tuple[tuple[str, str], ...] = ()  # (file name, why) of takes left out


def combine(every: Sequence[FileStats]) -> JobValues:
    """The job's values from its files' (at least one); raises AssessmentFailed(CODE_NO_SPEECH)
    when no file holds speech."""
    stats = [s for s in every if s.no_speech is None]
    left_out = tuple((s.name, s.no_speech) for s in every if s.no_speech is not None)
    if not stats:
        named = "; ".join(f"{name}: {why}" for name, why in left_out)
        raise AssessmentFailed(CODE_NO_SPEECH, f"{named} (no recording holds speech)")
    weights = np.array([s.seconds for s in stats])

    def weighted(values: list[float]) -> float:
        return float(np.average(np.array(values), weights=weights))

    speaking = sum(s.speaking_seconds for s in stats)
    decays = [d for s in stats for d in s.decays]
    return JobValues(
        files=len(every),
        seconds=float(sum(s.seconds for s in every)),
        syllables_per_second=sum(s.syllables for s in stats) / speaking if speaking > 0 else 0.0,
        loudness_lufs=weighted([s.loudness_lufs for s in stats]),
        clip_fraction=sum(s.clipped for s in stats) / sum(s.values for s in stats),
        snr_db=weighted([s.snr_db for s in stats]),
        rt60=float(np.median(decays)) if decays else None,
        dnsmos_ovrl=weighted([s.dnsmos_ovrl for s in stats]),
        dnsmos_bak=weighted([s.dnsmos_bak for s in stats]),
        no_speech=left_out,
    )


def score(stats: Sequence[FileStats], language: str) -> Assessment:
    """The AssessResult for these files (at least one); `language` CN or EN. Raises
    AssessmentFailed(CODE_NO_SPEECH) when no file holds speech."""
    return advice.assessment(combine(stats), english=language == "EN")
