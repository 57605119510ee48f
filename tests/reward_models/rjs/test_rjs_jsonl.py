"""The RJS stages read and write JSONL through the application's one implementation."""

from __future__ import annotations

from applications.reward_models import files
from applications.reward_models.rjs import jsonl


def test_rjs_jsonl_reexports_the_shared_file_helpers():
    for name in jsonl.__all__:
        assert getattr(jsonl, name) is getattr(files, name), name
