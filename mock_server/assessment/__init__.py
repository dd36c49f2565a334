"""The audio-quality assessment the mock runs when a VOICE_ASSESS job is processed.

`assess_zip(path, language)` reads the uploaded zip of WAV recordings and returns an `Assessment`,
whose `to_json()` is exactly the API's AssessResult: six AssessProperty objects (`speed`, `sound`,
`snr`, `reverb`, `dnsmos_ovrl`, `dnsmos_bak`) plus an overall `suggestion` in the job's language.
Anything it cannot assess raises `AssessmentFailed` (code and reason naming the file), and
nothing else, whatever the upload holds.

The modules, one concern each (docs/assessment.md says metric by metric how and from
which publication each value is computed):

- `failures`: the failure codes and `AssessmentFailed`;
- `zipsafe`: reading the zip safely (limits, zip bombs, unsafe names);
- `wav`: streaming WAV decoding;
- `frames`, `voicing`, `analysis`: 10 ms frame energies and voicing; syllable nuclei and phonation
  time (speed, after de Jong & Wempe 2009), free decays (reverb, a heuristic);
- `loudness`: ITU-R BS.1770-4 integrated loudness (sound);
- `wada`: WADA-SNR, Kim & Stern 2008 (snr);
- `dnsmos`: the DNSMOS P.835 network run the published way (dnsmos_ovrl, dnsmos_bak);
- `measure`: one recording decoded once, streamed into every measurement;
- `scoring`: the job's values from its files', and the range checks;
- `advice`: the wording (Chinese and English);
- `result`: the AssessResult shape.

Decision: one unreadable WAV fails the whole job, even among good ones (the API reference:
"anything the assessment cannot read fails the job"). The first failing entry in name order is
reported. A readable take without speech (digital silence, noise only) is not unreadable: it is
left out of the job's metrics and named in the suggestions; only a job with no speech at all
fails (CODE_NO_SPEECH). Deterministic: entries are processed in name order, nothing is random,
and values are rounded before the range checks, so the same zip always gives the same result.
"""

from __future__ import annotations

from pathlib import Path

from mock_server.assessment.failures import (
    CODE_BAD_ZIP,
    CODE_EMPTY_AUDIO,
    CODE_NO_SPEECH,
    CODE_NO_WAV,
    CODE_TOO_LONG,
    CODE_UNREADABLE_WAV,
    CODE_UNSUPPORTED_FORMAT,
    FAILURE_CODES,
    AssessmentFailed,
)
from mock_server.assessment.measure import FileStats, measure
from mock_server.assessment.result import METRIC_NAMES, Assessment, Metric
from mock_server.assessment.scoring import score
from mock_server.assessment.zipsafe import DEFAULT_LIMITS, ZipLimits, wav_entries

__all__ = [
    "CODE_BAD_ZIP",
    "CODE_EMPTY_AUDIO",
    "CODE_NO_SPEECH",
    "CODE_NO_WAV",
    "CODE_TOO_LONG",
    "CODE_UNREADABLE_WAV",
    "CODE_UNSUPPORTED_FORMAT",
    "FAILURE_CODES",
    "METRIC_NAMES",
    "Assessment",
    "AssessmentFailed",
    "FileStats",
    "Metric",
    "ZipLimits",
    "assess_zip",
    "check_language",
    "measure_zip",
    "preload",
    "score",
]


def preload() -> None:
    """Do now what the first assessment would do first: import the modules the measurements
    import on first use (scipy.signal and pyloudnorm's filter for `loudness`, soxr for
    `dnsmos`; seconds on a cold machine) and load the DNSMOS network (`dnsmos.preload`). The mock
    calls it on a background thread when its first job is created
    (`service.handlers.warm_assessment`)."""
    import pyloudnorm.iirfilter  # noqa: F401  (loudness)
    import scipy.signal  # noqa: F401  (loudness)
    import soxr  # noqa: F401  (dnsmos, for rates other than 16 kHz)

    from mock_server.assessment import dnsmos

    dnsmos.preload()


def check_language(language: str) -> str:
    """CN or EN (any case) upper-cased; ValueError otherwise."""
    lang = language.upper()
    if lang not in ("CN", "EN"):
        raise ValueError(f"language must be CN or EN, not {language!r}")
    return lang


def measure_zip(path: Path, limits: ZipLimits = DEFAULT_LIMITS) -> list[FileStats]:
    """Each WAV's measurements, in name order; each file is measured as it is read, then let go.

    Raises AssessmentFailed for anything in the file that cannot be assessed.
    """
    return [
        measure(name, stream, limits.max_file_seconds) for name, stream in wav_entries(path, limits)
    ]


def assess_zip(path: Path, language: str = "CN", limits: ZipLimits = DEFAULT_LIMITS) -> Assessment:
    """Assess the recordings in the zip at `path`; the overall suggestion in `language` (CN/EN).

    Raises AssessmentFailed (and nothing else for any content of the file) when the zip or a WAV
    in it cannot be assessed; ValueError for a language other than CN or EN.
    """
    lang = check_language(language)
    return score(measure_zip(path, limits), lang)
