"""The cleaner: character artefacts, page noise, and paragraphs rebuilt from wrapped lines."""

from __future__ import annotations

import re

import pytest

from ingest.clean import clean_text, normalize_chars, normalize_for_match
from ingest_helpers import CORPUS, raw_text


@pytest.fixture(scope="module")
def cleaned() -> dict[str, list[str]]:
    return {stem: clean_text(raw_text(stem)).split("\n") for stem in CORPUS}


def test_full_width_forms_and_private_use_dot_are_normalised():
    assert normalize_chars("２０２０年（一）１\U001001b0规范") == "2020年(一)1.规范"


def test_no_artefact_survives_in_the_corpus(cleaned):
    for lines in cleaned.values():
        text = "\n".join(lines)
        assert not re.search("[\uff10-\uff19\ue000-\uf8ff\U000f0000-\U0010ffff\u3000]", text)
        assert not any(line != line.strip() for line in lines)
        assert " “" not in text


def test_layout_spaces_go_but_spaces_between_latin_words_stay():
    assert clean_text("1.党支部及所在单位当年度被给予 问 责 处理的;") == "1.党支部及所在单位当年度被给予问责处理的;"
    assert clean_text("使用 Bot API 接口.") == "使用Bot API接口."


def test_page_numbers_are_dropped():
    lines = raw_text("plan-2020-04").split("\n")
    numbered = lines[:100] + ["- 3 -"] + lines[100:200] + ["第 4 页"] + lines[200:]
    assert clean_text("\n".join(numbered)) == clean_text("\n".join(lines))


def test_wrapped_lines_rejoin_into_one_paragraph(cleaned):
    lines = cleaned["guidance-2020-02"]
    assert any("坚持系统化谋划、制度化规范、标准化建设、项目化推进、信息化支撑,推动形成" in line for line in lines)


def test_headings_stand_on_their_own_lines(cleaned):
    guidance, plan, guide = cleaned["guidance-2020-02"], cleaned["plan-2020-04"], cleaned["work-guide-2020"]
    assert "一、目标要求" in guidance
    assert any(line.startswith("1、总体要求.全区基层党建") for line in guidance)
    assert any(line.startswith("4、强化对各领域基层党建工作的整体谋划.") for line in guidance)
    assert "(二)基本原则" in plan
    assert any(line.startswith("———坚持突出政治功能") for line in plan)
    assert "(一)核准工作定位" in guide and "(二)关于建立健全评先评优的导向机制" in guide
    assert "一、盟市委组织部和自治区直属党(工)委主要职责与基本任务" in guide  # wrapped heading rejoined
    assert any(line.startswith("二是对县级以上党委评定的高校") for line in guide)


def test_titles_are_separate_from_the_notice_and_the_body(cleaned):
    guidance, plan, guide = cleaned["guidance-2020-02"], cleaned["plan-2020-04"], cleaned["work-guide-2020"]
    assert guidance[:3] == [
        "内蒙古自治区党委组织部印发«关于“五化协同、大抓基层”的指导意见»的通知",
        "(内组通字〔2020〕2号)",
        "各盟市委组织部,自治区直属机关工委、高校工委、国资委党委,自治区非公有制企业和社会组织党工委,和林格尔新区党工委:",
    ]
    assert guidance[4:7] == ["内蒙古自治区党委组织部", "2020年2月25日", "关于“五化协同、大抓基层”的指导意见"]
    assert "筑牢新时代北疆基层战斗堡垒建设“最强党支部”方案" in plan
    assert guide[0] == "内蒙古自治区“最强党支部”建设工作指南"
    assert guide[1].startswith("党支部是党的基础组织")


def test_attachment_headings_and_the_attachment_list(cleaned):
    guide = cleaned["work-guide-2020"]
    assert "附件:1.“最强党支部”建设主要职责与基本任务参考清单 2.各领域“最强党支部”建设参考标准" in guide
    assert guide.index("附件1") + 1 == guide.index("“最强党支部”建设主要职责与基本任务参考清单")
    assert guide.index("附件2") + 1 == guide.index("各领域“最强党支部”建设参考标准")


def test_real_paragraphs_are_not_joined():
    # DOCX paragraphs are whole: they vary in length and are never wrapped at a page width.
    paragraphs = ["一、总体要求", "短段落.", "这是一个很长的段落," * 12 + "到此结束.", "另一个段落,长度也不同于其他段落的长度."]
    assert clean_text("\n".join(paragraphs)).split("\n") == paragraphs


def test_empty_and_blank_text_clean_to_nothing():
    assert clean_text("") == ""
    assert clean_text(" \n\u3000\n\n") == ""


def test_normalize_for_match_ignores_whitespace_and_width():
    assert normalize_for_match("不少于 ５０００元\n") == "不少于5000元"
