"""The file outbox, the embedded default: one file per message in a folder,
`.eml` (open it in any mail client, or read it: the bodies stay UTF-8) or
`.json`.

A message's file name comes from its ledger id, and the file appears at once
(written aside, then renamed), so a message sent twice after a crash is the
same file written twice, never two files and never half a file.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, Literal, cast

from pydantic import Field

from notifications.channels.base import BatchChannel, Held, Options, always_held, lease_lost
from notifications.channels.email import build_email
from notifications.errors import DeliveryError
from notifications.message import OutgoingMessage


class OutboxOptions(Options):
    directory: Path | None = None
    format: Literal["eml", "json"] = "eml"
    # Flush each file to disk before the message counts as sent (survives a power cut).
    fsync: bool = True
    sender: str | None = Field(default=None, alias="from")


class FileOutboxChannel(BatchChannel):
    kind = "file"
    options_model = OutboxOptions
    settings_for_empty: ClassVar[Mapping[str, str]] = {
        "directory": "outbox_dir",
        "sender": "smtp_from",
        "sender_name": "smtp_from_name",
    }

    directory: Path
    format: Literal["eml", "json"] = "eml"
    fsync: bool = True
    sender: str = "perfplan@localhost"
    sender_name: str = ""

    def describe(self) -> dict[str, str]:
        return {**super().describe(), "target": f"{self.directory}/ (.{self.format})"}

    def path_for(self, message: OutgoingMessage) -> Path:
        stem = f"{message.id:08d}-{message.kind}-{message.role}-{message.locale}"
        return self.directory / f"{stem}.{self.format}"

    def send_batch(
        self, messages: Sequence[OutgoingMessage], held: Held = always_held
    ) -> list[DeliveryError | None]:
        """Write every file aside, flush them to disk together, then put each in place.

        A message counts as sent once its file has its final name and that
        name is on disk too. Flushing a batch at once (one `syncfs` on Linux,
        else parallel `fsync`s) lets the file system commit its journal once
        instead of once per file: several times faster than file by file.
        """
        results: list[DeliveryError | None] = []
        written: list[tuple[int, Path, Path]] = []
        for index, message in enumerate(messages):
            if not held(message):
                results.append(lease_lost())
                continue
            try:
                written.append((index, *self._write_aside(message)))
                results.append(None)
            except DeliveryError as error:
                results.append(error)
        if self.fsync and written:
            flushed = _flush([partial for _, partial, _ in written], self.directory)
            for (index, _, _), problem in zip(written, flushed, strict=True):
                results[index] = problem
        for index, partial, path in written:
            if results[index] is None:
                results[index] = _rename(partial, path)
        if self.fsync and any(result is None for result in results):
            problem = _flush_directory(self.directory)
            results = [problem if result is None else result for result in results]
        return results

    def render(self, message: OutgoingMessage) -> bytes:
        if self.format == "json":
            return json.dumps(self._document(message), ensure_ascii=False, indent=2).encode()
        return build_email(
            message,
            sender=self.sender,
            sender_name=self.sender_name,
            sent_at=self.clock(),
            readable=True,
        )

    def _document(self, message: OutgoingMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "message_id": message.message_id,
            "kind": message.kind,
            "plan": message.plan_ref,
            "to": {
                "name": message.recipient_name,
                "address": message.address,
                "role": message.role,
                "locale": message.locale,
            },
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "link": message.link,
            "written_at": self.clock().isoformat(),
        }

    def _write_aside(self, message: OutgoingMessage) -> tuple[Path, Path]:
        path = self.path_for(message)
        partial = path.with_name(f".{path.name}.partial")
        try:
            content = self.render(message)
            self.directory.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(content)
        except OSError as error:
            raise _cannot_write(error) from None
        return partial, path


# Parallel flushes (without syncfs): enough for the journal to group its commits.
_FLUSHERS = 8


def _load_syncfs() -> Callable[[int], int] | None:
    """Linux's syncfs(2): flushes one file system, which Python's os module lacks."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    return cast("Callable[[int], int]", function)


_SYNCFS = _load_syncfs()


def _cannot_write(error: OSError) -> DeliveryError:
    name = type(error).__name__
    return DeliveryError(f"file outbox: cannot write ({name})", channel_down=True, code=name)


def _fsync(path: Path) -> DeliveryError | None:
    try:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            if _SYNCFS is not None and path.is_dir():
                if _SYNCFS(descriptor) != 0:
                    raise OSError(ctypes.get_errno(), "syncfs failed")
            else:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        return _cannot_write(error)
    return None


def _flush(partials: Sequence[Path], directory: Path) -> list[DeliveryError | None]:
    """Every file's content on disk: one syncfs of their file system, or an fsync each."""
    if _SYNCFS is not None:
        return [_fsync(directory)] * len(partials)
    with ThreadPoolExecutor(max_workers=_FLUSHERS) as pool:
        return list(pool.map(_fsync, partials))


def _flush_directory(directory: Path) -> DeliveryError | None:
    """The renames on disk (syncfs covers them; else fsync the folder itself)."""
    return _fsync(directory)


def _rename(partial: Path, path: Path) -> DeliveryError | None:
    try:
        partial.replace(path)
    except OSError as error:
        return _cannot_write(error)
    return None
