"""Plays a secretary against the dialogue core itself (`Dialogue.handle`, the call both transports make),
and derives the answers a compliant, a one-failure or an unsure branch gives from the questions asked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bot.dialogue import Dialogue
from bot.events import Button, Event, Reply
from bot.library import Library
from evaluators import evaluate, profile_from_answers, questions_for
from zhibu.settings import Settings

# What must never reach a chat user: field keys, English words, format codes, "按钮" (the terminal has none).
INTERNAL = re.compile(r"[A-Za-z_]+\.[A-Za-z_]+|YYYY|JSON|zhibu|按钮|[a-z]{4,}")
# Typed answers tried in order for the kinds without buttons: large to small, so a base asked before
# its part (payroll before party funds) and a part asked before its base both come out compliant.
TYPED_TRIALS = {
    "int": ("1000", "100", "30", "10", "1", "0"),
    "number": ("100万", "100", "10", "1", "0"),
    "ratio": ("100%", "50%", "0"),
    "date": ("2015年6月1日", f"{date.today().year}年6月1日"),
    "multi": ("全部", "无"),
}


def offline_dialogue(home: Path, today: Callable[[], date] = date.today) -> Dialogue:
    return Dialogue(Library(Settings(_env_file=None, zhibu_home=home, zhibu_embedding="none")), today)


class CoreUser:
    """One user's state and the replies of the last turn."""

    def __init__(self, dialogue: Dialogue, state: dict | None = None) -> None:
        self.dialogue = dialogue
        self.state: dict = state if state is not None else {}
        self.last: list[Reply] = []

    async def send(self, event: Event) -> list[Reply]:
        self.last = await self.dialogue.handle(self.state, event)
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self.send(Event.from_text(text))

    async def press(self, label: str) -> list[Reply]:
        return await self.send(Event(button=self.button(label).data))

    @property
    def text(self) -> str:
        return "\n".join(reply.text for reply in self.last)

    def buttons(self) -> list[Button]:
        return [button for reply in self.last for row in reply.buttons for button in row]

    def button(self, label: str) -> Button:
        found = [button for button in self.buttons() if button.label.startswith(label)]
        assert found, f"no button {label!r} in {[b.label for b in self.buttons()]}"
        return found[0]

    def question(self):
        """The question on screen (its "为什么问这个" button names it), or None."""
        why = next((b.data for b in self.buttons() if b.data.startswith("why|")), None)
        if why is None:
            return None
        return questions_for(self.state["domain"], self.state.get("year"))[int(why.split("|")[1])]

    def clone(self) -> "CoreUser":
        return CoreUser(self.dialogue, copy.deepcopy(self.state))

    def evaluation(self):
        return evaluate(self.profile())

    def profile(self) -> dict:
        from bot.selfcheck import CheckState

        return profile_from_answers(self.state["domain"], self.state["year"], CheckState(self.state).scan()[0])

    async def start(self, domain_label: str, year_text: str) -> None:
        await self.say("/check")
        await self.press(domain_label)
        await self.say(year_text)

    async def export(self) -> dict:
        replies = await self.send(Event(command="export"))
        document = next(reply.document for reply in replies if reply.kind == "document")
        return json.loads(document.content.decode("utf-8"))

    async def verdict(self) -> str:
        """From the review (or the settled choice): the verdict's full text."""
        label = "确认，查看结果" if any(b.label.startswith("确认，查看结果") for b in self.buttons()) else "直接看结果"
        await self.press(label)
        return self.text


def answer_events(question, user: CoreUser) -> list[Event]:
    """Every way of answering `question` worth trying: each answer button, or typed answers by kind."""
    if question.kind in ("bool", "enum"):
        return [Event(button=b.data) for b in user.buttons() if b.data.startswith("ans|") and b.label != "不确定"]
    return [Event(text=text) for text in TYPED_TRIALS[question.kind]]


def unsure_event(question, user: CoreUser) -> Event:
    label = "不确定" if question.kind == "bool" else "不清楚，跳过"
    return Event(button=user.button(label).data)


async def try_answer(user: CoreUser, question, event: Event) -> CoreUser | None:
    """The user after giving this answer, or None when the dialogue refused it."""
    trial = user.clone()
    await trial.send(event)
    return trial if question.key in trial.state.get("answers", {}) else None


def failures(user: CoreUser) -> list[str]:
    return [result.id for result in user.evaluation().by_status("fail")]


async def answer_compliantly(user: CoreUser, question) -> CoreUser:
    """The first answer after which no further criterion fails. A figure the 上级 announced for a year the
    texts do not cover is "不清楚" (the secretary does not know it: the verdict is then to be confirmed)."""
    if question.key.startswith("parameters."):
        await user.send(unsure_event(question, user))
        return user
    before = set(failures(user))
    for event in answer_events(question, user):
        trial = await try_answer(user, question, event)
        if trial is not None and set(failures(trial)) <= before:
            return trial
    raise AssertionError(f"no compliant answer to {question.key}: {question.prompt}")


async def failing_answer(user: CoreUser, question) -> CoreUser | None:
    """An answer after which exactly one criterion fails, or None."""
    for event in answer_events(question, user):
        trial = await try_answer(user, question, event)
        if trial is not None and len(failures(trial)) == 1:
            return trial
    return None


class Run:
    """A self-check played to the verdict."""

    def __init__(self, user: CoreUser, verdict: str, asked: list[str], failable: list[str]) -> None:
        self.user = user
        self.verdict = verdict
        self.asked = asked  # question keys in the order asked
        self.failable = failable  # domain facts (facts.*) that one answer can make the only failure


async def run_check(dialogue: Dialogue, label: str, year_text: str, branch: str, fail_key: str | None = None) -> Run:
    """One self-check to the verdict. branch: compliant | one_failure (answering `fail_key` so that it
    is the only failure) | unsure."""
    user = CoreUser(dialogue)
    await user.start(label, year_text)
    asked: list[str] = []
    failable: list[str] = []
    while (question := user.question()) is not None:
        asked.append(question.key)
        if branch == "unsure":
            await user.send(unsure_event(question, user))
        elif branch == "one_failure" and question.key == fail_key:
            failed = await failing_answer(user, question)
            assert failed is not None, f"{question.key} cannot fail alone"
            user = failed
            if user.state["phase"] == "settled":
                await user.press("继续检查其余条件")
        else:
            if branch == "compliant" and question.key.startswith("facts.") and await failing_answer(user, question):
                failable.append(question.key)
            user = await answer_compliantly(user, question)
    return Run(user, await user.verdict(), asked, failable)
