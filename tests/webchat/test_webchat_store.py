"""The turn lock on SQLite, between two stores (as two workers have): a turn waits for the session's running turn,
sees what it saved, and nothing is lost; a claim left by a worker that died runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from records.database import session_factory
from records.store import now
from webchat.models import WebSession
from webchat.store import WebStore


async def take_turn(store: WebStore, session_id: int, mark: str, order: list[str], hold_s: float) -> None:
    async with store.turn(session_id) as locked:
        order.append(f"{mark} in")
        seen = list(locked.row.state.get("marks", []))
        await asyncio.sleep(hold_s)  # a slow turn (a question): the other worker's turn must wait for it
        locked.row.state = {"marks": [*seen, mark]}
        locked.row.turns += 1
        order.append(f"{mark} out")


async def test_two_workers_turns_on_one_session_run_one_after_the_other(settings):
    first, second = WebStore(settings), WebStore(settings)
    token, _ = first.open_session(None)
    session_id = first.session_for(token).id
    order: list[str] = []
    await asyncio.gather(take_turn(first, session_id, "甲", order, 0.3), take_turn(second, session_id, "乙", order, 0))
    assert order in (["甲 in", "甲 out", "乙 in", "乙 out"], ["乙 in", "乙 out", "甲 in", "甲 out"])
    transcript, state = first.conversation(session_id)
    assert sorted(state["marks"]) == ["乙", "甲"]  # the second turn saw the first's state: nothing lost


async def test_a_claim_left_by_a_dead_worker_runs_out(settings):
    store = WebStore(settings)
    token, _ = store.open_session(None)
    session_id = store.session_for(token).id
    with session_factory(settings).begin() as session:  # a worker claimed it and died
        session.execute(update(WebSession).where(WebSession.id == session_id)
                        .values(claim="dead", claimed_until=now() - timedelta(seconds=1)))
    await take_turn(store, session_id, "甲", [], 0)
    assert store.conversation(session_id)[1] == {"marks": ["甲"]}
