"""DNSMOS P.835: Microsoft's non-intrusive speech-quality model, run the published way.

Method: C. K. A. Reddy, V. Gopal and R. Cutler, "DNSMOS P.835: A Non-Intrusive Perceptual
Objective Speech Quality Metric to Evaluate Noise Suppressors", ICASSP 2022, pp. 886-890,
doi:10.1109/ICASSP43922.2022.9746108. The network predicts the ITU-T P.835 ratings SIG (speech),
BAK (background) and OVRL (overall), each 1-5.

Model: `sig_bak_ovr.onnx` (the non-personalized DNSMOS P.835 model), as shipped in Microsoft's
MIT-licensed `speechmos` wheel (`speechmos/dnsmos_models/`; the same file as
`DNSMOS/DNSMOS/sig_bak_ovr.onnx` in microsoft/DNS-Challenge). It is read with importlib.resources;
speechmos' own code (which imports librosa and requests) is never imported.

The published computation (microsoft/DNS-Challenge `DNSMOS/dnsmos_local.py`, and speechmos'
`dnsmos.run` with its default `model_type="dnsmos"`), reproduced step by step:

1. mono audio at 16 kHz (other rates resampled with libsoxr "HQ", as librosa's default
   `soxr_hq` does for dnsmos_local.py);
2. a clip shorter than 9.01 s is doubled (`np.append(audio, audio)`) until it is not;
3. windows of `int(9.01 * 16000)` = 144160 samples start every 16000 samples (1 s); their number
   is `int(floor(len / 16000) - 9.01) + 1`, and a window whose slice `[int(i * 16000),
   int((i + 9.01) * 16000))` comes out one sample short (float rounding, e.g. i = 7..23) is skipped,
   exactly as the published loop does;
4. each window, as float32, goes through the network; its raw BAK and OVRL outputs go through the
   non-personalized calibration polynomials of dnsmos_local.py `get_polyfit_val`
   (`is_personalized_MOS` false; speechmos uses the same ones by default):
   OVRL = -0.06766283 x^2 + 1.11546468 x + 0.04602535, BAK = -0.13166888 x^2 + 1.60915514 x
   - 0.39604546;
5. the file's score is the mean over its windows.

The audio is streamed: only the last ~10 s at 16 kHz are held (a short clip whole). The model is
loaded once per process, by `preload()` (the mock calls it on a background thread when its
first job is created) or on first use, with onnxruntime on one CPU thread; onnxruntime is
imported only then, so importing this module costs nothing. Windows
already scored (the same samples, by a 128-bit BLAKE2b digest) are answered from a small cache:
the doubled copies of short clips and re-uploaded recordings cost nothing twice.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "BAK_POLYNOMIAL",
    "INPUT_LENGTH",
    "MODEL_RESOURCE",
    "OVRL_POLYNOMIAL",
    "SAMPLE_RATE",
    "DnsmosScores",
    "DnsmosStream",
    "calibrate",
    "model_bytes",
    "preload",
    "score_windows",
]

FloatArray = npt.NDArray[np.float64]

SAMPLE_RATE: Final = 16000
INPUT_LENGTH: Final = 9.01
WINDOW: Final = int(INPUT_LENGTH * SAMPLE_RATE)
HOP: Final = SAMPLE_RATE
MODEL_PACKAGE: Final = "speechmos"
MODEL_RESOURCE: Final = "dnsmos_models/sig_bak_ovr.onnx"
# numpy.polyval order (highest power first), from dnsmos_local.py, non-personalized.
OVRL_POLYNOMIAL: Final = (-0.06766283, 1.11546468, 0.04602535)
BAK_POLYNOMIAL: Final = (-0.13166888, 1.60915514, -0.39604546)
_CACHE_SIZE: Final = 4096


@dataclass(frozen=True)
class DnsmosScores:
    """One file's DNSMOS P.835 scores (1-5 scale, calibrated), mean over `windows` windows."""

    ovrl: float
    bak: float
    windows: int


def calibrate(raw_bak: float, raw_ovrl: float) -> tuple[float, float]:
    """(BAK, OVRL) from the network's raw outputs, through the published polynomials."""
    return float(np.polyval(BAK_POLYNOMIAL, raw_bak)), float(np.polyval(OVRL_POLYNOMIAL, raw_ovrl))


def model_bytes() -> bytes:
    """The ONNX model file, from the installed speechmos distribution (its resources only)."""
    return (importlib.resources.files(MODEL_PACKAGE) / MODEL_RESOURCE).read_bytes()


class _Model:
    """The network, loaded once per process on first use; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: onnxruntime.InferenceSession | None = None
        self._cache: OrderedDict[bytes, tuple[float, float]] = OrderedDict()

    def _load(self) -> onnxruntime.InferenceSession:
        with self._lock:
            if self._session is None:
                import onnxruntime  # heavy: only when the first window is scored

                options = onnxruntime.SessionOptions()
                # One thread: the least CPU per window, and no oversubscription when several
                # mock workers assess at once.
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                self._session = onnxruntime.InferenceSession(
                    model_bytes(), options, providers=["CPUExecutionProvider"]
                )
            return self._session

    def raw(self, window: npt.NDArray[np.float32]) -> tuple[float, float]:
        """The network's raw (BAK, OVRL) for one window of WINDOW float32 samples."""
        key = hashlib.blake2b(window.tobytes(), digest_size=16).digest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        session = self._load()
        out = session.run(None, {"input_1": window[np.newaxis, :]})[0][0]
        result = (float(out[1]), float(out[2]))  # outputs: SIG, BAK, OVRL
        with self._lock:
            self._cache[key] = result
            if len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result


_MODEL: Final = _Model()


def preload() -> None:
    """Load the network now (once per process; later calls return at once). The mock calls it on
    a background thread when the first job is created (`service.handlers.warm_assessment`), so
    the first assessment does not pay the load (~1-3 s with its imports); an
    assessment that arrives during the load waits for that one load (the model's lock), it never
    starts a second."""
    _MODEL._load()


def _window_scores(
    audio: FloatArray, base: int, first: int, last: int
) -> list[tuple[float, float]]:
    """Calibrated (BAK, OVRL) of windows first..last-1 of the published loop; `audio` holds the
    16 kHz samples from index `base` on."""
    scores = []
    for idx in range(first, last):
        start = int(idx * HOP) - base
        end = int((idx + INPUT_LENGTH) * HOP) - base
        segment = audio[start:end]
        if len(segment) < WINDOW:
            continue  # as the published loop does
        raw_bak, raw_ovrl = _MODEL.raw(np.asarray(segment, dtype=np.float32))
        scores.append(calibrate(raw_bak, raw_ovrl))
    return scores


def _hops(samples: int) -> int:
    return int(np.floor(samples / SAMPLE_RATE) - INPUT_LENGTH) + 1


def score_windows(audio: FloatArray) -> DnsmosScores:
    """The published computation on a whole 16 kHz mono clip (for short clips and tests)."""
    while len(audio) < WINDOW:
        audio = np.append(audio, audio)
    return _mean(_window_scores(audio, 0, 0, _hops(len(audio))))


def _mean(scores: list[tuple[float, float]]) -> DnsmosScores:
    if not scores:  # cannot happen for a clip of at least one sample; kept finite all the same
        return DnsmosScores(ovrl=1.0, bak=1.0, windows=0)
    bak = math.fsum(s[0] for s in scores) / len(scores)
    ovrl = math.fsum(s[1] for s in scores) / len(scores)
    return DnsmosScores(ovrl=ovrl, bak=bak, windows=len(scores))


class DnsmosStream:
    """Feed mono chunks at `sample_rate`; `finish()` gives the file's scores.

    Window i is scored as soon as (i + 10) s of 16 kHz audio have arrived: from then on the
    published loop is sure to include it (its count is floor(seconds) - 9 once there are 10 s).
    """

    def __init__(self, sample_rate: int) -> None:
        self._resampler = None
        if sample_rate != SAMPLE_RATE:
            import soxr

            self._resampler = soxr.ResampleStream(
                sample_rate, SAMPLE_RATE, 1, dtype="float64", quality="HQ"
            )
        self._buf: FloatArray = np.zeros(0)
        self._base = 0  # absolute index of _buf[0]
        self._total = 0  # 16 kHz samples so far
        self._next = 0  # the next window to score
        self._scores: list[tuple[float, float]] = []

    def feed(self, mono: FloatArray) -> None:
        if self._resampler is not None:
            mono = self._resampler.resample_chunk(mono)
        self._append(mono)
        ready = self._total // HOP - 10 + 1  # windows 0..ready-1 are sure to count
        if ready > self._next:
            self._scores += _window_scores(self._buf, self._base, self._next, ready)
            self._next = ready
            drop = self._next * HOP - self._base
            self._buf = self._buf[drop:].copy()
            self._base += drop

    def _append(self, x: FloatArray) -> None:
        if x.size:
            self._buf = np.concatenate((self._buf, x)) if self._buf.size else x.copy()
            self._total += x.size

    def finish(self) -> DnsmosScores:
        if self._resampler is not None:
            self._append(self._resampler.resample_chunk(np.zeros(0), last=True))
            self._resampler = None
        if self._total < WINDOW:
            return score_windows(self._buf)
        self._scores += _window_scores(self._buf, self._base, self._next, _hops(self._total))
        return _mean(self._scores)
