"""Staff console benchmark: page latency with a large question log in SQLite.

Fills a fresh `ZHIBU_HOME` with the shipped knowledge base (keyword only) and `--questions` logged
questions (default 100,000) spread over the retention period — a realistic mix of statuses, wordings
and 👍/👎 — then serves the console with uvicorn on 127.0.0.1 and requests every page `--rounds`
times over HTTP as a signed-in admin. Prints p50 / p95 / max per page; the goal is p95 ≤ 200 ms.

    .venv/bin/python benchmarks/bench_console.py [--questions 100000] [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["/questions", "/documents", "/targets", "/batch", "/stats", "/stats?days=180", "/login"]
GOAL_MS = 200
# How secretaries ask, with the spoken variants that should group together.
TOPICS = [
    "咱村集体经济收入要达到多少", "村集体经济收入要达到多少才行", "党员评议优秀比例要多少", "最强党支部多久评一次",
    "评上最强党支部有啥奖励", "软弱涣散能评最强吗", "新成立的支部能评吗", "党费怎么交", "入党要几年", "换届多久一次",
    "第一书记怎么选派", "党支部书记工资多少", "主题党日每月几次", "三会一课咋记录", "发展党员名额怎么分",
    "社区网格员归谁管", "流动党员怎么转关系", "离退休党员还要交党费吗", "学校党支部评星标准", "医院党支部书记要求",
]
FILLERS = ["", "？", "呀", "，请问一下", "，谢谢", "啊"]
# Who asks: 150 places make 3,000 distinct wordings, as a real log has (the console merges the near ones).
PLACES = [f"{head}{tail}" for head in ("巴彦", "乌兰", "阿拉坦", "呼和", "额尔敦", "宝力格", "赛罕", "锡林", "查干", "达尔罕",
                                      "新民", "胜利", "团结", "和平", "幸福")
          for tail in ("嘎查", "社区", "村", "苏木", "街道", "学校", "医院", "公司", "支部", "分局")]
STATUS_MIX = [("answered", 0.6), ("partial", 0.15), ("not_covered", 0.25)]


def build_home(home: Path, questions: int) -> None:
    from sqlalchemy import insert

    from bot.feedback import wording_of
    from knowledge.service import get_qa_service
    from records.models import Feedback, Question
    from records.store import china_day, now, open_records
    from zhibu.settings import get_settings

    settings = get_settings()
    generation = get_qa_service(settings).kb
    get_qa_service(settings).documents()  # builds the shipped corpus
    chunk_ids = [p.chunk_id for p in generation.active().passages]
    records = open_records(settings)
    records.add_user("基准管理员", "benchmark-password", "admin")
    variants = [f"{place}{topic}" for topic in TOPICS for place in PLACES]
    wordings = {variant: wording_of(variant) for variant in variants}
    popularity = [1 / (1 + TOPICS.index(topic)) for topic in TOPICS for _ in PLACES]  # a few topics dominate
    rng = random.Random(7)
    start = now()
    question_rows, feedback_rows = [], []
    for number in range(1, questions + 1):
        topic = rng.choices(variants, popularity)[0]
        status = rng.choices([s for s, _ in STATUS_MIX], [w for _, w in STATUS_MIX])[0]
        rating = rng.choice([1, -1, None, None, None, None, None, None])
        reason = rng.choice([None, "答非所问", "内容不全"]) if rating == -1 else None
        asked_at = start - timedelta(days=rng.uniform(0, 179))
        question_rows.append({
            "id": number, "asked_at": asked_at, "day": china_day(asked_at),
            "channel": "telegram", "chat_hash": records.hash_id(rng.randrange(5000)), "user_hash": records.hash_id(number),
            "question": topic + rng.choice(FILLERS), "answer": "……", "status": status,
            "cited": rng.sample(chunk_ids, 3) if status != "not_covered" else [], "generation": "g",
            "wording": wordings[topic], "rating": rating, "reason": reason, "handled_at": None, "handled_by": None})
        if rating is not None:
            feedback_rows.append({"question_id": number, "user_hash": records.hash_id(number), "rating": rating,
                                  "reason": reason,
                                  "given_at": question_rows[-1]["asked_at"]})
    with records._session.begin() as session:  # bulk load: one executemany per table
        session.execute(insert(Question), question_rows)
        session.execute(insert(Feedback), feedback_rows)
    print(f"logged {questions:,} questions, {len(feedback_rows):,} ratings")


def measure(rounds: int) -> dict[str, list[float]]:
    import httpx

    from tests.console.conftest import ServedConsole
    from zhibu.settings import get_settings

    timings: dict[str, list[float]] = {page: [] for page in PAGES}
    with ServedConsole(get_settings()) as console, httpx.Client(base_url=console.url) as client:
        login = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
        client.post("/login", data={"name": "基准管理员", "password": "benchmark-password", "csrf_token": token})
        for page in PAGES:  # warm: templates compiled, the generation read
            assert client.get(page).status_code == 200, page
        for _ in range(rounds):
            for page in PAGES:
                began = time.perf_counter()
                response = client.get(page)
                timings[page].append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, page
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zhibu-bench-console-") as home:
        os.environ.update({"ZHIBU_HOME": home, "ZHIBU_EMBEDDING": "none"})
        os.environ.pop("ZHIBU_DATABASE_URL", None)
        began = time.perf_counter()
        build_home(Path(home), args.questions)
        print(f"set up in {time.perf_counter() - began:.1f} s; SQLite file "
              f"{(Path(home) / 'records' / 'records.sqlite3').stat().st_size / 1e6:.1f} MB")
        timings = measure(args.rounds)
    print(f"{'page':<18}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    worst = 0.0
    for page, values in timings.items():
        p95 = statistics.quantiles(values, n=20)[18]
        worst = max(worst, p95)
        print(f"{page:<18}{statistics.median(values):>9.1f}{p95:>9.1f}{max(values):>9.1f}")
    print(f"worst p95 {worst:.1f} ms — goal ≤ {GOAL_MS} ms: {'met' if worst <= GOAL_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
