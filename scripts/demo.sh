#!/usr/bin/env bash
# make demo: start the mock on a free port, assess a zip of speech-like WAVs with the
# `short-jobs` command line (the facade over the generated client), stop the mock whatever happens.
set -euo pipefail
bin="$(cd "$(dirname "$0")/.." && pwd)/.venv/bin"
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
endpoint="http://127.0.0.1:$port"
echo "Starting the mock on $endpoint"
"$bin/short-jobs-mock" --port "$port" --iam-port 0 --data-dir "$work/mock-data" --processing-seconds 1 \
    --log-level warning &
mock_pid=$!

"$bin/python" - "$endpoint" "$work/recordings.zip" <<'PY'
import sys, time
from pathlib import Path

import httpx

from mock_server.samples import sample_zip

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
sample_zip(target, count=3)
print(f"Made {target.name}: 3 speech-like WAV recordings")
PY

"$bin/short-jobs" --endpoint "$endpoint" assess "$work/recordings.zip" --language EN
