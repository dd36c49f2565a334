"""Whatever an upload holds, the assessment answers a result or fails the job with a code and a
reason naming the file: never another exception."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.assessment import FAILURE_CODES, Assessment, AssessmentFailed, assess_zip
from mock_server.samples import encode_wav

NAMES = ["a.wav", "b/c.WAV", "../up.wav", "/abs.wav", "C:x.wav", ".hidden.wav", "notes.txt", "d/"]


def valid_wav(seconds: float, bits: int, channels: int, rate: int) -> bytes:
    rng = np.random.default_rng(0)
    x = np.clip(rng.standard_normal((max(1, int(seconds * rate)), channels)) * 0.1, -1, 1)
    return encode_wav(x, rate, bits=bits)


@st.composite
def wav_bytes(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["valid", "damaged", "truncated", "random"]))
    if kind == "random":
        return draw(st.binary(max_size=200))
    data = bytearray(
        valid_wav(
            draw(st.sampled_from([0.05, 0.15, 0.5])),
            draw(st.sampled_from([8, 16, 24, 32])),
            draw(st.integers(1, 3)),
            draw(st.sampled_from([8000, 16000, 44100])),
        )
    )
    if kind == "damaged":
        for _ in range(draw(st.integers(1, 6))):
            data[draw(st.integers(0, min(len(data), 60) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncated":
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def uploads(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A zip's bytes, and whether the zip itself was damaged after writing (which can garble
    the names it holds)."""
    entries = draw(
        st.lists(
            st.tuples(st.sampled_from(NAMES), wav_bytes()), max_size=3, unique_by=lambda e: e[0]
        )
    )
    buffer = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA]))
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, content in entries:
            zf.writestr(name, content)
    data = bytearray(buffer.getvalue())
    flips = draw(st.integers(0, 3))
    for _ in range(flips):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]), bool(flips) or cut < len(data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(upload=uploads())
@example(upload=(b"", True))
@example(upload=(b"PK\x05\x06" + bytes(18), True))
def test_an_upload_gives_a_result_or_a_named_failure(upload: tuple[bytes, bool]) -> None:
    data, damaged = upload
    failure: AssessmentFailed | None = None
    result: Assessment | None = None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "upload.zip"
        path.write_bytes(data)
        try:
            result = assess_zip(path)
        except AssessmentFailed as exc:
            failure = exc
    if failure is None:
        assert isinstance(result, Assessment)
        assert all(m.status in (0, 1) for m in result.metrics().values())
        return
    assert failure.code in FAILURE_CODES
    named, _, problem = failure.reason.partition(": ")
    assert problem, failure.reason
    assert named in (*NAMES, "upload.zip") or damaged, failure.reason
