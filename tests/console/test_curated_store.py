"""The curated answers table on SQLite and on a real PostgreSQL server (migration 0002_curated)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from records.curated import CuratedAnswers
from records.database import database_url, engine_for
from zhibu.settings import Settings

CLAUSE = {"doc_id": "work-guide-2020", "document": "内蒙古自治区“最强党支部”建设工作指南", "doc_number": "",
          "section": "五、（一）关于评定层级", "quote": "“最强党支部”原则上每年评定一次", "version": "abc"}


@pytest.fixture(params=["sqlite", "postgresql"])
def answers(request, tmp_path) -> CuratedAnswers:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = Settings(_env_file=None, zhibu_home=tmp_path / f"home-{request.param}", zhibu_database_url=url)
    store = CuratedAnswers(settings)
    if url:  # one server for the session: start from an empty table
        with engine_for(database_url(settings)).begin() as connection:
            connection.execute(text("TRUNCATE curated_answers RESTART IDENTITY"))
    return store


def test_an_answer_is_saved_changed_by_id_or_by_question_and_deleted(answers):
    first = answers.save(question="最强党支部多久评一次？", wordings=["一年评几次"], answer="每年一次。", clauses=[CLAUSE], by="甲")
    assert answers.get(first.id).as_dict()["clauses"] == [CLAUSE]
    answers.save(question="最强党支部多久评一次？", wordings=[], answer="原则上每年评定一次。", clauses=[CLAUSE], by="乙")
    [only] = answers.all()  # the same question (an import) updates the entry
    assert (only.id, only.answer, only.written_by, only.wordings) == (first.id, "原则上每年评定一次。", "乙", [])
    answers.save(question="改过的问题", wordings=[], answer="每年一次。", clauses=[CLAUSE], by="甲", answer_id=first.id)
    assert [entry.question for entry in answers.all()] == ["改过的问题"]
    assert answers.delete(first.id) and not answers.delete(first.id) and answers.all() == []
