"""Whether the people a plan names can complete its definition's approval chains.

Each person signs a round of a chain once (states.engine.signing), so a chain needs as
many different people as it has signatures: a step without `quorum` one for each of its
roles, a step with `quorum: n` n people among its roles. The roles are matched to the
people the plan names; when no matching exists — the manager is also the HR partner of
a chain that needs both — the plan could never be agreed, and is refused when it is
opened. Roles the plan names nobody for (derived ones, like the department head) are
the organisation's to fill and are left out.
"""

from __future__ import annotations

from states.definitions.compiled import CompiledDefinition
from states.definitions.schema import ApprovalChain
from states.plans.document import PlanDocument


def _signatures(chain: ApprovalChain, doc: PlanDocument) -> list[frozenset[str]]:
    """Who may give each signature the chain needs (one set of people per signature)."""
    needed: list[frozenset[str]] = []
    counted: set[str] = set()
    for step in chain.steps:
        if step.quorum is None:
            for role in step.roles:
                if doc.holders(role) and role not in counted:
                    counted.add(role)
                    needed.append(frozenset(doc.holders(role)))
        else:
            candidates = frozenset(p for role in step.roles for p in doc.holders(role))
            needed += [candidates] * min(step.quorum, len(candidates))
    return needed


def _everyone_signs_once(needed: list[frozenset[str]]) -> bool:
    """A different person for every signature (a matching, by augmenting paths)."""
    signs: dict[str, int] = {}

    def place(signature: int, tried: set[str]) -> bool:
        for person in sorted(needed[signature] - tried):
            tried.add(person)
            if person not in signs or place(signs[person], tried):
                signs[person] = signature
                return True
        return False

    return all(place(signature, set()) for signature in range(len(needed)))


def _both(roles: list[str]) -> str:
    if len(roles) == 2:
        return f"both {roles[0]} and {roles[1]}"
    return f"{', '.join(roles[:-1])} and {roles[-1]}"


def _conflicts(chain: ApprovalChain, doc: PlanDocument, event: str) -> list[str]:
    roles = list(dict.fromkeys(role for step in chain.steps for role in step.roles))
    people = dict.fromkeys(p for role in roles for p in doc.holders(role))
    found = []
    for person in people:
        held = [role for role in roles if person in doc.holders(role)]
        if len(held) > 1:
            needs = "two different signers" if len(held) == 2 else "more than one signer of them"
            found.append(f"roles: {person} is {_both(held)}; '{event}' needs {needs}")
    return found or [f"roles: '{event}' needs more different signers than the plan names"]


def signer_problems(doc: PlanDocument, definition: CompiledDefinition) -> list[str]:
    """The chains the plan's people cannot complete, naming who holds two of their parts."""
    problems: list[str] = []
    for name, chain in definition.spec.approval_chains.items():
        if _everyone_signs_once(_signatures(chain, doc)):
            continue
        events = [t.trigger for t in definition.spec.transitions if t.approval == name]
        for problem in _conflicts(chain, doc, events[0] if events else name):
            if problem not in problems:
                problems.append(problem)
    return problems
