"""Benchmark: latency of the plan list and the plan page, API and pages, with 10,000
plans in a SQLite file, under 8 concurrent clients on loopback.

Setup (not measured): 10,000 plans opened through the real `create_plan` service
(each with its own employee, Zhang's goals, milestones and actions, and its first
audit record; a manager per 20 employees), a quarter of them signed to `agreed`,
an HR partner who covers every department (the widest list there is), a
token and a password for them. Then `perfplan web --workers 2` runs as its own
process tree, as it would be deployed on this 2-core machine (one worker per core;
`--workers 1` for a single process), and 8 clients, each with its own keep-alive
connection, ask in turn for:

  api_list   GET /api/plans?limit=50          (the first page of 10,000)
  api_plan   GET /api/plans/{id}              (a random plan)
  page_list  GET /plans                       (the HTML list, signed in)
  page_plan  GET /plans/{id}                  (the HTML plan page: goals, milestones,
                                               history with its verification, diagram)

The clients are 8 processes (`--client processes`, the default), each one
`http.client` connection timing its own requests: no client waits for another's GIL.
`--client threads` is the first method, 8 httpx clients in threads of one process,
whose latencies also hold the wait for that process's GIL. Either way the clients
share the machine's two cores with the server, as loopback clients do.

The same read models called in-process, without HTTP (`service_list_ms`,
`service_plan_ms`), are the floor the ratios are held against. Last line: one
JSON object. Goal: p95 under 100 ms for each.

    .venv/bin/python bench/web.py [--plans 10000] [--requests 400] [--clients 8]
                                  [--workers 2] [--client processes|threads]
                                  [--database PATH | --database-url URL]

Seeding takes minutes: `--database PATH` keeps the seeded SQLite file at PATH and
reuses it when it is already there (its plans, whatever `--plans` says); without it,
each run seeds a fresh temporary database. `--database-url` runs the same on any
database perfplan supports, PostgreSQL included (`postgresql+psycopg://…`): an empty
database is seeded, one that holds plans is reused.

While the clients run, the server's resident memory (the `perfplan web` process and
its workers, summed) is sampled every 200 ms: `server_rss_mb_peak` is the largest sum,
`worker_rss_mb_peak` the largest single worker.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.db import analyze, create_schema, make_engine, session_scope  # noqa: E402
from models.tables import PLAN  # noqa: E402
from people import access, identity  # noqa: E402
from people.orgaudit import Acting  # noqa: E402
from states.engine.signing import sign  # noqa: E402
from states.plans.document import PlanDocument  # noqa: E402
from states.plans.opening import create_plan, read_document_file  # noqa: E402
from views import lists as queries  # noqa: E402
from views.detail import plan_detail  # noqa: E402

DRAFTED = datetime(2026, 8, 25, 9, 0, tzinfo=UTC)
TODAY = date(2026, 10, 12)
PASSWORD = "correct horse battery"


BENCH = Acting("bench", "cli")


def _document(base: dict, i: int) -> PlanDocument:
    manager = f"m{i // 20}"
    people = [
        {
            "key": f"e{i}",
            "name": f"Employee {i}",
            "email": f"e{i}@example.com",
            "locale": "zh-CN" if i % 2 else "en",
            "department": f"Sales {i % 10}",
            "manager": manager,
        },
        {
            # Listed again as first created: a plan document does not change people.
            "key": manager,
            "name": f"Manager {i // 20}",
            "email": f"{manager}@example.com",
            "department": f"Sales {(i // 20) % 10}",
        },
        {"key": "hr", "name": "HR partner", "email": "hr@example.com", "department": "HR"},
    ]
    actions = [
        a | {"executor": f"e{i}", "supporter": None, "collaborators": []} for a in base["actions"]
    ]
    return PlanDocument.model_validate(
        base
        | {
            "title": f"Plan {i}",
            "departments": [],
            "people": people,
            "actions": actions,
            "roles": {"employee": [f"e{i}"], "manager": [manager], "hr": ["hr"]},
        }
    )


def seed(url: str, plans: int) -> None:
    engine = make_engine(url)
    create_schema(engine)
    base = read_document_file(ROOT / "docs" / "examples" / "zhang.yaml").model_dump()
    started = time.perf_counter()
    for first in range(0, plans, 500):
        with session_scope(engine) as session:
            for i in range(first, min(first + 500, plans)):
                plan_id = create_plan(
                    session=session, document=_document(base, i), actor="hr", now=DRAFTED
                )
                if i % 4 == 0:
                    for who in (f"e{i}", f"m{i // 20}", "hr"):
                        sign(
                            session=session,
                            plan_id=plan_id,
                            actor=who,
                            now=DRAFTED + timedelta(hours=1),
                        )
        print(
            f"  {min(first + 500, plans):>6} plans ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    with session_scope(engine) as session:
        access.grant(session, person="hr", role="hr", department=None, now=DRAFTED, by=BENCH)
        identity.set_password(session, person="hr", password=PASSWORD, now=DRAFTED, by=BENCH)
    analyze(engine)  # the planner's figures for the loaded rows, before anything is measured
    engine.dispose()


def _plan_ids(url: str) -> list[int]:
    """The database's plan ids; none when it has no schema yet."""
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table(PLAN.name):
            return []
        with engine.connect() as conn:
            return list(conn.execute(select(PLAN.c.id).order_by(PLAN.c.id)).scalars())
    finally:
        engine.dispose()


def seeded(url: str, plans: int) -> list[int]:
    """The plan ids of the database at `url`, seeding it first when it holds none."""
    if ids := _plan_ids(url):
        print(f"reusing the {len(ids):,} plans seeded in {_shown(url)}", flush=True)
        return ids
    print(f"seeding {plans} plans through create_plan ...", flush=True)
    seed(url, plans)
    return _plan_ids(url)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


class MemorySampler(threading.Thread):
    """The server tree's resident memory every 200 ms, while the clients run."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.stopped = threading.Event()
        self.tree_peak = 0
        self.worker_peak = 0

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            sizes = []
            for process in [self.root, *self.root.children(recursive=True)]:
                try:
                    sizes.append(process.memory_info().rss)
                except psutil.Error:  # a worker that ended between listing and reading
                    continue
            self.tree_peak = max(self.tree_peak, sum(sizes))
            self.worker_peak = max(self.worker_peak, max(sizes[1:], default=0))

    def figures(self) -> dict[str, float]:
        self.stopped.set()
        self.join()
        return {
            "server_rss_mb_peak": round(self.tree_peak / 2**20, 1),
            "worker_rss_mb_peak": round(self.worker_peak / 2**20, 1),
        }


def service_floor(url: str, plan_ids: list[int], rounds: int = 50) -> tuple[float, float]:
    """The read models in-process, no HTTP: median ms of the list and of one plan."""
    engine = make_engine(url)
    lists, details = [], []
    with session_scope(engine) as session:
        viewer = access.load_viewer(session, key="hr")
        for _ in range(rounds):
            t0 = time.perf_counter()
            queries.search_plans(session, viewer=viewer, today=TODAY, limit=50)
            t1 = time.perf_counter()
            plan_id = random.choice(plan_ids)
            access.check_plan(session, viewer, plan_id)
            plan_detail(session, plan_id, today=TODAY)
            t2 = time.perf_counter()
            lists.append(t1 - t0)
            details.append(t2 - t1)
    engine.dispose()
    return statistics.median(lists) * 1000, statistics.median(details) * 1000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(url: str, home: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "PERFPLAN_DATABASE_URL": url,
        "PERFPLAN_NOW": TODAY.isoformat(),
        "PERFPLAN_WEB_DISPATCH_AFTER_COMMIT": "false",
        "PREFECT_HOME": str(home),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfplan.cli",
            "web",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"perfplan web did not start: {process.stderr.read().decode()[-2000:]}")


def _session_cookies(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        form = client.get("/login").text
        csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
        answer = client.post(
            "/login", data={"person": "hr", "password": PASSWORD, "csrf_token": csrf}
        )
        if answer.status_code >= 400:
            raise RuntimeError(f"could not sign in: {answer.status_code}")
        return client.cookies


def _cookie_header(cookies: httpx.Cookies) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _path(template: str, plan_ids: list[int]) -> str:
    return template.format(id=random.choice(plan_ids))


def _client_process(
    base: str,
    template: str,
    plan_ids: list[int],
    headers: dict[str, str],
    count: int,
    go: Any,
    answers: Any,
) -> None:
    """One client: a keep-alive connection, one request after another, each timed."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    connection.request("GET", "/api/health")  # connected before the clock starts
    connection.getresponse().read()
    go.wait()
    latencies, errors = [], []
    for _ in range(count):
        path = _path(template, plan_ids)
        t0 = time.perf_counter()
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        answer.read()
        latencies.append((time.perf_counter() - t0) * 1000)
        if answer.status != 200:
            errors.append(f"{path}: {answer.status}")
    connection.close()
    answers.put((latencies, errors))


@dataclass(frozen=True)
class Load:
    """What a measured route is asked: `requests` GETs of `template` (a plan id filled in
    from `plan_ids`) on `base`, with `headers`, from `clients` at once."""

    base: str
    template: str
    plan_ids: list[int]
    headers: dict[str, str]
    requests: int
    clients: int


def measure_processes(load: Load) -> list[float]:
    """`requests` GETs spread over `clients` processes (no GIL shared between clients, nor
    with the measuring parent); the latency of each, in ms."""
    context = multiprocessing.get_context("fork")
    go, answers = context.Event(), context.Queue()
    share = load.requests // load.clients
    asked = (load.base, load.template, load.plan_ids, load.headers, share, go, answers)
    workers = [context.Process(target=_client_process, args=asked) for _ in range(load.clients)]
    for worker in workers:
        worker.start()
    time.sleep(0.5)  # each has connected
    go.set()
    results = [answers.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    errors = [e for _, failed in results for e in failed]
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return [ms for latencies, _ in results for ms in latencies]


def measure_threads(load: Load) -> list[float]:
    """The first method: httpx clients in threads of this process. Their latencies include
    waiting for this process's GIL, shared with the other clients."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def worker(count: int) -> None:
        with httpx.Client(base_url=load.base, headers=load.headers, timeout=30) as client:
            for _ in range(count):
                path = _path(load.template, load.plan_ids)
                t0 = time.perf_counter()
                answer = client.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                if answer.status_code != 200:
                    errors.append(f"{path}: {answer.status_code}")
                with lock:
                    latencies.append(elapsed)

    share = load.requests // load.clients
    threads = [threading.Thread(target=worker, args=(share,)) for _ in range(load.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return latencies


CLIENTS = {"processes": measure_processes, "threads": measure_threads}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "max_ms": round(ordered[-1], 1),
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=400, help="per measured route")
    parser.add_argument("--clients", type=int, default=8)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--database", type=Path, help="seed this SQLite file once, then reuse it")
    where.add_argument(
        "--database-url", help="any database URL (PostgreSQL too): seeded when empty, else reused"
    )
    parser.add_argument("--workers", type=int, default=2, help="perfplan web --workers")
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="processes",
        help="processes: one keep-alive connection per process; threads: "
        "the first method, httpx clients in threads of one process",
    )
    return parser.parse_args()


def main() -> None:
    args = arguments()
    with tempfile.TemporaryDirectory() as folder:
        path = args.database.resolve() if args.database else Path(folder) / "web.db"
        url = args.database_url or f"sqlite:///{path}"
        plan_ids = seeded(url, args.plans)
        args.plans = len(plan_ids)
        floor_list, floor_plan = service_floor(url, plan_ids)
        process, base = start_server(url, Path(folder) / "prefect", args.workers)
        memory = MemorySampler(process.pid)
        memory.start()
        try:
            results = run_routes(base, plan_ids, url, args)
        finally:
            rss = memory.figures()
            process.terminate()
            process.wait(timeout=15)
    print(json.dumps(summarised(args, url, results, (floor_list, floor_plan), rss)))


def summarised(
    args: argparse.Namespace,
    url: str,
    results: dict,
    floor: tuple[float, float],
    rss: dict[str, float],
) -> dict[str, Any]:
    """The human lines, then the figures for the JSON line."""
    floor_list, floor_plan = floor
    for name, figures in results.items():
        print(
            f"{name:>10}: p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  "
            f"max {figures['max_ms']:6.1f} ms"
        )
    print(f"service floor: list {floor_list:.1f} ms, plan {floor_plan:.1f} ms (in-process)")
    print(
        f"server memory under load: {rss['server_rss_mb_peak']:.1f} MB in all, "
        f"{rss['worker_rss_mb_peak']:.1f} MB the largest worker"
    )
    return {
        "database": make_url(url).get_backend_name(),
        "plans": args.plans,
        "clients": args.clients,
        "client": args.client,
        "server_workers": args.workers,
        "requests_per_route": args.requests,
        **{f"{name}_{k}": v for name, figures in results.items() for k, v in figures.items()},
        "service_list_ms": round(floor_list, 2),
        "service_plan_ms": round(floor_plan, 2),
        "api_list_p50_vs_service": round(results["api_list"]["p50_ms"] / floor_list, 2),
        "api_plan_p50_vs_service": round(results["api_plan"]["p50_ms"] / floor_plan, 2),
        **rss,
        "goal_p95_ms": 100,
        "goal_met": all(f["p95_ms"] < 100 for f in results.values()),
    }


ROUTES = {
    "api_list": "/api/plans?limit=50",
    "api_plan": "/api/plans/{id}",
    "page_list": "/plans",
    "page_plan": "/plans/{id}",
}


def run_routes(base: str, plan_ids: list[int], url: str, args: argparse.Namespace) -> dict:
    with session_scope(make_engine(url)) as session:
        token = identity.create_token(
            session, person="hr", name="bench", now=DRAFTED, by=BENCH
        ).token
    cookie = _cookie_header(_session_cookies(base))
    measure = CLIENTS[args.client]
    results = {}
    for name, template in ROUTES.items():
        who = {"Authorization": f"Bearer {token}"} if name.startswith("api") else {"Cookie": cookie}
        measure(Load(base, template, plan_ids, who, args.clients * 4, args.clients))  # warm-up
        latencies = measure(Load(base, template, plan_ids, who, args.requests, args.clients))
        results[name] = _percentiles(latencies)
    return results


if __name__ == "__main__":
    main()
