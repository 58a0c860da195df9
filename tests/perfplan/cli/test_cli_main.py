"""`perfplan` itself: its help starts without the database or Prefect."""

from __future__ import annotations

import subprocess
import sys


def test_help_does_not_import_prefect_or_the_database() -> None:
    code = (
        "import sys\nfrom perfplan import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('prefect', 'sqlalchemy', 'sqlmodel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Start here" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
