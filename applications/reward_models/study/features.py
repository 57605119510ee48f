"""The frozen backbone's features of every study text, computed once and cached.

With the backbone frozen, a reward model is ``r(x, y) = head(z(x, y))`` where ``z`` is what the
reward head receives (:func:`~applications.reward_models.modeling.scoring.head_inputs`). Every
(prompt, response) of the study's training, calibration and test pairs is encoded once; all
schemes, seeds and ablations then train and score heads on the same table. The table is saved
to a file keyed by the model, ``max_length`` and the texts, so a second study on the same data
does not encode again.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from applications.reward_models.data.schema import PreferencePair

__all__ = ["FeatureTable", "encode_pairs"]

Text = tuple[str, str]


def _fingerprint(model: str, max_length: int, texts: Sequence[Text]) -> str:
    digest = hashlib.sha256(f"{model}\0{max_length}".encode())
    for prompt, response in texts:
        digest.update(f"\0{prompt}\1{response}".encode())
    return digest.hexdigest()


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


def _load_cached(path: str, key: str, texts: list[Text]) -> FeatureTable | None:
    if not os.path.isfile(path):
        return None
    saved = torch.load(path, weights_only=True)
    if saved.get("key") != key:
        return None
    return FeatureTable(saved["features"], {t: i for i, t in enumerate(texts)})


def encode_pairs(
    pairs: Iterable[PreferencePair],
    model_name: str,
    *,
    max_length: int,
    batch_size: int = 64,
    cache: str | None = None,
    progress: bool = True,
    trust_remote_code: bool = False,
) -> FeatureTable:
    """The :class:`FeatureTable` of every text of ``pairs``, read from ``cache`` when it holds
    exactly these texts for this model and ``max_length``, else encoded and written there
    (atomically)."""
    from applications.reward_models.files import write_bytes_atomic
    from applications.reward_models.modeling.reward_model import load_reward_model
    from applications.reward_models.modeling.scoring import head_inputs

    texts = _texts(pairs)
    key = _fingerprint(model_name, max_length, texts)
    cached = _load_cached(cache, key, texts) if cache else None
    if cached is not None:
        return cached
    model, tokenizer = load_reward_model(model_name, trust_remote_code=trust_remote_code)
    features = head_inputs(
        model,
        tokenizer,
        [t[0] for t in texts],
        [t[1] for t in texts],
        batch_size=batch_size,
        max_length=max_length,
        progress=progress,
        desc="encoding texts (frozen backbone)",
    )
    if cache:
        buffer = io.BytesIO()
        torch.save({"key": key, "features": features}, buffer)
        write_bytes_atomic(cache, buffer.getvalue())
    return FeatureTable(features, {t: i for i, t in enumerate(texts)})
