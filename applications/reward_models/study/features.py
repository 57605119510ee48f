"""The frozen backbone's features of every study text, computed once and cached.

With the backbone frozen, a reward model is ``r(x, y) = head(z(x, y))`` where ``z`` is what the
reward head receives (:func:`~applications.reward_models.modeling.scoring.head_inputs`). Every
(prompt, response) of the study's training, calibration and test pairs is encoded once; all
schemes, seeds and ablations then train and score heads on the same table. The table is saved
to a file (per model and ``max_length``, text by text), so a later study encodes only the texts
it has not seen.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from applications.reward_models.data.schema import PreferencePair

__all__ = ["FeatureTable", "encode_pairs"]

Text = tuple[str, str]


@dataclass(frozen=True)
class FeatureTable:
    """Features ``[N, H]`` of distinct (prompt, response) texts and the row of each text."""

    features: torch.Tensor
    rows: dict[Text, int]

    def pairs(self, pairs: Sequence[PreferencePair]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z_chosen [B, H], z_rejected [B, H])`` of ``pairs``."""
        chosen = [self.rows[(p.prompt, p.chosen)] for p in pairs]
        rejected = [self.rows[(p.prompt, p.rejected)] for p in pairs]
        return self.features[chosen], self.features[rejected]

    def standardized(self, pairs: Sequence[PreferencePair]) -> FeatureTable:
        """Every feature shifted and scaled to mean 0 and sd 1 over the texts of ``pairs`` (the
        training pairs): an affine map, so the heads it admits are the same, but one learning
        rate then suits every backbone's feature scale."""
        rows = sorted({self.rows[t] for t in _texts(pairs)})
        fit = self.features[rows]
        scale = fit.std(0).clamp_min(1e-6)
        return FeatureTable((self.features - fit.mean(0)) / scale, self.rows)

    @property
    def width(self) -> int:
        """H, the width of the head's input."""
        return int(self.features.shape[1])


def _texts(pairs: Iterable[PreferencePair]) -> list[Text]:
    seen: dict[Text, None] = {}
    for p in pairs:
        seen.setdefault((p.prompt, p.chosen))
        seen.setdefault((p.prompt, p.rejected))
    return list(seen)


def _load_cache(
    path: str | None, model_name: str, max_length: int, pooling: str
) -> FeatureTable | None:
    if not path or not os.path.isfile(path):
        return None
    saved = torch.load(path, weights_only=True)
    key = (saved.get("model"), saved.get("max_length"), saved.get("pooling", "auto"))
    if key != (model_name, max_length, pooling):
        return None
    texts = [tuple(t) for t in saved["texts"]]
    return FeatureTable(saved["features"], {t: i for i, t in enumerate(texts)})


def _save_cache(
    path: str, model_name: str, max_length: int, pooling: str, table: FeatureTable
) -> None:
    from applications.reward_models.files import write_bytes_atomic

    texts = sorted(table.rows, key=table.rows.__getitem__)
    saved = {
        "model": model_name,
        "max_length": max_length,
        "pooling": pooling,
        "texts": [list(t) for t in texts],
        "features": table.features,
    }
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    write_bytes_atomic(path, buffer.getvalue())


def encode_pairs(
    pairs: Iterable[PreferencePair],
    model_name: str,
    *,
    max_length: int,
    batch_size: int = 64,
    cache: str | None = None,
    pooling: str = "auto",
    progress: bool = True,
    trust_remote_code: bool = False,
) -> FeatureTable:
    """The :class:`FeatureTable` of every text of ``pairs``.

    ``cache``: a file of features of earlier studies with the same model, ``max_length`` and
    ``pooling`` (a file without a pooling entry was encoded with ``auto``);
    only the texts it lacks are encoded, and the grown table is written back (atomically).
    """
    texts = _texts(pairs)
    known = _load_cache(cache, model_name, max_length, pooling)
    rows = dict(known.rows) if known is not None else {}
    missing = [t for t in texts if t not in rows]
    if not missing and known is not None:
        return known
    features = _encode(missing, model_name, max_length, batch_size, progress, trust_remote_code,
                       pooling)  # fmt: skip
    if known is not None:
        features = torch.cat([known.features, features])
    for t in missing:
        rows[t] = len(rows)
    table = FeatureTable(features, rows)
    if cache:
        _save_cache(cache, model_name, max_length, pooling, table)
    return table


def _encode(
    texts: list[Text],
    model_name: str,
    max_length: int,
    batch_size: int,
    progress: bool,
    trust_remote_code: bool,
    pooling: str = "auto",
) -> torch.Tensor:
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.modeling.scoring import head_inputs

    model, tokenizer = load_reward_model(model_name, pooling, trust_remote_code=trust_remote_code)
    return head_inputs(
        model,
        tokenizer,
        [t[0] for t in texts],
        [t[1] for t in texts],
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        desc="encoding texts (frozen backbone)",
    )
