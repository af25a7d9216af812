"""Bot uploads are ingested by a child process with caps, a deadline and a memory limit; whatever
stops it, the admin is told in Chinese and the knowledge base stays as it was."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from bot.admin import Admin
from bot.library import Library
from tests.conftest import run_zhibu
from zhibu.settings import Settings

ADMIN = 4242
NOTICE = "关于嘎查村牧民夜校建设的补充通知\n一、总体要求\n各嘎查村党支部要办好牧民夜校，每月至少开课两次。\n"


def _settings(home: Path, **overrides) -> Settings:
    return Settings(_env_file=None, zhibu_home=home, zhibu_embedding="e5-small", zhibu_admins=str(ADMIN), **overrides)


def _fetcher(content: bytes):
    async def fetch(path: Path) -> None:
        path.write_bytes(content)

    return fetch


def _state(home: Path) -> tuple[str, list[str]]:
    kb = home / "kb"
    return json.loads((kb / "active.json").read_text(encoding="utf-8"))["generation"], sorted(p.name for p in (kb / "generations").iterdir())


def _audit(home: Path) -> list[str]:
    return [json.loads(line)["outcome"] for line in (home / "logs" / "admin.log").read_text(encoding="utf-8").splitlines()]


def _docx_bomb(tmp_path: Path, padding_mb: int) -> bytes:
    import docx

    plain = tmp_path / "plain.docx"
    document = docx.Document()
    document.add_paragraph("关于开展工作的通知")
    document.save(str(plain))
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as packed:
        for member in source.infolist():
            data = source.read(member)
            if member.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + b" " * (padding_mb * 1024 * 1024), 1)
            packed.writestr(member, data, zipfile.ZIP_DEFLATED)
    return bomb.read_bytes()


def _chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]", text)) and "Traceback" not in text


async def test_an_upload_is_ingested_by_a_child_and_served(kb_home):
    settings = _settings(kb_home)
    library = Library(settings)
    reply = await Admin(library, settings).upload(ADMIN, "夜校通知.txt", None, _fetcher(NOTICE.encode("utf-8")))
    assert reply.startswith("知识库已更新：新增 1 篇")
    assert "两次" in (await library.ask("牧民夜校每月至少开课几次？")).answer


async def test_a_docx_bomb_upload_is_refused_and_changes_nothing(kb_home, tmp_path):
    settings = _settings(kb_home, zhibu_max_unpacked_mb=8)
    before = _state(kb_home)
    bomb = _docx_bomb(tmp_path, padding_mb=60)
    assert len(bomb) < 1024 * 1024
    reply = await Admin(Library(settings), settings).upload(ADMIN, "bomb.docx", len(bomb), _fetcher(bomb))
    assert reply.startswith("未完成：") and "解压后超过 8 MB" in reply and _chinese(reply)
    assert _state(kb_home) == before
    assert _audit(kb_home) == ["rejected"]


async def test_an_upload_past_its_deadline_is_stopped_and_changes_nothing(kb_home):
    settings = _settings(kb_home, zhibu_upload_timeout_s=3)
    before = _state(kb_home)
    sections = [f"{n}、第{n}项补充规定\n" + "党员教育管理和组织生活按季度检查落实。" * 10 for n in range(1, 200)]
    long_notice = ("关于基层党建工作的补充规定\n" + "\n".join(sections)).encode("utf-8")
    reply = await Admin(Library(settings), settings).upload(ADMIN, "long.txt", None, _fetcher(long_notice))
    assert reply.startswith("未完成：处理时间超过") and "知识库保持原样" in reply
    assert _state(kb_home)[0] == before[0]
    assert _audit(kb_home) == ["failed"]
    # The next ingest sweeps what the stopped one left behind.
    assert run_zhibu("ingest", home=kb_home).returncode == 0
    assert _state(kb_home) == before


async def test_an_upload_past_its_memory_limit_is_stopped_and_changes_nothing(kb_home):
    settings = _settings(kb_home, zhibu_upload_memory_mb=200)
    before = _state(kb_home)
    reply = await Admin(Library(settings), settings).upload(ADMIN, "夜校通知.txt", None, _fetcher(NOTICE.encode("utf-8")))
    assert reply.startswith("未完成：处理这个文件时") and "知识库保持原样" in reply and _chinese(reply)
    assert _state(kb_home) == before
    assert _audit(kb_home) == ["failed"]


def test_the_cli_refuses_a_document_over_a_cap_with_exit_2(kb_home, tmp_path):
    before = _state(kb_home)
    path = tmp_path / "many.txt"
    sections = [f"{n}、第{n}项规定\n" + "党员教育管理和组织生活按季度检查落实，支部书记负责。" * 12 for n in range(1, 41)]
    path.write_text("关于基层党建工作的补充规定\n" + "\n".join(sections), encoding="utf-8")
    result = run_zhibu("ingest", str(path), home=kb_home, env={"ZHIBU_MAX_PASSAGES_PER_DOC": "20"})
    assert result.returncode == 2 and "分段太多" in result.stderr and "Traceback" not in result.stderr
    assert _state(kb_home) == before


@pytest.mark.parametrize("name", ["sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2", "no-such-org/no-such-model"])
def test_an_uncached_hub_model_without_network_fails_at_once_in_chinese(tmp_path, name):
    result = run_zhibu("ask", "最强党支部多长时间评定一次？", home=tmp_path / "home",
                       env={"ZHIBU_EMBEDDING": name, "HF_HOME": str(tmp_path / "hf-cache"), "HF_HUB_OFFLINE": ""}, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "不在本机" in result.stderr and "Traceback" not in result.stderr


def test_the_upload_child_gets_the_bots_settings_but_no_secrets(kb_home, monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:SECRET")
    monkeypatch.setenv("ZHIBU_LLM_API_KEY", "sk-secret")
    settings = _settings(kb_home, zhibu_max_passages_per_doc=77)
    environment = Admin(Library(settings), settings)._child_environment()
    assert environment["ZHIBU_HOME"] == str(kb_home) and environment["ZHIBU_MAX_PASSAGES_PER_DOC"] == "77"
    assert "TELEGRAM_BOT_TOKEN" not in environment and "ZHIBU_LLM_API_KEY" not in environment
