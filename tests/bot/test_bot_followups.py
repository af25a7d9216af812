"""Follow-up questions in the chat: the last exchange is kept per chat, expires, and /new clears it —
through the real Application and the fake Telegram server, and through the dialogue core with a clock."""

from __future__ import annotations

from bot.dialogue import FOLLOW_UP_SECONDS, Dialogue
from bot.events import Event
from bot.library import Library

TOPIC = "哪些情形不能评为最强党支部？"
FOLLOW_UP = "第三种情形具体指什么？"


async def test_a_follow_up_refers_to_the_previous_answer_until_new(bot):
    alice = bot.person(3001)
    listed = await alice.say(TOPIC, expect="出处")
    assert "重大负面舆情" in listed["text"] and "党纪政务处分" in listed["text"]
    third = await alice.say(FOLLOW_UP, expect="出处")
    quote = third["text"].split("出处")[0]
    assert "党纪政务处分" in quote and "重大负面舆情" not in quote
    assert "开始新话题" in (await alice.say("/new"))["text"]
    again = await alice.say(FOLLOW_UP)
    assert again["text"] != third["text"]  # nothing to refer to any more


async def test_ellipsis_is_answered_for_the_new_domain_and_chats_do_not_share_it(bot):
    alice, bob = bot.person(3002), bot.person(3003)
    await alice.say("嘎查村党支部评最强有哪些标准？", expect="8星以上")
    community = await alice.say("那社区呢？", expect="出处")
    assert "网格设置" in community["text"] and "8星以上" not in community["text"]
    bobs = await bob.say(FOLLOW_UP)  # Bob never saw the list
    assert "党纪政务处分" not in bobs["text"].split("出处")[0] or "重大负面舆情" in bobs["text"]


async def test_the_last_exchange_expires(settings):
    now = [1_000_000.0]
    dialogue = Dialogue(Library(settings), clock=lambda: now[0])
    state: dict = {}
    await dialogue.handle(state, Event.from_text("到2021年最强党支部比例要达到多少？"))
    kept = await dialogue.handle(state, Event.from_text("2023年呢？"))
    assert "一半以上" in kept[0].text or "50%以上" in kept[0].text
    now[0] += FOLLOW_UP_SECONDS + 1
    expired = await dialogue.handle(state, Event.from_text("第二条呢"))
    assert "一半以上" not in expired[0].text.split("出处")[0]


async def test_the_self_check_domain_is_preferred_for_questions(settings):
    dialogue = Dialogue(Library(settings))
    state = {"domain": "gacha_village"}
    reply = await dialogue.handle(state, Event.from_text("评上最强有啥奖励？"))
    assert "嘎查村" in reply[0].text.split("\n")[0]
