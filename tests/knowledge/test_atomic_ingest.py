"""A killed ingest leaves the previous knowledge base serving and consistent (real subprocess, SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from knowledge.service import QAService
from tests.conftest import ZHIBU, run_zhibu
from zhibu.settings import Settings


def _long_document(path) -> None:
    # Enough distinct sections that embedding takes many seconds on the bundled model.
    sections = [f"{n}、第{n}项补充规定\n本项规定嘎查村党支部第{n}类工作的具体要求，" + "党员教育管理和组织生活按季度检查落实。" * 12 for n in range(1, 60)]
    path.write_text("关于基层党建工作的补充规定\n" + "\n".join(sections), encoding="utf-8")


def test_killed_ingest_leaves_previous_generation_serving(kb_home, tmp_path):
    settings = Settings(zhibu_home=kb_home, zhibu_embedding="e5-small")
    kb = QAService(settings).kb
    serving = kb.active_name()
    generations = kb.root / "generations"
    before = {p.name for p in generations.iterdir()}
    document = tmp_path / "buchong.txt"
    _long_document(document)

    process = subprocess.Popen([ZHIBU, "ingest", str(document)], env={**os.environ, "ZHIBU_HOME": str(kb_home)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ({p.name for p in generations.iterdir()} - before):
        time.sleep(0.05)
    time.sleep(1.0)  # well inside the embedding of ~59 long passages
    assert process.poll() is None, "ingest finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()

    assert kb.active_name() == serving
    answer = QAService(settings).ask("最强党支部多长时间评定一次？")
    assert answer.found and any("每年评定一次" in c.text for c in answer.citations)

    # The next ingest works and sweeps away the abandoned half-built generation.
    result = run_zhibu("ingest", "--json", home=kb_home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["generation"] is None
    short = tmp_path / "short.txt"
    short.write_text("关于党员教育的补充通知\n一、学习要求\n党员每月参加一次集中学习。", encoding="utf-8")
    finished = run_zhibu("ingest", str(short), "--json", home=kb_home)
    assert finished.returncode == 0, finished.stderr
    remaining = {p.name for p in generations.iterdir()}
    assert kb.active_name() in remaining and len(remaining) <= 2
