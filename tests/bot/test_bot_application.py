"""/export in the chat sends the 申报表 (Word) after the profile: a secretary checking before the year-end
四评 is told 可以申报（待四评） and gets a document that says so."""

from __future__ import annotations

import io

from docx import Document

from core_driver import CoreUser, offline_dialogue

# A 社区 secretary in the middle of the year: every own condition met, the 四评 not yet carried out.
ANSWERS = {"founded_on": "2015年6月", "points_score": "未实行", "org_rating": "不确定", "members_reviewing": "不确定",
           "public_dissatisfaction_verified": "不确定", "social_review_adverse": "不确定",
           "basic.done": "全部", "basic.five_strong": "全部", "secretary_annual_pay_yuan": "3万"}


async def test_export_sends_the_application_document_with_the_verdict(tmp_path):
    user = CoreUser(offline_dialogue(tmp_path))
    for typed in ("/check", "社区", "2023"):
        await user.say(typed)
    while (question := user.question()) is not None:
        problem = question.key.startswith("negative.") or question.key == "weak_and_lax"
        await user.say(ANSWERS.get(question.key, "否" if problem else "是"))
    await user.say("确认")
    assert "结论：可以申报（待四评）" in user.text and "待四评" in user.text
    documents = [reply for reply in await user.say("/export") if reply.kind == "document"]
    assert [d.document.filename for d in documents] == ["自检档案-社区-2023年度.json", "申报表-社区-2023年度.docx"]
    assert "申报表（Word 文档，可以申报（待四评））" in documents[1].text
    word = Document(io.BytesIO(documents[1].document.content))
    cells = [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    assert "可以申报（待四评）" in cells and "待四评" in cells and "党支部书记（签字）" in "".join(p.text for p in word.paragraphs)
