"""`zhibu check`, `zhibu batch`, `zhibu rules check`: thin I/O around the evaluator."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from zhibu.output import emit_json
from zhibu.errors import BadInput, quoted


def read_profile(source: str) -> Any:
    """A profile from a JSON or YAML file, or from stdin for `-`; size-capped, no YAML aliases."""
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
    import yaml  # only now: a JSON profile is checked without loading PyYAML

    try:
        return parse_profile(text, name, as_json=False)  # YAML also reads JSON-like input that json rejected
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第 {mark.line + 1} 行第 {mark.column + 1} 列附近）" if mark else ""
        raise BadInput(f"{quoted(name)} 既不是有效的 JSON 也不是有效的 YAML{where}") from None


def run_check(profile: str | None, as_json: bool, details: bool = False, docx: Path | None = None) -> None:
    from evaluators import evaluate, render_details, render_report, year_notice
    from evaluators.coverage import year_range_notice
    from evaluators.rulebook import load_rulebook

    if profile is None:
        raise BadInput("请给出档案文件（- 表示从标准输入读取）；还没有档案可以先生成模板：zhibu check --template 嘎查村")
    evaluation = evaluate(read_profile(profile))
    notes = [year_range_notice(evaluation.year), year_notice(evaluation.domain, evaluation.year)]
    notes += [f"提示：组织部门录入的年度标准有误：{problem}" for problem in load_rulebook().parameters.staff_problems]
    for note in filter(None, notes):  # on stderr: stdout stays exactly the report or one JSON object
        sys.stderr.write(note + "\n")
    if docx is not None:
        _write_application(evaluation, Path(docx), profile)
    if as_json:
        emit_json(evaluation.to_dict())
    else:
        print(render_details(evaluation) if details else render_report(evaluation))


def _write_application(evaluation, out: Path, profile: str) -> None:
    """The 申报 document beside the report (stderr says where: stdout stays the report or the JSON)."""
    from evaluators.application import render_application
    from evaluators.untrusted import write_whole

    if out.suffix.lower() != ".docx":
        raise BadInput(f"申报表文件名应以 .docx 结尾：{quoted(str(out))}")
    if out.exists() and not out.is_file():
        raise BadInput(f"{quoted(str(out))} 已存在且不是普通文件（是文件夹或设备），不会写到那里")
    if out.exists() and profile != "-" and os.path.samefile(out, profile):
        raise BadInput(f"{quoted(str(out))} 就是档案文件本身，不会覆盖它：请换一个文件名")
    content = render_application(evaluation)

    def write(path: Path) -> Path:
        path.write_bytes(content)
        return path

    write_whole(out, write)
    sys.stderr.write(f"申报表已写入 {out}（Word 文档，可修改后打印、签字）\n")


def print_template(domain: str, chinese_keys: bool = False) -> None:
    from evaluators.profile import DOMAINS, resolve_domain
    from evaluators.template import profile_template

    resolved = resolve_domain(domain)
    if resolved is None:
        raise BadInput(f"未知领域 {domain!r}，可选：" + "、".join(DOMAINS.values()))
    sys.stdout.write(profile_template(resolved, chinese_keys=chinese_keys))


def run_batch(file: Path, out: Path | None, as_json: bool) -> None:
    from evaluators.batch import render_summary, run_batch_file, write_report

    from evaluators.untrusted import check_report_path, write_whole

    if out is not None:
        check_report_path(Path(out), Path(file))
    summary = run_batch_file(Path(file)).summary()
    if out is not None:
        chart = write_whole(Path(out), lambda path: write_report(summary, path))
        summary["report"] = {"xlsx": str(out), "chart": str(chart)}
    if as_json:
        emit_json(summary)
        return
    print(render_summary(summary))
    if out is not None:
        print(f"\n报告已写入 {out}，图表 {summary['report']['chart']}")


def run_rules_check() -> None:
    from evaluators.rulebook import rules_dir
    from evaluators.rules_check import check_rulebook

    folder = rules_dir()
    if not folder.is_dir():
        raise BadInput(f"找不到规则书文件夹：{quoted(str(folder), 300)}（请检查环境变量 ZHIBU_RULES_DIR）")
    problems, stats = check_rulebook()
    if problems:
        sys.stderr.write(f"规则书检查未通过，共 {len(problems)} 个问题：\n")
        sys.stderr.write("".join(f"- {problem}\n" for problem in problems))
        sys.exit(1)  # not typer.Exit: the CLI runs click with standalone_mode=False, which would return 0
    print(
        f"规则书检查通过：{stats['clauses']} 条引用原文都在语料中找到；"
        f"{stats['criteria']} 条评定条件与激励保障读取了全部 {stats['keys']} 个档案字段（domain、year、name 除外）。"
    )
