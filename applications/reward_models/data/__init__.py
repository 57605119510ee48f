"""Preference data: canonical pairs, sources, the simulator and sampling.

The names below are re-exported lazily (PEP 562): the modules are imported on first use, so
that ``import applications.reward_models.data.source_spec`` (every CLI's ``--help``) imports no
torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "load_canonical": "canonical",
    "save_pairs": "canonical",
    "PairCollator": "collate",
    "encode_many": "collate",
    "encode_prompt_response": "collate",
    "filter_overlength": "collate",
    "format_text": "collate",
    "pad_sequences": "collate",
    "load_hh_rlhf": "hh_rlhf",
    "DataSourceError": "io",
    "read_local_rows": "io",
    "load_oasst1": "oasst1",
    "BalancedBatchSampler": "sampling",
    "UniformBatchSampler": "sampling",
    "resample_indices": "sampling",
    "DROP_REASONS": "schema",
    "DropReport": "schema",
    "PreferencePair": "schema",
    "validate_pair_texts": "schema",
    "SOURCE_DRIFTS": "simulator",
    "PreferenceSimulator": "simulator",
    "SourceDrift": "simulator",
    "gold_utility": "simulator",
    "SOURCE_OPTIONS": "source_spec",
    "SourceSpec": "source_spec",
    "SOURCE_KINDS": "sources",
    "load_pairs": "sources",
    "SplitConfig": "split_config",
    "load_summarize": "summarize",
    "load_webgpt": "webgpt",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
