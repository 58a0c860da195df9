"""The clockwork room's settings, from PERFPLAN_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.db import output_folder


class WorkflowSettings(BaseSettings):
    """PERFPLAN_REPORTS_DIR, PERFPLAN_REPORT_TIMEZONE, PERFPLAN_MODE, PERFPLAN_PREFECT_HOME,
    PERFPLAN_SWEEP_CRON, PERFPLAN_DISPATCH_EVERY, PERFPLAN_DELIVER_EVERY, PERFPLAN_SERVE_LIMIT."""

    model_config = SettingsConfigDict(env_prefix="PERFPLAN_", extra="ignore")

    # Where evaluation reports are written: plan-<id>-evaluation.<locale>.<html|md>; by
    # default the database's own `<database>-out/reports` (./perfplan-out/reports for
    # ./perfplan.db), so two databases never overwrite each other's reports.
    reports_dir: Path = Field(default_factory=lambda: output_folder() / "reports")
    # Times in reports are shown in this IANA zone (stored times are UTC); empty: in the
    # plan's own, that of the country whose business calendar its definition uses
    # (Asia/Shanghai for CN).
    report_timezone: str = ""

    # embedded: flows run in the perfplan process; served: on a Prefect server.
    mode: Literal["embedded", "served"] = "embedded"
    # Prefect's own home (its database of flow runs) when perfplan starts Prefect.
    prefect_home: Path = Path.home() / ".perfplan" / "prefect"
    sweep_cron: str = "0 * * * *"  # hourly; reminders fall due at 09:00 Beijing time
    # Served: each scheduled run is a process of its own (seconds of CPU), so the
    # intervals are a safety net; a committed change triggers the dispatcher at once.
    dispatch_every: int = 60  # seconds between dispatcher runs
    deliver_every: int = 60  # seconds between delivery runs
    serve_limit: int = 2  # flow runs at once in one `perfplan serve`
