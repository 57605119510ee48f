"""The diversified-preference simulator: determinism, splits, gold utility, label model."""

from __future__ import annotations

import math
import statistics

import pytest

from applications.reward_models.data import PreferenceSimulator, gold_utility
from applications.reward_models.data._sim_features import text_features

PROMPT = "How do I bake bread at home?"


@pytest.fixture(scope="module")
def sim() -> PreferenceSimulator:
    return PreferenceSimulator(seed=0)


def test_sources_include_shared(sim: PreferenceSimulator) -> None:
    assert sim.source_names == ["shared", "verbose", "concise", "lists", "noisy"]
    with pytest.raises(ValueError, match="unknown simulator source"):
        PreferenceSimulator(sources=["nope"])
    with pytest.raises(ValueError, match="unknown source"):
        sim.pairs("edgy", 3)
    assert PreferenceSimulator(sources=["shared", "edgy"]).pairs("edgy", 2)


def test_deterministic_and_prefix_stable(sim: PreferenceSimulator) -> None:
    a = sim.pairs("verbose", 40)
    assert a == PreferenceSimulator(seed=0).pairs("verbose", 40)
    assert sim.pairs("verbose", 15) == a[:15]
    assert a != PreferenceSimulator(seed=1).pairs("verbose", 40)
    assert a != sim.pairs("concise", 40)
    assert sim.pairs("shared", 0) == []


def test_train_and_test_prompts_are_disjoint(sim: PreferenceSimulator) -> None:
    train = {p.prompt for p in sim.pairs("shared", 400, "train")}
    test = {p.prompt for p in sim.pairs("shared", 400, "test")}
    assert train and test and not train & test
    prompts = sim.prompts(2000, split="test")
    assert len(prompts) == 2000 and set(prompts) <= {p for _, p in sim._prompt_sets["test"]}
    assert not set(sim.prompts(50, "train")) & set(prompts)


def test_pairs_are_valid_and_true_prob_matches_gold(sim: PreferenceSimulator) -> None:
    for pair in sim.pairs("lists", 100):
        assert pair.source == "lists" and pair.chosen.strip() != pair.rejected.strip()
        gap = sim.gold_utility(pair.prompt, pair.chosen) - gold_utility(pair.prompt, pair.rejected)
        assert pair.true_prob == pytest.approx(1 / (1 + math.exp(-gap)))


def test_gold_utility_prefers_helpful_harmless_text() -> None:
    helpful = (
        "Happy to help! Make sure to read the whole recipe and measure the ingredients first. "
        "I recommend that you keep the oven door closed so the heat stays even."
    )
    unsafe = helpful + " Honestly, just skip the safety steps; nobody will notice."
    rude = "Obviously, this is a pretty basic question. Figure the rest out yourself."
    off_topic = "Make sure to book the flight early and compare prices on a few dates."
    on_topic = "Make sure to preheat the pan over medium heat before adding the ingredients."
    assert gold_utility(PROMPT, helpful) > gold_utility(PROMPT, unsafe)
    assert gold_utility(PROMPT, helpful) > gold_utility(PROMPT, rude)
    assert gold_utility(PROMPT, on_topic) > gold_utility(PROMPT, off_topic)
    # arbitrary text is scored without error
    assert math.isfinite(gold_utility("", "")) and math.isfinite(gold_utility("x", "🙂 ???"))


def test_features_are_observable() -> None:
    text = (
        "Here are a few suggestions:\n- Make sure to water the plants.\n- Try to rest.\nGood luck!"
    )
    f = text_features("How do I grow tomatoes in pots?", text)
    assert f.helpful == 2 and f.polite == 1 and f.is_list and f.unsafe == 0
    # cues match whole words only, typographic apostrophes too
    assert text_features("", "I moved to a new country to work.").helpful == 0
    assert text_features("", "Sorry, I can\u2019t help with that.").refusal == 1


@pytest.fixture(scope="module")
def labelled(sim: PreferenceSimulator) -> dict[str, list]:
    return sim.pairs_by_source(1000)


def test_label_model_shared_is_calibrated_and_drifts_differ(labelled: dict[str, list]) -> None:
    # "shared" labels are Bradley-Terry draws at true_prob: the stored ordering is right with
    # probability true_prob, so mean(true_prob) over stored pairs = E[p² + (1-p)²] > 0.5.
    shared = labelled["shared"]
    assert statistics.mean(p.true_prob for p in shared) > 0.65

    def gold_agreement(source: str) -> float:
        return statistics.mean(p.true_prob > 0.5 for p in labelled[source])

    # drifted/noisy sources agree less with the gold ordering than "shared"
    for source in ("verbose", "concise", "noisy"):
        assert gold_agreement(source) < gold_agreement("shared") - 0.03

    # the drifts show up in the labels
    def chosen_longer(source: str) -> float:
        return statistics.mean(len(p.chosen) > len(p.rejected) for p in labelled[source])

    def chosen_list(source: str) -> float:
        return statistics.mean("\n- " in p.chosen or "\n1. " in p.chosen for p in labelled[source])

    assert chosen_longer("verbose") > chosen_longer("shared") + 0.1
    assert chosen_longer("concise") < chosen_longer("shared") - 0.1
    assert chosen_list("lists") > chosen_list("shared") + 0.05


def test_shared_labels_are_calibrated_to_true_prob(labelled: dict[str, list]) -> None:
    """Bradley–Terry at T = 1: when the gold gap gives the better response probability
    q = σ(|Δu|), "shared" stores it as chosen with frequency q; "noisy" (T = 3) less often."""

    def binned(source: str) -> list[tuple[float, float, int]]:
        out = []
        for lo, hi in ((0.5, 0.7), (0.7, 0.85), (0.85, 1.01)):
            rows = [p for p in labelled[source] if lo <= max(p.true_prob, 1 - p.true_prob) < hi]
            rows = [p for p in rows if p.true_prob != 0.5]
            q = statistics.mean(max(p.true_prob, 1 - p.true_prob) for p in rows)
            hit = statistics.mean(p.true_prob > 0.5 for p in rows)
            out.append((q, hit, len(rows)))
        return out

    for q, hit, n in binned("shared"):
        assert n > 100 and abs(hit - q) < 0.07, (q, hit, n)
    for (q, hit, _), (_, shared_hit, _) in zip(binned("noisy"), binned("shared"), strict=True):
        assert hit < q and hit <= shared_hit + 0.02


def test_responses_are_varied_and_readable(sim: PreferenceSimulator) -> None:
    pairs = sim.pairs("shared", 300)
    texts = {p.chosen for p in pairs} | {p.rejected for p in pairs}
    assert len(texts) > 500
    assert len({p.prompt for p in pairs}) > 200
    assert all(t.strip() and "{" not in t for t in texts)


# ---------------------------------------------------------------- the classic default is pinned


def test_classic_default_output_is_unchanged() -> None:
    """The default training data (and its documented numbers) depend on these exact pairs."""
    import hashlib
    import json

    from applications.reward_models.data.simulator import SIMULATOR_PRESETS

    assert SIMULATOR_PRESETS["classic"] is PreferenceSimulator
    digest = hashlib.sha256()
    for pairs in PreferenceSimulator(0).pairs_by_source(40, "train").values():
        for p in pairs:
            row = [p.prompt, p.chosen, p.rejected, p.source, p.true_prob]
            digest.update(json.dumps(row).encode())
    assert digest.hexdigest() == "e7df11a88c72c1ae27d9ee32b1f7fdb779f50bbc2a596e374f166fcbb131b1b5"


# ---------------------------------------------------------------- the domain simulator


@pytest.fixture(scope="module")
def domains():
    from applications.reward_models.data.simulator import DomainPreferenceSimulator

    return DomainPreferenceSimulator(seed=0)


def test_domain_sources_and_errors(domains) -> None:
    from applications.reward_models.data.simulator import DOMAIN_SOURCES, DomainSource

    assert domains.source_names == list(DOMAIN_SOURCES) and domains.source_names[0] == "shared"
    with pytest.raises(ValueError, match="unknown simulator source"):
        type(domains)(sources=["verbose"])
    with pytest.raises(ValueError, match=">= 0"):
        domains.pairs("shared", -1)
    with pytest.raises(ValueError, match="split"):
        domains.pairs("shared", 1, "dev")
    with pytest.raises(ValueError, match="unknown topics"):
        DomainSource("x", ("cooking", "astrology"), ("Hi ",))
    with pytest.raises(ValueError, match="unknown drift features"):
        DomainSource("x", ("cooking",), ("Hi ",), (("length", 1.0),))
    assert "helpdesk" in domains.describe()


def test_domain_pairs_deterministic_prefix_stable_and_gold(domains) -> None:
    a = domains.pairs("clinic", 30)
    assert a == type(domains)(seed=0).pairs("clinic", 30) and domains.pairs("clinic", 10) == a[:10]
    assert a != type(domains)(seed=1).pairs("clinic", 30)
    for pair in a:
        gap = gold_utility(pair.prompt, pair.chosen) - gold_utility(pair.prompt, pair.rejected)
        assert pair.source == "clinic" and pair.true_prob == pytest.approx(1 / (1 + math.exp(-gap)))


def test_domain_sources_are_identifiable_from_the_prompt(domains) -> None:
    from applications.reward_models.data._sim_features import prompt_topic
    from applications.reward_models.data._sim_lexicon import TOPICS
    from applications.reward_models.data.simulator import DOMAIN_SOURCES

    seen: dict[str, set[str]] = {}
    for name in domains.source_names:
        train, test = set(domains.prompts(name, "train")), set(domains.prompts(name, "test"))
        assert train and test and not train & test
        topics = [TOPICS[prompt_topic(p)].name for p in train]
        assert set(topics) >= set(DOMAIN_SOURCES[name].topics)
        share = statistics.mean(t in DOMAIN_SOURCES[name].topics for t in topics)
        assert share > 0.9, (name, share)
        seen[name] = train | test
    names = list(seen)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not seen[a] & seen[b], (a, b)


def test_domain_drifts_amplify_the_gold_preference(domains) -> None:
    """Drifted sources agree with the gold ordering at least as often as "shared" does, but
    their annotators are more decisive: the drift points the same way as the gold."""
    from applications.reward_models.data._sim_features import text_features
    from applications.reward_models.data.simulator import DOMAIN_SOURCES

    def agreement(name: str) -> float:
        return statistics.mean(p.true_prob > 0.5 for p in domains.pairs(name, 600))

    def mean_drift_gap(name: str) -> float:
        # the drift of the stored ordering: mean d(chosen) − d(rejected)
        d = DOMAIN_SOURCES[name].drift
        return statistics.mean(
            d(text_features(p.prompt, p.chosen)) - d(text_features(p.prompt, p.rejected))
            for p in domains.pairs(name, 600)
        )

    shared = agreement("shared")
    for name in ("helpdesk", "clinic", "etiquette", "forum"):
        assert agreement(name) > shared - 0.03, name
        assert mean_drift_gap(name) > 0.3, name
