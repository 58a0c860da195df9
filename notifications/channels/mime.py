"""A notification as a MIME message: multipart/alternative, plain text and HTML,
UTF-8 throughout, non-ASCII headers as RFC 2047 encoded words.

Written out directly rather than through `email.message`: the messages all
have the same simple shape, and the standard library's header folding costs
about a millisecond a message, which caps a batch far below what one SMTP
connection or one folder can take. The tests read every message back with
the standard library's parser.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from email.utils import formataddr

_B64_LINE = 57  # bytes of input per 76-character base64 line
_SPECIALS = set('()<>@,;:\\".[]')
_WORD_BYTES = 45  # 60 base64 characters: an encoded word stays within 75 (RFC 2047)


def encoded_header(value: str, linesep: str, *, raw: bool = False) -> str:
    """ASCII as is; anything else as RFC 2047 "B" encoded words of UTF-8, one
    per folded line, never splitting a character between two words. `raw`
    keeps UTF-8 as it is (RFC 6532), for files a person reads."""
    if raw or value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return f"{linesep} ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def address(name: str, addr: str, linesep: str, *, raw: bool = False) -> str:
    name = " ".join(name.split())  # no line break may end the header early
    if not name or name.isascii():
        return formataddr((name, addr))
    if raw:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{addr}>' if _SPECIALS.intersection(name) else f"{name} <{addr}>"
    return f"{encoded_header(name, linesep)} <{addr}>"


def _part(subtype: str, body: str, *, readable: bool, linesep: str, params: str = "") -> str:
    if readable:
        encoding, content = "8bit", linesep.join(body.splitlines())
    else:
        raw = body.encode("utf-8")
        lines = (
            base64.b64encode(raw[i : i + _B64_LINE]).decode("ascii")
            for i in range(0, len(raw), _B64_LINE)
        )
        encoding, content = "base64", linesep.join(lines)
    return linesep.join(
        [
            f'Content-Type: text/{subtype}; charset="utf-8"{params}',
            f"Content-Transfer-Encoding: {encoding}",
            "",
            content,
        ]
    )


def _calendar_method(calendar: str) -> str:
    """The iTIP method of an iCalendar text (REQUEST, CANCEL, ...), "" for none."""
    for line in calendar.splitlines():
        if line.upper().startswith("METHOD:"):
            return line.partition(":")[2].strip().upper()
    return ""


def _calendar_parts(calendar: str, *, readable: bool, linesep: str) -> list[str]:
    """The invitation as the last alternative (RFC 6047: text/calendar with its method),
    always base64: iCalendar's own CRLF line ends and folding must arrive unchanged."""
    if not calendar:
        return []
    method = _calendar_method(calendar)
    params = f"; method={method}" if method else ""
    return [_part("calendar", calendar, readable=False, linesep=linesep, params=params)]


def multipart_alternative(
    headers: Sequence[tuple[str, str]],
    text: str,
    html: str,
    *,
    readable: bool,
    calendar: str = "",
) -> bytes:
    """The whole message. `readable` keeps bodies as 8bit UTF-8 with LF line
    ends (a file a person opens); otherwise base64 bodies and CRLF (SMTP).
    `calendar`, an iCalendar text, is added as a third alternative."""
    linesep = "\n" if readable else "\r\n"
    boundary = f"=_perfplan_{uuid.uuid4().hex}"
    invitation = [
        piece
        for part in _calendar_parts(calendar, readable=readable, linesep=linesep)
        for piece in (f"--{boundary}", part)
    ]
    lines = [f"{name}: {value}" for name, value in headers]
    lines += [
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
        "",
        f"--{boundary}",
        _part("plain", text, readable=readable, linesep=linesep),
        f"--{boundary}",
        _part("html", html, readable=readable, linesep=linesep),
        *invitation,
        f"--{boundary}--",
        "",
    ]
    return linesep.join(lines).encode("utf-8")
