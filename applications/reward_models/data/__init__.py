"""Preference data: canonical pairs, sources, the simulator and sampling."""

from __future__ import annotations

from applications.reward_models.data.canonical import load_canonical, save_pairs
from applications.reward_models.data.collate import (
    PairCollator,
    encode_many,
    encode_prompt_response,
    filter_overlength,
    format_text,
    pad_sequences,
)
from applications.reward_models.data.hh_rlhf import load_hh_rlhf
from applications.reward_models.data.io import DataSourceError, read_local_rows
from applications.reward_models.data.oasst1 import load_oasst1
from applications.reward_models.data.sampling import (
    BalancedBatchSampler,
    UniformBatchSampler,
    resample_indices,
)
from applications.reward_models.data.schema import (
    DROP_REASONS,
    DropReport,
    PreferencePair,
    validate_pair_texts,
)
from applications.reward_models.data.simulator import (
    SOURCE_DRIFTS,
    PreferenceSimulator,
    SourceDrift,
    gold_utility,
)
from applications.reward_models.data.sources import (
    SOURCE_KINDS,
    SOURCE_OPTIONS,
    SourceSpec,
    load_pairs,
)
from applications.reward_models.data.summarize import load_summarize
from applications.reward_models.data.webgpt import load_webgpt

__all__ = [
    "DROP_REASONS",
    "SOURCE_DRIFTS",
    "SOURCE_KINDS",
    "SOURCE_OPTIONS",
    "BalancedBatchSampler",
    "DataSourceError",
    "DropReport",
    "PairCollator",
    "PreferencePair",
    "PreferenceSimulator",
    "SourceDrift",
    "SourceSpec",
    "UniformBatchSampler",
    "encode_many",
    "encode_prompt_response",
    "filter_overlength",
    "format_text",
    "gold_utility",
    "load_canonical",
    "load_hh_rlhf",
    "load_oasst1",
    "load_pairs",
    "load_summarize",
    "load_webgpt",
    "pad_sequences",
    "read_local_rows",
    "resample_indices",
    "save_pairs",
    "validate_pair_texts",
]
