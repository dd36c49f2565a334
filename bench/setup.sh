#!/usr/bin/env bash
# Installs what the benchmarks compare against, idempotently: a second run does nothing.
#   wrk              the closed-loop HTTP load generator (Debian package)
#   Stoplight Prism  bench/node_modules/.bin/prism, pinned by bench/package.json (npm)
#   py-spy           the sampling profiler bench/profile.py uses (pip, into the project's .venv)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VENV:-$here/../.venv}"

if ! command -v wrk >/dev/null 2>&1; then
    echo "bench/setup.sh: installing wrk" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    if command -v apt-get >/dev/null 2>&1; then
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        brew install wrk
    else
        echo "bench/setup.sh: install wrk (https://github.com/wg/wrk) and run again" >&2
        exit 1
    fi
fi

if [ ! -x "$here/node_modules/.bin/prism" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "bench/setup.sh: install Node.js >= 18 with npm and run again" >&2
        exit 1
    fi
    echo "bench/setup.sh: installing Stoplight Prism into bench/node_modules" >&2
    (cd "$here" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi >/dev/null)
fi

if [ ! -x "$venv/bin/py-spy" ]; then
    echo "bench/setup.sh: installing py-spy into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'py-spy>=0.3.14'
fi
