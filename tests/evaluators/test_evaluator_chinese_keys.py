"""Profiles with Chinese keys (each key its Chinese name, as `--template --chinese-keys` prints them);
the English keys stay valid and both may be mixed."""

from __future__ import annotations

import pytest
import yaml
from evaluator_helpers import passing_profile, run_zhibu

from evaluators import DOMAINS, evaluate
from evaluators.chinese_keys import IDENTITY, SECTION_TITLES
from evaluators.rulebook import load_rulebook


def in_chinese(profile: dict) -> dict:
    """The same profile, every key written as its Chinese name."""
    labels = load_rulebook().labels(profile["domain"])
    identity = {value: key for key, value in reversed(IDENTITY.items())}
    chinese: dict = {}
    for key, value in profile.items():
        if isinstance(value, dict):
            chinese[SECTION_TITLES[key]] = {labels[f"{key}.{inner}"]: item for inner, item in value.items()}
        else:
            chinese[identity.get(key) or labels[key]] = value
    return chinese


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_a_profile_in_chinese_keys_reads_as_the_english_one(domain):
    english = evaluate(passing_profile(domain))
    chinese = evaluate(in_chinese(passing_profile(domain)))
    assert chinese.verdict == english.verdict == "qualifies"
    assert chinese.values == english.values


def test_chinese_facts_may_stand_at_the_top_and_mix_with_english_keys():
    profile = passing_profile("gacha_village")
    del profile["facts"]["stars"], profile["negative"]["accountability"]
    profile |= {"年度“十星级”评定星数": 7, "当年度被问责": "否"}
    evaluation = evaluate(profile)
    assert evaluation.failing_facts == ["facts.stars"] and evaluation.values["negative.accountability"] is False


def test_an_unknown_chinese_key_is_named_in_the_message():
    with pytest.raises(Exception, match="不存在的字段 是未知字段"):  # the usual unknown-key message
        evaluate(passing_profile("community") | {"不存在的字段": "是"})


@pytest.mark.parametrize("domain", ["gacha_village", "retired_staff"])
def test_the_chinese_template_is_a_valid_profile(tmp_path, domain):
    printed = run_zhibu("check", "--template", DOMAINS[domain], "--chinese-keys")
    assert printed.returncode == 0 and "domain:" not in printed.stdout and "所处领域:" in printed.stdout
    assert not any(ord(char) < 128 and char.isalpha() for line in printed.stdout.splitlines()
                   if not line.startswith(("parameters", "  gacha_village")) for char in line.split("#")[0])
    path = tmp_path / "档案.yaml"
    path.write_text(printed.stdout, encoding="utf-8")
    result = run_zhibu("check", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["verdict"] == "incomplete"
