"""The effects a change starts: a closed vocabulary whose values are what outbox rows
store, the definition's own followed by the engine's."""

from __future__ import annotations

from states.definitions import catalog
from states.definitions.schema import Effect
from states.engine.effects import implied_flows
from states.engine.registry import FLOWS


def test_outbox_rows_keep_the_effect_names_they_always_stored() -> None:
    assert [e.value for e in Effect] == [
        "announce",
        "request_signatures",
        "schedule_followups",
        "evaluation_report",
        "archive_copy",
    ]
    assert set(FLOWS) == set(Effect)


def test_a_state_that_waits_for_signatures_asks_for_them_after_the_definitions_effects() -> None:
    standard = catalog.find("standard")

    drafted = implied_flows(standard, "drafted", ["announce"])
    running = implied_flows(standard, "in_progress", ["announce", "announce"])

    assert drafted == (Effect.ANNOUNCE, Effect.REQUEST_SIGNATURES, Effect.SCHEDULE_FOLLOWUPS)
    assert running == (Effect.ANNOUNCE, Effect.SCHEDULE_FOLLOWUPS)
    assert all(type(flow) is Effect for flow in drafted)
