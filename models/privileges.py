"""PostgreSQL privileges for the application's own role.

The application connects as a role that may read and write every table but
may only INSERT into the audit chains (`audit_record`, `org_audit_record`): even
with the append-only triggers dropped by an owner, the application itself cannot
change history.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.sql.compiler import IdentifierPreparer

APPEND_ONLY_TABLES = ("audit_record", "org_audit_record")


def _quote(engine: Engine, name: str) -> str:
    preparer: IdentifierPreparer = engine.dialect.identifier_preparer
    return preparer.quote_identifier(name)


def grant_app_role(engine: Engine, role: str, *, password: str | None = None) -> list[str]:
    """Create `role` if needed and grant it what perfplan needs; returns the statements run."""
    if engine.dialect.name != "postgresql":
        raise ValueError("application roles exist on PostgreSQL only")
    who = _quote(engine, role)
    statements = []
    with engine.begin() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
        ).scalar()
        if not exists:
            statements.append(f"CREATE ROLE {who} LOGIN")
        if password is not None:
            literal = connection.execute(text("SELECT quote_literal(:p)"), {"p": password}).scalar()
            statements.append(f"ALTER ROLE {who} PASSWORD {literal}")
        schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        statements += [
            f"GRANT USAGE ON SCHEMA {_quote(engine, schema)} TO {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
            f"{_quote(engine, schema)} TO {who}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_quote(engine, schema)} TO {who}",
        ]
        statements += [
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {_quote(engine, table)} FROM {who}"
            for table in APPEND_ONLY_TABLES
        ]
        for statement in statements:
            connection.execute(text(statement))
    return statements
