"""Checkpoints: the heads of every chain (the last record's position and hash), signed
with an Ed25519 key into a small file meant to be kept away from the database.

A hash chain alone cannot tell that its last records were deleted and the plan's tip
rewritten to match what remains: what is left is a valid chain. A checkpoint made
before remembers the head; `verify_against` then finds the chain shorter than the
checkpoint saw, or its record at that position changed, and names the plan. What stays
outside: someone holding both the signing key and the database can rewrite the chain
and sign a new checkpoint; keep the key, or the checkpoints, where they cannot.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, tuple_
from sqlmodel import Session

from models.clock import utc
from models.tables import AUDIT
from states.audit import Break
from states.errors import InvalidInput

CHECKPOINT_FORMAT = "perfplan-checkpoint/1"
_CHUNK = 500


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint as read from its file, its signature checked."""

    made_at: str
    heads: dict[int, tuple[int, str]]  # plan id -> (seq, hash) of its last record
    key_id: str
    public_key: Ed25519PublicKey


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of its raw bytes' SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def signed_bytes(document: dict[str, Any]) -> bytes:
    """What the signature covers: every field but the signature, canonical JSON."""
    payload = {name: value for name, value in document.items() if name != "signature"}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def make_key_pair(private_path: Path) -> Path:
    """Write a new private key (PEM, readable by its owner only) and KEY.pub beside it."""
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise InvalidInput(f"{path} exists already: a key is never overwritten", field="out")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_path.touch(mode=0o600)
    private_path.write_bytes(private)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise InvalidInput(f"{path} is not a readable private key ({error})", field="key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput(f"{path} is not an Ed25519 key", field="key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InvalidInput(
            f"{path} is not a readable public key ({error})", field="public-key"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(f"{path} is not an Ed25519 public key", field="public-key")
    return key


def chain_heads(session: Session) -> dict[int, tuple[int, str]]:
    """Every plan's last record: plan id -> (seq, hash)."""
    last = (
        select(AUDIT.c.plan_id, func.max(AUDIT.c.seq).label("seq"))
        .group_by(AUDIT.c.plan_id)
        .subquery()
    )
    query = select(AUDIT.c.plan_id, AUDIT.c.seq, AUDIT.c.hash).join(
        last, (AUDIT.c.plan_id == last.c.plan_id) & (AUDIT.c.seq == last.c.seq)
    )
    return {row.plan_id: (row.seq, row.hash) for row in session.execute(query)}


def make_checkpoint(session: Session, key: Ed25519PrivateKey, now: datetime) -> dict[str, Any]:
    """The signed checkpoint of every chain's head, as the JSON document to keep."""
    public = key.public_key()
    heads = chain_heads(session)
    document: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "made_at": utc(now).isoformat(),
        "chains": {f"plan:{plan}": {"seq": s, "hash": h} for plan, (s, h) in sorted(heads.items())},
        "key_id": key_id(public),
        "public_key": base64.b64encode(
            public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
    }
    document["signature"] = base64.b64encode(key.sign(signed_bytes(document))).decode()
    return document


def _unsigned(path: Path, why: str) -> InvalidInput:
    return InvalidInput(f"{path} is not a checkpoint this can trust: {why}", field="checkpoint")


def _parsed(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise _unsigned(path, f"it cannot be read as JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != CHECKPOINT_FORMAT:
        raise _unsigned(path, f"it is not a {CHECKPOINT_FORMAT} document")
    return document


def _heads_of(path: Path, chains: Any) -> dict[int, tuple[int, str]]:
    try:
        return {
            int(name.removeprefix("plan:")): (int(head["seq"]), str(head["hash"]))
            for name, head in chains.items()
            if name.startswith("plan:")
        }
    except (AttributeError, KeyError, TypeError, ValueError):
        raise _unsigned(path, "its chains are not plan heads") from None


def read_checkpoint(path: Path, trusted: Ed25519PublicKey | None = None) -> Checkpoint:
    """The checkpoint in `path`, its signature verified with `trusted` (the public key kept
    apart), or with the key it names when none is given (then compare its key id)."""
    document = _parsed(path)
    try:
        embedded = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"]))
        signature = base64.b64decode(document["signature"])
    except (KeyError, TypeError, ValueError):
        raise _unsigned(path, "its key or signature is missing or malformed") from None
    key = trusted or embedded
    if trusted is not None and key_id(trusted) != key_id(embedded):
        raise _unsigned(path, f"it was signed by key {key_id(embedded)}, not {key_id(trusted)}")
    try:
        key.verify(signature, signed_bytes(document))
    except InvalidSignature:
        raise _unsigned(path, "its signature does not match its content (edited?)") from None
    heads = _heads_of(path, document.get("chains"))
    return Checkpoint(str(document.get("made_at")), heads, key_id(key), key)


def _chunks(pairs: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    for start in range(0, len(pairs), _CHUNK):
        yield pairs[start : start + _CHUNK]


def _hashes_now(session: Session, heads: dict[int, tuple[int, str]]) -> dict[int, str]:
    """The hash each chain holds today at the position the checkpoint saw as its head."""
    found: dict[int, str] = {}
    pairs = [(plan, seq) for plan, (seq, _) in sorted(heads.items())]
    for chunk in _chunks(pairs):
        query = select(AUDIT.c.plan_id, AUDIT.c.hash).where(
            tuple_(AUDIT.c.plan_id, AUDIT.c.seq).in_(chunk)
        )
        found.update((row.plan_id, row.hash) for row in session.execute(query))
    return found


def verify_against(
    session: Session, checkpoint: Checkpoint, plan_id: int | None = None
) -> list[Break]:
    """Every chain the checkpoint saw must still hold, at the head it saw, that record:
    one Break per plan whose chain was cut back or rewritten since."""
    heads = {
        plan: head for plan, head in checkpoint.heads.items() if plan_id is None or plan == plan_id
    }
    now = _hashes_now(session, heads)
    breaks = []
    for plan, (seq, expected) in sorted(heads.items()):
        if now.get(plan) == expected:
            continue
        what = "is gone" if plan not in now else "differs"
        breaks.append(
            Break(
                plan,
                seq,
                None,
                f"the checkpoint of {checkpoint.made_at} saw record {seq} with hash "
                f"{expected[:12]}…, which now {what}: records were deleted from the end "
                "or the chain was rewritten since",
            )
        )
    return breaks
