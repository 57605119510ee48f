"""The RJS stages wired to files under ``RJSConfig.output_dir`` (each stage resumable on its own).

Layout::

    samples.jsonl, samples.meta.json            stage sample
    scores/<rm>.jsonl, scores/<rm>.stats.json   stage score
    selected/<rm>.jsonl, selected/<rm>.stats.json   stage select
    policies/<rm>/                              stage sft (save_pretrained + sft_stats.json)
    eval/responses/<policy>.jsonl, eval/ppl/<policy>.json, eval/ece/<rm>.json,
    eval/judge/<candidate>-vs-<baseline>.json        stage evaluate
    report.md, report.json                      stage report
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from applications.reward_models.files import read_jsonl, write_json_atomic
from applications.reward_models.rjs.config import RJSConfig
from applications.reward_models.rjs.sample import (
    load_samples,
    policy_sampler,
    prompt_token_length,
    sample_prompts,
)

Log = Callable[[str], None]


def stderr_log(message: str) -> None:
    print(f"[rjs {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data sources
# Prompts and held-out pairs follow the one split rule of data.splits, seeded by simulator_seed (the
# data seed): the policy never samples on, and PPL / ECE never score, the other split's prompts.
def simulator(cfg: RJSConfig) -> Any:
    from applications.reward_models.data.simulator import PreferenceSimulator

    return PreferenceSimulator(seed=cfg.simulator_seed)


def _source_pairs(cfg: RJSConfig, kind: str, split: str) -> list[Any]:
    """The ``train`` or ``test`` pairs of a real source by the one split rule."""
    from applications.reward_models.data.splits import load_splits, load_test_pairs

    spec = cfg.prompt_spec(kind)
    if split == "test":
        return load_test_pairs([spec], data_seed=cfg.simulator_seed, test_pairs=None)[kind]
    data = load_splits([spec], data_seed=cfg.simulator_seed, train_pairs=None, test_pairs=None)
    return data.train[kind]


def load_prompts(cfg: RJSConfig, split: str, n: int) -> list[str]:
    """``n`` prompts of ``split``: simulator prompts, or the first ``n`` unique source prompts."""
    if cfg.prompt_source == "simulator":
        return simulator(cfg).prompts(n, split=split)
    unique = list(dict.fromkeys(p.prompt for p in _source_pairs(cfg, cfg.prompt_source, split)))
    if not unique:
        raise ValueError(f"source {cfg.prompt_source!r} split {split!r} has no prompts")
    return unique[:n]


def held_out_pairs(
    cfg: RJSConfig, n_per_source: int, sources: list[str] | None = None
) -> dict[str, list[Any]]:
    """Test preference pairs per source (for PPL on chosen responses and a computed ECE): the
    simulator's test pairs, or the first ``n_per_source`` test pairs of a real source.

    ``sources`` defaults to ``--ppl_sources``, else every simulator source or the prompt source.
    """
    from applications.reward_models.data.source_spec import SourceSpec
    from applications.reward_models.data.splits import load_test_pairs

    if cfg.prompt_source == "simulator":
        names = sources or cfg.ppl_sources or simulator(cfg).source_names
        specs = [SourceSpec(s) for s in names]
        return load_test_pairs(specs, data_seed=cfg.simulator_seed, test_pairs=n_per_source)
    names = sources or cfg.ppl_sources or [cfg.prompt_source]
    return {s: _source_pairs(cfg, s, "test")[:n_per_source] for s in names}


# ---------------------------------------------------------------- models
class Models:
    """Loads the base policy once per process and hands out copies (SFT mutates its model)."""

    def __init__(self, cfg: RJSConfig, log: Log):
        self.cfg, self.log = cfg, log
        self._base: tuple[Any, Any] | None = None

    def base(self) -> tuple[Any, Any]:
        if self._base is None:
            from applications.reward_models.rjs.policy import load_policy

            start = time.perf_counter()
            self._base = load_policy(self.cfg.policy, trust_remote_code=self.cfg.trust_remote_code)
            self._base[0].eval()
            self.log(f"loaded policy {self.cfg.policy} in {time.perf_counter() - start:.1f}s")
        return self._base

    def base_copy(self) -> tuple[Any, Any]:
        model, tokenizer = self.base()
        return copy.deepcopy(model), tokenizer

    def policy(self, name: str) -> tuple[Any, Any]:
        if name == "base":
            return self.base()
        from applications.reward_models.rjs.policy import load_policy

        model, tokenizer = load_policy(
            str(self.cfg.path("policies", name)), trust_remote_code=self.cfg.trust_remote_code
        )
        model.eval()
        return model, tokenizer

    def reward_model(self, path: str) -> tuple[Any, Any]:
        from applications.reward_models.modeling.reward_model import load_reward_model

        model, tokenizer = load_reward_model(path, trust_remote_code=self.cfg.trust_remote_code)
        model.eval()
        return model, tokenizer


# ---------------------------------------------------------------- stages
def stage_sample(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    prompts = load_prompts(cfg, "train", cfg.num_prompts)
    model, tokenizer = models.base()
    gen = cfg.generation()
    stats = sample_prompts(
        prompts,
        cfg.path("samples.jsonl"),
        policy_sampler(model, tokenizer, gen),
        n=cfg.n,
        seed=cfg.seed,
        rows_per_batch=gen.batch_size,
        meta={"policy": cfg.policy, "generation": gen.__dict__, "prompt_source": cfg.prompt_source},
        length_fn=prompt_token_length(tokenizer),
        log=log,
    )
    log(f"sample: {stats.to_dict()}")
    return stats.to_dict()


def stage_score(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    from applications.reward_models.modeling.scoring import score_texts
    from applications.reward_models.rjs.score import score_samples

    samples = load_samples(cfg.path("samples.jsonl"))
    if not samples:
        raise ValueError(f"{cfg.path('samples.jsonl')} has no samples; run the sample stage first")
    out: dict[str, Any] = {}
    for name, path in cfg.reward_models().items():
        rm, tok = models.reward_model(path)

        def fn(prompts: Any, responses: Any, rm: Any = rm, tok: Any = tok) -> list[float | None]:
            return score_texts(rm, tok, prompts, responses, cfg.eval_batch_size, cfg.max_length)

        stats = score_samples(samples, cfg.path("scores", f"{name}.jsonl"), fn)
        write_json_atomic(
            cfg.path("scores", f"{name}.stats.json"), {"rm_path": path, **stats.to_dict()}
        )
        log(f"score[{name}]: {stats.to_dict()}")
        out[name] = stats.to_dict()
    return out


def stage_select(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    from applications.reward_models.rjs.score import load_scores
    from applications.reward_models.rjs.select import select_best, write_selection

    samples = load_samples(cfg.path("samples.jsonl"))
    out: dict[str, Any] = {}
    for name in cfg.reward_models():
        selected, stats = select_best(samples, load_scores(cfg.path("scores", f"{name}.jsonl")))
        write_selection(selected, stats, cfg.path("selected", f"{name}.jsonl"))
        log(f"select[{name}]: {stats.to_dict()}")
        out[name] = stats.to_dict()
    return out


def stage_sft(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    from applications.reward_models.rjs.sft import finetune, save_policy

    out: dict[str, Any] = {}
    for name in cfg.reward_models():
        target = cfg.path("policies", name)
        if (target / "sft_stats.json").is_file():
            log(f"sft[{name}]: {target} exists, skipped")
            out[name] = json.loads((target / "sft_stats.json").read_text())
            continue
        selected = read_jsonl(cfg.path("selected", f"{name}.jsonl")).records
        if not selected:
            raise ValueError(f"no selected responses for {name!r}; run the select stage first")
        model, tokenizer = models.base_copy()
        pairs = [(r["prompt"], r["response"]) for r in selected]
        eos = [bool(r.get("finished", True)) for r in selected]
        stats = finetune(model, tokenizer, pairs, cfg.sft(), log=log, add_eos=eos)
        save_policy(model, tokenizer, target, stats)
        del model
        log(f"sft[{name}]: {stats.steps} steps, saved {target}")
        out[name] = stats.to_dict()
    return out


def stage_evaluate(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    """Responses + perplexity per policy, the judged comparisons, RM ECEs
    (:mod:`applications.reward_models.rjs.evaluate`)."""
    from applications.reward_models.rjs.evaluate import evaluate

    return evaluate(cfg, models, log)


def _read(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def _report_rows(cfg: RJSConfig) -> tuple[list[Any], list[dict[str, Any]], str]:
    """Table 2 rows (base, then each aligned policy vs base), the head-to-head records of the
    aligned policies, and the judge's name, from the evaluate stage's files."""
    from applications.reward_models.rjs.evaluate import judge_record_path
    from applications.reward_models.rjs.judge import judging_pairs
    from applications.reward_models.rjs.report import Table2Row

    def ppl(policy: str) -> dict[str, float]:
        return {
            s: v["ppl"] for s, v in (_read(cfg.path("eval", "ppl", f"{policy}.json")) or {}).items()
        }

    rows, head_to_head, judge = [Table2Row("base", ppl=ppl("base"))], [], cfg.judge
    for candidate, baseline in judging_pairs(list(cfg.reward_models())):
        record = _read(judge_record_path(cfg, candidate, baseline))
        if record:
            judge = record["judge"]
            record = {k: v for k, v in record.items() if k != "outcomes"}  # per prompt: in eval/
        if baseline != "base":
            if record:
                names = {"candidate": f"rjs[{candidate}]", "baseline": f"rjs[{baseline}]"}
                head_to_head.append({**record, **names})
            continue
        row = Table2Row(
            f"rjs[{candidate}]",
            rm_scheme=candidate,
            ece=(_read(cfg.path("eval", "ece", f"{candidate}.json")) or {}).get("ece"),
            ppl=ppl(candidate),
            win_tie_lose=record,
            best_of_n=_read(cfg.path("selected", f"{candidate}.stats.json")),
        )
        rows.append(row)
    return rows, head_to_head, judge


def stage_report(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    from applications.reward_models.rjs.report import write_report

    rows, head_to_head, judge = _report_rows(cfg)
    sources = list(dict.fromkeys(s for r in rows for s in r.ppl))  # evaluation order, not sorted
    md, js = write_report(
        rows,
        cfg.output_dir,
        judge,
        sources,
        extra={"config": cfg.__dict__},
        head_to_head=head_to_head,
        ece_sources=cfg.ece_roles(),
    )
    log(f"report: {md} and {js}")
    print(md.read_text())
    return {"markdown": str(md), "json": str(js)}


STAGES: dict[str, Callable[[RJSConfig, Models, Log], dict[str, Any]]] = {
    "sample": stage_sample,
    "score": stage_score,
    "select": stage_select,
    "sft": stage_sft,
    "evaluate": stage_evaluate,
    "report": stage_report,
}
"""CLI-facing stage names in pipeline order (``all`` runs them in this order)."""


def run_stages(cfg: RJSConfig, names: list[str], log: Log = stderr_log) -> dict[str, Any]:
    """Run ``names`` in order with one shared model cache; timings go to ``<out>/timings.json``."""
    if cfg.threads:
        import torch

        torch.set_num_threads(cfg.threads)
    models = Models(cfg, log)
    results: dict[str, Any] = {}
    timings_path = cfg.path("timings.json")
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    for name in names:
        start = time.perf_counter()
        results[name] = STAGES[name](cfg, models, log)
        timings[name] = round(time.perf_counter() - start, 2)
        write_json_atomic(timings_path, timings)
        log(f"stage {name} done in {timings[name]:.1f}s")
    return results
