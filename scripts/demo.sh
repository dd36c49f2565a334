#!/usr/bin/env bash
# make demo: start the mock on a free port, assess a zip of voice-like WAVs with the `short-jobs`
# command line (the facade over the generated client), stop the mock whatever happens. Its last
# line says whether every metric is within range, or which is not and why.
#
# It needs only the `mock` extra: it reuses .venv when `make setup` made it (the dev extra holds
# the mock extra), and otherwise installs the `mock` extra alone into .venv at the versions of
# constraints.txt (a later `make setup` adds the dev tools to the same .venv).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
bin="$venv/bin"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
pip=(-m pip --disable-pip-version-check --quiet)

if [ -f "$venv/.setup-done" ]; then
    echo "Using the dev environment in .venv"
elif [ -f "$venv/.demo-done" ] && [ "$venv/.demo-done" -nt "$root/pyproject.toml" ] &&
    [ "$venv/.demo-done" -nt "$root/constraints.txt" ]; then
    echo "Using .venv (the mock extra)"
else
    echo "Installing the toolkit with its mock extra into .venv (what the demo runs, nothing more)"
    [ -x "$bin/python" ] || "$PYTHON" -m venv "$venv"
    "$bin/python" "${pip[@]}" install -c "$root/constraints.txt" pip
    "$bin/python" "${pip[@]}" install -c "$root/constraints.txt" -e "$root[mock]"
    touch "$venv/.demo-done"
fi

work=$(mktemp -d)
mock_pid=""
cleanup() {
    if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The mock's documented default credentials, through the official SDK's variables, which both the
# mock and the client read.
export HUAWEICLOUD_SDK_AK=MOCKACCESSKEY0000000
export HUAWEICLOUD_SDK_SK=mock-secret-key-0000000000000000000000000
export HUAWEICLOUD_SDK_PROJECT_ID=0a1b2c3d4e5f60718293a4b5c6d7e8f9

port=$("$bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export SHORT_JOBS_ENDPOINT="http://127.0.0.1:$port"
echo "Starting the mock on $SHORT_JOBS_ENDPOINT"
"$bin/short-jobs-mock" --port "$port" --iam-port 0 --data-dir "$work/mock-data" --processing-seconds 1 \
    --log-level warning &
mock_pid=$!

"$bin/python" - "$SHORT_JOBS_ENDPOINT" "$work/recordings.zip" <<'PY'
import sys, time
from pathlib import Path

import httpx

from mock_server.samples import voice_zip

endpoint, target = sys.argv[1], Path(sys.argv[2])
deadline = time.monotonic() + 30
while True:
    try:
        if httpx.get(endpoint + "/").status_code == 200:
            break
    except httpx.TransportError:
        pass
    if time.monotonic() > deadline:
        sys.exit("the mock did not start")
    time.sleep(0.1)
voice_zip(target, count=3)
print(f"Made {target.name}: 3 voice-like WAV recordings of 10 s (mock_server.samples.voice_zip)")
PY

# The whole job in one command; its JSON for the verdict below, then the report as a person reads it.
"$bin/short-jobs" assess "$work/recordings.zip" --language EN --json >"$work/job.json"
job_id=$("$bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["job_id"])' "$work/job.json")
"$bin/short-jobs" show "$job_id" --language EN

"$bin/python" - "$work/job.json" <<'PY'
import json, sys

job = json.load(open(sys.argv[1]))
result = job.get("assess_result") or {}
out = [
    f"{name} is out of range ({metric.get('actual')}, expected {metric.get('expected')}):"
    f" {metric.get('suggestion_en') or metric.get('suggestion')}"
    for name, metric in result.items()
    if isinstance(metric, dict) and metric.get("status") != 0
]
if job.get("state") != "SUCCEED":
    sys.exit(f"Demo: the job ended {job.get('state')}: {job.get('job_failed_reason')}")
if out:
    print("Demo: " + "; ".join(out) + " (the recordings are synthetic, not a person speaking)")
else:
    print("Demo: the job SUCCEEDED and every metric is within the expected range.")
PY
