"""What the training run prints under its table so that the table explains itself.

* **Intervals** (95 %, paired bootstrap over each source's test pairs, one training seed —
  :func:`~..evaluation.uncertainty.bootstrap`): accuracy and ECE per scheme and source, the
  difference of the last scheme's ECE from the first's (``no difference`` when the interval
  holds 0), and the ECE a perfectly calibrated model would score on these pairs
  (:func:`~..evaluation.uncertainty.noise_floor`, the upper end of its 95 % band).
* A one-line gloss of **gold ECE**.
* The ``evaluate`` command that scores the saved models on the same test pairs and draws the
  plots (:func:`evaluate_command`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from applications.reward_models.data.source_spec import SourceSpec
from applications.reward_models.data.split_config import EvalSplitConfig
from applications.reward_models.evaluation.uncertainty import bootstrap, noise_floor
from applications.reward_models.sections import ScoringConfig

__all__ = ["GOLD_ECE", "evaluate_command", "interval_table", "run_notes"]

GOLD_ECE = (
    "gold ECE: the ECE of σ(Δ) against the simulator's true preference probabilities "
    "(not the sampled labels), so it has no label noise; shown on simulator data only."
)

Diffs = Mapping[str, Mapping[str, Any]]  # scheme -> source -> reward differences Δ


def _cell(interval: Any, digits: int = 3) -> str:
    e, lo, hi = interval.estimate, interval.low, interval.high
    return f"{e:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def _source_row(name: str, diffs: Diffs, schemes: Sequence[str]) -> list[str]:
    models = [diffs[s][name] for s in schemes]
    boot = bootstrap([models], n_boot=1000, seed=0)
    cells = [name, str(len(models[0]))]
    cells += [_cell(boot.accuracy[i], 2) for i in range(len(schemes))]
    cells += [_cell(boot.ece[i]) for i in range(len(schemes))]
    floor = max(noise_floor(d, n_sim=1000, seed=0).high for d in models)
    cells.append(f"{floor:.3f}")
    if len(schemes) > 1:
        delta = boot.delta_ece[-1]
        gap = -delta.estimate, -delta.high, -delta.low  # last scheme - first scheme
        verdict = "no difference" if gap[1] <= 0 <= gap[2] else "differs"
        cells.append(f"{gap[0]:+.3f} [{gap[1]:+.3f}, {gap[2]:+.3f}] {verdict}")
    return cells


def interval_table(diffs: Diffs) -> str:
    """The 95 % interval table of a run's schemes (see the module doc)."""
    schemes = list(diffs)
    sources = list(dict.fromkeys(s for by_source in diffs.values() for s in by_source))
    header = ["source", "n", *(f"{s} acc" for s in schemes), *(f"{s} ECE" for s in schemes)]
    header.append("ECE floor")
    if len(schemes) > 1:
        header.append(f"ECE {schemes[-1]} - {schemes[0]}")
    rows = [header] + [_source_row(n, diffs, schemes) for n in sources]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    return "\n".join(lines + [fmt.format(*r) for r in rows[1:]])


def _source_text(source: SourceSpec) -> str | None:
    """``name[:kind[:path]]`` when that says all of ``source``, else ``None``."""
    if SourceSpec(source.name, source.kind, source.path) != source:
        return None
    parts = [source.name, source.kind, source.path or ""]
    return ":".join(parts).rstrip(":").removesuffix(":simulator")


def evaluate_command(config: Any, schemes: Sequence[str]) -> str:
    """The ``evaluate`` command scoring the run's final models on its test pairs (options that
    differ from evaluate's defaults, which are training's, are spelled out)."""
    out = config.output_dir
    argv = ["python", "-m", "applications.reward_models.evaluate", "--models"]
    argv += [f"{s}={out}/{s}/final" for s in schemes]
    for section in (EvalSplitConfig(), ScoringConfig()):
        for name, default in vars(section).items():
            if getattr(config, name) != default:
                argv += [f"--{name}", str(getattr(config, name))]
    texts = [_source_text(s) for s in config.sources]
    if texts and None not in texts:
        argv += ["--sources", *texts]
    if config.trust_remote_code:
        argv.append("--trust_remote_code")
    argv += ["--output_dir", f"{out}/evaluation"]
    command = shlex.join(argv)
    if None in texts:
        command += "  # plus the run's --sources (test_path / holdout): copy them from config.yaml"
    return command


def run_notes(config: Any, diffs: Diffs | None, schemes: Sequence[str]) -> str:
    """The text printed under the training table."""
    n = config.test_pairs_per_source
    lines = []
    if diffs:
        lines += [
            f"95% intervals (paired bootstrap over each source's test pairs; one training seed, "
            f"so training noise is not in them; n ≤ {n} pairs per source is small):",
            interval_table(diffs),
            "ECE floor: a perfectly calibrated model's ECE on these pairs (95% band, upper end); "
            "an ECE below it is no evidence of miscalibration. Seeds, temperature scaling and "
            "noise floors: python -m applications.reward_models.study",
        ]
    else:
        lines.append(
            f"Small sample: at most {n} test pairs per source and one training seed; an accuracy "
            "difference under ~0.1 or an ECE difference under a few hundredths is noise."
        )
    lines += [GOLD_ECE, "Plots and the full report (same test pairs, same numbers):"]
    lines.append("  " + evaluate_command(config, schemes))
    return "\n".join(lines)
