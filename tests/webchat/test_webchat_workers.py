"""Two `zhibu web` workers on one PostgreSQL 15 database: the turns of one self-check sent alternately to both
reach the verdict the dialogue core gives for the same events (as `zhibu chat` would); two messages of one
session sent to both at the same moment are both applied, once each; a resent turn is not applied again."""

from __future__ import annotations

import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from bot.events import Event
from core_driver import CoreUser, answer_events, offline_dialogue, try_answer, unsure_event
from tests.conftest import ZHIBU
from tests.webchat.conftest import free_port
from webchat.models import WebSession
from zhibu.settings import get_settings

FETCH = {"X-Zhibu-Fetch": "1"}


async def reference_check(dialogue, label: str, year_text: str) -> tuple[list[Event], CoreUser]:
    """A self-check played on the core to the verdict, answering each question with the first answer it
    accepts (是, the first choice, a typed figure; 不确定 when none is taken); returns the events sent."""
    user = CoreUser(dialogue)
    events = [Event.from_text("/check")]
    await user.send(events[-1])
    for event in (Event(button=user.button(label).data),):
        events.append(event)
        await user.send(event)
    events.append(Event.from_text(year_text))
    await user.send(events[-1])
    while (question := user.question()) is not None:
        for event in [*answer_events(question, user), unsure_event(question, user)]:
            trial = await try_answer(user, question, event)
            if trial is not None:
                user = trial
                events.append(event)
                break
        if user.state["phase"] == "settled":
            events.append(Event(button=user.button("继续检查其余条件").data))
            await user.send(events[-1])
    events.append(Event(button=user.button("确认，查看结果").data))
    await user.send(events[-1])
    return events, user


class Worker:
    """One `zhibu web` process on its own port."""

    def __init__(self, env: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([ZHIBU, "web", "--port", str(self.port)], env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)

    def wait(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stdout.read())
            try:
                if httpx.get(f"{self.url}/static/chat.css", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the worker did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


@pytest.fixture
def on_postgres(postgres_url, settings, monkeypatch):
    import psycopg

    database = f"webchat_{free_port()}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {database}")
    monkeypatch.setenv("ZHIBU_DATABASE_URL", postgres_url.rsplit("/", 1)[0] + f"/{database}")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def workers(on_postgres):
    from webchat.store import WebStore

    WebStore(on_postgres)  # migrate once before both start
    env = {**os.environ}
    started = [Worker(env), Worker(env)]
    try:
        for worker in started:
            worker.wait()
        yield started
    finally:
        for worker in started:
            worker.stop()


def signed_in(worker: Worker, code: str) -> tuple[dict, str]:
    """Redeem the invitation on `worker`: the session cookie (sent to any worker) and the CSRF token."""
    with httpx.Client(base_url=worker.url) as client:
        page = client.get(f"/i/{code}").text
        entry = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        chat = client.post(f"/i/{code}", data={"csrf_token": entry}, follow_redirects=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', chat.text).group(1)
        return {"zhibu_web": client.cookies["zhibu_web"]}, csrf


def send(worker: Worker, cookies: dict, csrf: str, event: Event, nonce: str) -> httpx.Response:
    field = {"button": event.button} if event.button is not None else {"text": event.text}
    return httpx.post(f"{worker.url}/send", data={"csrf_token": csrf, "nonce": nonce, **field}, cookies=cookies,
                      headers=FETCH, timeout=60)


def session_row(settings) -> WebSession:
    from records.database import session_factory

    with session_factory(settings)() as session:
        return session.scalars(select(WebSession)).one()


async def test_turns_alternating_between_two_workers_reach_the_cores_verdict(workers, on_postgres, home):
    from webchat.store import WebStore

    events, reference = await reference_check(offline_dialogue(home), "嘎查村", "2023年")
    _, code = WebStore(on_postgres).create_invitation("两进程测试", "branch", 1, 1, by="测试")
    cookies, csrf = signed_in(workers[0], code)
    for number, event in enumerate(events):
        response = send(workers[number % 2], cookies, csrf, event, f"turn-{number}")
        assert response.status_code == 200, response.text
    row = session_row(on_postgres)
    assert row.turns == len(events)
    assert row.state["answers"] == reference.state["answers"] and row.state["phase"] == "done"
    verdict = [reply.text for reply in reference.last]
    assert [message["text"] for message in row.transcript[-len(verdict):]] == verdict

    # Two questions of this session at the same moment, one to each worker: both answered, each once.
    questions = ("党员评议优秀比例要达到多少？", "嘎查村集体经济收入要达到多少？")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda n: send(workers[n], cookies, csrf, Event(text=questions[n]), f"ask-{n}"), (0, 1)))
    assert [answer.status_code for answer in answers] == [200, 200]
    row = session_row(on_postgres)
    assert row.turns == len(events) + 2
    asked = [message["text"] for message in row.transcript if message["who"] == "me"]
    assert sorted(asked[-2:]) == sorted(questions)
    # The same turn sent again (a browser retrying after a lost connection) is answered, not applied again.
    again = send(workers[1], cookies, csrf, Event(text=questions[0]), "ask-0")
    assert again.status_code == 200 and again.json()["added"] == answers[0].json()["added"]
    assert session_row(on_postgres).turns == len(events) + 2
