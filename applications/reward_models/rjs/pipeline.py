"""The RJS stages wired to files under ``RJSConfig.out_dir`` (each stage resumable on its own).

Layout::

    samples.jsonl, samples.meta.json            stage sample
    scores/<rm>.jsonl, scores/<rm>.stats.json   stage score
    selected/<rm>.jsonl, selected/<rm>.stats.json   stage select
    policies/<rm>/                              stage sft (save_pretrained + sft_stats.json)
    eval/responses/<policy>.jsonl, eval/ppl/<policy>.json, eval/judge/<rm>.json, eval/ece/<rm>.json
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

from applications.reward_models.rjs.config import RJSConfig
from applications.reward_models.rjs.jsonl import read_jsonl, write_json_atomic
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
# Prompts and held-out pairs follow the one split rule of data.splits, seeded by sim_seed (the
# data seed): the policy never samples on, and PPL / ECE never score, the other split's prompts.
def _simulator(cfg: RJSConfig) -> Any:
    from applications.reward_models.data.simulator import PreferenceSimulator

    return PreferenceSimulator(seed=cfg.sim_seed)


def _real_spec(cfg: RJSConfig, kind: str) -> Any:
    from applications.reward_models.data.splits import SplitSpec

    return SplitSpec(
        name=kind,
        kind=kind,
        path=cfg.prompt_path,
        test_path=getattr(cfg, "prompt_test_path", None),
        holdout_fraction=getattr(cfg, "holdout_fraction", None),
    )


def _source_pairs(cfg: RJSConfig, kind: str, split: str) -> list[Any]:
    """The ``train`` or ``test`` pairs of a real source by the one split rule."""
    from applications.reward_models.data.splits import load_splits, load_test_pairs

    spec = _real_spec(cfg, kind)
    if split == "test":
        return load_test_pairs([spec], data_seed=cfg.sim_seed, test_pairs=None)[kind]
    data = load_splits([spec], data_seed=cfg.sim_seed, train_pairs=None, test_pairs=None)
    return data.train[kind]


def load_prompts(cfg: RJSConfig, split: str, n: int) -> list[str]:
    """``n`` prompts of ``split``: simulator prompts, or the first ``n`` unique source prompts."""
    if cfg.prompt_source == "simulator":
        return _simulator(cfg).prompts(n, split=split)
    unique = list(dict.fromkeys(p.prompt for p in _source_pairs(cfg, cfg.prompt_source, split)))
    if not unique:
        raise ValueError(f"source {cfg.prompt_source!r} split {split!r} has no prompts")
    return unique[:n]


def held_out_pairs(cfg: RJSConfig, n_per_source: int) -> dict[str, list[Any]]:
    """Test preference pairs per source (for PPL on chosen responses and a computed ECE): the
    simulator's test pairs, or the first ``n_per_source`` test pairs of a real source."""
    from applications.reward_models.data.splits import SplitSpec, load_test_pairs

    if cfg.prompt_source == "simulator":
        specs = [SplitSpec(s) for s in cfg.ppl_sources or _simulator(cfg).source_names]
        return load_test_pairs(specs, data_seed=cfg.sim_seed, test_pairs=n_per_source)
    sources = cfg.ppl_sources or [cfg.prompt_source]
    return {s: _source_pairs(cfg, s, "test")[:n_per_source] for s in sources}


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
    from applications.reward_models.rjs.score import score_samples, score_texts

    samples = load_samples(cfg.path("samples.jsonl"))
    if not samples:
        raise ValueError(f"{cfg.path('samples.jsonl')} has no samples; run the sample stage first")
    out: dict[str, Any] = {}
    for name, path in cfg.reward_models().items():
        rm, tok = models.reward_model(path)

        def fn(prompts: Any, responses: Any, rm: Any = rm, tok: Any = tok) -> list[float | None]:
            return score_texts(rm, tok, prompts, responses, cfg.rm_batch_size, cfg.rm_max_length)

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


def _build_judge(cfg: RJSConfig, models: Models) -> Any:
    from applications.reward_models.rjs.judge import gold_utility_judge, reward_model_judge
    from applications.reward_models.rjs.judge_http import HTTPChatJudge

    if cfg.judge == "gold":
        return gold_utility_judge(_simulator(cfg))
    if cfg.judge.startswith("rm:"):
        name = cfg.judge[3:]
        rms = cfg.reward_models()
        path = rms.get(name, name)
        rm, tok = models.reward_model(path)
        return reward_model_judge(rm, tok, name=f"rm:{name}", max_length=cfg.rm_max_length)
    if cfg.judge == "http":
        if not cfg.judge_url:
            raise ValueError("--judge http needs --judge-url")
        return HTTPChatJudge(
            cfg.judge_url,
            cfg.judge_model,
            aspect=cfg.judge_aspect,
            timeout=cfg.judge_timeout,
            max_retries=cfg.judge_retries,
        )
    raise ValueError(f"unknown judge {cfg.judge!r}; expected gold, rm:NAME or http")


def _policy_responses(
    cfg: RJSConfig,
    models: Models,
    policy: str,
    prompts: list[str],
    held_out: dict[str, list[Any]],
    log: Log,
) -> list[str]:
    """One response per test prompt of ``policy`` and its perplexity on held-out chosen
    responses (both resumable: a policy with both on disk is not even loaded)."""
    from applications.reward_models.rjs.ppl import perplexity

    ppl_path = cfg.path("eval", "ppl", f"{policy}.json")
    resp_path = cfg.path("eval", "responses", f"{policy}.jsonl")
    done = load_samples(resp_path)
    answered = all(done.get(i, {}).get("prompt") == p for i, p in enumerate(prompts))
    if ppl_path.is_file() and answered:
        log(f"evaluate[{policy}]: responses and perplexity on disk, skipped")
        return [done[i]["samples"][0]["response"] for i in range(len(prompts))]
    model, tokenizer = models.policy(policy)
    gen = cfg.generation()
    sample_prompts(
        prompts,
        resp_path,
        policy_sampler(model, tokenizer, gen),
        n=1,
        seed=cfg.seed,
        rows_per_batch=gen.batch_size,
        meta={
            "policy": cfg.policy if policy == "base" else str(cfg.path("policies", policy)),
            "generation": gen.__dict__,
        },
        length_fn=prompt_token_length(tokenizer),
        log=log,
    )
    if not ppl_path.is_file():
        ppl = {
            src: perplexity(
                model,
                tokenizer,
                [(p.prompt, p.chosen) for p in pairs[: cfg.ppl_pairs]],
                max_length=cfg.sft_max_length,
            ).to_dict()
            for src, pairs in held_out.items()
        }
        write_json_atomic(ppl_path, ppl)
        log(f"ppl[{policy}]: " + ", ".join(f"{s}={v['ppl']:.2f}" for s, v in ppl.items()))
    recs = load_samples(resp_path)
    return [recs[i]["samples"][0]["response"] for i in range(len(prompts))]


def _rm_ece(
    cfg: RJSConfig, models: Models, name: str, path: str, held_out: dict[str, list[Any]]
) -> None:
    """``eval/ece/<name>.json``: the RM's ECE from its training ``metrics.json``, else computed
    by the one evaluator on held-out pairs (its document in ``eval/ece/<name>.metrics.json``)."""
    from applications.reward_models.evaluation.schema import model_ece, write_metrics
    from applications.reward_models.rjs.rm_calibration import read_rm_ece, rm_metrics

    ece_path = cfg.path("eval", "ece", f"{name}.json")
    if ece_path.is_file():
        return
    found = read_rm_ece(path)
    if found is not None:
        write_json_atomic(ece_path, {"ece": found[0], "from": found[1]})
        return
    rm, tok = models.reward_model(path)
    pairs = {s: ps[: cfg.ece_pairs] for s, ps in held_out.items()}
    settings = {"data_seed": cfg.sim_seed, "pairs_per_source": cfg.ece_pairs}
    document = rm_metrics(
        rm, tok, pairs, name=name, max_length=cfg.rm_max_length, settings=settings
    )
    doc_path = write_metrics(cfg.path("eval", "ece", f"{name}.metrics.json"), document)
    entry = document["models"][name]
    info = {
        "ece": model_ece(document, name)[0],
        "from": f"computed: mean over sources of held-out ECE (10 bins), {doc_path}",
        "per_source": {s: row["ece"] for s, row in entry["sources"].items()},
        "pairs_per_source": cfg.ece_pairs,
        "skipped": entry["drops"]["total"],
    }
    write_json_atomic(ece_path, info)


def stage_evaluate(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    """Responses + perplexity per policy, judge each RJS policy against the base, RM ECEs."""
    from applications.reward_models.rjs.judge import judge_pairwise

    prompts = load_prompts(cfg, "test", cfg.eval_prompts)
    held_out = held_out_pairs(cfg, max(cfg.ppl_pairs, cfg.ece_pairs))
    rms = cfg.reward_models()
    responses = {
        policy: _policy_responses(cfg, models, policy, prompts, held_out, log)
        for policy in ["base", *rms]
    }
    judge = _build_judge(cfg, models)
    out: dict[str, Any] = {}
    for name, path in rms.items():
        counts, outcomes = judge_pairwise(judge, prompts, responses[name], responses["base"])
        record: dict[str, Any] = {"judge": judge.name, **counts.to_dict(), "outcomes": outcomes}
        if hasattr(judge, "stats"):
            record["judge_stats"] = judge.stats.to_dict()
        write_json_atomic(cfg.path("eval", "judge", f"{name}.json"), record)
        log(f"judge[{name}] vs base: {counts.to_dict()}")
        _rm_ece(cfg, models, name, path, held_out)
        out[name] = counts.to_dict()
    return out


def stage_report(cfg: RJSConfig, models: Models, log: Log = stderr_log) -> dict[str, Any]:
    from applications.reward_models.rjs.report import Table2Row, write_report

    def load(path: Path) -> Any:
        return json.loads(path.read_text()) if path.is_file() else None

    base_ppl = load(cfg.path("eval", "ppl", "base.json")) or {}
    rows = [Table2Row("base", ppl={s: v["ppl"] for s, v in base_ppl.items()})]
    judge_name = cfg.judge
    for name in cfg.reward_models():
        ppl = load(cfg.path("eval", "ppl", f"{name}.json")) or {}
        wtl = load(cfg.path("eval", "judge", f"{name}.json"))
        if wtl:
            judge_name = wtl["judge"]
        ece = (load(cfg.path("eval", "ece", f"{name}.json")) or {}).get("ece")
        rows.append(
            Table2Row(
                f"rjs[{name}]",
                rm_scheme=name,
                ece=ece,
                ppl={s: v["ppl"] for s, v in ppl.items()},
                win_tie_lose={k: wtl[k] for k in ("win", "tie", "lose", "n", "rates")}
                if wtl
                else None,
                best_of_n=load(cfg.path("selected", f"{name}.stats.json")),
            )
        )
    sources = list(dict.fromkeys(s for r in rows for s in r.ppl))  # evaluation order, not sorted
    md, js = write_report(rows, cfg.out_dir, judge_name, sources, extra={"config": cfg.__dict__})
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
