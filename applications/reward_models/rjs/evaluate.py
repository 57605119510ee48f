"""The evaluate stage: test responses and perplexity per policy, judged comparisons, RM ECEs.

Files under ``--output_dir``::

    eval/responses/<policy>.jsonl, eval/ppl/<policy>.json    one per policy (base + each RM)
    eval/judge/<candidate>-vs-<baseline>.json                one per pair of judging_pairs
    eval/ece/<rm>.json                                       the RJS table's ECE of each RM

Every aligned policy is judged against the base policy and every two aligned policies against
each other (:func:`~applications.reward_models.rjs.judge.judging_pairs`), all on the same test
prompts with position swap; a record holds the counts, rates, 95 % intervals and the per-prompt
outcomes. The ECE is the paper's: the mean over the Helpful and Harmless test sets
(``--ece_sources``) of the RM's per-source ECE, read from its training ``metrics.json`` when that
has both sources, else computed on ``--ece_pairs`` held-out pairs of each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from applications.reward_models.files import write_json_atomic
from applications.reward_models.rjs.config import RJSConfig
from applications.reward_models.rjs.pipeline import (
    Log,
    Models,
    held_out_pairs,
    load_prompts,
    simulator,
)
from applications.reward_models.rjs.sample import (
    load_samples,
    policy_sampler,
    prompt_token_length,
    sample_prompts,
)

__all__ = ["build_judge", "evaluate", "judge_record_path", "rm_ece"]


def judge_record_path(cfg: RJSConfig, candidate: str, baseline: str) -> Path:
    """``eval/judge/<candidate>-vs-<baseline>.json``."""
    return cfg.path("eval", "judge", f"{candidate}-vs-{baseline}.json")


def build_judge(cfg: RJSConfig, models: Models) -> Any:
    """The judge named by ``--judge``: ``gold``, ``rm:NAME`` or ``http``.

    Raises:
        ValueError: ``http`` without ``--judge_url``, or an unknown judge.
    """
    from applications.reward_models.rjs.judge import gold_utility_judge, reward_model_judge
    from applications.reward_models.rjs.judge_http import HTTPChatJudge

    if cfg.judge == "gold":
        return gold_utility_judge(simulator(cfg))
    if cfg.judge.startswith("rm:"):
        name = cfg.judge[3:]
        path = cfg.reward_models().get(name, name)
        rm, tok = models.reward_model(path)
        return reward_model_judge(rm, tok, name=f"rm:{name}", max_length=cfg.max_length)
    if cfg.judge == "http":
        if not cfg.judge_url:
            raise ValueError("--judge http needs --judge_url")
        return HTTPChatJudge(
            cfg.judge_url,
            cfg.judge_model,
            aspect=cfg.judge_aspect,
            timeout=cfg.judge_timeout,
            max_retries=cfg.judge_retries,
            max_response_bytes=cfg.judge_max_response_bytes,
        )
    raise ValueError(f"unknown judge {cfg.judge!r}; expected gold, rm:NAME or http")


def _write_ppl(cfg: RJSConfig, model: Any, tokenizer: Any, held_out: dict, path: Path) -> dict:
    from applications.reward_models.rjs.ppl import perplexity

    ppl = {
        src: perplexity(
            model,
            tokenizer,
            [(p.prompt, p.chosen) for p in pairs[: cfg.ppl_pairs]],
            max_length=cfg.sft_max_length,
        ).to_dict()
        for src, pairs in held_out.items()
    }
    write_json_atomic(path, ppl)
    return ppl


def policy_responses(
    cfg: RJSConfig,
    models: Models,
    policy: str,
    prompts: list[str],
    held_out: dict[str, list[Any]],
    log: Log,
) -> list[str]:
    """One response per test prompt of ``policy`` and its perplexity on held-out chosen
    responses (both resumable: a policy with both on disk is not even loaded)."""
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
        ppl = _write_ppl(cfg, model, tokenizer, held_out, ppl_path)
        log(f"ppl[{policy}]: " + ", ".join(f"{s}={v['ppl']:.2f}" for s, v in ppl.items()))
    recs = load_samples(resp_path)
    return [recs[i]["samples"][0]["response"] for i in range(len(prompts))]


def _computed_ece(
    cfg: RJSConfig, models: Models, name: str, path: str, roles: dict[str, str]
) -> dict[str, Any]:
    """The role ECE computed by the one evaluator on ``--ece_pairs`` held-out pairs per source
    (its ``metrics.json`` document goes to ``eval/ece/<name>.metrics.json``)."""
    from applications.reward_models.evaluation.schema import write_metrics
    from applications.reward_models.rjs.rm_calibration import rm_metrics, role_ece, source_eces

    sources = list(dict.fromkeys(roles.values()))
    if cfg.prompt_source != "simulator" and sources != [cfg.prompt_source]:
        raise ValueError(
            f"the ECE of {name!r} needs test sources {sources} (--ece_sources); its metrics.json "
            f"does not have them and only the prompt source {cfg.prompt_source!r} has held-out "
            "pairs here: evaluate the RM on them, or set --ece_sources to the prompt source"
        )
    rm, tok = models.reward_model(path)
    pairs = held_out_pairs(cfg, cfg.ece_pairs, sources)
    settings = {"data_seed": cfg.simulator_seed, "pairs_per_source": cfg.ece_pairs}
    document = rm_metrics(rm, tok, pairs, name=name, max_length=cfg.max_length, settings=settings)
    doc_path = write_metrics(cfg.path("eval", "ece", f"{name}.metrics.json"), document)
    result = role_ece(source_eces(document, name), roles)
    if result is None:
        raise ValueError(f"no held-out pair of {sources} could be scored by {name!r} for the ECE")
    return {
        "ece": result[0],
        "from": f"computed: held-out ECE (10 bins) of {', '.join(sources)}, {doc_path}",
        "roles": result[1],
        "pairs_per_source": cfg.ece_pairs,
        "skipped": document["models"][name]["drops"]["total"],
    }


def rm_ece(cfg: RJSConfig, models: Models, name: str, path: str) -> dict[str, Any]:
    """``eval/ece/<name>.json``: the mean over ``cfg.ece_roles()`` of the RM's per-source ECE,
    from its training ``metrics.json`` when that has every role's source, else computed. A file
    on disk for the same roles is reused."""
    import json

    from applications.reward_models.rjs.rm_calibration import read_rm_role_ece

    roles = cfg.ece_roles()
    ece_path = cfg.path("eval", "ece", f"{name}.json")
    if ece_path.is_file():
        info = json.loads(ece_path.read_text())
        if {r: v.get("source") for r, v in (info.get("roles") or {}).items()} == roles:
            return info
    found = read_rm_role_ece(path, roles)
    if found is not None:
        info = {"ece": found[0], "from": found[1], "roles": found[2]}
    else:
        info = _computed_ece(cfg, models, name, path, roles)
    write_json_atomic(ece_path, info)
    return info


def evaluate(cfg: RJSConfig, models: Models, log: Log) -> dict[str, Any]:
    """Responses + perplexity per policy, every comparison of
    :func:`~applications.reward_models.rjs.judge.judging_pairs` judged with position swap, and
    each RM's ECE. Returns ``{"<candidate>-vs-<baseline>": counts}``."""
    from applications.reward_models.rjs.judge import judge_pairwise, judging_pairs

    prompts = load_prompts(cfg, "test", cfg.eval_prompts)
    held_out = held_out_pairs(cfg, cfg.ppl_pairs)
    rms = cfg.reward_models()
    responses = {
        policy: policy_responses(cfg, models, policy, prompts, held_out, log)
        for policy in ["base", *rms]
    }
    judge = build_judge(cfg, models)
    out: dict[str, Any] = {}
    for candidate, baseline in judging_pairs(list(rms)):
        counts, outcomes = judge_pairwise(judge, prompts, responses[candidate], responses[baseline])
        record: dict[str, Any] = {
            "judge": judge.name,
            "candidate": candidate,
            "baseline": baseline,
            **counts.to_dict(),
            "outcomes": outcomes,
        }
        if hasattr(judge, "stats"):
            record["judge_stats"] = judge.stats.to_dict()
        write_json_atomic(judge_record_path(cfg, candidate, baseline), record)
        log(f"judge[{candidate} vs {baseline}]: {counts.win}/{counts.tie}/{counts.lose}")
        out[f"{candidate}-vs-{baseline}"] = counts.to_dict()
    for name, path in rms.items():
        info = rm_ece(cfg, models, name, path)
        log(f"ece[{name}]: {info['ece']:.4f} ({info['from']})")
    return out
