"""Every evaluator test runs with its own empty $ZHIBU_HOME: a staff parameter file on the machine
(`$ZHIBU_HOME/parameters.yaml`) must not change the rulebook the tests check."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def empty_zhibu_home(tmp_path, monkeypatch):
    home = tmp_path / "zhibu-home"
    home.mkdir()
    monkeypatch.setenv("ZHIBU_HOME", str(home))
    return home
