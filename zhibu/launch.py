"""The `zhibu` console script. `zhibu check FILE [--json] [--details]` runs at once; every other form
(`--help`, a usage error, another flag or command) goes through the typer app in `zhibu.cli`. Building
that app loads typer and its pydantic parameter adapters, a large part of a cold `check`, which scripts
and the console's batch jobs run many times. The result is the same: tests/test_cli.py runs each
contract case both ways and compares the output and the exit status.
"""

from __future__ import annotations

import sys

from zhibu.running import guarded, prepare_process, report_error

_CHECK_FLAGS = {"--json": "as_json", "--details": "details"}


def plain_check(args: list[str]) -> dict | None:
    """run_check's arguments when `args` is `check`, one profile (a path or `-`) and only --json and
    --details; None for anything else, which typer then parses."""
    if not args or args[0] != "check":
        return None
    profile, flags = None, {}
    for arg in args[1:]:
        if arg in _CHECK_FLAGS:
            flags[_CHECK_FLAGS[arg]] = True
        elif profile is None and arg and (arg == "-" or not arg.startswith("-")):
            profile = arg
        else:
            return None
    return None if profile is None else {"profile": profile, "as_json": False, **flags}


def main() -> None:
    check = plain_check(sys.argv[1:])
    if check is None:
        from zhibu.cli import main as typer_main

        typer_main()
        return
    prepare_process()
    from evaluators.cli_commands import run_check

    guarded(lambda: run_check(**check), report_error)
