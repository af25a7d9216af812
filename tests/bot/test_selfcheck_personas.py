"""Whole self-checks typed as secretaries type them, against the dialogue core (`Dialogue.handle`).

The personas (tests/data/selfcheck_personas.yaml) were written from the policy texts by someone who did not
read this code: for each contract key the first thing the secretary types, the facts as they are, the
answers changed on the review screen, and the verdict the clauses give. The driver answers each question
with the persona's words for the question's fact, says 对 to an approximate figure said back only when the
figure means what the persona meant, picks among offered readings by the persona's facts, makes the edits
with "修改第N题", confirms the review with "对的", and compares the verdict, failing and unknown keys.

Reading of the persona file (its header): a criterion judged against another year's figure ("待确认", e.g.
the 嘎查村 income standard after 2021) is what the file calls unknown, and a qualifying verdict with such an
item is its "incomplete".
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
import yaml
from core_driver import CoreUser, offline_dialogue

from bot.selfcheck import CheckState
from evaluators import DOMAINS

PERSONAS = yaml.safe_load((Path(__file__).parents[1] / "data" / "selfcheck_personas.yaml").read_text(encoding="utf-8"))
TODAY = date(2026, 12, 6)
NOT_KNOWN = "不清楚"  # for a question the persona has no words for (the 上级's figure for a year the texts lack)
# Where the dialogue disagrees with a persona on purpose: the persona id and the clause that decides it.
DISPUTED = {
    "p14": "工作指南 附件2 四.1“支部内教职工晋升职称（职级）和各类学术奖励申报，不低于全校平均水平”讲的是教职工；"
           "研究生（学生）党支部没有教职工，此项不适用，不问这两个比例，所以不是“待补充”。",
}
MESSAGES: dict[str, list[int]] = {}


@dataclass
class Played:
    user: CoreUser
    messages: int = 0
    said_back: dict[str, str] = field(default_factory=dict)  # fact → the approximate reading confirmed
    echoed: dict[str, str] = field(default_factory=dict)  # fact → what "✔ 已记录" said
    refused: dict[str, int] = field(default_factory=dict)  # question → replies not understood
    not_asked: set[str] = field(default_factory=set)
    to_edit: set[str] = field(default_factory=set)
    skipped: set[str] = field(default_factory=set)  # facts changed on the review screen (edits not yet made)


def _truth(persona: dict, fact: str):
    """The persona's fact (dotted key) as the facts block gives it; KeyError when the persona does not know it."""
    value = persona["facts"]
    for part in fact.split("."):
        value = value[part]
    return value


def _approximate(value) -> bool:
    return isinstance(value, str) and bool(re.match(r"^[<>~]|^\d+(\.\d+)?-\d+(\.\d+)?$", value))


def _means(value, recorded) -> bool:
    """The recorded figure is one the persona's approximate fact allows (">50000", "<100000", "~28%", "3-4")."""
    number = float(str(value).strip("<>~%").split("-")[0]) / (100 if str(value).endswith("%") else 1)
    if str(value).startswith(">"):
        return recorded > number
    if str(value).startswith("<"):
        return recorded < number
    if str(value).startswith("~"):
        return abs(recorded - number) < 1e-9
    low, high = (float(part) for part in str(value).split("-"))
    return low <= recorded <= high


def _wanted(persona: dict, fact: str):
    """The value the persona means for a question: its fact (each part of a split fact holds when the fact
    does), None when it does not know."""
    try:
        value = _truth(persona, fact)
    except KeyError:
        return None
    if isinstance(value, str) and _approximate(value):
        return value
    if isinstance(value, str) and value.endswith("%"):
        return float(value[:-1]) / 100
    if isinstance(value, date):
        return value.isoformat()
    return value


async def _answer(play: Played, persona: dict, state: CheckState) -> None:
    key = state.pending
    fact = key.partition("#")[0]
    if state.offer:
        await _settle_offer(play, persona, state, key, fact)
        return
    question = state.question(key)
    if fact not in persona["typed"]:
        typed = NOT_KNOWN
    elif question.key != fact and question.yes_value != question.good:
        # A part split off a fact the persona answered as one positive question ("效益良好、全年安全？ 是的")
        # asks about the problem itself ("是否发生过事故？"): the persona answers it from its facts.
        typed = "没有" if _truth(persona, fact) else "有"
    else:
        typed = persona["typed"][fact]
    await _send(play, typed)
    if key in state.answers and not state.offer:
        echo = re.search(r"✔ 已记录：(.*)", play.user.text)
        assert echo, (persona["id"], key, play.user.text)
        play.echoed[fact] = echo.group(1)
    elif not state.offer:
        play.refused[key] = play.refused.get(key, 0) + 1


async def _settle_offer(play: Played, persona: dict, state: CheckState, key: str, fact: str) -> None:
    wanted = _wanted(persona, fact)
    options = state.offer["options"]
    if state.offer.get("confirm"):
        value, words = options[0]
        assert "对吗" in play.user.text, play.user.text
        if fact in play.to_edit:  # the facts are the final ones: the first answer is changed later
            pass
        elif _approximate(wanted):
            assert _means(wanted, value), (persona["id"], fact, wanted, words)
        else:
            assert value == wanted, (persona["id"], fact, wanted, words)
        play.said_back[fact] = words
        await _send(play, "对")
        return
    index = next((i for i, (value, _) in enumerate(options) if value == wanted), None)
    assert index is not None, (persona["id"], key, wanted, options)
    await _press(play, f"pick|{index}")


async def _send(play: Played, text: str) -> None:
    play.messages += 1
    await play.user.say(text)


async def _press(play: Played, data: str) -> None:
    from bot.events import Event

    play.messages += 1
    await play.user.send(Event(button=data))


async def _answer_all(play: Played, persona: dict) -> None:
    for _ in range(200):
        state = CheckState(play.user.state)
        if state.phase == "settled":
            await _send(play, "继续")
        elif state.phase == "question":
            await _answer(play, persona, state)
        else:
            return
    raise AssertionError(f"{persona['id']}: no verdict after 200 messages")


async def _edit(play: Played, persona: dict, edit: dict) -> None:
    state = CheckState(play.user.state)
    listed = [question.fact for question in state.scan()[1]]
    await _send(play, f"修改第{listed.index(edit['fact']) + 1}题")
    state = CheckState(play.user.state)
    assert state.phase == "question" and state.pending.partition("#")[0] == edit["fact"], play.user.text
    await _send(play, edit["typed"])  # then whatever it asks back (a figure said back, readings to pick)
    await _answer_all(play, persona)


async def play_persona(persona: dict, home: Path) -> Played:
    play = Played(CoreUser(offline_dialogue(home, lambda: TODAY)),
                  to_edit={edit["fact"] for edit in persona.get("edits") or ()})
    await _send(play, "自查")
    await _send(play, DOMAINS[persona["domain"]])
    await _send(play, str(persona["year"]))
    await _answer_all(play, persona)
    for edit in persona.get("edits") or ():
        play.to_edit.discard(edit["fact"])
        await _edit(play, persona, edit)
    assert CheckState(play.user.state).phase == "review", play.user.text
    await _send(play, "对的")  # an everyday yes on the review screen
    assert CheckState(play.user.state).phase == "done", play.user.text
    state = CheckState(play.user.state)
    applies = {question.fact for question in state.scan()[1]}
    play.not_asked = set(persona["typed"]) & applies - {key.partition("#")[0] for key in state.answers}
    play.skipped = set(persona["typed"]) - applies  # asked only where they apply (a 学生党支部's 双带头人)
    return play


def _outcome(play: Played) -> dict:
    evaluation = play.user.evaluation()
    failing = {key for result in evaluation.by_status("fail") for key in result.facts + result.compared_with}
    to_confirm = {key for result in evaluation.to_confirm for key in result.facts}
    verdict = evaluation.verdict
    if verdict == "qualifies" and to_confirm:
        verdict = "incomplete"
    return {"verdict": verdict, "failing": sorted(failing), "unknown": sorted(set(evaluation.missing) | to_confirm)}


@pytest.mark.parametrize("persona", PERSONAS, ids=[persona["id"] for persona in PERSONAS])
async def test_persona_reaches_the_verdict_the_texts_give(persona, home):
    if persona["id"] in DISPUTED:
        pytest.xfail(DISPUTED[persona["id"]])
    play = await play_persona(persona, home)
    expect = persona["expect"]
    assert _outcome(play) == {"verdict": expect["verdict"], "failing": sorted(expect["failing"]),
                              "unknown": sorted(expect["unknown"])}, (persona["who"], play.user.state["answers"])
    # Every approximate figure was said back and agreed before it counted; everything else was echoed.
    approximate = {fact for fact in persona["typed"] if _approximate(_wanted(persona, fact))}
    assert approximate <= set(play.said_back), (approximate, play.said_back)
    for fact in persona.get("confirm") or {}:
        assert fact in play.said_back or fact in play.echoed, (fact, play.echoed)
    # No ordinary reply refused more than once (the second time the choices are offered).
    assert all(count <= 1 for count in play.refused.values()), play.refused
    assert play.not_asked == set(), play.not_asked  # every fact that applies to the branch was asked
    MESSAGES.setdefault(DOMAINS[persona["domain"]], []).append(play.messages)


def test_zz_messages_to_a_verdict_per_domain():
    """Prints the median number of messages the personas sent to reach a verdict (a benchmark, not a limit)."""
    if not MESSAGES:
        pytest.skip("the persona runs did not run in this session")
    for domain, counts in MESSAGES.items():
        print(f"{domain}：中位数 {statistics.median(counts)} 条（{len(counts)} 个自查）")
    assert set(MESSAGES) == set(DOMAINS.values())  # every domain was played to its verdict
