"""Reproducible installs: requirements.lock pins every runtime, dev and build dependency with hashes, the
torch pin is the CPU wheel on this machine's disk (by that file's hash), and the environment the tests run
in is exactly what the lock says."""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def lock_entries() -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, [sha256 …])} from the pip-compile output."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if pin := _PIN.match(line):
            current = canonicalize_name(pin.group(1))
            entries[current] = (pin.group(2), [])
        elif current and (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            entries[current][1].append(digest.group(1))
    return entries


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [item for items in project["optional-dependencies"].values() for item in items]
    return [Requirement(item) for item in project["dependencies"] + extras]


def test_every_declared_dependency_is_pinned_with_hashes_at_a_version_it_allows():
    entries = lock_entries()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in entries, f"{requirement.name} is not in requirements.lock: run bash scripts/lock.sh"
        version, hashes = entries[name]
        assert hashes, f"{name} has no hash"
        assert requirement.specifier.contains(version, prereleases=True), f"{name}=={version} breaks {requirement}"
    unhashed = [name for name, (_, hashes) in entries.items() if not hashes]
    assert not unhashed
    assert {"setuptools", "wheel"} <= set(entries)  # the build backend, for `pip install --no-build-isolation -e .`


def test_torch_is_the_cpu_wheel_on_disk_by_its_hash():
    version, hashes = lock_entries()["torch"]
    assert version == "2.13.0+cpu"
    folders = [Path(part) for part in os.environ.get("PIP_FIND_LINKS", "/opt/wheels").split()]
    wheels = [path for folder in folders if folder.is_dir() for path in folder.glob("torch-2.13.0+cpu-*.whl")]
    if not wheels:
        pytest.skip("no torch wheel on this machine's disk")
    assert {hashlib.sha256(wheel.read_bytes()).hexdigest() for wheel in wheels} <= set(hashes)


def test_the_installed_environment_is_the_lock():
    installed = {canonicalize_name(dist.metadata["Name"]): dist.version for dist in metadata.distributions()}
    differing = {name: (version, installed.get(name)) for name, (version, _) in lock_entries().items()
                 if installed.get(name) != version}
    assert not differing, f"installed packages differ from requirements.lock: {differing}"
