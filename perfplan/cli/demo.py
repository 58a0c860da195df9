"""`perfplan demo`: Zhang's plan played through its whole life (`perfplan.demo`)."""

from __future__ import annotations

from perfplan.cli.common import NowOption, instant


def demo(now: NowOption = None) -> None:
    """Play Zhang's plan (docs/examples/zhang.yaml) through its whole life, with simulated time."""
    from perfplan.demo import run

    run(started_at=instant(now) if now else None)
