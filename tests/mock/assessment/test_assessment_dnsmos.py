"""DNSMOS P.835 in the assessment equals the model run the published way.

The reference below is written from Microsoft's DNS-Challenge `DNSMOS/dnsmos_local.py` (the
`ComputeScore.__call__` loop and `get_polyfit_val`, non-personalized), independently of the
production code: its own onnxruntime session with default options, one-shot resampling with
soxr (librosa's default `soxr_hq`), the WAV read back with the standard library's `wave`.
"""

from __future__ import annotations

import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from mock_server.assessment import assess_zip, measure_zip
from mock_server.samples import encode_wav, make_zip, speech_like_signal, speech_like_wav_bytes

ort = pytest.importorskip("onnxruntime")
soxr = pytest.importorskip("soxr")

FloatArray = npt.NDArray[np.float64]


class PublishedDnsmos:
    """dnsmos_local.py's computation, for one clip (mono, any rate)."""

    def __init__(self) -> None:
        import importlib.resources

        model = importlib.resources.files("speechmos") / "dnsmos_models" / "sig_bak_ovr.onnx"
        self.session = ort.InferenceSession(model.read_bytes(), providers=["CPUExecutionProvider"])

    def __call__(self, aud: FloatArray, input_fs: int) -> tuple[float, float]:
        fs = 16000
        audio = aud if input_fs == fs else soxr.resample(aud, input_fs, fs, quality="HQ")
        len_samples = int(9.01 * fs)
        while len(audio) < len_samples:
            audio = np.append(audio, audio)
        num_hops = int(np.floor(len(audio) / fs) - 9.01) + 1
        hop_len_samples = fs
        ovr, bak = [], []
        for idx in range(num_hops):
            audio_seg = audio[int(idx * hop_len_samples) : int((idx + 9.01) * hop_len_samples)]
            if len(audio_seg) < len_samples:
                continue
            input_features = np.array(audio_seg).astype("float32")[np.newaxis, :]
            _, mos_bak_raw, mos_ovr_raw = self.session.run(None, {"input_1": input_features})[0][0]
            ovr.append(np.poly1d([-0.06766283, 1.11546468, 0.04602535])(mos_ovr_raw))
            bak.append(np.poly1d([-0.13166888, 1.60915514, -0.39604546])(mos_bak_raw))
        return float(np.mean(ovr)), float(np.mean(bak))


@pytest.fixture(scope="module")
def published() -> PublishedDnsmos:
    return PublishedDnsmos()


def read_wav(data: bytes, path: Path) -> tuple[FloatArray, int]:
    """16-bit mono PCM back to floats, by the standard library."""
    path.write_bytes(data)
    with wave.open(str(path), "rb") as w:
        frames = w.readframes(w.getnframes())
        return np.frombuffer(frames, "<i2").astype(np.float64) / 32768.0, w.getframerate()


CASES_16K = {
    "clean": {"seconds": 11.5, "noise_db": -70.0, "seed": 1},
    "noisy": {"seconds": 10.2, "noise_db": -32.0, "seed": 2},
    "reverberant": {"seconds": 10.5, "reverb_seconds": 0.9, "seed": 3},
    "short": {"seconds": 4.7, "noise_db": -50.0, "seed": 4},
    # 17.2 s: 8 windows, but window 7 comes out one sample short in the published loop (float
    # rounding of (7 + 9.01) * 16000) and is skipped
    "long": {"seconds": 17.2, "noise_db": -45.0, "seed": 5},
}


@pytest.mark.parametrize(
    "case",
    # "long": seven DNSMOS windows scored twice (the published loop and the stream), seconds
    [pytest.param(c, marks=[pytest.mark.slow] if c == "long" else []) for c in CASES_16K],
)
def test_16_khz_scores_equal_the_published_computation(
    tmp_path: Path, published: PublishedDnsmos, case: str
) -> None:
    wav = speech_like_wav_bytes(sample_rate=16000, **CASES_16K[case])
    (stats,) = measure_zip(make_zip(tmp_path / "u.zip", {"a.wav": wav}))
    ovrl, bak = published(*read_wav(wav, tmp_path / "a.wav"))
    assert abs(stats.dnsmos_ovrl - ovrl) <= 0.01
    assert abs(stats.dnsmos_bak - bak) <= 0.01


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_other_rates_are_resampled_as_published(
    tmp_path: Path, published: PublishedDnsmos, rate: int
) -> None:
    wav = speech_like_wav_bytes(seconds=5.0, sample_rate=rate, noise_db=-40.0, seed=6)
    (stats,) = measure_zip(make_zip(tmp_path / "u.zip", {"a.wav": wav}))
    ovrl, bak = published(*read_wav(wav, tmp_path / "a.wav"))
    assert abs(stats.dnsmos_ovrl - ovrl) <= 0.05
    assert abs(stats.dnsmos_bak - bak) <= 0.05


def test_the_job_is_the_duration_weighted_mean_of_its_files(tmp_path: Path) -> None:
    clean = speech_like_wav_bytes(seconds=9.5, noise_db=-70.0, seed=1)
    noisy = speech_like_wav_bytes(seconds=3.0, noise_db=-30.0, seed=2)
    path = make_zip(tmp_path / "u.zip", {"a.wav": clean, "b.wav": noisy})
    a, b = measure_zip(path)
    result = assess_zip(path)
    expected_bak = (a.dnsmos_bak * a.seconds + b.dnsmos_bak * b.seconds) / (a.seconds + b.seconds)
    assert result.dnsmos_bak.actual == f"{expected_bak:.2f}"
    assert b.dnsmos_bak < a.dnsmos_bak - 1.0  # noise is heard


def test_background_score_falls_with_noise(tmp_path: Path) -> None:
    scores = []
    for noise_db in (-75.0, -45.0, -25.0):
        x = speech_like_signal(9.5, 16000, noise_db=noise_db, seed=8)
        (stats,) = measure_zip(
            make_zip(tmp_path / f"{noise_db}.zip", {"a.wav": encode_wav(x, 16000)})
        )
        scores.append(stats.dnsmos_bak)
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.slow
def test_the_model_loads_lazily_without_speechmos_code() -> None:
    """Importing the mock's assessment pulls neither onnxruntime nor speechmos' modules (which
    import librosa and requests); scoring loads the model from the package's resources only."""
    code = (
        "import sys\n"
        "import mock_server.app, mock_server.assessment\n"
        "assert 'onnxruntime' not in sys.modules, 'onnxruntime imported at server import'\n"
        "from mock_server.assessment.dnsmos import score_windows\n"
        "import numpy as np\n"
        "s = score_windows(np.zeros(16000))\n"
        "assert 1.0 <= s.bak <= 5.0 and 'onnxruntime' in sys.modules\n"
        "assert not [m for m in sys.modules if m.startswith('speechmos.') or m == 'librosa']\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
