"""Benchmark: how long the `perfplan` command takes from a cold start, per command, on
a SQLite file: every command that reads or writes one plan, and `--help`.

Each run is a new process (the console script beside this Python), as a user types
it. A write needs the plan in the state it acts on: before each timed write the
database is copied afresh from a snapshot taken at that point of Zhang's plan (the
copy is not timed). Prints the min and median wall seconds of each command, and its
least CPU seconds (user + system: what the machine's other load does not inflate
as much); the goal is every command under 0.5 s. Last line: one JSON object.

    .venv/bin/python bench/cli.py [--runs 7] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ZHANG = ROOT / "docs" / "examples" / "zhang.yaml"
GOAL_S = 0.5
ENVIRONMENT = dict(os.environ)  # as this process was started, before the setup's changes

# Zhang's plan up to each point a timed command starts from: (snapshot, steps to it).
SETUP: list[tuple[str, list[list[str]]]] = [
    (
        "drafted",
        [["init"], ["plan", "create", str(ZHANG), "--as", "wang", "--now", "2026-08-25T09:00"]],
    ),
    (
        "agreed",
        [
            ["plan", "sign", "1", "--as", "zhang", "--now", "2026-08-26T10:30"],
            ["plan", "sign", "1", "--as", "li", "--now", "2026-08-26T15:00"],
            ["plan", "sign", "1", "--as", "wang", "--now", "2026-08-28T11:30"],
        ],
    ),
    ("in_progress", [["plan", "fire", "1", "start", "--as", "li", "--now", "2026-09-01T09:00"]]),
]


@dataclass(frozen=True)
class Command:
    name: str
    snapshot: str  # the database it runs on, copied afresh when it writes
    argv: list[str]
    writes: bool


COMMANDS = [
    Command("--help", "in_progress", ["--help"], False),
    Command("plan show", "in_progress", ["plan", "show", "1"], False),
    Command("plan list", "in_progress", ["plan", "list"], False),
    Command("audit verify (one plan)", "in_progress", ["audit", "verify", "1"], False),
    Command(
        "plan sign",
        "drafted",
        ["plan", "sign", "1", "--as", "zhang", "--now", "2026-08-26T10:30"],
        True,
    ),
    Command(
        "plan fire",
        "agreed",
        ["plan", "fire", "1", "start", "--as", "li", "--now", "2026-09-01T09:00"],
        True,
    ),
    Command(
        "plan measure",
        "in_progress",
        ["plan", "measure", "1", "training", "86", "--as", "li", "--now", "2026-09-30T08:00"],
        True,
    ),
]


def say(line: str) -> None:
    print(line, flush=True)


def perfplan() -> list[str]:
    """The console script beside this Python, as a user runs it (else `python -m`)."""
    script = Path(sys.executable).parent / "perfplan"
    return [str(script)] if script.exists() else [sys.executable, "-m", "perfplan.cli"]


def environment(database: Path) -> dict[str, str]:
    return {**ENVIRONMENT, "PERFPLAN_DATABASE_URL": f"sqlite:///{database}"}


def call(argv: list[str], database: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one `perfplan` process; a failure stops the benchmark."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [*perfplan(), *argv],
        env=environment(database),
        cwd=database.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"perfplan {' '.join(argv)} failed: {done.stderr.strip()[-400:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    out = source.parent / f"{source.stem}-out"
    target_out = target.parent / f"{target.stem}-out"
    shutil.rmtree(target_out, ignore_errors=True)
    if out.exists():
        shutil.copytree(out, target_out)


def in_process(argv: list[str], database: Path) -> None:
    """One setup step, untimed: the command in this process (quicker than starting one)."""
    sys.path.insert(0, str(ROOT))
    from perfplan.cli import main

    os.environ["PERFPLAN_DATABASE_URL"] = f"sqlite:///{database}"
    try:
        main(argv)
    except SystemExit as done:
        if done.code:
            raise SystemExit(f"setup: perfplan {' '.join(argv)} failed ({done.code})") from None


def snapshots(folder: Path) -> dict[str, Path]:
    """Zhang's plan at each point of SETUP, each a database file of its own."""
    work = folder / "work.db"
    found: dict[str, Path] = {}
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        for name, steps in SETUP:
            for argv in steps:
                in_process(argv, work)
            found[name] = folder / f"{name}.db"
            copy_database(work, found[name])
    finally:
        os.chdir(cwd)
    return found


def time_command(command: Command, snapshot: Path, folder: Path, runs: int) -> dict[str, float]:
    walls, cpus = [], []
    target = folder / "timed.db"
    copy_database(snapshot, target)
    for _ in range(runs):
        if command.writes:
            copy_database(snapshot, target)
        wall, cpu = call(command.argv, target)
        walls.append(wall)
        cpus.append(cpu)
    figures = {
        "min_s": round(min(walls), 3),
        "median_s": round(statistics.median(walls), 3),
        "cpu_min_s": round(min(cpus), 3),
    }
    say(
        f"{command.name:<24} min {figures['min_s']:.3f} s  median {figures['median_s']:.3f} s  "
        f"CPU {figures['cpu_min_s']:.3f} s"
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="cold runs per command")
    parser.add_argument("--quick", action="store_true", help="one run each (smoke test)")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else max(1, args.runs)
    folder = Path(tempfile.mkdtemp(prefix="perfplan-cli-bench-"))
    try:
        found = snapshots(folder)
        say(f"{runs} cold runs per command, {' '.join(perfplan())}")
        commands = {c.name: time_command(c, found[c.snapshot], folder, runs) for c in COMMANDS}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    slowest = max(commands, key=lambda name: commands[name]["median_s"])
    print(
        json.dumps(
            {
                "runs": runs,
                "commands": commands,
                "slowest": slowest,
                "slowest_median_s": commands[slowest]["median_s"],
                "goal_s": GOAL_S,
                "meets_goal": all(c["median_s"] < GOAL_S for c in commands.values()),
                "quick": args.quick,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
