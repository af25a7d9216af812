"""Telegram bot benchmark: simulated users against the FAKE Bot API server of the tests.

The real `zhibu bot` runs in its own process and long-polls the fake server (tests/bot/fake_telegram.py)
on 127.0.0.1. Each simulated user talks like a secretary, waiting for each reply before the next
message: /start, a policy question, a whole self-check (buttons and typed numbers), the verdict,
/export, another question — then again until its message budget is spent. Reported: messages per
second, reply latency (update queued → the bot's first visible reply: a message, an edit or a file),
and the bot process's peak memory. No LLM (extractive answers).

    .venv/bin/python benchmarks/bench_bot.py [--users 50] [--messages 40] [--think 0.7] [--embedding none] [--telegram-limits]

Each user pauses between a reply and its next message (`--think`, jittered ±50 %), so 50 users offer
about 50–60 messages a second; `--think 0` sends back to back and measures the saturated capacity
(where latency only reflects the queue: Little's law). By default the bot's bot-wide request cap is lifted (ZHIBU_BOT_RATE_LIMIT=0) to measure the bot itself;
`--telegram-limits` keeps the production cap of 30 requests a second that Telegram imposes.
The per-user flood limit is off: these users type faster than any person.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bot"))

from bot_harness import answer_actions, question_of  # noqa: E402
from fake_telegram import Call, FakeTelegram, button_data, buttons_of  # noqa: E402

from evaluators import questions_for  # noqa: E402

ZHIBU = str(ROOT / ".venv" / "bin" / "zhibu")
REPLY_TIMEOUT_S = 60
YEAR = "2025"
QUESTIONS = [
    "党员评议优秀比例要达到多少？", "最强党支部多长时间评定一次？", "软弱涣散党支部能直接评为最强党支部吗？",
    "嘎查村集体经济收入有什么要求？", "评上最强党支部有什么奖励？", "社会评价由哪些部门参与？",
    "新组建的党支部可以评最强党支部吗？", "量化积分要达到多少分？",
]
COMMON = {
    "founded_on": "2015-06-01", "weak_and_lax": False, "org_rating": "excellent", "members_reviewing": 30,
    "members_rating_excellent": 29, "public_dissatisfaction_verified": False, "social_review_adverse": False,
    "negative.accountability": False, "negative.major_negative_publicity": False,
    "negative.leader_disciplined": False, "negative.leader_under_investigation": False, "points_score": 95,
}
PROFILES = {  # domain -> (button label, answers); keys not listed are answered 不确定 / 跳过
    "community": ("社区", COMMON | {"facts.implements_party_line": True, "facts.member_posts_and_pledges": True,
                                  "facts.grid_five_in_place": True, "facts.co_building_mechanism": True,
                                  "facts.service_center_and_funding": True, "secretary_annual_pay_yuan": 30000}),
    "retired_staff": ("离退休干部职工", COMMON | {"facts.conveys_policy": True, "facts.has_venue_and_activities": True,
                                           "facts.flexible_study": True, "facts.heart_to_heart_talks": True,
                                           "facts.care_for_sick_and_poor": True}),
    "private_enterprise": ("非公有制企业", COMMON | {"facts.no_labor_disputes": True, "facts.themed_activities_culture": True,
                                              "facts.good_performance_no_accidents": True,
                                              "facts.six_haves": ["场所", "设施", "标志", "党旗", "书报", "制度"]}),
    "university": ("高等学校", COMMON | {"facts.branch_kind": "teacher", "facts.promotion_award_rate": "35%",
                                      "facts.school_average_rate": "30%", "facts.secretary_double_leader": True,
                                      "facts.support_mechanism": True, "facts.funds_and_rooms": True}),
}
_VISIBLE = ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup")


class Inboxes:
    """Routes each call the bot makes to the simulated user it concerns."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.boxes: dict[int, asyncio.Queue] = {}
        self.queries: dict[str, int] = {}  # callback query id -> user
        fake.listeners.append(self.route)

    def route(self, call: Call, result: Any) -> None:
        if call.method == "answerCallbackQuery":
            user = self.queries.pop(str(call.params["callback_query_id"]), None)
        elif call.method in _VISIBLE:
            user = int(call.params["chat_id"])
        else:
            return
        if user in self.boxes:
            self.boxes[user].put_nowait((call, result))


class SimUser:
    def __init__(self, fake: FakeTelegram, inboxes: Inboxes, user_id: int, domain: str, budget: int, think: float,
                 latencies: list) -> None:
        self.fake, self.inboxes, self.user_id, self.domain, self.budget = fake, inboxes, user_id, domain, budget
        self.latencies = latencies
        self.think = think
        self.random = random.Random(user_id)  # the same pauses on every run
        self.inbox = inboxes.boxes.setdefault(user_id, asyncio.Queue())
        self.sent = 0

    async def _turn(self, queue_update, messages: int | None) -> list[dict]:
        """One message or button press; waits for `messages` new messages, or for the button's
        callback answer (the bot answers it after all its replies) when `messages` is None."""
        await asyncio.sleep(self.think * self.random.uniform(0.5, 1.5))
        started = time.perf_counter()
        await queue_update()
        self.sent += 1
        first, received = None, []
        while True:
            call, result = await asyncio.wait_for(self.inbox.get(), REPLY_TIMEOUT_S)
            if first is None and call.method in _VISIBLE:
                first = time.perf_counter() - started
                self.latencies.append(first)
            if call.method in ("sendMessage", "sendDocument"):
                received.append(result)
            if (messages is None and call.method == "answerCallbackQuery") or (messages and len(received) >= messages):
                return received

    async def say(self, text: str, messages: int = 1) -> list[dict]:
        return await self._turn(lambda: self.fake.send_text(self.user_id, text), messages)

    async def press(self, message: dict, data: str) -> list[dict]:
        async def queue() -> None:
            update = await self.fake.press(self.user_id, message, data)
            self.inboxes.queries[update["callback_query"]["id"]] = self.user_id

        return await self._turn(queue, None)

    async def run(self) -> None:
        session = 0
        while self.sent < self.budget:
            await self.session(session)
            session += 1

    async def session(self, number: int) -> None:
        await self.say("/start")
        await self.say(QUESTIONS[(self.user_id + number) % len(QUESTIONS)])
        picker = (await self.say("/check"))[-1]
        if any(data.startswith("confirm|") for _, data in buttons_of(picker)):  # the last verdict is kept until a yes
            picker = (await self.press(picker, button_data(picker, "确定，重新开始")))[-1]
        label, answers = PROFILES[self.domain]
        await self.press(picker, button_data(picker, label))
        step = (await self.say(YEAR))[-1]
        questions = questions_for(self.domain, int(YEAR))
        while (question := question_of(step, questions)) is not None:
            step = await self.answer(step, question, answers.get(question.key))
        await self.press(step, button_data(step, "确认，查看结果"))
        await self.say("/export")
        await self.say(QUESTIONS[(self.user_id + number + 3) % len(QUESTIONS)])

    async def answer(self, step: dict, question, value: Any) -> dict:
        """Answer as the tests' users do; returns the next step (the last message received)."""
        for action, text in answer_actions(question, value):
            received = await (self.say(text) if action == "type" else self.press(step, button_data(step, text)))
        return received[-1]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bench(args: argparse.Namespace) -> dict:
    fake = await FakeTelegram().start()
    inboxes = Inboxes(fake)
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-bot-") as folder:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("ZHIBU_", "TELEGRAM_"))}
        env |= {"ZHIBU_HOME": str(Path(folder) / "home"), "ZHIBU_EMBEDDING": args.embedding,
                "TELEGRAM_BOT_TOKEN": fake.token, "ZHIBU_TELEGRAM_API_URL": fake.base_url,
                "ZHIBU_FLOOD_MESSAGES": "0", "ZHIBU_BOT_RATE_LIMIT": "30" if args.telegram_limits else "0"}
        started = time.perf_counter()
        bot = subprocess.Popen([ZHIBU, "bot"], env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            await fake.wait_for(lambda: fake.calls_of("getUpdates") or bot.poll() is not None, timeout=600)
            if bot.poll() is not None:
                raise SystemExit(f"the bot exited: {bot.stderr.read().decode()}")
            ready_s = time.perf_counter() - started
            latencies: list[float] = []
            domains = list(PROFILES)
            users = [SimUser(fake, inboxes, 100_000 + n, domains[n % len(domains)], args.messages, args.think, latencies)
                     for n in range(args.users)]
            started = time.perf_counter()
            await asyncio.gather(*(user.run() for user in users))
            elapsed = time.perf_counter() - started
            peak = peak_rss_mib(bot.pid)
        finally:
            bot.send_signal(signal.SIGINT)  # run_polling stops cleanly and flushes the persistence
            try:
                bot.wait(timeout=60)
            except subprocess.TimeoutExpired:
                bot.kill()
            await fake.stop()
    latencies.sort()
    messages = sum(user.sent for user in users)
    return {
        "users": args.users, "messages": messages, "seconds": round(elapsed, 2),
        "messages_per_second": round(messages / elapsed, 1),
        "latency_ms": {"p50": round(statistics.median(latencies) * 1000, 1),
                       "p95": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
                       "p99": round(latencies[int(len(latencies) * 0.99)] * 1000, 1),
                       "max": round(latencies[-1] * 1000, 1)},
        "bot_peak_rss_mib": round(peak, 1), "bot_ready_seconds": round(ready_s, 1),
        "embedding": args.embedding, "telegram_rate_limit": args.telegram_limits, "think_seconds": args.think,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=40, help="messages per user, at least (whole sessions)")
    parser.add_argument("--think", type=float, default=0.7, help="mean pause before each message, seconds (0: none)")
    parser.add_argument("--embedding", default="none", help="ZHIBU_EMBEDDING for the bot (none = keyword only)")
    parser.add_argument("--telegram-limits", action="store_true", help="keep the bot-wide cap of 30 requests/s")
    result = asyncio.run(bench(parser.parse_args()))
    latency = result["latency_ms"]
    print(f"users {result['users']}, messages {result['messages']} in {result['seconds']} s, think {result['think_seconds']} s "
          f"(embedding {result['embedding']}, Telegram rate cap {'on' if result['telegram_rate_limit'] else 'off'})")
    print(f"throughput       {result['messages_per_second']} msg/s   (goal >= 50)")
    print(f"reply latency    p50 {latency['p50']} ms, p95 {latency['p95']} ms (goal <= 300), "
          f"p99 {latency['p99']} ms, max {latency['max']} ms")
    print(f"bot peak memory  {result['bot_peak_rss_mib']} MiB   (goal <= 500); ready after {result['bot_ready_seconds']} s")


if __name__ == "__main__":
    main()
