"""``colonies channel``: talk to a running process through the channels its spec declares
(``spec.channels``): append a message, read the log, follow it as it grows. The signer must be
the process's submitter or the executor it is assigned to (COLONIES_PRVKEY / --prvkey)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated, Any

import typer

from ..executor.channels import Channel
from .common import CliError, Session, command, group
from .output import human_time

__all__ = ["app"]

app = group("Send and read messages on a running process's channels.")

ProcessOpt = Annotated[str, typer.Option("--processid", "-p", help="The process (its spec declares the channel).")]
NameOpt = Annotated[str, typer.Option("--name", "-n", help="Channel name.")]
AfterOpt = Annotated[int, typer.Option("--after", help="Skip this many entries (a log index, not a sequence).", min=0)]


def _text(payload: Any) -> str | None:
    """The payload as text when it is UTF-8, else None."""
    if payload is None or payload == "":
        return ""
    try:
        return bytes(payload).decode("utf-8")
    except (UnicodeDecodeError, TypeError):
        return None


def _shown(payload: Any) -> str:
    text = _text(payload)
    return text if text is not None else "base64:" + base64.b64encode(bytes(payload)).decode("ascii")


def _json_entry(index: int, entry: dict[str, Any]) -> dict[str, Any]:
    """An entry for --json: the wire fields, ``payload`` in Base64 as on the wire, plus ``index``
    and ``text`` (the payload decoded, when it is UTF-8)."""
    payload = entry.get("payload")
    out: dict[str, Any] = {"index": index, **entry}
    out["payload"] = None if payload is None else base64.b64encode(bytes(payload or b"")).decode("ascii")
    text = _text(payload)
    if text is not None:
        out["text"] = text
    return out


@command(app, "append", json=True)
def append(
    s: Session,
    processid: ProcessOpt,
    name: NameOpt,
    message: Annotated[str | None, typer.Option("--msg", "-m", help="The message text.", show_default=False)] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Send this file's bytes instead of --msg.", show_default=False)
    ] = None,
    payload_type: Annotated[
        str, typer.Option("--type", help="Entry type: data, end (end of stream), error, or your own.")
    ] = "data",
    sequence: Annotated[
        int | None,
        typer.Option("--seq", help="Sequence number (default: one more than your last one).", show_default=False),
    ] = None,
    in_reply_to: Annotated[int, typer.Option("--inreplyto", help="The sequence this message answers.")] = 0,
) -> None:
    """Append a message to a channel."""
    if message is not None and file is not None:
        raise CliError("pass --msg or --file, not both")
    if file is not None:
        try:
            payload: bytes | str = file.read_bytes()
        except OSError as exc:
            raise CliError(f"cannot read {file}: {exc.strerror or exc}") from None
    else:
        payload = message or ""
        if message is None and payload_type != "end":
            raise CliError("pass --msg (or --file) with the message")
    channel = Channel(s.client, processid, name, first_sequence=sequence)
    used = channel.send(payload, in_reply_to=in_reply_to, type=payload_type)
    if s.json:
        s.out.emit_json({"processid": processid, "name": name, "sequence": used})
    else:
        s.out.info(f"Appended to channel {name} of process {processid} (sequence {used})")


def _table(s: Session, entries: list[dict[str, Any]], first_index: int) -> None:
    s.out.table(
        ["Index", "Seq", "InReplyTo", "Type", "Sender", "Time", "Payload"],
        [
            (
                first_index + i,
                e.get("sequence", 0),
                e.get("inreplyto", "") or "",
                e.get("type", ""),
                str(e.get("senderid", ""))[:12],
                human_time(e.get("timestamp")),
                _shown(e.get("payload")),
            )
            for i, e in enumerate(entries)
        ],
    )


@command(app, "read", json=True)
def read(
    s: Session,
    processid: ProcessOpt,
    name: NameOpt,
    after: AfterOpt = 0,
    count: Annotated[int, typer.Option("--count", help="At most this many entries (0: all).", min=0)] = 0,
) -> None:
    """Print a channel's entries: INDEX, SEQ, INREPLYTO, TYPE, SENDER, TIME, PAYLOAD."""
    entries = s.client.channel_read(processid, name, after, count) or []
    if s.json:
        s.out.emit_json([_json_entry(after + i, e) for i, e in enumerate(entries)])
    elif not entries:
        s.out.info(f"No entries in channel {name}" + (f" after index {after}" if after else ""))
    else:
        _table(s, entries, after)


@command(app, "follow", json=True)
def follow(
    s: Session,
    processid: ProcessOpt,
    name: NameOpt,
    after: AfterOpt = 0,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Stop after this many seconds.", show_default=False)
    ] = None,
    through_end: Annotated[
        bool, typer.Option("--through-end", help="Keep following after an entry of type end.")
    ] = False,
) -> None:
    """Print a channel's entries as they arrive, until an entry of type end, --timeout or the
    process's end (one line each; --json: one JSON object per line)."""
    index = after
    for entry in s.client.follow_channel(
        processid, name, after_index=after, timeout=timeout, until_end=not through_end
    ):
        if s.json:
            s.out.emit_json_line(_json_entry(index, entry))
        else:
            reply = f" (reply to {entry['inreplyto']})" if entry.get("inreplyto") else ""
            kind = entry.get("type", "data")
            tag = "" if kind == "data" else f" [{kind}]"
            sender = str(entry.get("senderid", ""))[:12]
            s.out.line(
                f"{human_time(entry.get('timestamp'))} {sender} #{entry.get('sequence', 0)}{reply}{tag}: "
                f"{_shown(entry.get('payload'))}"
            )
        index += 1
