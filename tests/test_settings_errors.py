"""A wrong setting in the environment or .env stops any command with one Chinese line per setting,
naming the variable, never echoing a secret: exit status 2."""

from __future__ import annotations

import pytest

from tests.conftest import run_zhibu

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("ZHIBU_MAX_BATCH_MB", "二十", "应为整数"),
    ("ZHIBU_MAX_BATCH_ROWS", "0", "应大于 0"),
    ("ZHIBU_MAX_PROFILE_KB", "8", "不能小于 64"),
    ("ZHIBU_ADMINS", "12345,@zhangsan", "@zhangsan"),
])
def test_a_wrong_setting_is_named_in_chinese(tmp_path, variable, value, problem):
    table = tmp_path / "b.csv"
    table.write_text("domain,year\ncommunity,2024\n", encoding="utf-8")
    secret = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    result = run_zhibu("batch", str(table), home=tmp_path / "home", env={variable: value, "TELEGRAM_BOT_TOKEN": secret})
    message = result.stderr.strip()
    assert result.returncode == 2, message
    assert message.startswith("错误：配置有误") and variable in message and problem in message, message
    assert "Traceback" not in message and "validation error" not in message and secret not in message
