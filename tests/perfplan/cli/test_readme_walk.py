"""The README's "Using it" walk, run as written: every command in order, in one shell, on a
fresh SQLite database in a folder of its own, each must succeed; at the end the plan is
evaluated, its chains verify and Zhang's receipt holds. (The walk once stopped at
`evaluate`, left out the re-confirmation and mixed --now with the real clock.)"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _walk() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using it", 1)[1].split("\n## ", 1)[0]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_readme_walk_works_from_top_to_bottom(tmp_path: Path) -> None:
    walk = _walk()
    assert "perfplan plan fire 1 evaluate" in walk and walk.count("plan measure") == 4
    examples = tmp_path / "docs" / "examples"
    examples.mkdir(parents=True)
    shutil.copy(ROOT / "docs" / "examples" / "zhang.yaml", examples / "zhang.yaml")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PERFPLAN_", "PREFECT_"))
    }
    env |= {"PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}", "COLUMNS": "200"}
    env["PERFPLAN_PREFECT_HOME"] = str(tmp_path / "prefect")
    script = "set -euo pipefail\n" + "".join(
        f"echo '>>> {n}'\n{line}\n" for n, line in enumerate(walk.splitlines(), 1)
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "state evaluated" in done.stdout
    assert "records in 1 plan(s) verify" in done.stdout
    assert "The receipt holds" in done.stdout
    assert (tmp_path / "walk.db").exists() and not (tmp_path / "perfplan.db").exists()
