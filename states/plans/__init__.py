"""A plan's own life outside transitions: opening one from a plan document, the digest
of what people sign, and the activities recorded while it runs (progress reports,
coaching, measurements, milestones done, adjustments), and the steps people name by
what they do (re-confirm, evaluate) rather than by a definition's event."""
