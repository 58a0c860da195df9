"""The ways a message travels; `notifications.registry` maps kinds to these classes."""
