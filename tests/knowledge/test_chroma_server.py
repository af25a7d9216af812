"""Server mode: the same knowledge base in a real Chroma server that the test starts with `chroma run`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.service import QAService
from zhibu.settings import Settings

CHROMA = str(Path(sys.executable).with_name("chroma"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    if not Path(CHROMA).exists() and not shutil.which("chroma"):
        pytest.skip("chroma CLI not installed")
    port = _free_port()
    server = subprocess.Popen([CHROMA, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("chroma server did not start")
    yield port
    server.terminate()
    server.wait(timeout=30)


def test_ingest_and_ask_against_a_chroma_server(chroma_server, tmp_path):
    import chromadb

    settings = Settings(zhibu_home=tmp_path / "home", zhibu_embedding="e5-small",
                        zhibu_chroma_host="127.0.0.1", zhibu_chroma_port=chroma_server)
    svc = QAService(settings)
    report = svc.reload()
    assert report.embedded > 50
    name = svc.kb.active_name()
    assert not (svc.kb.root / "generations" / name / "chroma").exists()  # vectors live in the server

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    collection = client.get_collection(f"zhibu_{name}")
    assert collection.count() == report.embedded
    assert collection.configuration_json["hnsw"]["space"] == "cosine"

    answer = svc.ask("开展社会评价时可以向哪些部门征求意见？")
    assert answer.found and any("法院、检察院、公安" in c.text for c in answer.citations)
    assert any(hit.dense > 0.5 for hit in svc._ensure().search("社会评价 征求意见", 5))
