"""The whole training run: every scheme of a :class:`~.config.TrainConfig` on the same data.

:func:`run` loads the sources once, trains each scheme with :func:`.trainer.train_scheme`
(a resumed run reuses the schemes that already wrote ``metrics.json``) and writes the
comparison: ``config.yaml``, ``drops.json``, ``metrics.json`` and ``table.txt`` in
``output_dir``. :func:`main` is ``python -m applications.reward_models.train``.
"""

from __future__ import annotations

import json
import os
import sys

from accelerate import Accelerator
from transformers.utils import logging as hf_logging

from applications.reward_models.data.splits import SourceData, load_source_data
from applications.reward_models.evaluation.report import comparison_table
from applications.reward_models.evaluation.schema import (
    metrics_document,
    read_metrics,
    write_metrics,
)
from applications.reward_models.files import write_text_atomic
from applications.reward_models.modeling.reward_model import load_tokenizer
from applications.reward_models.training.config import TrainConfig, parse_args
from applications.reward_models.training.distributed import make_accelerator
from applications.reward_models.training.output_dir import claim_output_dir
from applications.reward_models.training.resume import (
    ResumeConfigError,
    check_resume_config,
    write_config,
)
from applications.reward_models.training.schemes import Scheme, resolve_scheme
from applications.reward_models.training.summary import run_notes
from applications.reward_models.training.trainer import SchemeResult, metrics_settings, train_scheme

__all__ = ["main", "run"]


def _finished(config: TrainConfig, scheme: Scheme) -> SchemeResult | None:
    """A resumed run's already finished scheme (its ``metrics.json``), else ``None``."""
    done = os.path.join(config.output_dir, scheme.name, "metrics.json")
    if not (config.resume and os.path.isfile(done)):
        return None
    metrics = read_metrics(done)["models"][scheme.name]
    return SchemeResult(scheme.name, os.path.dirname(done), metrics, [], 0.0)


def _write_inputs(config: TrainConfig, data: SourceData, accelerator: Accelerator) -> None:
    path = os.path.join(config.output_dir, "config.yaml")
    if not (config.resume and os.path.isfile(path)):  # a resumed run keeps the original
        write_config(config, path)
    write_text_atomic(
        os.path.join(config.output_dir, "drops.json"), json.dumps(data.drops.to_dict(), indent=2)
    )
    sizes = ", ".join(f"{n}={len(p)}" for n, p in data.train.items())
    accelerator.print(f"train pairs: {sizes}; {data.drops.summary()}")


def _write_summary(config: TrainConfig, data: SourceData, results: dict[str, SchemeResult]) -> None:
    table = comparison_table({s: r.metrics for s, r in results.items()})
    entries = {s: {**r.metrics, "run_dir": r.run_dir} for s, r in results.items()}
    document = metrics_document(
        entries, settings=metrics_settings(config, data), drops=data.drops.to_dict()
    )
    write_metrics(os.path.join(config.output_dir, "metrics.json"), document)
    diffs = {s: r.diffs for s, r in results.items()}
    complete = all(d for d in diffs.values()) and any(d for d in diffs.values())
    notes = run_notes(config, diffs if complete else None, list(results))
    write_text_atomic(os.path.join(config.output_dir, "table.txt"), f"{table}\n\n{notes}\n")
    print(f"\nper-source test metrics (output: {config.output_dir})\n{table}\n\n{notes}")


def run(config: TrainConfig) -> dict[str, SchemeResult]:
    """Load the data once, train every scheme of ``config`` on it, write the outputs.

    The main process holds ``output_dir``'s lock for the whole run and refuses a fresh run into
    an earlier run's folder (:func:`.output_dir.claim_output_dir`).
    """
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    accelerator = make_accelerator(config)
    with claim_output_dir(
        config.output_dir,
        resume=config.resume,
        overwrite=config.overwrite_output_dir,
        main=accelerator.is_main_process,
    ):
        return _run(config, accelerator)


def _run(config: TrainConfig, accelerator: Accelerator) -> dict[str, SchemeResult]:
    if config.resume:  # every rank refuses alike, before anything is written
        check_resume_config(config, os.path.join(config.output_dir, "config.yaml"))
    accelerator.wait_for_everyone()
    with accelerator.main_process_first():  # rank 0 fills download / dataset caches first
        os.makedirs(config.output_dir, exist_ok=True)
        data = load_source_data(
            config, load_tokenizer(config.model, trust_remote_code=config.trust_remote_code)
        )
    if accelerator.is_main_process:
        _write_inputs(config, data, accelerator)
    results: dict[str, SchemeResult] = {}
    for scheme in (resolve_scheme(name, config) for name in config.schemes()):
        finished = _finished(config, scheme)
        if finished is not None:
            done = os.path.join(finished.run_dir, "metrics.json")
            accelerator.print(f"[{scheme.name}] already finished; reusing {done}")
        else:
            finished = train_scheme(config, scheme, data, accelerator=accelerator)
        results[scheme.name] = finished
    if accelerator.is_main_process:
        _write_summary(config, data, results)
    return results


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse ``argv`` (default ``sys.argv[1:]``), train, print the table."""
    try:
        config = parse_args(argv)
    except (ValueError, TypeError, ImportError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        run(config)
    except ResumeConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
