"""Client unit tests (respx, no server, fake time): zipping and assess."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from short_jobs.errors import (
    UsageError,
)
from short_jobs.zipping import collect_wavs, zip_recordings
from short_jobs_client.models import JobState

from .client_fakes import (
    JOB,
    UPLOAD_URL,
    Surface,
    assess_routes,
    recordings,
    uploaded_names,
    write_wav,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


def test_collect_wavs_finds_wav_files_recursively(tmp_path: Path) -> None:
    root = recordings(tmp_path)
    assert [e.name for e in collect_wavs(root)] == ["a.wav", "day2/b.WAV", "day3/a.wav"]


def test_several_folders_wavs_and_zips_merge_under_their_own_names(tmp_path: Path) -> None:
    first = recordings(tmp_path / "one")
    second = tmp_path / "two"
    write_wav(second / "a.wav")
    given = zip_recordings(first, tmp_path / "given.zip")
    loose = write_wav(tmp_path / "loose.wav")
    entries = collect_wavs([first, second, given, loose])
    assert [e.name for e in entries] == [
        "recordings/a.wav",
        "recordings/day2/b.WAV",
        "recordings/day3/a.wav",
        "two/a.wav",
        "given/a.wav",
        "given/day2/b.WAV",
        "given/day3/a.wav",
        "loose.wav",
    ]
    merged = zip_recordings([first, given], tmp_path / "merged.zip")
    with zipfile.ZipFile(merged) as archive:
        assert archive.read("given/day2/b.WAV") == (first / "day2" / "b.WAV").read_bytes()


@pytest.mark.parametrize(
    ("source", "match"),
    [
        (lambda p: p / "missing", "no such file"),
        (lambda p: p, "no .wav files"),
        (lambda p: [], "no recordings"),
        (lambda p: [write_wav(p / "x" / "a.wav"), write_wav(p / "y" / "a.wav")], "two"),
        (lambda p: [p / "x", write_wav(p / "x" / "a.wav").parent], "two"),
        (lambda p: [write_wav(p / "a.wav"), p / "gone"], "no such file"),
    ],
)
def test_collect_wavs_refuses_bad_sources(tmp_path: Path, source: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match) as caught:
        collect_wavs(source(tmp_path))
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("notes.txt", b"text", "not a .wav file, a .zip or a directory"),
        ("take.zip", b"RIFF not a zip", "not a zip file"),
    ],
)
def test_a_file_that_is_neither_wav_nor_zip_is_refused_before_sending(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path, name: str, content: bytes, match: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    put = mock.put(UPLOAD_URL).respond(200)
    with pytest.raises(UsageError, match=match):
        sj.upload(UPLOAD_URL, path)
    with pytest.raises(UsageError, match=match):
        sj.assess([path])
    assert not put.called


def test_upload_zips_wav_files_and_folders_first(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = mock.put(UPLOAD_URL).respond(200)
    zipped: list[tuple[int, int]] = []
    sj.upload(UPLOAD_URL, write_wav(tmp_path / "take.wav"), on_zip=lambda *a: zipped.append(a))
    assert uploaded_names(route) == ["take.wav"]
    assert zipped == [(1, 1)]
    sj.upload(UPLOAD_URL, [recordings(tmp_path / "r"), tmp_path / "take.wav"])
    names = ["recordings/a.wav", "recordings/day2/b.WAV", "recordings/day3/a.wav", "take.wav"]
    assert uploaded_names(route) == names


def test_zip_recordings_writes_every_wav(tmp_path: Path) -> None:
    root = recordings(tmp_path)
    target = zip_recordings(root, tmp_path / "out.zip")
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["a.wav", "day2/b.WAV", "day3/a.wav"]


def test_assess_zips_a_directory_and_runs_the_whole_job(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    created: list[str] = []
    progress: list[tuple[int, int]] = []
    detail = sj.assess(
        recordings(tmp_path),
        language="EN",
        progress=lambda *a: progress.append(a),
        on_created=lambda job: created.append(job.job_id),
    )
    assert detail.state is JobState.SUCCEED
    assert created == [JOB]
    assert json.loads(routes["create"].calls.last.request.content)["language"] == "EN"
    assert uploaded_names(routes["upload"]) == ["a.wav", "day2/b.WAV", "day3/a.wav"]
    assert progress[-1][0] == progress[-1][1]
    assert routes["commit"].call_count == 1
    assert routes["show"].call_count == 2


def test_assess_takes_a_list_of_wav_files(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    files = [write_wav(tmp_path / "one.wav"), write_wav(tmp_path / "sub" / "two.wav")]
    sj.assess(files)
    assert uploaded_names(routes["upload"]) == ["one.wav", "two.wav"]


def test_assess_sends_a_zip_as_is(sj: Surface, mock: respx.MockRouter, tmp_path: Path) -> None:
    routes = assess_routes(mock)
    path = zip_recordings([write_wav(tmp_path / "one.wav")], tmp_path / "given.ZIP")
    sj.assess(str(path))
    assert routes["upload"].calls.last.request.content == path.read_bytes()


def test_assess_checks_the_source_before_creating_a_job(
    sj: Surface, mock: respx.MockRouter, tmp_path: Path
) -> None:
    routes = assess_routes(mock)
    with pytest.raises(UsageError, match="no such file"):
        sj.assess(tmp_path / "missing.zip")
    with pytest.raises(ValueError, match=r"no \.wav"):
        sj.assess(tmp_path)
    assert not routes["create"].called


def test_unknown_language_is_refused(sj: Surface) -> None:
    with pytest.raises(ValueError, match="language"):
        sj.create(language="FR")


@settings(max_examples=20, deadline=None)
@given(
    layout=st.lists(
        st.lists(st.sampled_from(["a.wav", "b.WAV", "sub/a.wav", "x.txt"]), max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_several_folders_give_unique_names_under_each_folder(layout: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = []
        for index, files in enumerate(layout):
            folder = Path(tmp) / f"take{index}"
            folder.mkdir()
            for name in files:
                if name.endswith(".txt"):
                    (folder / name).write_text("notes")
                else:
                    write_wav(folder / name, seconds=0.01)
            folders.append(folder)
        source = folders[0] if len(folders) == 1 else folders
        wavs = [{n for n in files if not n.endswith(".txt")} for files in layout]
        if not all(wavs):
            with pytest.raises(UsageError, match=r"no \.wav files"):
                collect_wavs(source)
            return
        names = [entry.name for entry in collect_wavs(source)]
        expected = (
            sorted(wavs[0])
            if len(folders) == 1
            else [f"take{i}/{n}" for i, found in enumerate(wavs) for n in sorted(found)]
        )
        assert names == expected
        assert len(set(names)) == len(names)
