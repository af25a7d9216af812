"""Properties over random profiles: no crash, determinism, and monotonicity (breaking one passing fact
can never help)."""

from __future__ import annotations

import copy
import json
from datetime import date

from evaluator_helpers import passing_profile, set_dotted
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from evaluators import DOMAINS, evaluate
from evaluators.checks import Compare, ContainsAll, DateAge, Equals, Ratio, Threshold
from evaluators.profile import ask_as, bounds, contract_fields, nest
from evaluators.rulebook import load_rulebook
from zhibu.errors import BadInput

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def value_strategy(info) -> st.SearchStrategy:
    ask = ask_as(info)
    low, high = bounds(info)
    kind = ask.kind if ask else None
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        return st.integers(int(low or 0), int(high) if high is not None else 60)
    if kind == "number":
        return st.one_of(st.integers(0, int(high or 200_000)), st.floats(0, high or 200_000, allow_nan=False))
    if kind == "ratio":
        return st.floats(0, 1, allow_nan=False)
    if kind == "date":
        return st.dates(date(2000, 1, 1), date(2030, 12, 31))
    if kind == "enum":
        return st.sampled_from([value for value, _ in ask.choices])
    if kind == "multi":
        return st.lists(st.sampled_from([value for value, _ in ask.choices]), unique=True)
    return st.text(max_size=10)


@st.composite
def flat_profiles(draw, domain=None):
    domain = domain or draw(st.sampled_from(list(DOMAINS)))
    flat = {"domain": domain, "year": draw(st.integers(2019, 2027))}  # beyond the texts (2020–2023) too
    for key, info in contract_fields(domain).items():
        if key not in ("domain", "year") and draw(st.booleans()):
            flat[key] = draw(st.one_of(st.none(), value_strategy(info)))
    for parameter in load_rulebook().parameters.for_domain(domain):  # a standard the 上级 announced, sometimes
        if draw(st.booleans()):
            flat[f"parameters.{parameter.name}"] = draw(st.integers(0, 200_000))
    return flat


def profiles(domain=None):
    return flat_profiles(domain).map(nest)


junk = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=8),
                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def damaged_profiles(draw):
    flat = draw(flat_profiles())
    for key in draw(st.lists(st.sampled_from(["domain", "year", *contract_fields(flat["domain"]), "facts.nonsense"]),
                             max_size=4)):
        flat[key] = draw(junk)
    profile = nest(flat)
    for key in draw(st.lists(st.sampled_from(["negative", "facts"]), max_size=1)):
        profile[key] = draw(junk)  # a container that is not a mapping
    return profile


@SETTINGS
@given(profiles())
def test_random_profiles_never_crash_and_are_deterministic(profile):
    try:
        first = evaluate(profile)
    except BadInput:
        return  # e.g. more 优秀 votes than members: reported, not crashed
    shuffled = json.loads(json.dumps(dict(reversed(list(profile.items()))), default=str))
    assert first.to_dict() == evaluate(profile).to_dict() == evaluate(shuffled).to_dict()
    assert first.verdict in ("qualifies", "does_not_qualify", "incomplete")
    statuses = {c.status for c in first.criteria}
    assert (first.verdict == "does_not_qualify") == ("fail" in statuses)
    assert set(first.missing) <= {key for c in first.criteria if c.status == "unknown" for key in c.missing}
    # another year's figure is always named as to be confirmed, and only then
    confirm = [c for c in first.criteria if c.parameter and c.parameter.basis in ("latest_documented", "nearest_documented")
               and c.status in ("pass", "fail")]
    assert first.to_confirm == confirm
    assert ("待确认" in first.verdict_label) == (first.verdict == "qualifies" and bool(confirm))


@SETTINGS
@given(damaged_profiles())
def test_damaged_profiles_give_bad_input_or_a_verdict(profile):
    try:
        evaluation = evaluate(profile)
    except BadInput as error:
        assert str(error).startswith("档案有误")
        return
    json.dumps(evaluation.to_dict(), ensure_ascii=False)


def breaking_value(check, values: dict):
    """A value for the judged fact that makes this (passing) check fail, or None when there is none."""
    if isinstance(check, Equals):
        if isinstance(check.value, bool):
            return not check.value
        return next(v for v, _ in check.words.kinds[check.fact].choices if v != check.value)
    if isinstance(check, Threshold):
        limit = check.value if check.parameter is None else check.resolved(values, values["year"]).value
        step = {">=": -1, ">": 0, "<=": 1, "<": 0, "==": 1}[check.op]
        broken = limit + step
        return broken if broken >= 0 else None
    if isinstance(check, Ratio):
        return 0 if check.share > 0 and values[check.of] > 0 else None
    if isinstance(check, Compare):
        other = values[check.other]
        return round(other - 0.01, 4) if other >= 0.01 else None
    if isinstance(check, ContainsAll):
        return list(check.items[1:])
    if isinstance(check, DateAge):
        return date(values["year"], 12, 31)
    raise AssertionError(f"no breaking value for {check}")


@SETTINGS
@given(st.sampled_from(list(DOMAINS)), st.data())
def test_breaking_one_passing_fact_never_helps(domain, data):
    """Start from a random profile of `domain`; break one passing criterion's fact: the verdict must be
    does_not_qualify (so a does_not_qualify can never turn into qualifies)."""
    profile = data.draw(profiles(domain))
    try:
        before = evaluate(profile)
    except BadInput:
        assume(False)
    rules = load_rulebook().domain(domain)
    statuses = {r.id: r.status for r in before.criteria}  # basic standards set aside are not among them
    passing = [c for c in rules.criteria if statuses.get(c.id) == "pass"]
    assume(passing)
    criterion = data.draw(st.sampled_from(passing))
    values = {"year": before.year, **_flat(profile)}
    broken_value = breaking_value(criterion.check, values)
    assume(broken_value is not None)
    broken = copy.deepcopy(profile)
    set_dotted(broken, criterion.check.fact, broken_value)
    after = evaluate(broken)
    assert after.verdict == "does_not_qualify"
    assert criterion.check.fact in after.failing_facts


def _flat(profile: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in profile.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{key}."))
        else:
            flat[prefix + key] = value
    return flat


@SETTINGS
@given(st.sampled_from(list(DOMAINS)), st.data())
def test_breaking_a_fact_of_a_qualifying_branch(domain, data):
    profile = passing_profile(domain)
    assert evaluate(profile).verdict == "qualifies"
    rules = load_rulebook().domain(domain)
    criterion = data.draw(st.sampled_from([c for c in rules.criteria
                                            if not c.missing_is_not_applicable or c.check.fact in _flat(profile)]))
    broken_value = breaking_value(criterion.check, {"year": profile["year"], **_flat(profile)})
    assume(broken_value is not None)
    set_dotted(profile, criterion.check.fact, broken_value)
    evaluation = evaluate(profile)
    assert evaluation.verdict == "does_not_qualify" and evaluation.failing_facts == [criterion.check.fact]
