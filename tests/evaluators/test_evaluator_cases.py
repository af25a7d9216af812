"""The dev cases from the shared eval set and the readable per-domain cases in cases/*.yaml."""

from __future__ import annotations

import copy

import pytest
from evaluator_helpers import CASES_DIR, DEV_CASES, load_case_file, load_dev_cases, set_dotted, unset_dotted

from evaluators import DOMAINS, evaluate

DEV = load_dev_cases()


@pytest.mark.skipif(not DEV, reason=f"dev cases not found at {DEV_CASES}")
@pytest.mark.parametrize("case", DEV, ids=[case["id"] for case in DEV])
def test_dev_case(case):
    """Profiles written to the contract alone (no basic standards stated) keep their contract verdicts; the
    basic standards are listed for the secretary to check, not counted as unknown."""
    evaluation = evaluate(case["profile"])
    expect = case["expect"]
    assert evaluation.verdict == expect["verdict"]
    assert set(evaluation.failing_facts) == set(expect["failing_facts"])
    assert set(evaluation.missing) == set(expect["unknown_facts"])
    assert evaluation.basic_not_assessed and all(r.id.startswith("basic.") for r in evaluation.basic_not_assessed)


@pytest.mark.skipif(not DEV, reason=f"dev cases not found at {DEV_CASES}")
@pytest.mark.parametrize("case", DEV, ids=[case["id"] for case in DEV])
def test_dev_case_with_basic_standards_stated(case):
    """Once the basic standards are stated (all met, from the domain's readable case file), they count and
    the contract's verdict stands; one not met makes the branch fail."""
    basic = load_case_file(CASES_DIR / f"{case['profile']['domain']}.yaml")[0]["basic"]
    evaluation = evaluate(case["profile"] | {"basic": basic})
    assert evaluation.verdict == case["expect"]["verdict"] and not evaluation.basic_not_assessed
    short = evaluate(case["profile"] | {"basic": {**basic, "done": [i for i in basic["done"] if i != "书记轮训"]}})
    assert short.verdict == "does_not_qualify" and "basic.done" in short.failing_facts


def _yaml_cases():
    for path in sorted(CASES_DIR.glob("[!_]*.yaml")):
        base, cases = load_case_file(path)
        for case in cases:
            yield pytest.param(base, case, id=f"{path.stem}: {case['name']}")


@pytest.mark.parametrize(("base", "case"), list(_yaml_cases()))
def test_yaml_case(base, case):
    profile = copy.deepcopy(base)
    for key, value in (case.get("set") or {}).items():
        set_dotted(profile, key, value)
    for key in case.get("unset") or []:
        unset_dotted(profile, key)
    evaluation = evaluate(profile)
    expect = case["expect"]
    assert evaluation.verdict == expect["verdict"], [(c.id, c.status, c.reason) for c in evaluation.criteria]
    assert set(evaluation.failing_facts) == set(expect.get("failing", []))
    assert set(evaluation.missing) == set(expect.get("missing", []))
    statuses = {result.id: result.status for result in evaluation.criteria}
    for criterion, status in (expect.get("criteria") or {}).items():
        assert statuses[criterion] == status
    if "stage" in expect:  # the two stages: 自评 (may 申报) before the year-end 四评
        assert evaluation.stage == expect["stage"]
    if "awaiting_review" in expect:
        assert [result.id for result in evaluation.awaiting_review] == expect["awaiting_review"]
    for criterion in expect.get("absent") or []:
        assert criterion not in statuses
    if "verdict_label" in expect:
        assert evaluation.verdict_label == expect["verdict_label"]
    if "to_confirm" in expect:
        assert [result.id for result in evaluation.to_confirm] == expect["to_confirm"]
    if "parameter" in expect:  # which year's standard the dated criterion used, and on what basis
        (used,) = [result.parameter for result in evaluation.criteria if result.parameter]
        assert {key: getattr(used, key) for key in expect["parameter"]} == expect["parameter"]
    if "benefits" in expect:
        assert [benefit.id for benefit in evaluation.benefits] == expect["benefits"]
    if "bonus_yuan" in expect:
        bonus = next(benefit for benefit in evaluation.benefits if benefit.id == "one_off_bonus")
        assert [bonus.amount_yuan["low"], bonus.amount_yuan["high"]] == expect["bonus_yuan"]


def test_every_domain_has_readable_cases_covering_pass_fail_unknown():
    for domain in DOMAINS:
        _, cases = load_case_file(CASES_DIR / f"{domain}.yaml")
        verdicts = {case["expect"]["verdict"] for case in cases}
        assert len(cases) >= 3 and verdicts == {"qualifies", "does_not_qualify", "incomplete"}, domain
