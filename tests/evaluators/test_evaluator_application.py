"""The 申报 document: `zhibu check --docx`, its content read back with python-docx, the template staff may
replace (validated by rendering), and one rendering to PNG through LibreOffice to look at as a person would."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest
from docx import Document
from evaluator_helpers import passing_profile, run_zhibu

from evaluators import evaluate
from evaluators.application import (
    SHIPPED_TEMPLATE,
    application_template,
    render_application,
    save_application_template,
)
from zhibu.errors import BadInput


def table_rows(content: bytes) -> list[list[str]]:
    """The criteria table (the one with a 佐证材料 column), one list of cell texts per row."""
    document = Document(io.BytesIO(content))
    table = next(t for t in document.tables if "佐证材料" in [cell.text for cell in t.rows[0].cells])
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_text(content: bytes) -> str:
    document = Document(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([paragraph.text for paragraph in document.paragraphs] + cells)


def awaiting_review(domain: str) -> dict:
    """A branch that meets its own conditions before the year-end 四评."""
    profile = passing_profile(domain)
    for key in ("org_rating", "members_rating_excellent", "public_dissatisfaction_verified", "social_review_adverse"):
        profile.pop(key)
    return profile


@pytest.mark.parametrize("domain", ["gacha_village", "community", "private_enterprise"])
def test_compliant_failing_and_awaiting_review_documents(domain):
    failing = passing_profile(domain)
    failing["basic"]["done"] = [item for item in failing["basic"]["done"] if item != "书记轮训"]
    expected = {"qualifies": (passing_profile(domain), "符合评定条件，可以申报"),
                "does_not_qualify": (failing, "暂不符合评定条件"),
                "incomplete": (awaiting_review(domain), "可以申报（待四评）")}
    for verdict, (profile, label) in expected.items():
        evaluation = evaluate(profile)
        assert evaluation.verdict == verdict
        content = render_application(evaluation)
        text = all_text(content)
        rows = table_rows(content)
        assert rows[0] == ["序号", "评定条件", "本支部情况", "依据条款", "状态", "佐证材料"]
        assert len(rows) == 1 + len(evaluation.criteria)  # one row per criterion, the loop markers gone
        assert all(row[5] == "" for row in rows[1:])  # 佐证材料 is left for the secretary
        assert label in text and profile["name"] in text and f"{profile['year']}年度" in text
        assert "{{" not in text and "{%" not in text and "facts." not in text and "basic." not in text
        assert "党支部书记（签字）" in text and "承诺" in text
        statuses = {row[1]: row[4] for row in rows[1:]}
        assert statuses["党支部组建满一年"] == "达到" and rows[1][2] == "组建日期：2015年6月1日"
        if verdict == "does_not_qualify":
            assert statuses["党支部书记每年至少参加一次县级以上集中轮训"] == "未达到"
            assert "党支部书记本年度还没有参加县级以上集中轮训。整改措施：向上级党组织报名参加" in text
        if verdict == "incomplete":
            assert statuses["基层党（工）委组织评定为“优秀”等次"] == "待四评"
            assert "以下各项结果尚未产生，申报后由上级党组织综合评定" in text


def test_a_year_without_its_own_figure_marks_the_criterion_to_confirm():
    evaluation = evaluate(passing_profile("gacha_village") | {"year": 2026})
    rows = table_rows(render_application(evaluation))
    (income,) = [row for row in rows if row[1].startswith("嘎查村集体经济年经营性收入")]
    assert income[4] == "待确认" and income[2] == "嘎查村集体经济年经营性收入：80,000元"


def test_check_writes_the_docx_and_keeps_stdout_for_the_report(tmp_path):
    profile = tmp_path / "社区.yaml"
    profile.write_text(_yaml(passing_profile("community")), encoding="utf-8")
    out = tmp_path / "申报表.docx"
    result = run_zhibu("check", str(profile), "--docx", str(out), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.lstrip().startswith("{") and "申报表已写入" in result.stderr
    assert "新华社区党支部" in all_text(out.read_bytes())


def test_check_refuses_a_docx_path_that_is_not_a_docx_or_is_the_profile(tmp_path):
    profile = tmp_path / "p.yaml"
    profile.write_text(_yaml(passing_profile("community")), encoding="utf-8")
    result = run_zhibu("check", str(profile), "--docx", str(tmp_path / "out.pdf"))
    assert result.returncode == 2 and "应以 .docx 结尾" in result.stderr
    (tmp_path / "a.docx").mkdir()
    result = run_zhibu("check", str(profile), "--docx", str(tmp_path / "a.docx"))
    assert result.returncode == 2 and "不是普通文件" in result.stderr


@pytest.mark.parametrize(("year", "warned"), [(2019, "从2020年开始"), (2099, "还没有到"), (2021, None)])
def test_check_warns_for_a_year_outside_2020_to_this_year(tmp_path, year, warned):
    profile = tmp_path / "p.yaml"
    profile.write_text(_yaml(passing_profile("community") | {"year": year}), encoding="utf-8")
    result = run_zhibu("check", str(profile))
    assert result.returncode == 0
    if warned:
        assert f"评定年度{year}年不在2020年至" in result.stderr and warned in result.stderr
        assert result.stdout.startswith("【“最强党支部”自查】")
    else:
        assert "不在2020年至" not in result.stderr


def test_a_replacement_template_is_validated_then_used(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHIBU_HOME", str(tmp_path))
    assert application_template() == SHIPPED_TEMPLATE
    with pytest.raises(BadInput, match="不是 Word 文档"):
        save_application_template(b"%PDF-1.4 not a docx")
    with pytest.raises(BadInput, match="模板无法生成申报表"):
        save_application_template(_template_with("{{ name }} {% for x in %}"))
    assert application_template() == SHIPPED_TEMPLATE  # a refused template is never saved
    saved = save_application_template(_template_with("旗委组织部专用申报表：{{ name }}（{{ verdict }}）"))
    assert application_template() == saved and saved.parent == tmp_path
    text = all_text(render_application(evaluate(passing_profile("community"))))
    assert "旗委组织部专用申报表：新华社区党支部（符合评定条件，可以申报）" in text


def test_the_template_setting_points_at_another_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHIBU_HOME", str(tmp_path))
    other = tmp_path / "county.docx"
    other.write_bytes(_template_with("县委模板 {{ domain }}"))
    monkeypatch.setenv("ZHIBU_APPLICATION_TEMPLATE", str(other))
    assert application_template() == other
    assert "县委模板 社区" in all_text(render_application(evaluate(passing_profile("community"))))


def test_the_document_renders_to_a_page_a_person_can_read(tmp_path):
    """LibreOffice turns the DOCX into PDF, pdftoppm into PNG (looked at by hand once: tables, headings,
    signature lines in Chinese). Skipped where LibreOffice is not installed."""
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not (soffice and pdftoppm):
        pytest.skip("没有安装 LibreOffice / poppler（apt-get install -y libreoffice-writer-nogui poppler-utils）")
    docx = tmp_path / "申报表.docx"
    docx.write_bytes(render_application(evaluate(awaiting_review("community"))))
    profile_dir = f"-env:UserInstallation=file://{tmp_path}/lo-profile"
    subprocess.run([soffice, profile_dir, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx)],
                   check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "申报表.pdf"
    subprocess.run([pdftoppm, "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 10_000


def _template_with(paragraph: str) -> bytes:
    document = Document()
    document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    assert zipfile.is_zipfile(io.BytesIO(buffer.getvalue()))
    return buffer.getvalue()


def _yaml(profile: dict) -> str:
    import yaml

    return yaml.safe_dump(profile, allow_unicode=True)


def test_a_roster_too_large_for_one_download_is_refused_before_any_document(tmp_path):
    from evaluators.application import MAX_BATCH_DOCUMENTS, applications_zip

    roster = tmp_path / "名单.csv"
    rows = "".join(f"社区,2023,第{n}党支部\n" for n in range(MAX_BATCH_DOCUMENTS + 1))
    roster.write_text("domain,year,name\n" + rows, encoding="utf-8")
    with pytest.raises(BadInput, match=f"一次最多生成 {MAX_BATCH_DOCUMENTS} 份申报表"):
        applications_zip(roster)
