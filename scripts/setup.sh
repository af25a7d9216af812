#!/usr/bin/env bash
# Creates .venv and installs Zhibu with its test extras from requirements.lock (every dependency at a
# pinned version, checked against its hashes). Idempotent; needs only the package registries.
# After changing a dependency in pyproject.toml, refresh the lock first: bash scripts/lock.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# torch is pinned as the CPU wheel (2.13.0+cpu) that pip finds on this machine's disk through its own
# configuration (find-links); a build from the index would be a multi-GB CUDA one, and its hash differs.
# The lock's own pip first: the pip bundled with Python 3.11 (23.2) asks for a newer uvicorn than the locked
# one when chromadb names it with extras (uvicorn[standard]), which --require-hashes then refuses.
awk '/^pip==/{p=1} p&&/^[^ ]/&&!/^pip==/{exit} p' requirements.lock > .venv/pip-pin.txt
.venv/bin/python -m pip install --quiet --require-hashes -r .venv/pip-pin.txt
.venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
# Zhibu itself: editable, nothing resolved again, built with the locked setuptools.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
if ! .venv/bin/python -m pip check >/dev/null; then
  .venv/bin/python -m pip check >&2 || true
  echo "requirements.lock does not match pyproject.toml: run bash scripts/lock.sh, then this script again" >&2
  exit 1
fi
