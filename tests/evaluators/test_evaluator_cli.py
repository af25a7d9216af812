"""The real `zhibu` command: check (file, YAML, stdin), batch with --out, rules check; exit statuses."""

from __future__ import annotations

import csv
import json
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
    assert [row["verdict"] for row in data["rows"]] == ["incomplete", "does_not_qualify"]
    assert data["errors"][0]["row"] == 3 and "org_rating" in data["errors"][0]["message"]
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
