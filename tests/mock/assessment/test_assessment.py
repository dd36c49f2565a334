"""The mock's audio assessment, on real WAV and zip files made by the tests."""

from __future__ import annotations

import random
import re
import stat
import struct
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_server.assessment import (
    CODE_BAD_ZIP,
    CODE_EMPTY_AUDIO,
    CODE_NO_WAV,
    CODE_TOO_LONG,
    CODE_UNREADABLE_WAV,
    CODE_UNSUPPORTED_FORMAT,
    FAILURE_CODES,
    Assessment,
    AssessmentFailed,
    ZipLimits,
    assess_zip,
    measure_zip,
)
from mock_server.assessment.zipsafe import check_declared
from mock_server.samples import (
    encode_wav,
    make_zip,
    sample_zip,
    speech_like_signal,
    speech_like_wav,
    speech_like_wav_bytes,
)

METRICS = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
MiB = 1 << 20


def number(actual: str) -> float:
    """The leading number of an `actual` string ("-21.3 dBFS" -> -21.3)."""
    match = re.match(r"-?\d+(\.\d+)?", actual)
    assert match, actual
    return float(match.group())


def statuses(result: Assessment) -> dict[str, int]:
    return {name: getattr(result, name).status for name in METRICS}


def assess(tmp_path: Path, name: str = "upload.zip", language: str = "CN", **kw: Any) -> Assessment:
    """One 5 s sample unless `count`/`seconds` say otherwise: DNSMOS doubles a 5 s clip to 10 s,
    one window of the network (about 0.25 s of CPU); a 4 s clip would take four."""
    kw.setdefault("count", 1)
    kw.setdefault("seconds", 5.0)
    return assess_zip(sample_zip(tmp_path / name, **kw), language)


def fails(path: Path, limits: ZipLimits | None = None) -> AssessmentFailed:
    with pytest.raises(AssessmentFailed) as info:
        assess_zip(path, limits=limits or ZipLimits())
    return info.value


def wav_header(
    data_bytes: int,
    *,
    fmt_code: int = 1,
    channels: int = 1,
    rate: int = 16000,
    bits: int = 16,
    extensible: bool = False,
) -> bytes:
    align = channels * bits // 8
    code = 0xFFFE if extensible else fmt_code
    fmt = struct.pack("<HHLLHH", code, channels, rate, rate * align, align, bits)
    if extensible:  # cbSize, valid bits, channel mask, sub-format GUID (KSDATAFORMAT_SUBTYPE_*)
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHLH", 22, bits, 0, fmt_code) + guid_tail
    return (
        b"RIFF"
        + struct.pack("<L", 4 + 24 + 8 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<L", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<L", data_bytes)
    )


def streamed_zip(path: Path, name: str, header: bytes, zeros: int) -> Path:
    """A zip whose one entry is `header` + `zeros` zero bytes, streamed so the test stays cheap."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(name, "w", force_zip64=True) as out,
    ):
        out.write(header)
        block = bytes(MiB)
        left = zeros
        while left:
            out.write(block[: min(left, MiB)])
            left -= min(left, MiB)
    return path


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Assessment:
    return assess(tmp_path_factory.mktemp("clean"))


# --- results ----------------------------------------------------------------------------------


def test_clean_speech_like_audio_is_in_range_but_for_the_models_overall_score(
    clean: Assessment,
) -> None:
    # The samples are harmonic bursts, not speech: the DNSMOS network hears that (OVRL ~ 2).
    assert statuses(clean) == {**dict.fromkeys(METRICS, 0), "dnsmos_ovrl": 1}
    assert -23.0 <= number(clean.sound.actual) <= -19.0  # generated at -20 dBFS RMS (voiced)
    assert number(clean.snr.actual) >= 35.0  # speech -20 dBFS over noise -60 dBFS
    assert number(clean.reverb.actual) < 0.3
    assert 1.0 <= number(clean.dnsmos_ovrl.actual) < 3.0
    assert number(clean.dnsmos_bak.actual) >= 3.0
    assert "整体音质" in clean.suggestion
    assert "clipped" not in clean.sound.actual
    assert clean.sound.suggestion_en == "Loudness is OK, no clipping."


def test_json_is_exactly_the_assess_result_shape(clean: Assessment) -> None:
    data = clean.to_json()
    assert set(data) == {*METRICS, "suggestion"}
    assert isinstance(data["suggestion"], str)
    for name in METRICS:
        prop = data[name]
        assert isinstance(prop, dict)
        assert set(prop) == {"expected", "actual", "suggestion", "suggestion_en", "status"}
        assert prop["status"] in (0, 1)
        assert all(isinstance(prop[k], str) and prop[k] for k in prop if k != "status")


def test_actual_and_expected_carry_units(clean: Assessment) -> None:
    assert re.fullmatch(r"\d+\.\d syllables/s \(\d+ characters/min\)", clean.speed.actual)
    assert re.fullmatch(r"-\d+\.\d LUFS", clean.sound.actual)
    assert re.fullmatch(r"-?\d+\.\d dB", clean.snr.actual)
    assert re.fullmatch(r"\d\.\d\d s", clean.reverb.actual)
    assert re.fullmatch(r"\d\.\d\d", clean.dnsmos_ovrl.actual)
    assert clean.sound.expected.startswith("-26 ~ -16 LUFS")
    assert clean.snr.expected == ">= 25 dB"
    assert clean.dnsmos_bak.expected == "3.00 ~ 5.00"


def test_loud_noise_lowers_snr_and_background_score(tmp_path: Path, clean: Assessment) -> None:
    noisy = assess(tmp_path, noise_db=-30.0)
    assert noisy.snr.status == 1
    assert noisy.dnsmos_bak.status == 1
    assert number(noisy.snr.actual) < 20.0 < number(clean.snr.actual)
    assert number(noisy.dnsmos_bak.actual) < number(clean.dnsmos_bak.actual) - 1.0
    assert number(noisy.dnsmos_ovrl.actual) < number(clean.dnsmos_ovrl.actual)
    assert "quiet room" in noisy.snr.suggestion_en
    assert "信噪比" in noisy.suggestion


def test_a_quiet_recording_flags_sound(tmp_path: Path) -> None:
    quiet = assess(tmp_path, level_dbfs=-40.0, noise_db=-85.0)
    assert quiet.sound.status == 1
    assert -42.0 <= number(quiet.sound.actual) <= -38.0
    assert quiet.sound.suggestion_en.startswith("Too quiet")
    assert quiet.snr.status == 0  # the noise went down with it


def test_clipping_flags_sound(tmp_path: Path) -> None:
    clipped = assess(tmp_path, clip=True)
    assert clipped.sound.status == 1
    assert re.search(r"\d\.\d\d% samples clipped", clipped.sound.actual)
    assert "clipped at full scale" in clipped.sound.suggestion_en
    assert "削波" in clipped.sound.suggestion
    assert clipped.dnsmos_ovrl.status == 1


def test_clipping_alone_flags_sound(tmp_path: Path) -> None:
    """A recording at a good level with a few syllables driven into the rails."""
    x = speech_like_signal(5.0, level_dbfs=-24.0)
    loudest = int(np.argmax(np.abs(x)))
    burst = slice(loudest - 1200, loudest + 1200)  # 150 ms around the loudest peak
    x[burst] = np.clip(x[burst] * 8.0, -1.0, 1.0)
    result = assess_zip(make_zip(tmp_path / "u.zip", {"a.wav": encode_wav(x, 16000)}))
    assert -26.0 <= number(result.sound.actual) <= -16.0
    assert result.sound.status == 1
    assert "clipped" in result.sound.actual


def test_reverb_raises_the_estimate(tmp_path: Path, clean: Assessment) -> None:
    wet = assess(tmp_path, reverb_seconds=1.0)
    assert wet.reverb.status == 1
    assert 0.7 <= number(wet.reverb.actual) <= 1.4  # generated with RT60 = 1.0 s
    assert number(wet.reverb.actual) > number(clean.reverb.actual) + 0.5
    assert number(wet.dnsmos_ovrl.actual) < number(clean.dnsmos_ovrl.actual)
    medium = assess(tmp_path, name="m.zip", reverb_seconds=0.4)
    assert number(clean.reverb.actual) < number(medium.reverb.actual) < number(wet.reverb.actual)


@pytest.mark.slow  # seconds of its own: three 12 s takes, three DNSMOS windows each
def test_speed_follows_the_syllable_rate(tmp_path: Path) -> None:
    rates = {}
    for true_rate in (2.0, 4.0, 7.0):
        result = assess(
            tmp_path, name=f"{true_rate}.zip", seconds=10.0, syllables_per_second=true_rate
        )
        rates[true_rate] = number(result.speed.actual)
        assert abs(rates[true_rate] - true_rate) <= 0.15 * true_rate, rates
        assert result.speed.status == (0 if true_rate == 4.0 else 1)
    assert rates[2.0] < rates[4.0] < rates[7.0]


def test_speed_units_follow_the_language(tmp_path: Path) -> None:
    zip_path = sample_zip(tmp_path / "u.zip", count=1, seconds=5.0)
    cn, en = assess_zip(zip_path, "CN"), assess_zip(zip_path, "en")
    syl = number(cn.speed.actual)
    assert cn.speed.actual == f"{syl:.1f} syllables/s ({syl * 60:.0f} characters/min)"
    assert en.speed.actual == f"{syl:.1f} syllables/s ({syl * 40:.0f} words/min)"


def test_same_zip_same_result(tmp_path: Path) -> None:
    first = sample_zip(tmp_path / "a.zip", count=1, seconds=5.0, noise_db=-40.0, seed=7)
    again = sample_zip(tmp_path / "b.zip", count=1, seconds=5.0, noise_db=-40.0, seed=7)
    assert first.read_bytes() == again.read_bytes()
    assert assess_zip(first).to_json() == assess_zip(first).to_json() == assess_zip(again).to_json()
    other = assess_zip(
        sample_zip(tmp_path / "c.zip", count=1, seconds=5.0, noise_db=-35.0, seed=7)
    ).to_json()
    assert other != assess_zip(first).to_json()


def test_overall_suggestion_follows_the_language(tmp_path: Path) -> None:
    good = sample_zip(tmp_path / "good.zip", seconds=5.0)
    en, cn = assess_zip(good, "EN").suggestion, assess_zip(good, "CN").suggestion
    assert en.isascii() and "3 file(s), 15.0 s" in en
    assert not cn.isascii() and "3 个文件" in cn
    noisy = sample_zip(tmp_path / "noisy.zip", seconds=5.0, noise_db=-30.0)
    en_bad = assess_zip(noisy, "EN").suggestion
    assert "out of range" in en_bad and "signal-to-noise ratio (snr)" in en_bad
    assert "fit for use" not in en_bad
    assert "不在期望范围内" in assess_zip(noisy, "CN").suggestion
    with pytest.raises(ValueError, match="CN or EN"):
        assess_zip(good, "FR")


def test_short_recordings_are_named_in_the_suggestion(tmp_path: Path) -> None:
    short = assess(tmp_path, language="EN", count=1, seconds=2.0)
    assert "too short" in short.suggestion


def test_files_are_weighted_by_duration(tmp_path: Path) -> None:
    long_ = speech_like_wav_bytes(9.5, level_dbfs=-20.0, seed=1)
    short = speech_like_wav_bytes(3.0, level_dbfs=-30.0, seed=2)
    result = assess_zip(make_zip(tmp_path / "u.zip", {"a.wav": long_, "b.wav": short}))
    level = number(result.sound.actual)
    assert -24.5 <= level <= -21.0  # 3/4 of the way to -20, not the midpoint -25


@pytest.mark.parametrize(
    ("bits", "float_format", "channels", "rate"),
    [
        (8, False, 1, 16000),
        (16, False, 2, 44100),
        (24, False, 1, 48000),
        (32, False, 1, 8000),
        (32, True, 2, 22050),
        (64, True, 1, 16000),
    ],
)
def test_wav_formats_give_the_same_reading(
    tmp_path: Path, bits: int, float_format: bool, channels: int, rate: int
) -> None:
    x = speech_like_signal(9.5, rate, noise_db=-45.0)  # one DNSMOS window (6 s, doubled: 3)
    samples = np.repeat(x[:, None], channels, axis=1)
    wav = encode_wav(samples, rate, bits=bits, float_format=float_format)
    result = assess_zip(make_zip(tmp_path / "u.zip", {"a.wav": wav}))
    reference = assess_zip(make_zip(tmp_path / "r.zip", {"a.wav": encode_wav(x, rate)}))
    assert abs(number(result.sound.actual) - number(reference.sound.actual)) <= 0.2
    if bits > 8:  # 8-bit steps turn the -45 dBFS noise into digital silence: a cleaner reading
        assert abs(number(result.snr.actual) - number(reference.snr.actual)) <= 1.5
    assert abs(number(result.dnsmos_bak.actual) - number(reference.dnsmos_bak.actual)) <= 0.3
    assert result.speed.actual == reference.speed.actual


def test_dirs_dot_files_and_macos_forks_are_ignored(tmp_path: Path) -> None:
    good = speech_like_wav(tmp_path / "take1.wav", seconds=5.0)  # one DNSMOS window
    entries = {
        "recordings/": b"",
        "recordings/take1.wav": good.read_bytes(),
        "__MACOSX/recordings/._take1.wav": b"\x00\x05\x16\x07 not audio",
        "recordings/.DS_Store": b"junk",
        "recordings/.hidden.wav": b"junk",
        "recordings/readme.txt": b"notes",
    }
    result = assess_zip(make_zip(tmp_path / "u.zip", entries))
    assert "1 个文件" in result.suggestion


# --- failures ---------------------------------------------------------------------------------


def test_failure_codes_are_documented() -> None:
    import mock_server.assessment.failures as module

    assert module.__doc__ is not None
    for code in FAILURE_CODES:
        assert re.fullmatch(r"MSS\.\d{8}", code)
        assert code in module.__doc__


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    path.write_bytes(b"this is not a zip file at all" * 10)
    failure = fails(path)
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason == "upload.zip: not a zip file"


def test_a_corrupt_zip(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "upload.zip", {"a.wav": speech_like_wav_bytes(1.0)})
    data = bytearray(path.read_bytes())
    data[:4] = b"XXXX"  # the first local header
    path.write_bytes(bytes(data))
    failure = fails(path)
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason.startswith("a.wav: corrupt zip entry")


def test_a_bad_crc(tmp_path: Path) -> None:
    wav = speech_like_wav_bytes(1.0)
    path = make_zip(tmp_path / "upload.zip", {"a.wav": wav}, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    data[30 + len("a.wav") + 1000] ^= 0xFF  # one byte of audio, inside the stored entry
    path.write_bytes(bytes(data))
    failure = fails(path)
    assert failure.code == CODE_BAD_ZIP
    assert "a.wav" in failure.reason and "CRC" in failure.reason


def test_an_empty_zip(tmp_path: Path) -> None:
    failure = fails(make_zip(tmp_path / "upload.zip", {}))
    assert failure.code == CODE_NO_WAV
    assert failure.reason == "upload.zip: no WAV file (the zip is empty)"


def test_no_wav_in_the_zip(tmp_path: Path) -> None:
    entries = {"docs/": b"", "docs/notes.txt": b"hello", "__MACOSX/._a.wav": b"x", ".x.wav": b"x"}
    failure = fails(make_zip(tmp_path / "upload.zip", entries))
    assert failure.code == CODE_NO_WAV
    assert failure.reason.startswith("upload.zip: no WAV file (found only: ")
    assert "docs/notes.txt" in failure.reason


def test_a_garbage_wav(tmp_path: Path) -> None:
    entries = {"a.wav": speech_like_wav_bytes(1.0), "b.wav": bytes(range(256)) * 4}
    failure = fails(make_zip(tmp_path / "upload.zip", entries))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason == "b.wav: not a RIFF/WAVE file"


def test_one_bad_wav_among_good_ones_fails_the_job(tmp_path: Path) -> None:
    good = speech_like_wav_bytes(2.0)
    entries = {"1.wav": good, "2.wav": good[:-1000], "3.wav": good}
    failure = fails(make_zip(tmp_path / "upload.zip", entries))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason.startswith("2.wav: truncated data chunk")


def test_a_truncated_wav(tmp_path: Path) -> None:
    wav = speech_like_wav_bytes(1.0)  # 16000 samples: a 32000-byte data chunk
    failure = fails(make_zip(tmp_path / "upload.zip", {"rec/a.wav": wav[:144]}))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason == "rec/a.wav: truncated data chunk (expected 32000 bytes, got 100)"


def test_a_wav_without_data_chunk(tmp_path: Path) -> None:
    failure = fails(make_zip(tmp_path / "upload.zip", {"a.wav": wav_header(0)[:36]}))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason == "a.wav: no data chunk"


def test_a_zero_length_wav(tmp_path: Path) -> None:
    failure = fails(
        make_zip(tmp_path / "upload.zip", {"empty.wav": encode_wav(np.zeros(0), 16000)})
    )
    assert failure.code == CODE_EMPTY_AUDIO
    assert failure.reason == "empty.wav: no audio samples (empty data chunk)"


def test_a_too_short_wav(tmp_path: Path) -> None:
    failure = fails(make_zip(tmp_path / "upload.zip", {"a.wav": encode_wav(np.zeros(800), 16000)}))
    assert failure.code == CODE_EMPTY_AUDIO
    assert failure.reason.startswith("a.wav: only 50.0 ms of audio")


def test_non_finite_float_samples(tmp_path: Path) -> None:
    x = np.full(16000, np.nan)
    wav = encode_wav(x, 16000, bits=32, float_format=True)
    failure = fails(make_zip(tmp_path / "upload.zip", {"a.wav": wav}))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason.startswith("a.wav: non-finite")


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (wav_header(1600, fmt_code=6, bits=8), "unsupported WAV format 0x0006 (A-law)"),
        (wav_header(1600, bits=12), "unsupported PCM bit depth 12"),
        (wav_header(1600, rate=96000), "sample rate 96000 Hz is outside 8000-48000 Hz"),
        (wav_header(1600, channels=64), "64 channels"),
    ],
)
def test_unsupported_audio_formats(tmp_path: Path, header: bytes, problem: str) -> None:
    wav = header + bytes(1600)
    failure = fails(make_zip(tmp_path / "upload.zip", {"a.wav": wav}))
    assert failure.code == CODE_UNSUPPORTED_FORMAT
    assert failure.reason.startswith(f"a.wav: {problem}")


@pytest.mark.parametrize(
    "name", ["../evil.wav", "rec/../../evil.wav", "/etc/evil.wav", "C:evil.wav"]
)
def test_unsafe_entry_names(tmp_path: Path, name: str) -> None:
    entries = {"good.wav": speech_like_wav_bytes(1.0), name: speech_like_wav_bytes(1.0)}
    failure = fails(make_zip(tmp_path / "upload.zip", entries))
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason.startswith(f"{name}: ")
    assert "not allowed" in failure.reason


def test_symbolic_links_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "upload.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link.wav")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    failure = fails(path)
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason == "link.wav: symbolic link in the zip (not allowed)"


def test_encrypted_entries_are_refused(tmp_path: Path) -> None:
    path = make_zip(tmp_path / "upload.zip", {"a.wav": speech_like_wav_bytes(1.0)})
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 8] |= 0x01  # general purpose flag: encrypted
    path.write_bytes(bytes(data))
    failure = fails(path)
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason == (
        "a.wav: encrypted entry (ZipCrypto; not supported): zip it again without a password"
    )


def test_too_many_entries(tmp_path: Path) -> None:
    entries = {f"junk/{i:04d}.txt": b"" for i in range(1001)}
    failure = fails(make_zip(tmp_path / "upload.zip", entries))
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason == "upload.zip: 1001 entries, more than the limit of 1000"
    small = fails(make_zip(tmp_path / "small.zip", dict(list(entries.items())[:6])), ZipLimits(5))
    assert small.reason == "small.zip: 6 entries, more than the limit of 5"


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 GiB of zeros behind a WAV header, deflated to a few MiB."""
    path = tmp_path_factory.mktemp("bomb") / "upload.zip"
    return streamed_zip(path, "bomb.wav", wav_header(1 << 30), 1 << 30)


@pytest.mark.slow
def test_a_gigabyte_of_zeros_is_refused_by_its_length_without_memory(bomb: Path) -> None:
    """Compressed 1000:1 like any silence; what it would expand to is 9 hours of audio by its
    header: refused for that, before its data is read, memory flat."""
    assert bomb.stat().st_size < 8 * MiB
    tracemalloc.start()
    try:
        failure = fails(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failure.code == CODE_TOO_LONG, failure
    assert "zip bomb" not in failure.reason
    assert peak < 64 * MiB


def overlapping(path: Path, names: list[str]) -> Path:
    """A zip of `names` (speech), and one more central directory record per name, named
    `again-NAME`, pointing at that name's local header: entries whose data overlap, the
    construction of Fifield's "better zip bomb"."""
    make_zip(path, {name: speech_like_wav_bytes(1.0) for name in names})
    data = path.read_bytes()
    end = data.rindex(b"PK\x05\x06")
    entries, size, offset = struct.unpack("<HLL", data[end + 10 : end + 20])
    central = data[offset : offset + size]
    extra = b""
    at = 0
    while at < len(central):
        lengths = struct.unpack("<HHH", central[at + 28 : at + 34])
        record_end = at + 46 + sum(lengths)
        record = central[at:record_end]
        name = record[46 : 46 + lengths[0]]
        again = b"again-" + name
        extra += record[:28] + struct.pack("<H", len(again)) + record[30:46] + again
        extra += record[46 + lengths[0] :]
        at = record_end
    central += extra
    tail = struct.pack("<HHLL", 2 * entries, 2 * entries, len(central), offset)
    path.write_bytes(data[:offset] + central + data[end : end + 8] + tail + data[end + 20 :])
    return path


def test_overlapping_entries_are_the_zip_bomb(tmp_path: Path) -> None:
    failure = fails(overlapping(tmp_path / "upload.zip", ["a.wav", "b.wav"]))
    assert failure.code == CODE_BAD_ZIP
    assert "overlaps" in failure.reason and failure.reason.endswith(
        "(overlapping entries: zip bomb?)"
    )


@settings(max_examples=20, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 3 * MiB), min_size=1, max_size=4),
    method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]),
)
def test_no_ordinary_zip_is_a_zip_bomb_however_well_it_compresses(
    sizes: list[int], method: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Entries of silence (1000:1 deflated, far more with bzip2) and of noise (1:1), as zipfile
    writes them: never refused as overlapping, and every one declared within the limits."""
    path = tmp_path_factory.mktemp("zips") / "upload.zip"
    rng = np.random.default_rng(len(sizes))
    with zipfile.ZipFile(path, "w", method) as zf:
        for index, size in enumerate(sizes):
            body = bytes(size) if index % 2 == 0 else rng.bytes(size)
            zf.writestr(f"take{index}.wav", wav_header(size) + body)
    with zipfile.ZipFile(path) as zf:
        check_declared(zf.infolist(), ZipLimits())


def test_the_total_limit_counts_every_entry(tmp_path: Path) -> None:
    wav = speech_like_wav_bytes(1.0)
    limits = ZipLimits(max_total_uncompressed=2 * len(wav) + 10)
    failure = fails(
        make_zip(tmp_path / "upload.zip", {"a.wav": wav, "b.wav": wav, "c.wav": wav}), limits
    )
    assert failure.code == CODE_BAD_ZIP
    assert "the zip's WAV files total more than" in failure.reason
    assert "zip bomb" not in failure.reason
    assert "c.wav" in failure.reason


def test_a_lying_header_cannot_inflate_memory(tmp_path: Path) -> None:
    """The central directory says 10000 bytes; the entry inflates to 64 MiB."""
    path = streamed_zip(tmp_path / "upload.zip", "bomb.wav", wav_header(64 * MiB), 64 * MiB)
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    assert struct.unpack("<L", data[central + 24 : central + 28]) == (64 * MiB + 44,)
    data[central + 24 : central + 28] = struct.pack("<L", 10000)  # uncompressed size
    path.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        failure = fails(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failure.code == CODE_BAD_ZIP
    assert failure.reason.startswith("bomb.wav: ")
    assert peak < 16 * MiB


@pytest.mark.slow
def test_streaming_keeps_memory_flat(tmp_path: Path) -> None:
    """128 MiB of (silent) 48 kHz stereo audio, allowed through: read without holding it."""
    size = 128 * MiB
    header = wav_header(size, channels=2, rate=48000)
    path = streamed_zip(tmp_path / "upload.zip", "long.wav", header, size)
    tracemalloc.start()
    try:
        [stats] = measure_zip(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert stats.no_speech == "digital silence"
    assert stats.seconds == pytest.approx(size / 4 / 48000)
    assert peak < 64 * MiB


def test_a_recording_over_the_length_limit(tmp_path: Path) -> None:
    wav = speech_like_wav_bytes(3.0)
    failure = fails(
        make_zip(tmp_path / "upload.zip", {"a.wav": wav}), ZipLimits(max_file_seconds=2.0)
    )
    assert failure.code == CODE_TOO_LONG
    assert failure.reason == "a.wav: longer than the limit of 2 s per recording"


def test_a_header_claiming_hours_on_a_short_file_is_a_truncation(tmp_path: Path) -> None:
    wav = wav_header(0x7FFFFFFE) + bytes(32000)
    failure = fails(make_zip(tmp_path / "upload.zip", {"a.wav": wav}))
    assert failure.code == CODE_UNREADABLE_WAV
    assert failure.reason == "a.wav: truncated data chunk (expected 2147483646 bytes, got 32000)"


def test_damaged_uploads_only_ever_fail_with_assessment_failed(tmp_path: Path) -> None:
    """Random damage to zip and WAV headers: a result or AssessmentFailed, nothing else."""
    rng = random.Random(1234)
    wav = speech_like_wav_bytes(1.0)
    good_zip = make_zip(tmp_path / "good.zip", {"a.wav": wav, "b/c.wav": wav}).read_bytes()
    path = tmp_path / "upload.zip"
    codes: set[str] = set()
    for i in range(300):
        if i % 2:
            data = bytearray(good_zip)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            path.write_bytes(bytes(data[: rng.randint(len(data) - 200, len(data))]))
        else:
            damaged = bytearray(wav[: rng.randint(20, len(wav))])
            for _ in range(rng.randint(1, 4)):
                damaged[rng.randrange(min(60, len(damaged)))] = rng.randrange(256)
            make_zip(path, {"a.wav": bytes(damaged)})
        try:
            assess_zip(path)
        except AssessmentFailed as failure:
            codes.add(failure.code)
    assert codes <= set(FAILURE_CODES)
    assert {CODE_BAD_ZIP, CODE_UNREADABLE_WAV, CODE_UNSUPPORTED_FORMAT} <= codes


def test_wave_format_extensible(tmp_path: Path) -> None:
    x = speech_like_signal(5.0, 16000, noise_db=-45.0)  # one DNSMOS window (see `assess`)
    stereo = np.repeat(x[:, None], 2, axis=1).astype("<f4").tobytes()
    wav = wav_header(len(stereo), fmt_code=3, channels=2, bits=32, extensible=True) + stereo
    result = assess_zip(make_zip(tmp_path / "u.zip", {"a.wav": wav}))
    reference = assess_zip(make_zip(tmp_path / "r.zip", {"a.wav": encode_wav(x, 16000)}))
    assert abs(number(result.sound.actual) - number(reference.sound.actual)) <= 0.2
    alaw = wav_header(1600, fmt_code=6, bits=8, extensible=True) + bytes(1600)
    failure = fails(make_zip(tmp_path / "a.zip", {"a.wav": alaw}))
    assert failure.code == CODE_UNSUPPORTED_FORMAT
    assert failure.reason.startswith("a.wav: unsupported WAV format 0x0006 (A-law)")
