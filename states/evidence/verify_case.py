#!/usr/bin/env python3
"""Re-verify a perfplan case file with nothing but Python (3.9 or later).

    python3 verify_case.py [CASE_DIR]      (default: the folder this script is in)

Checks, without perfplan and without its database:
  1. every file the manifest lists is there, with the SHA-256 it lists;
  2. the plan's audit records form an unbroken hash chain (each record's hash is the
     SHA-256 of its fields, the previous record's hash among them);
  3. each signed copy's content hashes to the digest its signatures bind, the PDF and
     the HTML carry exactly that content, and the chain holds those signatures and the
     transition they completed;
  4. with checkpoint.json: the chain still holds the head the checkpoint saw, and, when
     the `cryptography` package is installed, the checkpoint's Ed25519 signature holds.
Exit 0 when everything holds; 1, with one sentence per problem, when anything does not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import zlib
from pathlib import Path
from typing import Any

_HTML_CONTENT = re.compile(
    rb'<script type="text/plain" id="perfplan-signed-content"[^>]*>([A-Za-z0-9+/=\s]*)</script>'
)
_PDF_ATTACHMENT = re.compile(rb"<<\s*/Type\s*/EmbeddedFile(.*?)>>\s*stream\r?\n", re.DOTALL)
_LENGTH = re.compile(rb"/Length\s+(\d+)")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def html_content(document: bytes) -> str | None:
    found = _HTML_CONTENT.search(document)
    return base64.b64decode(found.group(1)).decode() if found else None


def pdf_content(document: bytes) -> str | None:
    found = _PDF_ATTACHMENT.search(document)
    length = _LENGTH.search(found.group(1)) if found else None
    if found is None or length is None:
        return None
    data = document[found.end() : found.end() + int(length.group(1))]
    if b"/FlateDecode" in found.group(1):
        data = zlib.decompress(data)
    return data.decode()


def check_manifest(root: Path, manifest: dict[str, Any], problems: list[str]) -> None:
    for name, expected in sorted(manifest["files"].items()):
        path = root / name
        if not path.is_file():
            problems.append(f"{name} is missing from the case file.")
        elif sha256(path.read_bytes()) != expected:
            problems.append(f"{name} is not the file exported: its SHA-256 differs.")


def check_chain(audit: dict[str, Any], problems: list[str]) -> list[dict[str, Any]]:
    fields, previous = audit["chain_fields"], audit["genesis"]
    records = audit["records"]
    for position, record in enumerate(records, start=1):
        where = f"record {record.get('seq')} of plan {record.get('plan_id')}"
        encoded = json.dumps(
            [record[name] for name in fields], ensure_ascii=False, separators=(",", ":")
        )
        if record["seq"] != position:
            problems.append(f"{where}: the chain jumps from {position - 1}; a record is missing.")
        elif record["prev_hash"] != previous:
            problems.append(f"{where}: its previous-hash is not the record before it's hash.")
        elif sha256(encoded.encode()) != record["hash"]:
            problems.append(f"{where}: its fields do not match its hash (altered).")
        previous = record["hash"]
    return list(records)


def _copy_problems(root: Path, copy: dict[str, Any], records: list[dict[str, Any]]) -> list[str]:
    name, digest = f"copy {copy['number']}", copy["content_digest"]
    content = (root / copy["content"]).read_bytes()
    problems = []
    if sha256(content) != digest:
        problems.append(f"{name}: its content does not hash to {digest}.")
    for fmt, read in (("html", html_content), ("pdf", pdf_content)):
        if fmt not in copy:
            problems.append(f"{name}: exported before its {fmt.upper()} was rendered.")
            continue
        document = (root / copy[fmt]).read_bytes()
        if sha256(document) != copy[f"{fmt}_sha256"]:
            problems.append(f"{name}: {copy[fmt]} is not the document archived.")
        if read(document) != content.decode():
            problems.append(f"{name}: {copy[fmt]} does not carry the content signed.")
    sealed = [r for r in records if r["seq"] == copy["seq"]]
    if not sealed or (sealed[0]["event"], sealed[0]["content_digest"]) != (copy["event"], digest):
        problems.append(f"{name}: the chain has no '{copy['event']}' of this content.")
    signed = [
        r
        for r in records
        if r["kind"] == "signature" and r["content_digest"] == digest and r["seq"] < copy["seq"]
    ]
    if len(signed) < len(copy["signatures"]):
        problems.append(f"{name}: the chain holds fewer signatures of it than the copy shows.")
    return problems


def _checkpoint_signature(checkpoint: dict[str, Any]) -> str:
    """What the checkpoint's signature says, if `cryptography` is here to check it."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        return "unchecked (install the cryptography package to check it)"
    payload = {k: v for k, v in checkpoint.items() if k != "signature"}
    signed = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
    try:
        key.verify(base64.b64decode(checkpoint["signature"]), signed.encode())
    except InvalidSignature:
        return "BROKEN"
    return f"valid (key {checkpoint['key_id']}: compare it with the key you keep)"


def check_checkpoint(
    checkpoint: dict[str, Any], plan_id: int, records: list[dict[str, Any]], problems: list[str]
) -> str:
    signature = _checkpoint_signature(checkpoint)
    if signature == "BROKEN":
        problems.append("checkpoint.json: its signature does not match its content.")
    head = checkpoint["chains"].get(f"plan:{plan_id}")
    if head is None:
        return f"the checkpoint of {checkpoint['made_at']} does not cover this plan"
    held = [r for r in records if r["seq"] == head["seq"] and r["hash"] == head["hash"]]
    if not held:
        problems.append(
            f"the checkpoint of {checkpoint['made_at']} saw record {head['seq']} of plan "
            f"{plan_id} with hash {head['hash'][:12]}…, which the chain no longer holds: "
            "records were deleted from the end or rewritten."
        )
    return f"checkpoint of {checkpoint['made_at']}: signature {signature}"


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems: list[str] = []
    try:
        manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
        check_manifest(root, manifest, problems)
        audit = json.loads((root / "audit.json").read_text(encoding="utf-8"))
        records = check_chain(audit, problems)
        copies = json.loads((root / "copies.json").read_text(encoding="utf-8"))
        for copy in copies:
            problems.extend(_copy_problems(root, copy, records))
        said = ""
        if (root / "checkpoint.json").is_file():
            checkpoint = json.loads((root / "checkpoint.json").read_text(encoding="utf-8"))
            said = "; " + check_checkpoint(checkpoint, manifest["plan_id"], records, problems)
    except (OSError, ValueError, KeyError, TypeError, zlib.error) as error:
        problems.append(
            f"the case file cannot be read as exported ({type(error).__name__}: {error})."
        )
        said = ""
    if problems:
        print("FAILS:", *problems, sep="\n  ")
        return 1
    print(
        f"OK: plan {manifest['plan_id']}: {len(records)} records chain, "
        f"{len(copies)} signed copies carry the content their signatures bind{said}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
