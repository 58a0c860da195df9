"""The benchmarks run and end with their JSON figures (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "database",
    "plans",
    "timed_transitions",
    "transitions_per_s",
    "raw_core_per_s",
    "ratio_vs_core",
    "transitions_per_s_long_run",
    "outbox_rows_per_transition",
    "statements_per_transition",
    "raw_core_statements_per_transition",
    "rss_mb_start",
    "rss_mb_10k",
    "rss_mb_100k",
    "rss_ratio_100k_vs_10k",
    "memory_plans",
    "quick",
    "meets_goal",
}

LIFECYCLE_KEYS = {
    "lifecycle_plans",
    "lifecycle_transitions_per_s",
    "lifecycle_commits_per_s",
    "lifecycle_commits_per_plan",
    "lifecycle_ms_per_plan",
}


@pytest.mark.slow
def test_quick_benchmark_prints_its_figures_as_json_last(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "transitions.py"),
            "--quick",
            "--lifecycle",
            "2",
            "--database-url",
            url,
        ],
        cwd=tmp_path,  # not the project root: the script must find its own way
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert set(figures) == KEYS | LIFECYCLE_KEYS
    assert figures["lifecycle_plans"] == 2 and figures["lifecycle_commits_per_plan"] == 13
    assert figures["statements_per_transition"] >= figures["raw_core_statements_per_transition"]
    assert figures["database"] == "sqlite" and figures["quick"] is True
    assert figures["timed_transitions"] > 0 and figures["plans"] >= figures["timed_transitions"]
    for key in ("transitions_per_s", "raw_core_per_s", "ratio_vs_core", "rss_mb_10k"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    assert figures["outbox_rows_per_transition"] >= 1
    assert len(lines) > 1 and not lines[0].startswith("{")  # human lines come first
    assert (tmp_path / "bench.db").exists()


@pytest.mark.slow
def test_web_benchmark_runs_against_a_real_server_and_prints_json_last(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "web.py"),
            "--plans",
            "24",
            "--requests",
            "16",
            "--clients",
            "2",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["plans"] == 24 and figures["clients"] == 2
    assert figures["client"] == "processes" and figures["server_workers"] == 2
    for route in ("api_list", "api_plan", "page_list", "page_plan"):
        assert (
            figures[f"{route}_p50_ms"] > 0
            and figures[f"{route}_p95_ms"] >= figures[f"{route}_p50_ms"]
        ), route
    assert figures["service_list_ms"] > 0 and figures["service_plan_ms"] > 0
    assert figures["database"] == "sqlite"
    assert figures["server_rss_mb_peak"] > figures["worker_rss_mb_peak"] > 10  # MB, both sampled


@pytest.mark.slow
def test_cli_benchmark_times_every_command_on_one_plan_and_prints_json_last(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "cli.py"), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    assert figures["runs"] == 1 and figures["quick"] is True and figures["goal_s"] == 0.5
    names = {"--help", "plan show", "plan list", "audit verify (one plan)", "plan sign"}
    assert names | {"plan fire", "plan measure"} == set(figures["commands"])
    for name, timed in figures["commands"].items():
        assert 0 < timed["min_s"] <= timed["median_s"] and timed["cpu_min_s"] > 0, name
