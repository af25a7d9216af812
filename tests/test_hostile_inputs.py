"""Hostile and broken files given to `zhibu check` and `zhibu batch`, as an attacker or a careless export
would make them: each gets one clear Chinese message and exit status 2 — no traceback, no hang, nothing
overwritten — and user text that ends up in a report is never a live spreadsheet formula."""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import subprocess
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import ZHIBU, run_zhibu

pytestmark = pytest.mark.slow

COMMUNITY = {"domain": "community", "year": 2024, "name": "新华社区党支部", "org_rating": "优秀", "weak_and_lax": "否"}
HAN = re.compile(r"[\u4e00-\u9fff]")
ROOMY = {"ZHIBU_MAX_PROFILE_KB": "4096"}  # past the size cap, to reach the guard behind it


def zhibu(tmp_path: Path, *args: str, env: dict | None = None):
    """The real command with a private home; a hang shows up as a TimeoutExpired failure."""
    return run_zhibu(*args, home=tmp_path / "home", env=env, timeout=120)


def refused(result, *words: str, longest: int = 400) -> str:
    """Exit 2 with a short Chinese message on stderr (containing `words`) and no traceback."""
    message = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, message[-2000:])
    assert "Traceback" not in message and HAN.search(message), message[-2000:]
    assert len(message) <= longest, f"{len(message)} characters: {message[:300]}…"
    for word in words:
        assert word in message, message
    return message


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)
    return path


# ---- zhibu check: one profile ---------------------------------------------------------------

def billion_laughs(levels: int = 9) -> str:
    """The YAML alias bomb: nine lists of nine references each, 9⁹ strings once expanded."""
    lines = ['l0: &l0 ["哈哈哈哈哈哈哈哈"' + ', "哈哈哈哈哈哈哈哈"' * 8 + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "domain: community\nyear: 2024\n" + "\n".join(lines) + f"\nname: *l{levels - 1}\n"


def test_yaml_alias_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(), encoding="utf-8")
    refused(zhibu(tmp_path, "check", str(path)), "bomb.yaml", "别名")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_integer_of_5000_digits_is_refused(tmp_path, suffix):
    path = tmp_path / f"big{suffix}"
    path.write_text(f'{{"domain": "community", "year": {"9" * 5000}}}', encoding="utf-8")
    refused(zhibu(tmp_path, "check", str(path)), "数字")


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_nesting_200k_deep_is_refused(tmp_path, suffix):
    path = tmp_path / f"deep{suffix}"
    path.write_text('{"domain": "community", "year": 2024, "facts": ' + "[" * 200_000 + "]" * 200_000 + "}",
                    encoding="utf-8")
    refused(zhibu(tmp_path, "check", str(path), env=ROOMY), "嵌套")


def test_profile_over_the_size_cap_is_refused(tmp_path):
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(COMMUNITY | {"note": "说明" * 200_000}, ensure_ascii=False), encoding="utf-8")
    refused(zhibu(tmp_path, "check", str(path)), "huge.json", "KB", "ZHIBU_MAX_PROFILE_KB")


def test_nul_in_a_name_is_refused_and_not_echoed_raw(tmp_path):
    path = tmp_path / "nul.json"
    path.write_text(json.dumps(COMMUNITY | {"name": "新华\u0000社区党支部"}, ensure_ascii=False), encoding="utf-8")
    message = refused(zhibu(tmp_path, "check", str(path)), "name", "控制字符")
    assert "\x00" not in message


def test_quoted_input_is_truncated_in_messages(tmp_path):
    path = tmp_path / "long.json"
    long_value = "不" * 100_000
    profile = COMMUNITY | {"org_rating": long_value, "facts": {"implements_party_line": long_value, "x" * 5000: 1}}
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    refused(zhibu(tmp_path, "check", str(path), env=ROOMY), "org_rating", "implements_party_line", longest=1500)


# ---- zhibu batch: many profiles -------------------------------------------------------------

def test_xlsx_claiming_xfd1048576_is_read_within_bounds(tmp_path):
    """5 KB on disk, a cell at the sheet's last row and column: refused by its row count, not iterated."""
    path = tmp_path / "claims.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COMMUNITY))
    sheet.append(list(COMMUNITY.values()))
    sheet["XFD1048576"] = "x"
    workbook.save(path)
    assert path.stat().st_size < 8_000
    refused(zhibu(tmp_path, "batch", str(path)), "claims.xlsx", "行", "ZHIBU_MAX_BATCH_ROWS")


def test_csv_cell_over_128_kb_is_refused(tmp_path):
    path = write_csv(tmp_path / "cell.csv", [COMMUNITY | {"name": "长" * 140_000}])
    refused(zhibu(tmp_path, "batch", str(path)), "cell.csv", "128 KB")


def test_nul_in_a_csv_name_is_refused(tmp_path):
    path = write_csv(tmp_path / "nul.csv", [COMMUNITY | {"name": "新华\u0000社区党支部"}])
    refused(zhibu(tmp_path, "batch", str(path), "--out", str(tmp_path / "r.xlsx")), "nul.csv", "控制字符")
    assert not (tmp_path / "r.xlsx").exists()


def test_integer_of_5000_digits_in_a_cell_is_a_bad_row_with_a_short_message(tmp_path):
    path = write_csv(tmp_path / "big.csv", [COMMUNITY, COMMUNITY | {"name": "巨数", "members_reviewing": "9" * 5000}])
    result = zhibu(tmp_path, "batch", str(path), "--json")
    assert result.returncode == 0, result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert [error["row"] for error in errors] == [2] and len(errors[0]["message"]) < 300


def test_duplicate_column_names_are_refused_by_name(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("domain,year,name,org_rating,name,year\ncommunity,2024,甲,优秀,乙,2023\n", encoding="utf-8")
    refused(zhibu(tmp_path, "batch", str(path)), "重复", "name", "year")


def test_batch_file_over_the_size_cap_is_refused(tmp_path):
    path = write_csv(tmp_path / "many.csv", [COMMUNITY | {"name": f"党支部{n:07d}"} for n in range(30_000)])
    assert path.stat().st_size > 1024 * 1024
    result = zhibu(tmp_path, "batch", str(path), env={"ZHIBU_MAX_BATCH_MB": "1"})
    refused(result, "many.csv", "MB", "ZHIBU_MAX_BATCH_MB")


def test_out_that_is_a_directory_is_refused_untouched(tmp_path):
    path = write_csv(tmp_path / "b.csv", [COMMUNITY])
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "keep.txt").write_text("旧报告", encoding="utf-8")
    refused(zhibu(tmp_path, "batch", str(path), "--out", str(folder)), "reports")
    assert [item.name for item in folder.iterdir()] == ["keep.txt"]


def test_out_to_dev_full_is_refused(tmp_path):
    path = write_csv(tmp_path / "b.csv", [COMMUNITY])
    chart = Path("/dev/full.png")
    chart_before = chart.stat().st_mtime_ns if chart.exists() else None
    refused(zhibu(tmp_path, "batch", str(path), "--out", "/dev/full"), "/dev/full")
    assert (chart.stat().st_mtime_ns if chart.exists() else None) == chart_before  # no chart written beside it


def test_out_equal_to_the_input_is_refused_and_the_input_kept(tmp_path):
    workbook = Workbook()
    workbook.active.append(list(COMMUNITY))
    workbook.active.append(list(COMMUNITY.values()))
    path = tmp_path / "branches.xlsx"
    workbook.save(path)
    before = path.read_bytes()
    refused(zhibu(tmp_path, "batch", str(path), "--out", str(tmp_path / "." / "branches.xlsx")), "branches.xlsx")
    assert path.read_bytes() == before


def test_a_chart_path_taken_by_a_folder_is_refused_before_work(tmp_path):
    path = write_csv(tmp_path / "b.csv", [COMMUNITY])
    (tmp_path / "report.png").mkdir()
    refused(zhibu(tmp_path, "batch", str(path), "--out", str(tmp_path / "report.xlsx")), "report.png")
    assert sorted(item.name for item in tmp_path.iterdir()) == ["b.csv", "report.png"]


def test_a_report_that_cannot_be_written_keeps_the_previous_one(tmp_path):
    """The write fails half-way (a file-size limit stands in for a full disk): the earlier report and
    chart stay as they were, and no half-written file is left behind."""
    path = write_csv(tmp_path / "b.csv", [COMMUNITY])
    out = tmp_path / "report.xlsx"
    assert zhibu(tmp_path, "batch", str(path), "--out", str(out)).returncode == 0
    before = {item.name: item.read_bytes() for item in tmp_path.iterdir() if item.is_file()}
    write_csv(path, [COMMUNITY | {"name": "另一个党支部"}])
    before["b.csv"] = path.read_bytes()
    small_files = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (8_000, 8_000))  # noqa: E731
    result = subprocess.run([ZHIBU, "batch", str(path), "--out", str(out)], capture_output=True, text=True,
                            timeout=120, preexec_fn=small_files, env={**os.environ, "ZHIBU_HOME": str(tmp_path / "h")})
    refused(result, "report.xlsx", "原有文件未改动")
    assert {item.name: item.read_bytes() for item in tmp_path.iterdir() if item.is_file()} == before
    assert not [item.name for item in tmp_path.iterdir() if item.name.startswith(".")]


# ---- formula injection (OWASP CSV injection) ---------------------------------------------------

FORMULAS = ['=HYPERLINK("http://example.invalid/x","点此领取奖励")', "=cmd|' /C calc'!A0", "+1+1", "-2+3",
            "@SUM(1,1)", "=1+1"]


def test_report_cells_from_users_are_text_not_formulas(tmp_path):
    rows = [COMMUNITY | {"name": formula} for formula in FORMULAS]
    rows.append(COMMUNITY | {"name": "=坏行", "org_rating": "=1+2"})  # a bad row: its message quotes the input
    path = write_csv(tmp_path / "b.csv", rows)
    out = tmp_path / "report.xlsx"
    result = zhibu(tmp_path, "batch", str(path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    workbook = load_workbook(out)
    details = list(workbook["明细"].iter_rows(min_row=2))
    assert [row[1].value for row in details] == FORMULAS
    assert {row[1].data_type for row in details} == {"s"}
    every_cell = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in every_cell if cell.data_type == "f"]
    branch, problem = workbook["有误的行"]["B2"], workbook["有误的行"]["C2"]  # the bad row's branch, then its problem
    assert (branch.data_type, branch.value) == ("s", "=坏行")
    assert problem.data_type == "s" and "=1+2" in problem.value


# ---- question files ---------------------------------------------------------------------------

@pytest.mark.parametrize("command", [("ask", "--questions"), ("eval-qa",)])
def test_question_file_nested_200k_deep_is_refused(tmp_path, command):
    path = tmp_path / "deep.jsonl"
    path.write_text('{"question": ' + "[" * 200_000 + "]" * 200_000 + "}\n", encoding="utf-8")
    refused(zhibu(tmp_path, *command, str(path), env={"ZHIBU_EMBEDDING": "none"}), "deep.jsonl")
