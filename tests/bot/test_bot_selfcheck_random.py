"""Random answer sequences through the dialogue core (hypothesis): whatever a user presses or types,
the check never ends with a question left that still applies, and its verdict is `zhibu check`'s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core_driver import INTERNAL, TYPED_TRIALS, CoreUser, offline_dialogue
from bot.events import Event
from bot.selfcheck import CheckState
from evaluators import DOMAINS, evaluate

ZHIBU = str(Path(sys.executable).with_name("zhibu"))
JUNK = ("很多", "也许吧", "-3", "2008年13月", "", "优秀吧", "九颗", "两名", "大概8万左右", "第5名", "三十人")
MAX_STEPS = 80


def moves(user: CoreUser) -> list[Event]:
    """What a user might do at this step: press any choice or action, type an answer, junk, or go back."""
    presses = [Event(button=b.data) for b in user.buttons() if not b.data.startswith(("why|", "cmd|", "passed|"))]
    question = user.question()
    typed = TYPED_TRIALS.get(question.kind, ()) if question else ()
    return presses + [Event(text=text) for text in typed + JUNK] + [Event(command="back"), Event(text="修改第2题"), Event(command="check"), Event(text="返回")]


def check_invariants(user: CoreUser) -> None:
    assert not INTERNAL.search(user.text), user.text  # no English, field keys or internal names
    state = CheckState(user.state)
    if state.phase == "review":  # the review comes only when nothing that applies is unanswered
        assert state.scan()[2] is None
    if state.phase == "done" and user.evaluation().verdict != "does_not_qualify":
        assert state.open_questions() == []  # only a failure may cut the questions short
    if state.phase == "question":
        question = state.question(state.pending)
        assert question is not None and question.applies(state.scan()[0])


def finishing_press(user: CoreUser) -> str:
    """The button that brings a long walk to its verdict soonest."""
    question, phase = user.question(), user.state["phase"]
    if user.state.get("confirming"):
        return "不，继续自检"
    if user.state.get("offer"):  # a figure said back (不对，重新填写) or readings offered (不确定): the last one
        return [button.label for button in user.buttons() if button.data.startswith("pick|")][-1]
    if question is not None:
        return "不确定" if question.kind == "bool" else "不清楚，跳过"
    return {"review": "确认，查看结果", "settled": "直接看结果", "change": "返回", "domain": "社区",
            "year": "2025年度"}[phase]


async def play(data, dialogue) -> tuple[CoreUser, str, dict]:
    user = CoreUser(dialogue)
    domain = data.draw(st.sampled_from(list(DOMAINS)))
    year = data.draw(st.sampled_from([date.today().year, 2020, 2021, 2022, 2023, 2025]))
    await user.say("/check")
    await user.press(DOMAINS[domain])
    await user.say(str(year))
    await walk(data, user)
    if data.draw(st.booleans(), label="change an answer after the verdict"):
        answered = len(CheckState(user.state).scan()[1])
        await user.say(f"修改第{data.draw(st.integers(1, max(answered, 1)))}题")
        await walk(data, user)
    return user, user.text, await user.export()


async def walk(data, user: CoreUser) -> None:
    """Random moves until the verdict; a long walk is finished with 不确定 and the result."""
    for _ in range(MAX_STEPS):
        if user.state.get("phase") == "done":
            return
        await user.send(data.draw(st.sampled_from(moves(user))))
        check_invariants(user)
    while user.state.get("phase") != "done":
        await user.press(finishing_press(user))
        check_invariants(user)


@settings(max_examples=60, deadline=None, phases=(Phase.explicit, Phase.reuse, Phase.generate), suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(data=st.data())
def test_random_answers_reach_the_verdict_zhibu_check_gives(data, tmp_path):
    dialogue = offline_dialogue(tmp_path)
    user, verdict, profile = asyncio.run(play(data, dialogue))
    evaluation = evaluate(profile)
    assert evaluation.verdict_label in verdict
    assert evaluation.verdict == user.evaluation().verdict
    if data.draw(st.integers(0, 14), label="call the real CLI") == 0:
        path = tmp_path / "profile.json"
        path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run([ZHIBU, "check", str(path), "--json"], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["verdict"] == evaluation.verdict
