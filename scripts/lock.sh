#!/usr/bin/env bash
# Refreshes requirements.lock from pyproject.toml: every runtime, dev and build dependency pinned with the
# sha256 of its files. Run it after changing a dependency in pyproject.toml; existing pins are kept unless
# you pass --upgrade (all) or --upgrade-package NAME. Then run scripts/setup.sh and commit the lock.
set -euo pipefail
cd "$(dirname "$0")/.."
if grep -q '^<<<<<<< ' requirements.lock 2>/dev/null; then  # a merge left both sides: resolve afresh
  echo "requirements.lock has merge conflict markers: resolving every pin again" >&2
  rm requirements.lock
fi
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
if [ ! -x .venv/bin/pip-compile ]; then  # pip-tools at its locked version when there is a lock
  if [ -f requirements.lock ]; then
    .venv/bin/python -m pip install --quiet --require-hashes -r requirements.lock
  else
    .venv/bin/python -m pip install --quiet "pip-tools>=7.6"
  fi
fi
# pip's own configuration (find-links, extra indexes, constraints) applies: torch resolves to the CPU
# wheel on this machine's disk and is pinned by that file's hash. URLs of indexes are not written.
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"  # the command named in the lock's header
.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra dev --all-build-deps \
  --no-emit-index-url --no-emit-find-links --output-file requirements.lock "$@" pyproject.toml
echo "requirements.lock: $(grep -c '^[A-Za-z0-9]' requirements.lock) packages pinned"
