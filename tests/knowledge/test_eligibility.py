"""“能不能评”: yes/no eligibility questions answered from the evaluator's own rulebook, with its clause.

Generated over the rulebook: every criterion (负面情形, 四评, 新组建, 软弱涣散, each domain's standard) and
every other rule the data names is reached by an everyday question, and its answer cites that rule's
clause — the one the self-check cites. The keyword-only knowledge base is real (the shipped corpus)."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from evaluators.rulebook import load_rulebook
from knowledge import eligibility
from knowledge.preanswer import PreAnswerContext
from knowledge.service import QAService
from zhibu.settings import Settings
from zhibu.text import fold_for_match

DATA = yaml.safe_load(eligibility.DATA.read_text(encoding="utf-8"))
RULEBOOK = load_rulebook()
CRITERIA = sorted({c.id: c for rules in RULEBOOK.all_domains().values() for c in rules.criteria}.items())


@pytest.fixture(scope="module")
def svc(keyword_kb_template):
    return QAService(Settings(_env_file=None, zhibu_home=keyword_kb_template, zhibu_embedding="none"))


@pytest.fixture(scope="module")
def context(svc):
    return PreAnswerContext(home=svc.settings.zhibu_home, generation=svc.kb.active(), this_year=date.today().year)


def _cites(answer, citation) -> bool:
    return any(fold_for_match(c.text) == fold_for_match(citation.quote) and c.document == citation.document
               for c in answer.citations)


@pytest.mark.parametrize("criterion_id, criterion", CRITERIA, ids=[cid for cid, _ in CRITERIA])
def test_every_criterion_of_the_rulebook_is_reached_by_an_everyday_question(criterion_id, criterion, context):
    entry = DATA["criteria"].get(criterion_id)
    assert entry, f"{criterion_id}: data/eligibility.yaml 中没有这一条的日常说法"
    answer = eligibility.pre_answer(entry["example"], context)
    assert answer is not None, entry["example"]
    assert answer.status == "answered" and answer.answer.startswith("答：")
    assert _cites(answer, criterion.citation), (entry["example"], answer.answer)
    first_line = answer.answer.splitlines()[0]
    assert first_line.startswith(("答：不能", "答：一般不能", "答：要看")), first_line
    assert answer.citations[0].chunk_id, "the clause is found in a passage of the knowledge base"


@pytest.mark.parametrize("key", sorted(DATA["rules"]))
def test_every_other_rule_is_reached_and_cites_its_clause(key, context):
    topic = next(t for t in eligibility.topics() if t.key == key)
    answer = eligibility.pre_answer(DATA["rules"][key]["example"], context)
    assert answer is not None and _cites(answer, eligibility.rule_citation(topic))
    assert answer.answer.startswith(f"答：{DATA['rules'][key]['answer']}：")


@pytest.mark.parametrize("question, line", [
    ("咱们支部去年被问责了，今年还能评最强吗", "答：不能，如果当年度被问责；去年的问责不在此条之内（此条只看当年度）。"),
    ("乡里县里都评了最强，算两个吗？", "答：不算两个，以最高层级算一个：被多个层级评定为“最强党支部”的，以最高层级计入，但不得重复计算。"),
    ("软弱涣散的支部能直接评最强吗", "答：一般不能，如果被列为软弱涣散党支部。"),
    ("新成立的支部能评最强吗", "答：一般不能，如果达不到“党支部组建满一年”。"),
    ("评上最强以后出了问题，会不会被取消？", "答：会：党支部出现不符合建设标准的情形时，应当取消评定及相关待遇保障。"),
])
def test_the_answer_line_says_yes_or_no_with_the_condition(question, line, context):
    assert eligibility.pre_answer(question, context).answer.splitlines()[0] == line


@pytest.mark.parametrize("question, verdict", [
    ("村里十星级评了7颗星，能评最强吗？", "答：不能"),  # the criterion's own check: 7 < 8
    ("村里十星级评了9颗星，能评最强吗？", "答：要看"),
    ("党员评议优秀率95%，能评最强吗？", "答：要看"),
    ("党员评议优秀率百分之八十五，能评吗？", "答：不能"),
    ("国企党组织工作经费不到工资总额的1%，能评最强吗？", "答：不能"),
    ("没被问责能评最强吗", "答：要看"),  # a negated failing situation does not bar
    ("村两委有人坐过牢还能评最强不", "答：不能"),  # "…不" is the question's tail, not a negation
    ("村两委里一个大专学历的都没有，能评最强吗", "答：不能"),  # "没有" ends a clause, not the question: a negation
    ("国企支部里一个四优党员都没有，还能评吗", "答：不能"),  # "一个…都没有" is none, not a count of one
    ("村两委里有一个大专学历的，能评最强吗", "答：要看"),
])
def test_figures_and_negations_are_judged_by_the_rule(question, verdict, context):
    assert eligibility.pre_answer(question, context).answer.startswith(verdict)


@pytest.mark.parametrize("question, verdict", [
    ("村里三务公开一直没落实，会不会影响评最强", "答：会影响："),  # answered in the question's own terms
    ("书记今年没被处分，影响评最强吗", "答：不影响："),
    ("非公企业活动室还缺书报，算达标吗", "答：不算："),  # an item of the 六有 list names the criterion
    ("社区网格员都配齐了，可工作经费没落实，算不算做到五个到位", "答：不算："),  # the clause before says how
    ("机关支部年度考核排名第六，还能评最强吗", "答：不能"),  # a place after the first three
    ("机关支部年度考核排名第二，还能评最强吗", "答：要看"),
    ("学校支部党员名师比例比全校平均少，能评最强吗", "答：不能"),
])
def test_the_reply_follows_the_way_the_question_asks(question, verdict, context):
    assert eligibility.pre_answer(question, context).answer.startswith(verdict)


@pytest.mark.parametrize("question", [
    "最强党支部多长时间评定一次？", "负面情形有哪些？", "党费按工资百分之几交", "村里评上最强有啥奖励？",
    "能不能评上跟天气有关系吗",  # an eligibility question about nothing the rulebook knows
    "新成立的支部能评不 软弱涣散的能评不",  # two questions: the multi-part answer takes them one by one
    "村集体经济一年收入多少才算达标",  # asks for the figure, which retrieval quotes
])
def test_other_questions_are_left_to_retrieval(question, context):
    assert eligibility.pre_answer(question, context) is None


def test_the_service_answers_eligibility_before_retrieval(svc):
    answer = svc.ask("支部书记今年受了党纪处分，支部还能评吗？")
    assert answer.mode == "rulebook" and answer.found
    assert answer.answer.startswith("答：不能，如果负责人受到党纪政务处分。")
    assert "3.党支部负责人当年度被给予党纪政务处分的；" in answer.answer
