"""The real `zhibu` command: check (file, YAML, stdin), batch with --out, rules check; exit statuses."""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest
import yaml
from evaluator_helpers import load_dev_cases, passing_profile, run_zhibu

from evaluators.rulebook import RULES_DIR

pytestmark = pytest.mark.slow


def test_check_json_file(tmp_path):
    profile = passing_profile("state_enterprise")
    profile["facts"]["party_funds_yuan"] = 100000
    path = tmp_path / "branch.json"
    path.write_text(json.dumps(profile, ensure_ascii=False, default=str), encoding="utf-8")
    result = run_zhibu("check", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object and nothing else
    assert data["verdict"] == "does_not_qualify"
    assert data["failing_facts"] == ["facts.party_funds_yuan"]
    assert "党组织工作经费" in result.stdout  # not ASCII-escaped


def test_check_yaml_file_human_report(tmp_path):
    path = tmp_path / "branch.yaml"
    path.write_text(yaml.safe_dump(passing_profile("gacha_village"), allow_unicode=True), encoding="utf-8")
    result = run_zhibu("check", str(path))
    assert result.returncode == 0, result.stderr
    assert "结论：符合评定条件，可以申报" in result.stdout and "激励保障" in result.stdout


@pytest.mark.skipif(not load_dev_cases(), reason="dev cases not found")
def test_check_stdin_dev_case():
    case = load_dev_cases()[6]  # d07: incomplete, teacher branch without the 双带头人 answer
    result = run_zhibu("check", "-", "--json", input=json.dumps(case["profile"], ensure_ascii=False))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["verdict"], data["missing"]) == (case["expect"]["verdict"], case["expect"]["unknown_facts"])


def test_check_stdin_yaml():
    text = "domain: 社区\nyear: 2021\nweak_and_lax: 是\n"
    result = run_zhibu("check", "-", "--json", input=text)
    assert result.returncode == 0 and json.loads(result.stdout)["failing_facts"] == ["weak_and_lax"]


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["check", "missing.json"], None, "找不到档案文件"),
    (["check", "-", "--json"], '{"domain": "community", "year": 2021, "facts": {"stars": 9}}', "facts.stars 是未知字段"),
    (["check", "-"], "{broken json", "不是有效的"),
    (["check", "-"], "", "是空的"),
])
def test_check_bad_input_exits_2_with_message(args, stdin, message):
    result = run_zhibu(*args, input=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_check_binary_file_exits_2(tmp_path):
    path = tmp_path / "branch.json"
    path.write_bytes(b"\xff\xfe\x00bad")
    result = run_zhibu("check", str(path))
    assert result.returncode == 2 and "不是 UTF-8 编码" in result.stderr


def test_batch_csv_with_bad_row_and_report(tmp_path):
    rows = [
        {"domain": "community", "year": "2021", "name": "新华社区党支部", "org_rating": "优秀", "weak_and_lax": "否"},
        {"domain": "community", "year": "2021", "name": "团结社区党支部", "org_rating": "良好", "weak_and_lax": "否"},
        {"domain": "社区", "year": "2021", "name": "坏行", "org_rating": "优", "weak_and_lax": "否"},
    ]
    path = tmp_path / "rows.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "report.xlsx"
    result = run_zhibu("batch", str(path), "--out", str(out), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {key: data[key] for key in ("total", "qualifies", "share", "target")} == {
        "total": 2, "qualifies": 0, "share": 0.0, "target": 0.3}
    assert data["target_parameter"]["basis"] == "exact" and data["target_note"] == "2021年度目标30%以上"
    assert [row["verdict"] for row in data["rows"]] == ["incomplete", "does_not_qualify"]
    assert data["errors"][0]["row"] == 3 and data["errors"][0]["fields"] == ["org_rating"]
    assert data["errors"][0]["message"].startswith("组织评定等次：")
    assert out.is_file() and out.with_suffix(".png").is_file()


def test_batch_missing_file_exits_2(tmp_path):
    result = run_zhibu("batch", str(tmp_path / "none.csv"))
    assert result.returncode == 2 and "找不到文件" in result.stderr


def test_rules_check_passes():
    result = run_zhibu("rules", "check")
    assert result.returncode == 0, result.stderr
    assert "规则书检查通过" in result.stdout


def test_rules_check_fails_on_a_tampered_copy(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    sources = rules / "sources.yaml"
    sources.write_text(sources.read_text(encoding="utf-8").replace("年下拨经费不少于5000元", "年下拨经费不少于8000元"),
                       encoding="utf-8")
    result = run_zhibu("rules", "check", env={"ZHIBU_RULES_DIR": str(rules)})
    assert result.returncode == 1
    assert "条款 plan.4.3: 原文在《筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案》中找不到" in result.stderr


def _fill(template: str, profile: dict) -> str:
    """Fill the printed template the way a person would: type each value after its key, keep the comments."""
    lines, section = [], ""
    for line in template.splitlines():
        match = re.match(r"^(\s*)([\w.]+):(\s*)(#.*)?$", line)
        if match:
            indent, key, _, comment = match.groups()
            section = key if not indent and key in ("negative", "facts", "parameters") else section if indent else ""
            source = profile.get(section, {}) if indent else profile
            value = source.get(key)
            if value is not None and not isinstance(value, dict):
                shown = "、".join(value) if isinstance(value, list) else {True: "是", False: "否"}.get(value, value) \
                    if isinstance(value, bool) else value
                line = f"{indent}{key}: {shown}  {comment or ''}".rstrip()
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("domain", ["gacha_village", "private_enterprise", "government_organ", "university"])
def test_template_is_valid_as_printed_and_once_filled(tmp_path, domain):
    label = {"gacha_village": "嘎查村党支部", "private_enterprise": "非公有制企业"}.get(domain, domain)
    result = run_zhibu("check", "--template", label)
    assert result.returncode == 0, result.stderr
    template = result.stdout
    body = [line for line in template.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert all("#" in line for line in body)  # a Chinese comment on every key
    assert f"domain: {domain}" in template
    empty = tmp_path / "empty.yaml"
    empty.write_text(template, encoding="utf-8")
    as_printed = run_zhibu("check", str(empty), "--json")
    assert as_printed.returncode == 0 and json.loads(as_printed.stdout)["verdict"] == "incomplete"
    filled = tmp_path / "filled.yaml"
    filled.write_text(_fill(template, passing_profile(domain)), encoding="utf-8")
    result = run_zhibu("check", str(filled), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "qualifies"


@pytest.mark.parametrize(("text", "message"), [
    ("domain: 嘎查村党支部\nyear: 2021\nfacts.stars: 9\n", "facts.stars (年度“十星级”评定星数) 应写在 facts: 下面（另起一行缩进两格写 stars: 9）"),
    ("domain: 村\nyear: 2021\nnegative.accountability: 否\n", "应写在 negative: 下面"),
])
def test_a_dotted_key_in_yaml_is_told_where_it_belongs(text, message):
    result = run_zhibu("check", "-", input=text)
    assert result.returncode == 2 and message in result.stderr
    assert result.stderr.startswith("错误：")


@pytest.mark.parametrize("domain", ["嘎查村党支部", "村", "社区", "社区党支部", "机关党支部"])
def test_everyday_domain_names_resolve(domain):
    result = run_zhibu("check", "-", "--json", input=f"domain: {domain}\nyear: 2021\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["domain"] in {"gacha_village", "community", "government_organ"}


def test_a_year_the_texts_do_not_cover_warns_on_stderr_and_marks_the_json(tmp_path):
    path = tmp_path / "branch.yaml"
    path.write_text(yaml.safe_dump(passing_profile("gacha_village") | {"year": 2026}, allow_unicode=True), encoding="utf-8")
    result = run_zhibu("check", str(path), "--json")
    assert result.returncode == 0
    assert "2026年没有文件规定的嘎查村集体经济年经营性收入标准" in result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "qualifies" and data["verdict_label"] == "符合评定条件（1项待确认）"
    assert [item["criterion"] for item in data["to_confirm"]] == ["gacha_village.collective_income"]
    income = next(c for c in data["criteria"] if c["id"] == "gacha_village.collective_income")
    assert {key: income["parameter"][key] for key in ("year_used", "basis")} == {"year_used": 2021, "basis": "latest_documented"}
    human = run_zhibu("check", str(path))
    assert "结论：符合评定条件（1项待确认）" in human.stdout and "提示：" in human.stderr
    community = run_zhibu("check", "-", input="domain: 社区\nyear: 2026\n")
    assert "本领域的评定条件不随年度变化" in community.stderr and community.returncode == 0
    covered = run_zhibu("check", "-", input="domain: 村\nyear: 2021\n")
    assert covered.stderr == ""


def test_details_on_demand_list_every_passed_criterion(tmp_path):
    path = tmp_path / "branch.yaml"
    path.write_text(yaml.safe_dump(passing_profile("community"), allow_unicode=True), encoding="utf-8")
    short, long = run_zhibu("check", str(path)), run_zhibu("check", str(path), "--details")
    assert "已达标" in short.stdout and "✓" not in short.stdout
    assert long.stdout.count("✓ ") >= 15 and "依据：《" in long.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["check", "--bogus"], "错误：没有这个选项：--bogus"),
    (["chekc"], "错误：没有这个命令：chekc（您是想输入 check 吗？）"),
    (["batch"], "错误：缺少参数 file"),
    (["check"], "错误：请给出档案文件"),
])
def test_usage_errors_are_chinese(args, expected):
    result = run_zhibu(*args)
    assert result.returncode == 2 and result.stderr.startswith(expected)
    assert "Error" not in result.stderr and "Usage" not in result.stderr


def test_help_is_chinese():
    for args in (["--help"], ["check", "--help"], ["batch", "--help"], ["rules", "check", "--help"]):
        result = run_zhibu(*args, env={"COLUMNS": "200"})
        assert result.returncode == 0
        assert "显示本帮助并退出" in result.stdout and "Show this message" not in result.stdout
        assert "选项" in result.stdout and "Options" not in result.stdout
        assert "用法：zhibu" in result.stdout and "Usage" not in result.stdout
    check = run_zhibu("check", "--help", env={"COLUMNS": "200"}).stdout
    assert "--template" in check and "打印该领域可填写的档案模板" in check
