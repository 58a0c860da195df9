"""Routing: which channels carry which message kinds to people in which role,
and each person's own channel and language preferences (a YAML file named by
PERFPLAN_NOTIFY_CONFIG; docs/notifications.md shows one).

Every problem of a file is reported at once, each with where it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from notifications.channels.base import Channel, Clock, Options
from notifications.errors import ConfigurationError, NotificationsError
from notifications.kinds import KINDS
from notifications.message import Recipient
from notifications.registry import canonical_kind, channel_class
from notifications.settings import NotificationSettings

ANY = "*"
_TOP_KEYS = {"channels", "default", "routes", "people"}
_ROUTE_KEYS = {"kinds", "roles", "channels", "also"}
_PERSON_KEYS = {"locale", "channels"}


class _Loader(yaml.SafeLoader):
    """Safe YAML where only true/false are booleans (`no`, `on` stay text)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class ChannelConfig:
    name: str
    kind: str
    options: Options

    def build(self, settings: NotificationSettings, clock: Clock) -> Channel:
        return channel_class(self.kind).from_options(self.name, self.options, settings, clock)


@dataclass(frozen=True)
class Route:
    kinds: frozenset[str]
    roles: frozenset[str]
    channels: tuple[str, ...]
    also: tuple[str, ...] = ()

    def matches(self, kind: str, role: str) -> bool:
        return (ANY in self.kinds or kind in self.kinds) and (
            ANY in self.roles or role in self.roles
        )


@dataclass(frozen=True)
class Preference:
    locale: str | None = None
    channels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routing:
    """The parsed routing file (or the default: everything to the outbox, or to
    email when PERFPLAN_SMTP_HOST is set)."""

    channels: dict[str, ChannelConfig]
    default: tuple[str, ...]
    routes: tuple[Route, ...] = ()
    people: dict[str, Preference] = field(default_factory=dict)
    source: str = "(built-in default)"

    def channels_for(self, kind: str, recipient: Recipient) -> list[str]:
        """The channels that carry `kind` to this person in this role.

        The first matching route decides; a route with no channels silences the
        kind for that role. A person's preferred channels replace the route's,
        and a route's `also` channels are added whatever the person prefers.
        """
        route = next((r for r in self.routes if r.matches(kind, recipient.role)), None)
        chosen = list(route.channels if route else self.default)
        if not chosen:
            return []
        preferred = recipient.channels or self._preference(recipient).channels
        known = [name for name in preferred if name in self.channels]
        if known:
            chosen = known
        for name in route.also if route else ():
            if name not in chosen:
                chosen.append(name)
        return chosen

    def locale_for(self, recipient: Recipient) -> str:
        return self._preference(recipient).locale or recipient.locale

    def kind_of(self, channel: str) -> str:
        return self.channels[channel].kind

    def build(self, settings: NotificationSettings, clock: Clock) -> dict[str, Channel]:
        return {name: config.build(settings, clock) for name, config in self.channels.items()}

    def _preference(self, recipient: Recipient) -> Preference:
        return self.people.get(recipient.key, Preference()) if recipient.key else Preference()


def default_routing(settings: NotificationSettings) -> Routing:
    channels = {"outbox": _channel("outbox", {"kind": "file"})}
    if settings.smtp_host:
        channels["email"] = _channel("email", {"kind": "smtp"})
    return Routing(channels=channels, default=("email",) if settings.smtp_host else ("outbox",))


def load_routing(settings: NotificationSettings) -> Routing:
    if settings.notify_config is None:
        return default_routing(settings)
    return read_routing(settings.notify_config)


def read_routing(path: Path) -> Routing:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read it ({error.strerror})", source=str(path)) from None
    return parse_routing(text, source=str(path))


def parse_routing(text: str, *, source: str = "<routing>") -> Routing:
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigurationError(f"not valid YAML: {error}", source=source) from None
    problems: list[str] = []
    routing = _parse(data if data is not None else {}, problems)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise ConfigurationError(f"{len(problems)} problem(s)\n{lines}", source=source)
    assert routing is not None
    return Routing(**{**routing.__dict__, "source": source})


def _parse(data: Any, problems: list[str]) -> Routing | None:
    if not isinstance(data, Mapping):
        problems.append("$: the file must be a mapping with channels, default, routes, people")
        return None
    _unknown_keys(data, _TOP_KEYS, "$", problems)
    channels = _parse_channels(data.get("channels") or {}, problems)
    default = _names(data.get("default", list(channels)[:1]), "default", channels, problems)
    routes = [
        _parse_route(raw, f"routes[{i}]", channels, problems)
        for i, raw in enumerate(_list(data.get("routes") or [], "routes", problems))
    ]
    people = _parse_people(data.get("people") or {}, channels, problems)
    return Routing(
        channels=channels,
        default=tuple(default),
        routes=tuple(r for r in routes if r is not None),
        people=people,
    )


def _channel(name: str, raw: Mapping[str, Any]) -> ChannelConfig:
    options = {k: v for k, v in raw.items() if k != "kind"}
    kind = canonical_kind(str(raw.get("kind", "")))
    return ChannelConfig(name, kind, channel_class(kind).check_options(name, options))


def _parse_channels(raw: Any, problems: list[str]) -> dict[str, ChannelConfig]:
    channels: dict[str, ChannelConfig] = {}
    for name, where, spec in _entries(raw, "channels", "channel names to their settings", problems):
        if not isinstance(spec, Mapping) or "kind" not in spec:
            problems.append(f"{where}: needs a `kind` (smtp, file, console, webhook, ...)")
            continue
        try:
            channels[name] = _channel(name, spec)
        except NotificationsError as error:
            problems.append(f"{where}: {error}")
    return channels


def _parse_route(
    raw: Any, where: str, channels: Mapping[str, ChannelConfig], problems: list[str]
) -> Route | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: must be a mapping with kinds, roles, channels")
        return None
    _unknown_keys(raw, _ROUTE_KEYS, where, problems)
    kinds = [str(k) for k in _list(raw.get("kinds", [ANY]), f"{where}.kinds", problems)]
    for kind in kinds:
        if kind != ANY and kind not in KINDS:
            problems.append(f"{where}.kinds: unknown message kind '{kind}'")
    if "channels" not in raw:
        problems.append(f"{where}: needs `channels` (an empty list silences the route)")
    return Route(
        kinds=frozenset(kinds),
        roles=frozenset(str(r) for r in _list(raw.get("roles", [ANY]), f"{where}.roles", problems)),
        channels=tuple(_names(raw.get("channels", []), f"{where}.channels", channels, problems)),
        also=tuple(_names(raw.get("also", []), f"{where}.also", channels, problems)),
    )


def _parse_people(
    raw: Any, channels: Mapping[str, ChannelConfig], problems: list[str]
) -> dict[str, Preference]:
    people: dict[str, Preference] = {}
    for key, where, pref in _entries(raw, "people", "person keys to their preferences", problems):
        if not isinstance(pref, Mapping):
            problems.append(f"{where}: must be a mapping with locale and/or channels")
            continue
        _unknown_keys(pref, _PERSON_KEYS, where, problems)
        locale = pref.get("locale")
        people[key] = Preference(
            locale=str(locale) if locale else None,
            channels=tuple(
                _names(pref.get("channels", []), f"{where}.channels", channels, problems)
            ),
        )
    return people


def _entries(
    raw: Any, section: str, what: str, problems: list[str]
) -> Iterator[tuple[str, str, Any]]:
    """A section that maps names to entries: each name, where its entry is, the entry."""
    if not isinstance(raw, Mapping):
        problems.append(f"{section}: must map {what}")
        return
    for name, entry in raw.items():
        yield str(name), f"{section}.{name}", entry


def _names(
    raw: Any, where: str, channels: Mapping[str, ChannelConfig], problems: list[str]
) -> list[str]:
    names = [str(n) for n in _list(raw, where, problems)]
    for name in names:
        if name not in channels:
            problems.append(f"{where}: unknown channel '{name}'; defined: {', '.join(channels)}")
    return [n for n in names if n in channels]


def _list(raw: Any, where: str, problems: list[str]) -> list[Any]:
    if isinstance(raw, str):
        return [raw]
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list")
        return []
    return raw


def _unknown_keys(raw: Mapping[str, Any], known: set[str], where: str, problems: list[str]) -> None:
    for key in raw:
        if key not in known:
            problems.append(f"{where}: unknown key '{key}'; known: {', '.join(sorted(known))}")
