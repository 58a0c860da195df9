"""What a transition announces, and to whom: its own `announce`, or else what perfplan
announced before announcements were data in the definition."""

from __future__ import annotations

from states.definitions.schema import Announcement, DefinitionSpec, Effect, TransitionSpec

# The message sent once the evaluation report is written, by that effect; every other
# message is sent by the `announce` effect.
REPORT_MESSAGE = "evaluation_ready"

# What the clockwork announced by event name, and to whom, before definitions said it.
_BY_TRIGGER: dict[str, tuple[str, tuple[str, ...]]] = {
    "agree": ("plan_agreed", ("employee", "manager", "hr")),
    "start": ("plan_started", ("employee", "manager", "hr", "mentor")),
    "adjust": ("adjustment_proposed", ("employee", "manager", "hr")),
    "reconfirm": ("adjustment_reconfirmed", ("employee", "manager", "hr")),
}
_WITH_THE_REPORT: tuple[str, tuple[str, ...]] = (REPORT_MESSAGE, ("employee", "manager", "hr"))


def sending_effect(message: str) -> Effect:
    """The effect that sends `message`: the report's own, or `announce`."""
    return Effect.EVALUATION_REPORT if message == REPORT_MESSAGE else Effect.ANNOUNCE


def compatible_announcement(
    spec: DefinitionSpec, transition: TransitionSpec
) -> Announcement | None:
    """What `transition` announces when it says nothing itself: what perfplan announced
    before announcements were data.

    The clockwork then picked the message by the event's name (agree, start, adjust,
    reconfirm, when the transition listed the `announce` effect) and sent evaluation_ready
    with every evaluation report. Definitions installed in databases, and the plans bound
    to them, must keep announcing as they did; and a definition that writes these defaults
    out must stay the same version (`compiled.content_hash` leaves them out). Roles the
    definition does not have are left out: no one could hold them.
    """
    found = None
    if Effect.ANNOUNCE in transition.flows:
        found = _BY_TRIGGER.get(transition.trigger)
    if found is None and Effect.EVALUATION_REPORT in transition.flows:
        found = _WITH_THE_REPORT
    if found is None:
        return None
    message, roles = found
    to = [role for role in roles if role in spec.roles]
    return Announcement(message=message, to=to) if to else None


def announcement_of(spec: DefinitionSpec, transition: TransitionSpec) -> Announcement | None:
    """The transition's own announcement, else the compatible one, else None."""
    if transition.announce is not None:
        return transition.announce
    return compatible_announcement(spec, transition)
