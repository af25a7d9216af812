"""`zhibu batch` in process: CSV and XLSX rows with dotted keys, bad rows skipped, the yearly target,
each branch counted once, the XLSX report and its chart."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from evaluator_helpers import flat, passing_profile
from openpyxl import Workbook, load_workbook

from evaluators.batch import render_summary, run_batch_file, write_report
from zhibu.errors import BadInput


def sample_rows() -> list[dict]:
    """Five rows: two qualifying, one failing, one bad (negative amount), one duplicate of the first."""
    village = flat(passing_profile("gacha_village"))
    weak_village = flat(passing_profile("gacha_village")) | {"name": "巴彦嘎查党支部", "facts.stars": 7}
    organ = flat(passing_profile("government_organ"))
    broken = flat(passing_profile("state_enterprise")) | {"facts.party_funds_yuan": -100}
    return [village, weak_village, organ, broken, village]


def write_csv(path: Path, rows: list[dict], encoding: str = "utf-8-sig") -> Path:
    header = list(dict.fromkeys(key for row in rows for key in row))
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict]) -> Path:
    header = list(dict.fromkeys(key for row in rows for key in row))
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(key) for key in header])
    workbook.save(path)
    return path


def check_summary(summary: dict) -> None:
    assert [row["row"] for row in summary["rows"]] == [1, 2, 3, 5]
    [error] = summary["errors"]
    assert (error["row"], error["sheet_row"], error["fields"]) == (4, 5, ["facts.party_funds_yuan"])
    assert error["message"] == "党组织工作经费：不能为负数；收到 -100"  # the label staff read, never the key
    assert summary["duplicates"] == [{"row": 5, "same_as_row": 1}]
    assert summary["total"] == 3 and summary["qualifies"] == 2  # row 5 repeats row 1: counted once
    assert summary["share"] == pytest.approx(2 / 3) and summary["target"] == 0.3 and summary["target_met"] is True
    assert summary["by_domain"]["gacha_village"] | {"share": 0.5} == {
        "label": "嘎查村", "total": 2, "qualifies": 1, "does_not_qualify": 1, "incomplete": 0, "share": 0.5, "target": 0.3}
    assert summary["rows"][1]["verdict"] == "does_not_qualify"
    assert summary["rows"][1]["failing"] == ["gacha_village.stars"]


def test_csv_batch(tmp_path):
    check_summary(run_batch_file(write_csv(tmp_path / "branches.csv", sample_rows())).summary())


def test_gbk_csv_from_excel(tmp_path):
    check_summary(run_batch_file(write_csv(tmp_path / "branches.csv", sample_rows(), "gb18030")).summary())


def test_xlsx_batch_and_report(tmp_path):
    summary = run_batch_file(write_xlsx(tmp_path / "branches.xlsx", sample_rows())).summary()
    check_summary(summary)
    out = tmp_path / "out" / "report.xlsx"
    chart = write_report(summary, out)
    assert chart == out.with_suffix(".png") and chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    workbook = load_workbook(out)
    assert workbook.sheetnames == ["汇总", "明细", "有误的行"]
    assert [cell.value for cell in workbook["汇总"][2]][:3] == ["嘎查村", 2, 1]
    total = next(row for row in workbook["汇总"].iter_rows(values_only=True) if row[0] == "合计")
    assert total[:5] == ("合计", 3, 2, 1, 0) and None not in total[:7]  # every column of the totals row filled
    # 明细 names what failed (with the branch's own figure) and the fields in Chinese, not the requirement and keys
    assert [cell.value for cell in workbook["明细"][3]][4:7] == [
        "暂不符合评定条件", "年度“十星级”评定获得7颗星，未达到8星以上", "年度“十星级”评定星数"]
    assert workbook["有误的行"].cell(row=2, column=1).value == 5  # the row number Excel shows (data row 4)
    assert len(workbook["汇总"]._images) == 1
    text = render_summary(summary)
    assert "年度目标：2021年度目标30%以上；已达到" in text and "第4行" in text
    assert "第2行 巴彦嘎查党支部：暂不符合评定条件（年度“十星级”评定获得7颗星，未达到8星以上）" in text


def test_blank_rows_keep_their_numbers(tmp_path):
    rows = sample_rows()[:2]
    path = write_csv(tmp_path / "b.csv", rows)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    path.write_text("\n".join([lines[0], lines[1], ",,,", lines[2]]) + "\n", encoding="utf-8")
    assert [row["row"] for row in run_batch_file(path).summary()["rows"]] == [1, 3]


def test_mixed_years_have_no_single_target(tmp_path):
    rows = sample_rows()[:3]
    rows[2]["year"] = 2022
    summary = run_batch_file(write_csv(tmp_path / "b.csv", rows)).summary()
    assert summary["target"] is None and summary["years"] == [2021, 2022]
    assert summary["target_note"] == "含多个年度（2021、2022），不与单一年度目标比较"


def test_a_year_after_the_texts_uses_the_latest_documented_target_and_says_so(tmp_path):
    rows = [row | {"year": 2026} for row in sample_rows()[:3]]
    summary = run_batch_file(write_csv(tmp_path / "b.csv", rows)).summary()
    assert summary["target"] == 0.5
    assert summary["target_parameter"]["year_used"] == 2023
    assert summary["target_parameter"]["basis"] == "latest_documented"
    assert "没有规定2026年度的比例目标" in summary["target_note"] and "按2023年的目标（50%以上）" in summary["target_note"]
    village = summary["rows"][0]  # a compliant 嘎查村: qualifies, with the income standard to be confirmed
    assert village["verdict"] == "qualifies"
    assert village["reason"] == "嘎查村集体经济年经营性收入标准按2021年的标准（超过5万元）判断，待确认"
    text = render_summary(summary)
    assert "年度目标：文件没有规定2026年度的比例目标" in text
    assert "第1行 乌兰嘎查党支部：符合评定条件（1项待确认）（嘎查村集体经济年经营性收入标准按2021年的标准" in text

@pytest.mark.parametrize(("name", "content", "message"), [
    ("missing.csv", None, "找不到文件"),
    ("profiles.txt", "domain\n", "只支持 .csv 和 .xlsx"),
    ("noheader.csv", "name,year\nx,2021\n", "没有找到“所处领域”列"),
])
def test_unusable_files(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BadInput, match=message):
        run_batch_file(path)


def test_worker_processes_give_the_same_result(tmp_path, monkeypatch):
    import evaluators.batch as batch

    path = write_csv(tmp_path / "b.csv", sample_rows() * 3)
    alone = run_batch_file(path, workers=1).summary()
    monkeypatch.setattr(batch, "_PARALLEL_FROM", 1)
    monkeypatch.setattr(batch, "_CHUNK", 4)
    assert run_batch_file(path, workers=2).summary() == alone
