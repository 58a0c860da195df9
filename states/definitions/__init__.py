"""The language admins write: a definition's schema and the effects a transition may
start (`schema`), its YAML source, the schema's problems as sentences (`messages`) and
the structural rules (`rules`), what a transition announces and to whom
(`announcements`), the compiled machine that serves every plan of one version, where
definitions come from (built-ins, an admin's directory, the database), durations and
business-day calendars. The built-in definitions are in `builtin/`."""
