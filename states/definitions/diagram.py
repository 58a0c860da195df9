"""A definition as a Mermaid state diagram, optionally with one state highlighted."""

from __future__ import annotations

from states.definitions.compiled import CompiledDefinition


def mermaid(
    definition: CompiledDefinition, *, highlight: str | None = None, locale: str = "en"
) -> str:
    """Mermaid `stateDiagram-v2` text; `highlight` marks a plan's current state."""
    lines = ["stateDiagram-v2"]
    for name, state in definition.spec.states.items():
        lines.append(f'    state "{definition.label(name, locale)}" as {name}')
        if state.initial:
            lines.append(f"    [*] --> {name}")
    for transition in definition.spec.transitions:
        who = (
            f"chain {transition.approval}" if transition.approval else " | ".join(transition.roles)
        )
        for source in transition.source:
            lines.append(f"    {source} --> {transition.dest}: {transition.trigger} ({who})")
    for name, state in definition.spec.states.items():
        if state.final:
            lines.append(f"    {name} --> [*]")
    if highlight:
        lines.append("    classDef current fill:#ffd54f,stroke:#e65100,stroke-width:3px")
        lines.append(f"    class {highlight} current")
    return "\n".join(lines) + "\n"
