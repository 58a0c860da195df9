"""What `make demo` and `make test` install (read from `make -n` on a virtualenv that
does not exist yet, as on a fresh machine): the demo and its pages only perfplan and
what it runs on, the tests the development tools too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _planned(target: str, venv: Path) -> str:
    done = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("target", ["demo", "web-demo"])
def test_the_demo_installs_perfplan_without_the_development_tools(
    target: str, tmp_path: Path
) -> None:
    planned = _planned(target, tmp_path / "venv")
    assert "pip install --quiet -e . " in planned
    assert "[dev]" not in planned
    assert "perfplan demo" in planned


def test_web_demo_serves_the_pages_after_the_demo(tmp_path: Path) -> None:
    assert "perfplan demo --web" in _planned("web-demo", tmp_path / "venv")


def test_the_tests_install_the_development_tools(tmp_path: Path) -> None:
    assert "pip install --quiet -e '.[dev]'" in _planned("test", tmp_path / "venv")
