"""`zhibu` — a thin face over the four packages; every command imports its package lazily.

Exit status per the contract: 0 success, 2 bad input (message on stderr), 1 internal error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from zhibu.errors import BadInput

app = typer.Typer(add_completion=False, no_args_is_help=True, help="支部 Zhibu — 最强党支部 policy assistant")
rules_app = typer.Typer(no_args_is_help=True, help="Rulebook maintenance.")
app.add_typer(rules_app, name="rules")


def emit_json(payload: dict) -> None:
    """The one JSON object of a `--json` run: UTF-8, not ASCII-escaped, dates and paths as strings."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, default=str) + "\n")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(None, help="Files or folders to add or replace (default: the shipped corpus only)."),
    remove: list[str] = typer.Option([], "--remove", help="Remove a document by its id."),
    no_corpus: bool = typer.Option(False, "--no-corpus", help="Do not (re)sync the shipped corpus."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """(Re)build the knowledge base; idempotent and atomic."""
    from knowledge.cli_commands import run_ingest

    run_ingest(paths or [], remove=remove, include_corpus=not no_corpus, as_json=as_json)


@app.command()
def ask(
    question: Optional[str] = typer.Argument(None, help="问题"),
    as_json: bool = typer.Option(False, "--json"),
    k: int = typer.Option(5, "--k", min=1, max=20, help="Passages to cite at most."),
    questions: Optional[Path] = typer.Option(None, "--questions", help="One question per line, or JSONL with a 'question' field."),
) -> None:
    """Grounded answer with citations, or an honest 'not covered'."""
    from knowledge.cli_commands import run_ask

    run_ask(question, as_json=as_json, k=k, questions_file=questions)


@app.command("eval-qa")
def eval_qa(
    file: Path = typer.Argument(..., help="JSONL in the format of qa_dev.jsonl"),
    k: int = typer.Option(5, "--k"),
    as_json: bool = typer.Option(False, "--json"),
    min_hit5: float = typer.Option(0.0, "--min-hit5", help="Exit 1 when hit@5 falls below this floor."),
) -> None:
    """Retrieval and refusal quality on a question set."""
    from knowledge.cli_commands import run_eval_qa

    run_eval_qa(file, k=k, as_json=as_json, min_hit5=min_hit5)


@app.command()
def check(
    profile: str = typer.Argument(..., help="Profile JSON/YAML file, or - for stdin."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate one branch profile against the 最强党支部 rules."""
    from evaluators.cli_commands import run_check

    run_check(profile, as_json=as_json)


@app.command()
def batch(
    file: Path = typer.Argument(..., help="CSV or XLSX, one branch per row, dotted keys."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write an XLSX report (and a PNG chart beside it)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate many profiles and compare the qualifying share with the year's target."""
    from evaluators.cli_commands import run_batch

    run_batch(file, out=out, as_json=as_json)


@rules_app.command("check")
def rules_check() -> None:
    """Every quoted clause must stand in the corpus; every contract key must be read by a rule."""
    from evaluators.cli_commands import run_rules_check

    run_rules_check()


@app.command()
def chat() -> None:
    """The bot's dialogue in the terminal (no token, no network)."""
    from bot.terminal import run_terminal_chat

    run_terminal_chat()


@app.command("bot")
def run_bot() -> None:
    """Run the Telegram bot (settings from the environment)."""
    from bot.telegram_app import run_telegram_bot

    run_telegram_bot()


def _report(exc: Exception) -> int:
    """Print what went wrong and return the exit status for it."""
    from pydantic import ValidationError

    if isinstance(exc, typer.TyperException) and hasattr(exc, "show"):  # usage errors carry their status (2)
        exc.show()
        return exc.exit_code
    if isinstance(exc, ValidationError) and exc.title == "Settings":  # the environment / .env
        from zhibu.settings import setting_problems

        sys.stderr.write(f"配置有误：{'；'.join(setting_problems(exc))}（见 README 的 Configuration）\n")
        return 2
    import traceback

    traceback.print_exc()
    return 1


def main() -> None:
    from zhibu.filemodes import keep_state_private

    keep_state_private()  # the bot's state, the admin log and the knowledge base: 0700 folders, 0600 files
    try:
        app(standalone_mode=False)
    except BadInput as exc:
        sys.stderr.write(f"错误：{exc}\n")
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("aborted\n")
        sys.exit(130)
    except Exception as exc:
        sys.exit(_report(exc))
