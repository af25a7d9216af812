"""Helpers for the evaluator tests: the dev cases, passing base profiles and the `zhibu` command."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
DEV_CASES = REPO.parent / "shared" / "eval" / "branch_cases_dev.jsonl"
CASES_DIR = Path(__file__).with_name("cases")


def load_dev_cases() -> list[dict]:
    if not DEV_CASES.is_file():
        return []
    return [json.loads(line) for line in DEV_CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_case_file(path: Path) -> tuple[dict, list[dict]]:
    """(base profile merged with the common part, cases) of one readable YAML case file."""
    common = yaml.safe_load((CASES_DIR / "_common.yaml").read_text(encoding="utf-8"))
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    return merge(common, spec["base"]), spec["cases"]


def passing_profile(domain: str) -> dict:
    """A complete profile of `domain` that qualifies: the base of cases/<domain>.yaml."""
    return load_case_file(CASES_DIR / f"{domain}.yaml")[0]


def merge(base: dict, extra: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def set_dotted(profile: dict, key: str, value) -> None:
    *parents, last = key.split(".")
    for part in parents:
        profile = profile.setdefault(part, {})
    profile[last] = value


def unset_dotted(profile: dict, key: str) -> None:
    *parents, last = key.split(".")
    for part in parents:
        profile = profile.get(part, {})
    profile.pop(last, None)


def zhibu_command() -> list[str]:
    script = Path(sys.executable).with_name("zhibu")
    return [str(script)] if script.exists() else [sys.executable, "-m", "zhibu"]


def run_zhibu(*args: str, input: str | None = None, env: dict | None = None, cwd: Path | None = None):
    return subprocess.run(
        [*zhibu_command(), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
    )


def flat(profile: dict, prefix: str = "") -> dict:
    """A profile as one CSV/XLSX row: nested keys dotted, lists joined with 、, booleans as 是/否."""
    cells = {}
    for key, value in profile.items():
        if isinstance(value, dict):
            cells.update(flat(value, f"{key}."))
        elif isinstance(value, list):
            cells[prefix + key] = "、".join(value)
        elif isinstance(value, bool):
            cells[prefix + key] = "是" if value else "否"
        else:
            cells[prefix + key] = value
    return cells
