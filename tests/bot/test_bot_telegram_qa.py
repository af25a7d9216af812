"""Q&A through the real Application and the fake Telegram server."""

from __future__ import annotations

from fake_telegram import BOT_ID, BOT_USERNAME, buttons_of

from bot.dialogue import COMMANDS
from bot.events import Button, Reply
from bot.telegram_app import send_replies
from bot.text import MESSAGE_LIMIT

QUESTION = "党员评议优秀比例要达到多少？"


async def test_start_sets_up_the_command_menu_and_greets(bot):
    menus = bot.fake.calls_of("setMyCommands")
    default = next(call for call in menus if "scope" not in call.params)
    assert [c["command"] for c in default.params["commands"]] == [name for name, _ in COMMANDS]
    admin_menu = next(call for call in menus if call.params.get("scope", {}).get("type") == "chat")
    assert {"reload", "docs", "remove"} <= {c["command"] for c in admin_menu.params["commands"]}

    welcome = await bot.person(2001).say("/start", expect="最强党支部")
    assert [label for label, _ in buttons_of(welcome)] == ["开始自检", "使用说明"]
    help_text = await bot.person(2001).press(welcome, "使用说明", expect="/check")
    assert "/back" in help_text["text"]


async def test_question_gets_a_cited_answer_while_typing_and_the_full_passage(bot):
    alice = bot.person(2002)
    answer = await alice.say(QUESTION, expect="出处")
    text = answer["text"]
    assert "90%" in text and "[1]" in text
    assert "《" in text.split("出处")[1]  # the numbered sources name their documents
    assert any(call.params["action"] == "typing" and call.params["chat_id"] == alice.chat_id
               for call in bot.fake.calls_of("sendChatAction"))

    labels = [label for label, _ in buttons_of(answer)]
    assert labels[0] == "查看原文 [1]"
    passage = await alice.press(answer, "查看原文 [1]", expect="《")
    assert len(passage["text"]) > 20
    await bot.fake.wait_for(lambda: bot.fake.calls_of("answerCallbackQuery"))  # the spinner on the button stops


async def test_question_outside_the_documents_is_refused_honestly(bot):
    reply = await bot.person(2003).say("Python 怎么安装？")
    assert "政策文件" in reply["text"] and "出处" not in reply["text"]
    assert [label for label, _ in buttons_of(reply)] == ["👍 有用", "👎 没用"]  # no passage to show, still rated


async def test_unknown_command_and_meaningless_text_get_a_chinese_hint(bot):
    carol = bot.person(2004)
    assert "/help" in (await carol.say("/frobnicate"))["text"]
    assert "没有看懂" in (await carol.say("？？？!!!"))["text"]


async def test_group_answers_only_when_mentioned_or_replied_to(bot):
    group = bot.fake.group_chat(-100123)
    dave = bot.person(2005, group)
    mark = bot.fake.last_message_id
    await bot.fake.send_text(dave.user_id, QUESTION, group)
    await bot.fake.settle()
    assert not [m for m in bot.fake.bot_messages(group["id"]) if m["message_id"] > mark]

    answer = await dave.say(f"@{BOT_USERNAME} {QUESTION}", expect="出处")
    assert "90%" in answer["text"]
    followup = await dave.say("最强党支部多长时间评定一次？", reply_to=answer, expect="出处")
    assert followup["message_id"] > answer["message_id"]


async def test_long_replies_go_out_in_pieces_under_the_limit_with_buttons_on_the_last(bot):
    long_text = "\n\n".join(f"{n}. " + "依据政策原文作答。" * 60 for n in range(20))
    assert len(long_text) > 2 * MESSAGE_LIMIT
    chat_id = 2006
    mark = bot.fake.last_message_id
    await send_replies(bot.app.bot, chat_id, [Reply(long_text, ((Button("查看原文 [1]", "src|x"),),))])
    sent = [m for m in bot.fake.bot_messages(chat_id) if m["message_id"] > mark]
    assert len(sent) == 3 and all(len(m["text"]) <= MESSAGE_LIMIT for m in sent)
    assert [bool(buttons_of(m)) for m in sent] == [False, False, True]
    assert "".join(m["text"] for m in sent).replace("\n", "") == long_text.replace("\n", "")


async def test_bot_identity_comes_from_get_me(bot):
    assert bot.app.bot.id == BOT_ID and bot.app.bot.username == BOT_USERNAME


async def test_hints_name_what_a_telegram_user_can_do_and_small_talk_gets_what_zhibu_answers(bot):
    dora = bot.person(2005)
    refused = (await dora.say("发展党员的入党申请书要手写吗？"))["text"]
    assert "终端" not in refused and "发送 /check" in refused
    weather = (await dora.say("今天呼和浩特天气咋样"))["text"]
    assert "最强党支部" in weather and "出处：" not in weather and "终端" not in weather
    assert (await dora.say("你是谁"))["text"].startswith("我是“支部”助手")
