"""The assessment's cost: CPU seconds per second of audio, and peak memory on a long recording.

Run by `make bench` (after bench/run.py) or by hand: `.venv/bin/python bench/assessment.py`.
Each case is a zip of one generated speech-like WAV (`mock_server.samples`, written minute by
minute so this script stays small), assessed by `mock_server.assessment.assess_zip` in a fresh
process that first assesses a 1 s recording (the warm-up: the DNSMOS network loaded, scipy and
onnxruntime imported, so the figures are the assessment's, not the one-time loads'). Reported
per case: CPU seconds (user + system, all threads) per second of audio; wall seconds; the
process' resident memory after the warm-up and its peak during the assessment (VmHWM), and
their difference. Nothing asserts: figures are printed and written to
bench/results/assessment.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET_CPU_PER_AUDIO_SECOND = 0.05

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
import numpy as np

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0

from mock_server.assessment import assess_zip
from mock_server.samples import make_zip, speech_like_wav_bytes
# warm-up: the network loaded and every library imported, on a 1 s recording
assess_zip(make_zip(Path(sys.argv[2]), {"w.wav": speech_like_wav_bytes(1.0)}))
before = rss("VmRSS:")
cpu0, wall0 = time.process_time(), time.perf_counter()
result = assess_zip(Path(sys.argv[1]))
cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
print(json.dumps({"cpu": cpu, "wall": wall, "rss_before": before, "peak": rss("VmHWM:"),
                  "dnsmos_ovrl": result.dnsmos_ovrl.actual, "snr": result.snr.actual}))
"""


def write_recording(path: Path, minutes: float, rate: int, channels: int) -> float:
    """A zip holding one WAV of `minutes` of speech-like audio; returns its seconds."""
    from mock_server.samples import speech_like_signal

    wav_path = path.with_suffix(".wav")
    seconds = 0.0
    with wave.open(str(wav_path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        piece = 0
        while seconds < minutes * 60 - 1e-9:
            length = min(60.0, minutes * 60 - seconds)
            x = speech_like_signal(length, rate, noise_db=-50.0, seed=piece)
            pcm = np.round(np.clip(x, -1, 1) * 32767).astype("<i2")
            w.writeframes(np.repeat(pcm[:, None], channels, axis=1).tobytes())
            seconds += length
            piece += 1
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(wav_path, "recording.wav")
    wav_path.unlink()
    return seconds


def run_case(name: str, minutes: float, rate: int, channels: int, work: Path) -> dict[str, object]:
    path = work / f"{name}.zip"
    seconds = write_recording(path, minutes, rate, channels)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(work / "warm-up.zip")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    path.unlink()
    return {"case": name, "audio_seconds": seconds, **figures}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="the long recording's length")
    args = parser.parse_args(argv)
    cases = [
        (f"{args.minutes:g} min 16 kHz mono", args.minutes, 16000, 1),
        ("1 min 48 kHz stereo", 1.0, 48000, 2),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-assessment-") as tmp:
        for name, minutes, rate, channels in cases:
            print(f"assessing {name} ...", file=sys.stderr, flush=True)
            rows.append(run_case(name, minutes, rate, channels, Path(tmp)))
    mib = 1 << 20
    print("\nassessment (one process, after a warm-up)")
    header = ("case", "CPU s / audio s", "target", "met", "wall s", "RSS MiB", "peak MiB", "growth")
    print(" | ".join(header))
    for r in rows:
        per = float(r["cpu"]) / float(r["audio_seconds"])  # type: ignore[arg-type]
        before, peak = int(r["rss_before"]), int(r["peak"])  # type: ignore[call-overload]
        print(
            f"{r['case']} | {per:.3f} | <= {TARGET_CPU_PER_AUDIO_SECOND} | "
            f"{'yes' if per <= TARGET_CPU_PER_AUDIO_SECOND else 'NO'} | {float(r['wall']):.1f} | "  # type: ignore[arg-type]
            f"{before / mib:.0f} | {peak / mib:.0f} | {(peak - before) / mib:+.0f}"
        )
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "assessment.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
