"""Turn the configured sources into train / test pairs per source, counting every drop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from applications.reward_models.data.collate import filter_overlength
from applications.reward_models.data.schema import DropReport, PreferencePair
from applications.reward_models.data.simulator import PreferenceSimulator
from applications.reward_models.training.config import SourceConfig, TrainConfig


@dataclass
class SourceData:
    """Pairs per source (source order = objective order) and the drops met while loading them."""

    train: dict[str, list[PreferencePair]]
    test: dict[str, list[PreferencePair]]
    drops: DropReport = field(default_factory=DropReport)

    @property
    def names(self) -> list[str]:
        return list(self.train)


def configured_sources(config: TrainConfig) -> list[SourceConfig]:
    """``config.sources``, or every default simulator source when none is given."""
    if config.sources:
        return list(config.sources)
    names = PreferenceSimulator(config.simulator_seed).source_names
    return [SourceConfig(name=n) for n in names]


def _load_real(
    source: SourceConfig, split: str, max_pairs: int | None, seed: int, drops: DropReport
) -> list[PreferencePair]:
    from applications.reward_models.data.sources import SourceSpec, load_pairs

    spec = SourceSpec(
        name=source.name,
        kind=source.kind,
        path=source.path,
        split=split,
        max_pairs=max_pairs,
        seed=seed,
        options=dict(source.options),
    )
    return list(load_pairs(spec, drops))


def load_source_data(config: TrainConfig, tokenizer: Any) -> SourceData:
    """Train and test pairs of every source, over-length pairs dropped and counted.

    Simulator sources generate ``train_pairs_per_source`` / ``test_pairs_per_source`` pairs; real
    sources keep a seeded subset of at most ``test_pairs_per_source`` test pairs (0: all) and, with
    ``cap_train``, of ``train_pairs_per_source`` training pairs (H3's ``SourceSpec.max_pairs``).

    Raises:
        ValueError: a source with no training pair left after filtering.
    """
    sources = configured_sources(config)
    drops = DropReport()
    sim_names = [s.name for s in sources if s.kind == "simulator"]
    sim = PreferenceSimulator(config.simulator_seed, sim_names) if sim_names else None
    train: dict[str, list[PreferencePair]] = {}
    test: dict[str, list[PreferencePair]] = {}
    for source in sources:
        if source.kind == "simulator":
            assert sim is not None
            tr = sim.pairs(source.name, config.train_pairs_per_source, split=source.split)
            te = (
                sim.pairs(source.name, config.test_pairs_per_source, split=source.test_split)
                if source.test_split and config.test_pairs_per_source > 0
                else []
            )
        else:
            cap = config.train_pairs_per_source if source.cap_train else None
            tr = _load_real(source, source.split, cap, config.seed, drops)
            te = []
            if source.test_split:
                n_test = config.test_pairs_per_source or None
                te = _load_real(source, source.test_split, n_test, config.seed, drops)
        train_drops, test_drops = DropReport(), DropReport()
        tr = filter_overlength(tr, tokenizer, config.max_length, train_drops)
        te = filter_overlength(te, tokenizer, config.max_length, test_drops)
        for (src, reason), n in train_drops.counts.items():
            drops.add(src, f"{reason}", n)
        for (src, reason), n in test_drops.counts.items():
            drops.add(src, f"{reason} (test)", n)
        if not tr:
            raise ValueError(
                f"source {source.name!r} has no training pair left "
                f"(max_length={config.max_length}; drops: {drops.for_source(source.name)})"
            )
        train[source.name] = tr
        test[source.name] = te
    return SourceData(train, test, drops)
