"""`zhibu chat` driven through a pseudo-terminal as a person would use it, and `zhibu bot` without a token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pexpect

ZHIBU = str(Path(sys.executable).with_name("zhibu"))


def offline_env(home: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZHIBU_", "TELEGRAM_"))}
    return env | {"ZHIBU_HOME": str(home), "ZHIBU_EMBEDDING": "none"}


def test_terminal_chat_question_short_self_check_export_and_quit(home, tmp_path):
    chat = pexpect.spawn(ZHIBU, ["chat"], env=offline_env(home), cwd=str(tmp_path), encoding="utf-8", timeout=60)
    try:
        chat.expect("终端对话")
        chat.expect("> ")

        chat.sendline("党员评议优秀比例要达到多少？")
        chat.expect("正在查阅政策文件")
        chat.expect("90%")
        chat.expect("出处")
        chat.expect(r"1\) 查看原文 \[1\]")
        chat.expect("> ")
        chat.sendline("1")  # the numbered choice: the first source in full
        chat.expect("《")
        chat.expect("> ")

        chat.sendline("check")
        chat.expect("请选择党支部所处领域")
        chat.expect(r"2\) 社区")
        chat.expect("> ")
        chat.sendline("2")
        chat.expect("请选择评定年度")
        chat.expect("> ")
        chat.sendline("2025")  # typed: a bare number is the answer here
        chat.expect("第 1 题")
        chat.expect(r"#1\) 为什么问这个")
        chat.expect("> ")
        chat.sendline("#1")
        chat.expect("为什么问这个：")
        chat.expect("> ")
        chat.sendline("2015-06-01")
        chat.expect("已记录：2015-06-01")
        chat.expect("第 2 题")
        chat.expect(r"1\) 是")
        chat.expect("> ")
        chat.sendline("1")  # 是: listed as a weak and lax branch, so the verdict is settled
        chat.expect("已不能评为“最强党支部”")
        chat.expect(r"2\) 直接看结果")
        chat.expect("> ")
        chat.sendline("2")
        chat.expect("结论")
        chat.expect("> ")

        chat.sendline("export")
        chat.expect("已保存：")
        chat.expect("> ")
        chat.sendline("quit")
        chat.expect("再见")
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert chat.exitstatus == 0
    export = tmp_path / "zhibu-profile-community-2025.json"
    umask = os.umask(0)
    os.umask(umask)
    assert export.stat().st_mode & 0o777 == 0o666 & ~umask  # the user's umask, not the state's 077
    profile = json.loads(export.read_text(encoding="utf-8"))
    assert profile == {"domain": "community", "year": 2025, "founded_on": "2015-06-01", "weak_and_lax": True}


def test_bot_command_without_a_token_exits_with_a_clear_message(home, tmp_path):
    result = subprocess.run([ZHIBU, "bot"], env=offline_env(home) | {"TELEGRAM_BOT_TOKEN": ""}, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "Traceback" not in result.stderr
