"""Fixtures for the ingest tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest_helpers import find_cjk_font


@pytest.fixture(scope="session")
def cjk_font() -> Path:
    font = find_cjk_font()
    if font is None:
        message = "no CJK font: apt-get install -y fonts-wqy-zenhei"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must install it: a skip there would hide the PDF path untested
        pytest.skip(message)
    return font
