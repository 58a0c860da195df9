"""People, departments, and the roles people hold on a plan."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel


class Department(SQLModel, table=True):
    """An organisational unit; its head is the second rung of escalation ladders."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    # use_alter: departments and people refer to each other; the constraint is
    # added after both tables exist.
    head_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("person.id", use_alter=True, name="fk_department_head")
        ),
    )


class Person(SQLModel, table=True):
    """Anyone who takes part in a plan. `key` is the handle used in files and the CLI."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    name: str
    email: str
    locale: str = "en"
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    manager_id: int | None = Field(default=None, foreign_key="person.id")


class PlanRole(SQLModel, table=True):
    """A person's role on one plan (employee, manager, hr, mentor, collaborator, ...)."""

    __tablename__ = "plan_role"
    __table_args__ = (UniqueConstraint("plan_id", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str
