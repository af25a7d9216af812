"""The web chat in the system Chromium at phone size (390×844), driven by Playwright, against the app served by
uvicorn with a real knowledge base and records store. What the page shows is compared with what the dialogue
core itself says for the same events (`zhibu chat` and the bot run the same core)."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import update

from bot.events import Event
from bot.selfcheck import default_year
from core_driver import CoreUser, offline_dialogue
from evaluators import questions_for
from records.store import now, open_records
from tests.webchat.conftest import PHONE, enter
from webchat.models import WebInvitation

TOPIC = "哪些情形不能评为最强党支部？"
FOLLOW_UP = "第三种情形具体指什么？"
TYPED = {"int": "30", "number": "8万", "ratio": "90%", "date": "2015年6月1日"}
NOT_REACHED = 250  # turns: a self-check that takes more has lost its way


def in_thread(coroutine):
    """Run a coroutine of the dialogue core beside Playwright's sync API (which holds this thread's loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def replay(home, events: list[Event]):
    """The dialogue core's own replies to the same events: the reference the page must agree with."""
    async def run():
        user = CoreUser(offline_dialogue(home))
        for event in events:
            await user.send(event)
        return user
    return in_thread(run())


class Secretary:
    """Drives the page; every event sent is kept, to replay on the core."""

    def __init__(self, page) -> None:
        self.page = page
        self.events: list[Event] = []

    def _sent(self, act) -> None:
        with self.page.expect_response(lambda response: response.url.endswith("/send")):
            act()
        self.page.wait_for_selector("body:not(.busy)", state="attached")

    def say(self, text: str) -> None:
        self.page.fill("#say textarea", text)
        self._sent(lambda: self.page.click("#say button[type=submit]"))
        self.events.append(Event.from_text(text))

    def press(self, button) -> None:
        data = button.get_attribute("value")
        self._sent(button.click)
        self.events.append(Event(button=data))

    def change(self, number: int) -> None:
        self.page.select_option("#tools select[name=change]", str(number))
        self._sent(lambda: self.page.click("#tools button[value=change]"))
        self.events.append(Event(text=f"修改第{number}题"))

    def action(self, label: str) -> None:
        button = self.page.locator("#tools > button", has_text=label)
        command = button.get_attribute("value")
        self._sent(button.click)
        self.events.append(Event(command=command))

    def choices(self) -> list[str]:
        return self.page.locator("#log button.choice").all_inner_texts()

    def choice(self, label: str):
        return self.page.locator("#log button.choice").filter(has_text=re.compile("^" + re.escape(label))).first

    def texts(self) -> list[str]:
        return self.page.locator("#log .msg.bot .text").all_inner_texts()


def answer(secretary: Secretary, domain: str, year: int, bold: bool, tries: Counter) -> None:
    """Answer the question on screen: `bold` taps 是 / the first choice and types figures; otherwise 不确定 / 跳过."""
    asked = secretary.page.locator("#log .msg.bot:has(button[value^='why|'])").last
    index = int(asked.locator("button[value^='why|']").get_attribute("value").split("|")[1])
    question = questions_for(domain, year)[index]
    tries[index] += 1
    if question.kind == "bool":
        secretary.press(secretary.choice("是" if bold and tries[index] == 1 else "不确定"))
    elif not bold or tries[index] > 1:
        secretary.press(asked.locator("button.action", has_text="不清楚，跳过"))
    elif question.kind == "multi":
        secretary.press(asked.locator("button.choice").first)
        secretary.press(secretary.choice("完成"))
    elif question.kind == "enum":
        secretary.press(asked.locator("button.choice").first)
    else:
        secretary.say(TYPED[question.kind])


def play_to_verdict(secretary: Secretary, domain: str, year: int, bold: bool) -> None:
    tries: Counter = Counter()
    for _ in range(NOT_REACHED):
        shown = secretary.choices()
        if any(label.startswith("修改某题答案") for label in shown):
            return
        if "确认，查看结果" in shown:
            secretary.press(secretary.choice("确认，查看结果"))
        elif "直接看结果" in shown:
            secretary.press(secretary.choice("继续检查其余条件" if bold else "直接看结果"))
        else:
            answer(secretary, domain, year, bold, tries)
    raise AssertionError("the self-check did not reach a verdict")


def download_export(secretary: Secretary) -> tuple[dict, str]:
    """The export's two files, as downloaded: the profile (JSON) and the 申报表 (Word, its text)."""
    secretary.press(secretary.choice("导出自检档案"))
    files = {}
    for link in secretary.page.locator("#log a.file").all()[-2:]:
        with secretary.page.expect_download() as downloading:
            link.click()
        files[Path(downloading.value.suggested_filename).suffix] = downloading.value.path()
    application = Document(str(files[".docx"]))
    text = "\n".join([p.text for p in application.paragraphs]
                     + [cell.text for table in application.tables for row in table.rows for cell in row.cells])
    return json.loads(open(files[".json"], encoding="utf-8").read()), text


def test_two_whole_self_checks_reach_the_cores_verdict_and_the_export_downloads(phone, store, home):
    _, code = store.create_invitation("巴彦嘎查党支部", "branch", 7, 1, by="测试")
    enter(phone, code)
    secretary = Secretary(phone)
    exports = []
    plan = (("community", "社区", default_year(date.today()), True), ("gacha_village", "嘎查村", 2023, False))
    for number, (domain, label, year, bold) in enumerate(plan):
        if number == 0:
            secretary.say("自检")
        else:
            secretary.press(secretary.choice("重新自检"))
            secretary.press(secretary.choice("确定，重新开始"))
        secretary.press(secretary.choice(label))
        if bold:
            secretary.press(secretary.choice(f"{year}年度"))
        else:
            secretary.say(f"{year}年")
        play_to_verdict(secretary, domain, year, bold)
        if bold:  # the visible 修改第N题 action: change the first answer, and the verdict follows at once
            secretary.change(1)
            answer(secretary, domain, year, bold, Counter())
            play_to_verdict(secretary, domain, year, bold)
            assert any("按修改后的回答重新评定" in text for text in secretary.texts())
        reference = replay(home, secretary.events)
        verdict = [reply.text for reply in reference.last if reply.kind == "message"]
        assert verdict and all(text in secretary.texts() for text in verdict)
        exported, application = download_export(secretary)
        reference = replay(home, secretary.events)
        document = next(reply.document for reply in reference.last if reply.kind == "document")
        assert exported == json.loads(document.content) and exported["domain"] == domain and exported["year"] == year
        assert f"{year}年度" in application and "佐证材料" in application  # the 申报表 as a secretary opens it
        exports.append(exported)
    assert exports[0] != exports[1]
    assert phone.viewport_size == PHONE
    # Nothing reaches the screen but Chinese: no field keys, no English.
    assert not re.search(r"[A-Za-z_]+\.[A-Za-z_]+|Traceback|None|null", phone.inner_text("#log"))


def test_a_question_a_follow_up_the_clause_in_place_and_a_thumbs_down_with_its_reason(phone, store, home, settings):
    _, code = store.create_invitation("张书记", "person", 7, 1, by="测试")
    enter(phone, code)
    secretary = Secretary(phone)
    secretary.say(TOPIC)
    secretary.say(FOLLOW_UP)
    reference = replay(home, secretary.events)
    answer_text = reference.last[0].text
    follow_up = phone.locator("#log .msg.bot").last
    assert follow_up.locator(".text").inner_text() == answer_text
    quote = answer_text.split("出处")[0]
    assert "党纪政务处分" in quote and "重大负面舆情" not in quote  # it answered the third item of the list before

    source = follow_up.locator("button.source").first
    clause = in_thread(CoreUser(offline_dialogue(home)).send(Event(button=source.get_attribute("value"))))[0].text
    secretary.press(source)
    opened = phone.locator("#log .msg.bot").last.locator(".passage")
    assert opened.count() == 1 and opened.inner_text() == clause  # inside the answer, not a new message
    assert phone.locator("#log .msg.bot").last.locator(".text").inner_text() == answer_text
    phone.locator("#log .msg.bot").last.locator("button.source").first.click()  # closes in place, nothing sent
    assert opened.is_hidden()

    down = phone.locator("#log .msg.bot").last.locator("button.feedback", has_text="没用")
    question_id = int(down.get_attribute("value").split("|")[1])
    secretary.press(down)
    assert phone.inner_text("#toast") == "谢谢反馈！"
    secretary.press(phone.locator("#log button.feedback", has_text="内容不全"))
    assert phone.locator("#log .msg.bot").last.locator(".text").inner_text().startswith("已记录：内容不全。")
    logged = open_records(settings).question(question_id)
    assert (logged.channel, logged.question, logged.rating, logged.reason) == ("web", FOLLOW_UP, -1, "内容不全")
    assert "web" not in logged.chat_hash and len(logged.chat_hash) == 32  # a salted hash, not the session

    secretary.action("新话题")
    assert secretary.texts()[-1] == "好的，开始新话题。请直接输入问题。"
    secretary.say("帮助")
    assert "保存哪些内容" in secretary.texts()[-1] and "网页版" in secretary.texts()[-1]
    phone.reload()  # the conversation is the server's: a reload shows it as it was
    assert phone.locator("#log .msg.bot").nth(1).locator(".text").inner_text() == answer_text


def test_expired_used_up_and_revoked_invitations_are_refused_in_chinese(phone, store, settings):
    expired, expired_code = store.create_invitation("过期的支部", "branch", 7, 5, by="测试")
    from records.database import session_factory

    with session_factory(settings).begin() as session:
        session.execute(update(WebInvitation).where(WebInvitation.id == expired.id).values(expires_at=now()))
    response = phone.goto(f"/i/{expired_code}")
    assert response.status == 403
    assert "已于" in phone.inner_text("[role=alert]") and "过期" in phone.inner_text("[role=alert]")

    used, once = store.create_invitation("只用一次", "person", 7, 1, by="测试")
    enter(phone, once)
    other = phone.context.browser.new_context(base_url=phone.url.split("/", 3)[0] + "//" + phone.url.split("/")[2],
                                              viewport=PHONE)
    stranger = other.new_page()
    stranger.goto(f"/i/{once}")
    assert "已用满 1 次" in stranger.inner_text("[role=alert]")
    stranger.goto("/")
    assert "请使用组织部发给您的邀请链接" in stranger.inner_text("[role=alert]")
    assert not re.search(r"[A-Za-z]{3,}", stranger.inner_text("body"))
    other.close()

    store.revoke(used.id, by="测试")  # staff revoke it: the open page ends at its next message
    phone.fill("#say textarea", "自检")
    phone.click("#say button[type=submit]")
    phone.wait_for_selector("[role=alert]")
    assert "请使用组织部发给您的邀请链接" in phone.inner_text("[role=alert]")
    phone.goto(f"/i/{once}")
    assert "已被组织部收回" in phone.inner_text("[role=alert]")
