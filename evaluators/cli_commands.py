"""`zhibu check`, `zhibu batch`, `zhibu rules check`: thin I/O around the evaluator."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from zhibu.cli import emit_json
from zhibu.errors import BadInput, quoted


def read_profile(source: str) -> Any:
    """A profile from a JSON or YAML file, or from stdin for `-`; size-capped, no YAML aliases."""
    import yaml

    from evaluators.untrusted import parse_profile, read_profile_file, read_profile_stdin

    if source == "-":
        text, name = read_profile_stdin(), "stdin"
    else:
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"找不到档案文件：{quoted(source)}")
        try:
            text, name = read_profile_file(path).decode("utf-8-sig"), path.name
        except UnicodeDecodeError:
            raise BadInput(f"{quoted(source)} 不是 UTF-8 编码的文本文件") from None
    if not text.strip():
        raise BadInput(f"档案 {quoted(name)} 是空的")
    if not name.lower().endswith((".yaml", ".yml")):
        try:
            return parse_profile(text, name, as_json=True)
        except json.JSONDecodeError as error:
            if name.lower().endswith(".json"):
                raise BadInput(f"{quoted(name)} 不是有效的 JSON：{error}") from None
    try:
        return parse_profile(text, name, as_json=False)  # YAML also reads JSON-like input that json rejected
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列附近）" if mark else ""
        raise BadInput(f"{quoted(name)} 既不是有效的 JSON 也不是有效的 YAML{where}") from None


def run_check(profile: str, as_json: bool) -> None:
    from evaluators import evaluate, render_report

    evaluation = evaluate(read_profile(profile))
    if as_json:
        emit_json(evaluation.to_dict())
    else:
        print(render_report(evaluation))


def run_batch(file: Path, out: Path | None, as_json: bool) -> None:
    from evaluators.batch import render_summary, run_batch_file, write_report
    from evaluators.rulebook import load_rulebook

    from evaluators.untrusted import check_report_path, write_whole

    labels = load_rulebook().verdict_labels
    if out is not None:
        check_report_path(Path(out), Path(file))
    summary = run_batch_file(Path(file)).summary()
    if out is not None:
        chart = write_whole(Path(out), lambda path: write_report(summary, path, labels))
        summary["report"] = {"xlsx": str(out), "chart": str(chart)}
    if as_json:
        emit_json(summary)
        return
    print(render_summary(summary, labels))
    if out is not None:
        print(f"\n报告已写入 {out}，图表 {summary['report']['chart']}")


def run_rules_check() -> None:
    from evaluators.rules_check import check_rulebook

    problems, stats = check_rulebook()
    if problems:
        sys.stderr.write(f"规则书检查未通过，共 {len(problems)} 个问题：\n")
        sys.stderr.write("".join(f"- {problem}\n" for problem in problems))
        sys.exit(1)  # not typer.Exit: the CLI runs click with standalone_mode=False, which would return 0
    print(
        f"规则书检查通过：{stats['clauses']} 条引用原文都在语料中找到；"
        f"{stats['criteria']} 条评定条件与激励保障读取了全部 {stats['keys']} 个档案字段（domain、year、name 除外）。"
    )
