"""Everything a caller needs to record and send messages, loaded once: the
settings, the routing, and the template renderer."""

from __future__ import annotations

from dataclasses import dataclass

from models.clock import now as wall_clock
from notifications.channels.base import Channel, Clock
from notifications.errors import NotificationsError
from notifications.rendering import Renderer
from notifications.routing import Routing, load_routing
from notifications.settings import NotificationSettings


@dataclass(frozen=True)
class NotificationConfig:
    settings: NotificationSettings
    routing: Routing
    renderer: Renderer

    @classmethod
    def load(cls, settings: NotificationSettings | None = None) -> NotificationConfig:
        """From PERFPLAN_* settings (or those given) and the routing file they name."""
        settings = settings or NotificationSettings()
        return cls(
            settings=settings,
            routing=load_routing(settings),
            renderer=Renderer.build(
                overrides=settings.templates_dir,
                base_url=settings.base_url,
                sender_name=settings.sender_name,
                default_locale=settings.default_locale,
            ),
        )

    def channels(self, clock: Clock = wall_clock) -> dict[str, Channel]:
        """The configured channels, ready to send (secrets read from the environment now).

        Raises ConfigurationError if any channel cannot be built."""
        return self.routing.build(self.settings, clock)

    def available_channels(
        self, clock: Clock = wall_clock
    ) -> tuple[dict[str, Channel], dict[str, str]]:
        """The channels that can be built, and why each other one cannot (name -> reason).

        A sender uses the first and leaves the messages of the others waiting."""
        ready: dict[str, Channel] = {}
        problems: dict[str, str] = {}
        for name, spec in self.routing.channels.items():
            try:
                ready[name] = spec.build(self.settings, clock)
            except NotificationsError as problem:
                problems[name] = str(problem)
        return ready, problems

    @property
    def mail_domain(self) -> str:
        return self.settings.smtp_from.partition("@")[2] or "perfplan.local"
