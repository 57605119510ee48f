"""Crash-tolerant JSON Lines files: the on-disk format of every RJS stage.

Each stage appends one JSON object per line and fsyncs after every batch, so an interrupted run
loses at most the batch in flight; readers drop (and count) a truncated last line and reject a
malformed line anywhere else, naming the file and line. The implementation is the application's
shared one, :mod:`applications.reward_models.files`; this module only re-exports it for the RJS
stages.
"""

from __future__ import annotations

from applications.reward_models.files import (
    JsonlContents,
    append_jsonl,
    read_jsonl,
    repair_jsonl,
    write_json_atomic,
    write_jsonl_atomic,
)

__all__ = [
    "JsonlContents",
    "append_jsonl",
    "read_jsonl",
    "repair_jsonl",
    "write_json_atomic",
    "write_jsonl_atomic",
]
