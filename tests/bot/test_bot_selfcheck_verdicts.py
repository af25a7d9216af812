"""Every domain reaches the right verdict this year, in 2021 and in 2023, through the dialogue core.

The answers are derived from the questions asked (core_driver): a compliant branch gives, question by
question, the first answer after which nothing fails; a one-failure branch answers one domain fact so
that it is the only failure; an unsure branch answers 不确定 / 不清楚 throughout. The verdict the chat
shows must be the evaluator's report of the exported profile, and `zhibu check` must agree with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from core_driver import INTERNAL, offline_dialogue, run_check
from bot.selfcheck import CheckState
from bot.text import MESSAGE_LIMIT
from evaluators import DOMAINS, evaluate, render_report
from evaluators.rulebook import load_rulebook

THIS_YEAR = date.today().year
YEARS = (THIS_YEAR, 2021, 2023)
ZHIBU = str(Path(sys.executable).with_name("zhibu"))


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory):
    return offline_dialogue(tmp_path_factory.mktemp("home"))


def year_words(year: int) -> str:
    return "今年" if year == THIS_YEAR else f"{year}年"


def standards_to_confirm(domain: str, year: int) -> list[str]:
    """Dated standards the domain is judged with that the texts give no figure for in `year`."""
    table = load_rulebook().parameters
    return [p.label for p in table.for_domain(domain) if table.resolve(p.name, year).to_confirm]


def zhibu_check(profile: dict, path: Path) -> dict:
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([ZHIBU, "check", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def same_text(shown: str, report: str) -> bool:
    return shown.replace("\n", "") == report.replace("\n", "")


@pytest.mark.parametrize("domain", list(DOMAINS))
async def test_every_domain_and_year_reaches_the_verdict_zhibu_check_gives(domain, dialogue, tmp_path):
    label, exported = DOMAINS[domain], []
    for year in YEARS:
        compliant = await run_check(dialogue, label, year_words(year), "compliant")
        assert CheckState(compliant.user.state).scan()[2] is None  # nothing askable left unasked
        profile = await compliant.user.export()
        evaluation = evaluate(profile)
        assert evaluation.verdict == "qualifies", (year, compliant.verdict[:300])
        assert not evaluation.by_status("unknown") and "请补充" not in compliant.verdict
        assert same_text(compliant.verdict, render_report(evaluation))
        pending = standards_to_confirm(domain, year)
        assert len(evaluation.to_confirm) == len(pending)
        if pending:  # a qualifying verdict that names what is to be confirmed, never a dead end
            assert f"{len(pending)}项待确认" in evaluation.verdict_label and evaluation.verdict_label in compliant.verdict
            assert all(standard in compliant.verdict for standard in pending) and str(year) in compliant.verdict
        else:
            assert "待确认" not in compliant.verdict

        assert compliant.failable, "no domain fact can fail on its own"
        fail_key = compliant.failable[-1]
        failing = await run_check(dialogue, label, year_words(year), "one_failure", fail_key)
        failed = evaluate(await failing.user.export()).by_status("fail")
        fact = fail_key.partition("#")[0]  # a split question fails its whole fact
        assert [fact in result.facts for result in failed] == [True], (year, fail_key, failed)
        assert "暂不符合" in failing.verdict and failed[0].requirement in failing.verdict

        unsure = await run_check(dialogue, label, year_words(year), "unsure")
        unsure_profile = await unsure.user.export()
        assert set(unsure_profile) == {"domain", "year"}
        assert evaluate(unsure_profile).verdict == "incomplete" and "信息不全" in unsure.verdict
        assert len(unsure.verdict) <= MESSAGE_LIMIT  # one Telegram message
        exported += [(profile, compliant), (await failing.user.export(), failing), (unsure_profile, unsure)]

    paths = [tmp_path / f"profile-{n}.json" for n in range(len(exported))]
    with ThreadPoolExecutor(max_workers=3) as pool:
        checked = list(pool.map(zhibu_check, [profile for profile, _ in exported], paths))
    for (profile, run), result in zip(exported, checked):
        evaluation = evaluate(profile)
        assert result["verdict"] == evaluation.verdict == run.user.evaluation().verdict
        failing_ids = sorted(c["id"] for c in result["criteria"] if c["status"] == "fail")
        assert failing_ids == sorted(r.id for r in evaluation.by_status("fail"))
        assert result["verdict_label"] in run.verdict
        assert not INTERNAL.search(run.verdict), run.verdict
