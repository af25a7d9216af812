#!/usr/bin/env bash
# Sets up, then runs the data checks and the whole test suite. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ZHIBU_HOME="${ZHIBU_HOME:-$(mktemp -d)}"
.venv/bin/zhibu rules check
DEV_SET=../shared/eval/qa_dev.jsonl
if [ -f "$DEV_SET" ]; then
  # A report, not a flaky gate: the floor sits well under the measured figure.
  .venv/bin/zhibu eval-qa "$DEV_SET" --min-hit5 0.6
else
  echo "no dev set at $DEV_SET: eval-qa skipped"
fi
# Our own everyday-wording sets (questions, multi-part, uncovered, follow-up conversations): figures, not a gate.
.venv/bin/zhibu eval-qa tests/data/qa_fresh.jsonl
.venv/bin/zhibu eval-qa tests/data/qa_fresh_followups.jsonl
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
