"""The measurements behind `snr`, `sound`, `speed` and `reverb`, each against its reference."""

from __future__ import annotations

import numpy as np
import pytest

from mock_server.assessment.analysis import analyse_frames
from mock_server.assessment.frames import FrameEnergies
from mock_server.assessment.loudness import LoudnessStream
from mock_server.assessment.voicing import FrameVoicing
from mock_server.assessment.wada import G_TABLE, WadaSnr, snr_from_g, wada_table
from mock_server.samples import speech_like_signal

pyloudnorm = pytest.importorskip("pyloudnorm")


def feed_in_pieces(
    stream: LoudnessStream | WadaSnr | FrameVoicing | FrameEnergies,
    x: np.ndarray,
    piece: int = 3001,
) -> None:
    for at in range(0, x.size, piece):
        stream.feed(x[at : at + piece])


@pytest.mark.parametrize(
    ("rate", "seconds"), [(8000, 3.0), (16000, 5.3), (44100, 2.05), (48000, 4.0)]
)
def test_loudness_equals_pyloudnorm_on_the_whole_signal(rate: int, seconds: float) -> None:
    x = speech_like_signal(seconds, rate, seed=rate)
    stream = LoudnessStream(rate)
    feed_in_pieces(stream, x)
    assert stream.finish() == pytest.approx(pyloudnorm.Meter(rate).integrated_loudness(x), abs=0.01)


def test_loudness_of_a_full_scale_sine_and_of_silence() -> None:
    t = np.arange(48000 * 3) / 48000
    stream = LoudnessStream(48000)
    stream.feed(np.sin(2 * np.pi * 997 * t))
    assert stream.finish() == pytest.approx(-3.01, abs=0.05)  # BS.1770-4's own check
    silent = LoudnessStream(16000)
    silent.feed(np.zeros(16000))
    assert silent.finish() == -120.0


def test_the_wada_table_is_the_papers_model() -> None:
    recomputed = wada_table(samples=200_000, seed=7)
    assert np.max(np.abs(recomputed - np.array(G_TABLE))) < 0.02
    assert all(np.diff(G_TABLE) >= 0)
    assert snr_from_g(0.0) == -20.0 and snr_from_g(10.0) == 100.0


def test_wada_snr_follows_the_noise() -> None:
    rng = np.random.default_rng(1)
    speech = rng.gamma(0.4, 1.0, 400_000) * rng.choice((-1.0, 1.0), 400_000)
    speech *= 0.1 / np.sqrt(np.mean(speech**2))
    for true_snr in (0.0, 10.0, 20.0, 30.0):
        noise = rng.standard_normal(speech.size) * 0.1 * 10 ** (-true_snr / 20)
        estimate = WadaSnr()
        feed_in_pieces(estimate, speech + noise, 65536)
        assert estimate.finish() == pytest.approx(true_snr, abs=1.0)


def test_voicing_tells_a_pitch_from_noise() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    voiced, noise = FrameVoicing(rate), FrameVoicing(rate)
    feed_in_pieces(voiced, 0.1 * np.sign(np.sin(2 * np.pi * 140 * t)))
    feed_in_pieces(noise, np.random.default_rng(2).standard_normal(rate) * 0.1)
    assert voiced.flags()[4:].all() and voiced.flags().size == 100
    assert not noise.flags().any()


@pytest.mark.parametrize("rate", [2.5, 4.0, 6.0])
def test_syllable_nuclei_count_the_generated_syllables(rate: float) -> None:
    x = speech_like_signal(12.0, 16000, syllables_per_second=rate, seed=5)
    energies, voicing = FrameEnergies(16000), FrameVoicing(16000)
    feed_in_pieces(energies, x)
    feed_in_pieces(voicing, x)
    stats = analyse_frames(energies.energies(), voicing.flags(), energies.frame_seconds)
    assert stats.syllables / stats.speaking_seconds == pytest.approx(rate, rel=0.12)


def test_unvoiced_bursts_are_not_syllables() -> None:
    """Noise bursts with the rhythm of speech: intensity peaks, but no pitch, so no nuclei."""
    rng = np.random.default_rng(3)
    x = np.zeros(16000 * 6)
    for start in range(4000, x.size - 4000, 4000):
        x[start : start + 3000] = rng.standard_normal(3000) * 0.1 * np.hanning(3000)
    energies, voicing = FrameEnergies(16000), FrameVoicing(16000)
    energies.feed(x)
    voicing.feed(x)
    assert analyse_frames(energies.energies(), voicing.flags(), 0.01).syllables == 0
