"""A definition's state machine drawn server-side as inline SVG (no script, no CDN):
states in columns by their distance from the initial state, arrows labelled with
the events, the plan's current state carrying the class `current`."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

from states.definitions.compiled import CompiledDefinition
from views.record import Milestone

BOX_W, BOX_H = 150, 44
COL_GAP, ROW_GAP = 150, 40
MARGIN = 24
# Arrows back to an earlier column run through a band above the boxes.
BACK_BAND = 56
# Longer event labels are cut (the whole label is the arrow's tooltip).
LABEL_CHARS = 22


@dataclass(frozen=True)
class _Box:
    x: int
    y: int

    @property
    def mid_y(self) -> int:
        return self.y + BOX_H // 2


def columns(definition: CompiledDefinition) -> dict[str, int]:
    """Each state's column: its shortest distance (in transitions) from the initial state;
    unreachable states (a checked definition has none) go after the last column."""
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for spec in definition.transitions_from(state):
            if spec.dest not in depth:
                depth[spec.dest] = depth[state] + 1
                queue.append(spec.dest)
    last = max(depth.values()) + 1
    return {name: depth.get(name, last) for name in definition.spec.states}


def _layout(definition: CompiledDefinition) -> dict[str, _Box]:
    rows: dict[int, int] = {}
    boxes = {}
    for name, column in columns(definition).items():
        row = rows.get(column, 0)
        rows[column] = row + 1
        boxes[name] = _Box(
            MARGIN + column * (BOX_W + COL_GAP), MARGIN + BACK_BAND + row * (BOX_H + ROW_GAP)
        )
    return boxes


def _event_label(definition: CompiledDefinition, trigger: str, locale: str) -> str:
    for spec in definition.spec.transitions:
        if spec.trigger == trigger and spec.label:
            return spec.label.get(locale) or spec.label.get("en") or trigger
    return trigger


def _text(x: int, y: int, label: str) -> str:
    shown = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
    return (
        f'<text x="{x}" y="{y}" text-anchor="middle"><title>{escape(label)}</title>'
        f"{escape(shown)}</text>"
    )


def _forward(a: _Box, b: _Box, label: str, marker: str) -> str:
    x1, y1, x2, y2 = a.x + BOX_W, a.mid_y, b.x - 4, b.mid_y
    # The label sits near the start of the arrow, where arrows of one state fan out.
    mx, my = x1 + (x2 - x1) // 2, y1 + (y2 - y1) // 3 - 6
    return (
        f'<g class="edge"><line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" '
        f'marker-end="url(#{marker})"/>{_text(mx, my, label)}</g>'
    )


def _backward(a: _Box, b: _Box, label: str, marker: str) -> str:
    """An arrow back to an earlier (or the same) column, curved through the band above."""
    x1, y1 = a.x + BOX_W // 2 - 20, a.y
    x2, y2 = b.x + BOX_W // 2 + 20, b.y - 4
    cx, cy = (x1 + x2) // 2, min(y1, y2) - BACK_BAND - 20
    return (
        f'<g class="edge back"><path d="M{x1},{y1} Q{cx},{cy} {x2},{y2}" fill="none" '
        f'marker-end="url(#{marker})"/>{_text(cx, MARGIN + 6, label)}</g>'
    )


def _state_box(
    definition: CompiledDefinition, name: str, box: _Box, current: str | None, locale: str
) -> str:
    spec = definition.state(name)
    classes = ["state"] + [
        c
        for c, on in (
            ("current", name == current),
            ("initial", spec.initial),
            ("final", spec.final),
        )
        if on
    ]
    radius = 18 if spec.final else 6
    return (
        f'<g class="{" ".join(classes)}" data-state="{escape(name)}">'
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{BOX_H}" rx="{radius}"/>'
        f'<text x="{box.x + BOX_W // 2}" y="{box.mid_y + 5}" text-anchor="middle">'
        f"{escape(definition.label(name, locale))}</text></g>"
    )


# A definition version never changes (its hash is its content's), so neither does its
# drawing with a given state marked: each is drawn once per process.
_DRAWN: dict[tuple[str, str | None, str, str], Markup] = {}
_DRAWINGS_KEPT = 1024


def diagram_svg(
    definition: CompiledDefinition,
    *,
    current: str | None = None,
    locale: str = "en",
    uid: str = "d",
) -> Markup:
    """The whole diagram; `uid` keeps marker ids apart when a page shows several."""
    key = (definition.hash, current, locale, uid)
    drawn = _DRAWN.get(key)
    if drawn is None:
        if len(_DRAWN) >= _DRAWINGS_KEPT:
            _DRAWN.clear()
        drawn = _DRAWN[key] = _draw(definition, current, locale, uid)
    return drawn


def _draw(definition: CompiledDefinition, current: str | None, locale: str, uid: str) -> Markup:
    boxes = _layout(definition)
    width = max(b.x for b in boxes.values()) + BOX_W + MARGIN
    bottom = max(b.y for b in boxes.values()) + BOX_H + MARGIN
    marker = f"arrow-{escape(uid)}"
    edges = []
    for spec in definition.spec.transitions:
        label = _event_label(definition, spec.trigger, locale)
        for source in spec.source:
            a, b = boxes[source], boxes[spec.dest]
            if b.x > a.x:
                edges.append(_forward(a, b, label, marker))
            else:
                edges.append(_backward(a, b, label, marker))
    states = [_state_box(definition, n, b, current, locale) for n, b in boxes.items()]
    title = escape(definition.spec.title.get(locale) or definition.name)
    return Markup(
        f'<svg class="diagram" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {bottom}" width="{width}" height="{bottom}">'
        f"<title>{title}</title>"
        f'<defs><marker id="{marker}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker>'
        f"</defs>{''.join(edges)}{''.join(states)}</svg>"
    )


def _x(day: date, start: date, span: int, width: int) -> int:
    offset = min(max((day - start).days, 0), span)
    return MARGIN + round(offset * (width - 2 * MARGIN) / span)


def _month_ticks(start: date, end: date, span: int, width: int) -> list[str]:
    ticks = []
    month = date(start.year, start.month, 1)
    while month <= end:
        if month >= start:
            x = _x(month, start, span, width)
            ticks.append(
                f'<line class="tick" x1="{x}" y1="30" x2="{x}" y2="46"/>'
                f'<text class="tick" x="{x}" y="62" text-anchor="middle">'
                f"{month.isoformat()[:7]}</text>"
            )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return ticks


def timeline_svg(
    *, start: date, end: date, today: date, milestones: Sequence[Milestone], today_label: str
) -> Markup:
    """The plan's period as a line, each milestone a dot at its due date (class done,
    due or late), and today marked."""
    width, span = 900, max((end - start).days, 1)
    dots = []
    for row in milestones:
        x = _x(row.due, start, span, width)
        tip = f"{row.key} · {row.due.isoformat()} · {row.title}"
        dots.append(
            f'<circle class="milestone {row.timeline}" cx="{x}" cy="38" r="7">'
            f"<title>{escape(tip)}</title></circle>"
        )
    parts = [
        f'<line class="period" x1="{MARGIN}" y1="38" x2="{width - MARGIN}" y2="38"/>',
        *_month_ticks(start, end, span, width),
        *dots,
    ]
    if start <= today <= end:
        x = _x(today, start, span, width)
        parts.append(
            f'<line class="today" x1="{x}" y1="12" x2="{x}" y2="50"/>'
            f'<text class="today" x="{x}" y="10" text-anchor="middle">'
            f"{escape(today_label)}</text>"
        )
    return Markup(
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} 70" width="{width}" height="70">{"".join(parts)}</svg>'
    )
