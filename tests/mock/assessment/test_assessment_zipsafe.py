"""Reading uploads safely (`zipsafe`), on its own: which entries are recordings, in which order,
and what is refused before any audio is decoded. The end-to-end cases (bombs, lying headers,
memory) are in test_assessment.py."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mock_server.assessment import CODE_BAD_ZIP, CODE_NO_WAV, AssessmentFailed, ZipLimits
from mock_server.assessment.zipsafe import is_wav_name, unsafe_name, wav_entries


@pytest.mark.parametrize(
    ("name", "wav"),
    [
        ("a.wav", True),
        ("dir/B.WAVE", True),
        ("__MACOSX/a.wav", False),
        ("._a.wav", False),
        ("dir/.x.wav", False),
        ("notes.txt", False),
        ("dir/", False),
    ],
)
def test_which_names_are_recordings(name: str, wav: bool) -> None:
    assert is_wav_name(name) is wav


@pytest.mark.parametrize("name", ["/x.wav", "C:x.wav", "a/../../x.wav", "..\\x.wav", "a\0.wav"])
def test_unsafe_names(name: str) -> None:
    assert unsafe_name(name) is not None


def test_entries_come_in_name_order_and_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "u.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("z.wav", "a/b.wav", "m.WAV", "readme.txt", ".DS_Store"):
            zf.writestr(name, name.encode() * 1000)
    seen = []
    for name, stream in wav_entries(path, ZipLimits()):
        data = b""
        while chunk := stream.read(777):
            data += chunk
        assert data == name.encode() * 1000 and stream.remaining == 0
        seen.append(name)
    assert seen == ["a/b.wav", "m.WAV", "z.wav"]


def test_refusals_happen_before_any_entry_is_read(tmp_path: Path) -> None:
    path = tmp_path / "u.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.wav", b"x")
        zf.writestr("../b.wav", b"x")
    with pytest.raises(AssessmentFailed) as info:
        next(wav_entries(path, ZipLimits()))
    assert info.value.code == CODE_BAD_ZIP and info.value.reason.startswith("../b.wav: ")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.txt", b"x")
    with pytest.raises(AssessmentFailed) as info:
        next(wav_entries(path, ZipLimits()))
    assert info.value.code == CODE_NO_WAV
    assert info.value.reason == "u.zip: no WAV file (found only: a.txt)"
