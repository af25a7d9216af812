"""What every `zhibu` command does around its work, with or without typer: private file modes first,
and the contract's exit statuses at the end (0; 2 with a Chinese message for bad input or a bad
configuration; 1 with the traceback for an internal error). Standard library only until an error."""

from __future__ import annotations

import sys
from typing import Callable

from zhibu.errors import BadInput


def prepare_process() -> None:
    from zhibu.filemodes import home_from_environment, keep_state_private, tighten_home

    keep_state_private()  # the bot's state, the admin log and the knowledge base: 0700 folders, 0600 files
    tighten_home(home_from_environment())  # every command, `check` too (it never loads the settings)


def guarded(action: Callable[[], object], report: Callable[[Exception], int]) -> None:
    """Run a command; `report` prints any other exception and returns its exit status."""
    try:
        action()
    except BadInput as exc:
        sys.stderr.write(f"错误：{exc}\n")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.stderr.write("已中止\n")
        sys.exit(130)
    except Exception as exc:
        sys.exit(report(exc))


def report_error(exc: Exception) -> int:
    """A configuration error (the environment or .env) in Chinese, else the traceback of an internal error."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        from zhibu.settings import setting_problems

        sys.stderr.write(f"错误：配置有误（环境变量或 .env）：{'；'.join(setting_problems(exc))}\n")
        return 2
    import traceback

    traceback.print_exc()
    return 1
