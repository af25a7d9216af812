"""The knowledge base under real operation: answers during an ingest, no leaks over many switches,
read-only readers on a full disk, and garbage collection by the pointer's history."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from knowledge.service import QAService
from tests.conftest import run_zhibu
from zhibu.settings import Settings

QUESTION = "最强党支部多长时间评定一次？"


def service(home: Path, embedding: str = "e5-small") -> QAService:
    return QAService(Settings(_env_file=None, zhibu_home=home, zhibu_embedding=embedding))


def _sections(count: int, topic: str = "补充规定") -> str:
    body = [f"{n}、第{n}项{topic}\n本项规定嘎查村党支部第{n}类工作的具体要求，党员教育管理和组织生活按季度检查落实。"
            for n in range(1, count + 1)]
    return f"关于基层党建工作的{topic}\n" + "\n".join(body)


def _serving_answer_is_right(answer) -> bool:
    return answer.found and any("每年评定一次" in c.text for c in answer.citations)


def test_questions_are_answered_while_an_ingest_embeds(kb_home, tmp_path):
    svc = service(kb_home)
    assert _serving_answer_is_right(svc.ask(QUESTION))  # the serving generation is open
    document = tmp_path / "buchong.txt"
    document.write_text(_sections(130), encoding="utf-8")
    embedding_started = threading.Event()
    outcome: dict = {}

    def progress(done: int, total: int) -> None:
        outcome["total"] = total
        embedding_started.set()

    def ingest() -> None:
        outcome["report"] = svc.ingest([document], progress=progress)

    worker = threading.Thread(target=ingest)
    worker.start()
    assert embedding_started.wait(120)
    answer = svc.ask(QUESTION)
    ingest_still_running = worker.is_alive()
    worker.join()

    assert outcome["total"] >= 100
    assert ingest_still_running, "the question waited for the whole ingest"
    assert _serving_answer_is_right(answer)
    assert outcome["report"].added == ["buchong"]
    assert "第77项补充规定" in svc.ask("第77项补充规定对嘎查村党支部有什么要求").answer  # switched afterwards


def _open_files() -> list[str]:
    links = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # closed while we listed
    return links


def _rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
def test_fifty_switches_leak_neither_files_nor_memory(kb_home, tmp_path):
    svc = service(kb_home)
    document = tmp_path / "switch.txt"
    measured = {}
    for switch in range(1, 51):
        document.write_text(f"关于第{switch}次调整的通知\n一、调整内容\n第{switch}次调整后，党员学习每月开展{switch}次。", encoding="utf-8")
        assert svc.ingest([document]).generation is not None
        assert _serving_answer_is_right(svc.ask(QUESTION))
        if switch in (10, 50):
            measured[switch] = (len(_open_files()), _rss_mib())
    files_10, rss_10 = measured[10]
    files_50, rss_50 = measured[50]
    assert files_50 <= files_10 + 2, f"open files grew from {files_10} to {files_50}"
    assert rss_50 - rss_10 < 40, f"RSS grew from {rss_10:.0f} MiB to {rss_50:.0f} MiB"
    deleted = [link for link in _open_files() if link.endswith("(deleted)") and str(kb_home) in link]
    assert not deleted, deleted
    generations = {p.name for p in (svc.kb.root / "generations").iterdir()}
    assert len(generations) == 2 and svc.kb.active_name() in generations


def test_garbage_collection_keeps_the_previous_serving_generation(kb_home, tmp_path):
    svc = service(kb_home)
    first = tmp_path / "first.txt"
    first.write_text(_sections(3, "第一批规定"), encoding="utf-8")
    svc.ingest([first])
    previous = svc.kb.active_name()
    # A build killed after `previous` started: its name sorts between `previous` and the next one.
    abandoned = svc.kb.root / "generations" / f"{previous}x"
    (abandoned / "chroma").mkdir(parents=True)
    time.sleep(1.1)  # the next generation's name (a timestamp) sorts after the abandoned one
    second = tmp_path / "second.txt"
    second.write_text(_sections(3, "第二批规定"), encoding="utf-8")
    serving = svc.ingest([second]).generation

    remaining = sorted(p.name for p in (svc.kb.root / "generations").iterdir())
    assert previous < abandoned.name < serving
    assert remaining == [previous, serving]
    assert json.loads(svc.kb.pointer.read_text(encoding="utf-8"))["history"][0] == previous


# ---- a full disk -------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs of our own (root only), unmounted afterwards."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs to fill needs root")
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mountpoint)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def _fill(disk: Path) -> None:
    with open(disk / "filler", "wb", buffering=0) as filler:
        for size in (2**20, 4096, 1):
            try:
                while True:
                    filler.write(b"\0" * size)
            except OSError:
                pass


def test_questions_work_and_ingest_fails_cleanly_on_a_full_disk(built_home, small_disk, tmp_path):
    home = small_disk / "home"
    shutil.copytree(built_home, home)
    document = tmp_path / "buchong.txt"
    document.write_text(_sections(20), encoding="utf-8")
    kb_root = home / "kb"
    before = sorted(p.name for p in (kb_root / "generations").iterdir())
    serving = json.loads((kb_root / "active.json").read_text(encoding="utf-8"))["generation"]
    _fill(small_disk)

    answer = service(home).ask(QUESTION)  # in-process, as the bot asks
    assert _serving_answer_is_right(answer)
    cold = run_zhibu("ask", QUESTION, "--json", home=home, env={"ZHIBU_EMBEDDING": "e5-small"})
    assert cold.returncode == 0, cold.stderr
    assert _serving_answer_is_right_json(json.loads(cold.stdout))

    failed = run_zhibu("ingest", str(document), home=home, env={"ZHIBU_EMBEDDING": "e5-small"})
    assert failed.returncode == 2, failed.stderr
    assert "磁盘空间不足" in failed.stderr and "Traceback" not in failed.stderr
    assert json.loads((kb_root / "active.json").read_text(encoding="utf-8"))["generation"] == serving
    assert sorted(p.name for p in (kb_root / "generations").iterdir()) == before  # what it wrote is swept
    assert not [p for p in kb_root.iterdir() if p.name.endswith(".tmp")]

    for filler in small_disk.glob("filler*"):
        filler.unlink()
    assert run_zhibu("ingest", str(document), home=home, env={"ZHIBU_EMBEDDING": "e5-small"}).returncode == 0


def _serving_answer_is_right_json(payload: dict) -> bool:
    return payload["found"] and any("每年评定一次" in c["text"] for c in payload["citations"])


def test_readers_open_nothing_for_writing(built_home, tmp_path):
    """`ask` in a fresh process opens no file of the knowledge base for writing (strace). jieba's dictionary
    cache in $ZHIBU_HOME/cache may be written once; jieba only logs it when that fails (a full disk)."""
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    home = tmp_path / "home"
    shutil.copytree(built_home, home)
    trace = tmp_path / "trace.txt"
    from tests.conftest import ZHIBU

    result = subprocess.run(["strace", "-f", "-e", "trace=openat,open,creat,truncate", "-o", str(trace), ZHIBU, "ask", QUESTION],
                            env={**os.environ, "ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "e5-small"},
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    writes = [line for line in trace.read_text().splitlines()
              if str(home / "kb") in line and re.search(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\(|truncate\(", line)]
    assert not writes, writes[:5]


# ---- determinism -------------------------------------------------------------------------------


def test_equal_similarities_rank_in_passage_order():
    import numpy as np

    from knowledge.vectors import ExportedVectors

    same = [1.0, 0.0, 0.0]
    vectors = ExportedVectors(["c", "a", "d", "b"], np.array([same, [0.0, 1.0, 0.0], same, same], dtype=np.float32))
    assert [chunk_id for chunk_id, _ in vectors.query(same, 3, 4)] == ["c", "d", "b"]


def test_a_generation_is_the_same_under_any_hash_seed(tmp_path):
    document = tmp_path / "buchong.txt"
    document.write_text(_sections(12), encoding="utf-8")
    built = {}
    for seed in ("0", "1", "12345"):
        home = tmp_path / f"home-{seed}"
        result = run_zhibu("ingest", str(document), home=home, env={"ZHIBU_EMBEDDING": "none", "PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        folder = home / "kb" / "generations" / json.loads((home / "kb" / "active.json").read_text(encoding="utf-8"))["generation"]
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        documents = {doc_id: {k: v for k, v in entry.items() if k != "ingested_at"} for doc_id, entry in manifest["documents"].items()}
        built[seed] = ((folder / "passages.jsonl").read_bytes(), json.dumps(documents, sort_keys=False))
    assert built["0"] == built["1"] == built["12345"]


def test_a_generation_built_before_exports_gets_one_from_the_next_ingest(kb_home):
    svc = service(kb_home)
    old = svc.kb.active()
    (old.folder / "vectors.npy").unlink()  # as an earlier version left it: vectors only in Chroma
    assert _serving_answer_is_right(svc.ask(QUESTION))  # still served, from Chroma
    result = run_zhibu("ingest", "--json", home=kb_home, env={"ZHIBU_EMBEDDING": "e5-small"})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["generation"] not in (None, old.name) and report["embedded"] == 0 and report["reused"] == len(old.passages)
    assert svc.kb.active().has_export and _serving_answer_is_right(service(kb_home).ask(QUESTION))
