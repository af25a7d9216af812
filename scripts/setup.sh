#!/usr/bin/env bash
# Creates .venv and installs Zhibu with its test extras. Idempotent; needs only the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
# A CJK font, so the tests can generate a Chinese PDF (fpdf2) to check PDF ingest end to end.
if ! dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq fonts-wqy-zenhei >/dev/null
fi
# Chromium and PostgreSQL for the staff console's browser and database tests (they skip where these are missing).
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ] \
  && ! { dpkg -s chromium >/dev/null 2>&1 && dpkg -s postgresql >/dev/null 2>&1; }; then
  apt-get update -qq && apt-get install -y -qq chromium postgresql >/dev/null
fi
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first and pinned: the CPU wheel of 2.13.0; anything unpinned would pull a CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
