"""The outline splitter: heading paths, sizes, stable ids, on the shipped corpus and on small texts."""

from __future__ import annotations

import re

import pytest

from ingest.clean import clean_text, normalize_for_match
from ingest.documents import DocumentMeta, iter_documents, shipped_corpus_paths
from ingest.split import MAX_CHARS, split_document

META = DocumentMeta("sample", "样例文件", "样例", "", "", "", "sample.txt")


@pytest.fixture(scope="module")
def corpus():
    return {document.meta.short_title: document.chunks for document in iter_documents(shipped_corpus_paths())}


def _paths(chunks) -> list[tuple[str, ...]]:
    return [chunk.section_path for chunk in chunks]


def _containing(chunks, phrase: str):
    return [chunk for chunk in chunks if phrase in normalize_for_match(chunk.text)]


@pytest.mark.parametrize(
    ("short_title", "phrase"),
    [
        ("指导意见", "系统化谋划、制度化规范、标准化建设、项目化推进、信息化支撑"),
        ("工作指南", "自创+申报+评定"),
        ("方案", "不少于5000元"),
        ("工作指南", "不少于5000元"),
        ("工作指南", "以最高层级计入"),
        ("工作指南", "获得8星以上"),
    ],
)
def test_phrases_stay_whole_within_one_chunk(corpus, short_title, phrase):
    assert _containing(corpus[short_title], phrase)


def test_a_phrase_in_a_heading_stays_whole_in_the_heading(corpus):
    assert any("(二)实行“自创+申报+评定”工作程序" in chunk.heading for chunk in corpus["方案"])


def test_heading_path_of_a_known_section(corpus):
    headings = [chunk.heading for chunk in corpus["工作指南"]]
    assert "工作指南 > 五、“最强党支部”的评定方式 > (二)关于评定方式 > 2.党员评议" in headings
    evaluation = [c for c in corpus["工作指南"] if {"五、“最强党支部”的评定方式", "(二)关于评定方式"} <= set(c.section_path)]
    assert evaluation and any(c.text.startswith("主要是在年度支部组织生活会上") for c in evaluation)


def test_attachments_are_top_level_sections(corpus):
    guide = corpus["工作指南"]
    tops = list(dict.fromkeys(path[0] for path in _paths(guide)))
    assert tops[-2:] == ["附件1 “最强党支部”建设主要职责与基本任务参考清单", "附件2 各领域“最强党支部”建设参考标准"]
    village = [c for c in guide if c.section_path[0].startswith("附件2") and "一、嘎查村党支部" in c.section_path]
    assert village and "获得8星以上" in village[0].text


def test_the_list_of_attachments_is_body_text(corpus):
    guide = corpus["工作指南"]
    assert not any(part.startswith(("附件:", "2.各领域")) for path in _paths(guide) for part in path)
    listing = _containing(guide, "附件:1.“最强党支部”建设主要职责与基本任务参考清单")
    assert listing[0].section_path[0] == "七、“最强党支部”建设的保障机制"


def test_an_inline_title_ends_at_the_first_full_stop(corpus):
    guiding = [c for c in corpus["方案"] if c.section_path[-1] == "(一)指导思想"]
    assert guiding[0].section_path == ("一、总体要求", "(一)指导思想")
    assert guiding[0].text.startswith("以习近平新时代中国特色社会主义思想为指导")


def test_numbered_list_items_are_not_headings(corpus):
    negatives = [c for c in corpus["工作指南"] if c.section_path[-1] == "(三)关于负面情形"]
    assert "1.党支部及所在单位当年度被给予问责处理的;" in negatives[0].text
    assert not any(len(part) > 45 for path in _paths(corpus["工作指南"]) for part in path)


def test_notice_and_preamble_sections(corpus):
    guidance, guide = corpus["指导意见"], corpus["工作指南"]
    assert _paths(guidance)[:2] == [("通知",), ("前言",)]
    assert guidance[0].text.startswith("内蒙古自治区党委组织部印发«关于“五化协同、大抓基层”的指导意见»的通知")
    assert guidance[0].text.endswith("〔此件发至旗县(市、区)委组织部〕")  # printed at the end, belongs to the notice
    assert guidance[1].text.startswith("关于“五化协同、大抓基层”的指导意见\n为全面贯彻")
    assert _paths(guide)[0] == ("前言",)


def test_chunks_respect_the_size_limit_and_are_never_empty(corpus):
    for chunks in corpus.values():
        assert all(0 < len(chunk.text) <= MAX_CHARS for chunk in chunks)
        assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))


def test_smaller_limits_split_at_sentence_ends():
    text = clean_text((shipped_corpus_paths()[2]).read_text(encoding="utf-8"))
    chunks = split_document(text, META, max_chars=150, min_chars=40)
    assert all(len(chunk.text) <= 150 for chunk in chunks)
    ends = [chunk.text[-1] for chunk in chunks]
    assert sum(end in ".。;!?" for end in ends) / len(ends) > 0.95  # the rest: one clause longer than 150


def test_a_long_section_splits_into_near_equal_parts():
    body = "".join(f"第{i}句话讲的是一项具体的工作要求和落实办法." for i in range(1, 41))
    chunks = split_document(f"一、总体要求\n{body}", META, max_chars=400, min_chars=100)
    sizes = [len(chunk.text) for chunk in chunks]
    assert len(chunks) == 3 and max(sizes) - min(sizes) < 40
    assert "".join(chunk.text for chunk in chunks) == body


def test_tiny_sections_merge_with_their_next_sibling():
    long_body = "严格执行组织生活制度," * 36 + "效果好."
    text = f"一、建设标准\n(一)政治功能强.做到旗帜鲜明讲政治.\n(二)队伍建设强.班子团结.\n(三)组织生活强.{long_body}"
    chunks = split_document(text, META, max_chars=400, min_chars=100)
    assert [(c.section_path, c.text) for c in chunks] == [
        (("一、建设标准",), "(一)政治功能强.做到旗帜鲜明讲政治.\n(二)队伍建设强.班子团结."),
        (("一、建设标准", "(三)组织生活强"), long_body),
    ]


def test_text_before_any_heading_is_a_preamble():
    chunks = split_document("总的说明文字.\n一、第一部分\n正文内容.", META, min_chars=0)
    assert [(c.section_path, c.text) for c in chunks] == [(("前言",), "总的说明文字."), (("一、第一部分",), "正文内容.")]


def test_heading_string_puts_the_short_title_first(corpus):
    chunk = corpus["方案"][2]
    assert chunk.heading == "方案 > " + " > ".join(chunk.section_path)


def test_same_input_gives_the_same_ids(corpus):
    again = {document.meta.short_title: document.chunks for document in iter_documents(shipped_corpus_paths())}
    assert again == corpus
    for chunks in corpus.values():
        ids = [chunk.chunk_id for chunk in chunks]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(r"[a-z0-9-]+:[0-9a-f]{12}", chunk_id) for chunk_id in ids)


def test_an_edited_paragraph_changes_only_its_own_chunk_ids():
    path = shipped_corpus_paths()[2]
    meta = DocumentMeta("work-guide-2020", "", "工作指南", "", "", "", path.name)
    text = clean_text(path.read_text(encoding="utf-8"))
    before = split_document(text, meta)
    after = split_document(text.replace("以最高层级计入", "以最高层级计算"), meta)
    changed = {c.chunk_id for c in before} - {c.chunk_id for c in after}
    assert changed == {c.chunk_id for c in before if "以最高层级计入" in c.text}
    assert len(before) == len(after) and len(changed) == 1


def test_duplicate_passages_get_distinct_ids():
    chunks = split_document("一、第一部分\n相同的内容.\n一、第一部分\n相同的内容.", META, min_chars=0)
    assert chunks[0].section_path == chunks[1].section_path and chunks[0].text == chunks[1].text
    assert chunks[0].chunk_id != chunks[1].chunk_id


def test_content_hash_follows_heading_and_text(corpus):
    first, second = corpus["方案"][:2]
    assert first.content_hash != second.content_hash
    assert len(first.content_hash) == 64


def test_a_sentence_longer_than_the_limit_is_cut_at_commas_or_else_anywhere():
    clauses = "推进党支部标准化规范化建设," * 40 + "到位."
    unbroken = "党" * 900
    for body in (clauses, unbroken):
        chunks = split_document(f"一、总体要求\n{body}", META, max_chars=400)
        assert all(len(chunk.text) <= 400 for chunk in chunks)
        assert "".join(chunk.text for chunk in chunks) == body
    assert all(chunk.text.endswith((",", ".")) for chunk in split_document(f"一、总体要求\n{clauses}", META))
