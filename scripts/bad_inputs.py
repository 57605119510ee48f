"""Try every known bad input on the command-line tools and write the outcome table.

Each case runs one CLI (``train``, ``evaluate``, ``rjs``) or, for inputs that are not a command
line (solver options, a slow HTTP judge, a full disk), a Python snippet
(``scripts/bad_input_snippets.py``) in a subprocess, offline with tiny settings, and records its
exit status, the line it printed (``error: ...`` on stderr, or the verdict on stdout), whether a
Python traceback leaked, and how long it took. Most cases must be refused; a few inputs must be
*handled* (``expect="handled"``: exit 0, e.g. a Gramian at subnormal scale solved correctly).
The Markdown table goes to ``docs/reward-models/bad-inputs.md`` (``--write``) or to stdout.
``tests/test_bad_inputs.py`` runs the same cases and asserts each verdict.

    python scripts/bad_inputs.py --write
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bad_input_files
import bad_input_snippets as snip

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reward-models" / "bad-inputs.md"
PROGRAMS = {
    "train": [sys.executable, "-m", "applications.reward_models.train"],
    "evaluate": [sys.executable, "-m", "applications.reward_models.evaluate"],
    "rjs": [sys.executable, "-m", "applications.reward_models.rjs"],
    "python": [sys.executable, "-c"],
}
TRAIN = PROGRAMS["train"]
EVALUATE = PROGRAMS["evaluate"]


@dataclass(frozen=True)
class Case:
    """One bad input: what it is, the command, and the text its outcome line must mention.

    Attributes:
        program: a key of :data:`PROGRAMS`; ``"python"`` runs ``argv[0]`` as a snippet.
        expect: ``"refused"`` (exit status ≠ 0) or ``"handled"`` (exit 0: the input is valid or
            is dealt with correctly).
        shown: what the table shows instead of the arguments (snippets).
        must_not_create: a file the command must not create (code run from a crafted pickle).
    """

    what: str
    argv: tuple[str, ...]
    mentions: str
    program: str = "train"
    expect: str = "refused"
    shown: str = ""
    must_not_create: str = ""


@dataclass(frozen=True)
class Outcome:
    """How a case ended."""

    case: Case
    returncode: int
    message: str
    traceback: bool
    seconds: float
    created: bool = False


def _files(root: Path) -> dict[str, Path]:
    return {
        "empty": root / "empty.jsonl",
        "wrong": root / "wrong_schema.jsonl",
        "latin": root / "latin1.jsonl",
        "yaml": root / "bad.yaml",
    }


def make_files(root: Path) -> None:
    """Write the bad data files that :func:`cases` points at into ``root``."""
    f = _files(root)
    f["empty"].write_text("", encoding="utf-8")
    f["wrong"].write_text(json.dumps({"question": "q", "answer": "a"}) + "\n", encoding="utf-8")
    f["latin"].write_bytes('{"chosen": "caf\xe9", "rejected": "x"}\n'.encode("latin-1"))
    f["yaml"].write_text("learning_rate: [1, 2\n", encoding="utf-8")
    for key in ("empty", "wrong", "latin"):  # the same files, with a held-out test share
        source = {"name": key, "kind": "hh_harmless", "path": str(f[key]), "holdout_fraction": 0.5}
        root.joinpath(f"{key}_holdout.yaml").write_text(
            json.dumps({"sources": [source]}), encoding="utf-8"
        )
    bad_input_files.make_round_two(root)


def cases(root: Path) -> list[Case]:
    """Every bad input we try (``root``: the folder of :func:`make_files`)."""
    return [*_option_cases(root), *_data_cases(root), *round_two(root)]


def _option_cases(root: Path) -> list[Case]:
    """Bad values of the training command's options."""
    train = ("--output_dir", str(root / "out"))
    return [
        Case("learning rate NaN", ("--learning_rate", "nan", *train), "learning_rate"),
        Case("learning rate infinite", ("--learning_rate", "inf", *train), "learning_rate"),
        Case("learning rate negative", ("--learning_rate", "-1e-3", *train), "learning_rate"),
        Case("Adam β1 ≥ 1", ("--adam_beta1", "2", *train), "adam_beta1"),
        Case("Adam β2 negative", ("--adam_beta2", "-0.1", *train), "adam_beta2"),
        Case("Adam ε negative", ("--adam_epsilon", "-1", *train), "adam_epsilon"),
        Case("weight decay negative", ("--weight_decay", "-1", *train), "weight_decay"),
        Case("max_grad_norm negative", ("--max_grad_norm", "-1", *train), "max_grad_norm"),
        Case("save_total_limit 0", ("--save_total_limit", "0", *train), "save_total_limit"),
        Case("max_steps 0", ("--max_steps", "0", *train), "max_steps"),
        Case("integer option given text", ("--max_steps", "ten", *train), "max_steps"),
        Case("unknown option", ("--learning_rat", "1e-4", *train), "learning_rat"),
        Case("unknown scheme", ("--scheme", "mgda", *train), "scheme"),
        Case("unknown weighting", ("--more.weighting", "simplex", *train), "weighting"),
        Case(
            "repeated option",
            ("--sources", "shared", "--sources", "lists", *train),
            "sources",
        ),
    ]


def _data_cases(root: Path) -> list[Case]:
    """Missing or malformed config, data and model files."""
    f = {k: str(v) for k, v in _files(root).items()}
    train = ("--output_dir", str(root / "out"))
    return [
        Case("missing config file", ("--config", str(root / "nope.yaml"), *train), "nope.yaml"),
        Case("invalid YAML config", ("--config", f["yaml"], *train), "bad.yaml"),
        Case(
            "empty data file",
            ("--sources", f"e:hh_harmless:{f['empty']}", *train),
            "empty.jsonl",
        ),
        Case(
            "file without the expected fields",
            ("--sources", f"w:hh_harmless:{f['wrong']}", *train),
            "wrong_schema.jsonl",
        ),
        Case(
            "file that is not UTF-8",
            ("--sources", f"l:hh_harmless:{f['latin']}", *train),
            "latin1.jsonl",
        ),
        Case(
            "empty data file, test share held out",
            ("--config", str(root / "empty_holdout.yaml"), *train),
            "empty.jsonl",
        ),
        Case(
            "no row with the expected fields, test share held out",
            ("--config", str(root / "wrong_holdout.yaml"), *train),
            "wrong_schema.jsonl",
        ),
        Case(
            "not UTF-8, test share held out",
            ("--config", str(root / "latin_holdout.yaml"), *train),
            "latin1.jsonl",
        ),
        Case("missing data file", ("--sources", f"m:pairs:{root / 'gone.jsonl'}", *train), "gone"),
        Case("missing model path", ("--model", str(root / "no_model"), *train), "no_model"),
    ]


def _train_tiny(out: Path, *extra: str) -> tuple[str, ...]:
    return (
        "--output_dir", str(out), "--scheme", "multitask", "--sources", "shared,lists",
        "--train_pairs_per_source", "4", "--test_pairs_per_source", "2",
        "--pairs_per_source", "2", "--max_steps", "4", "--max_length", "64",
        "--progress_bar", "false", *extra,
    )  # fmt: skip


def _python(what: str, shown: str, mentions: str, code: str, expect: str = "refused") -> Case:
    return Case(what, (code,), mentions, program="python", expect=expect, shown=shown)


def round_two(root: Path) -> list[Case]:
    """The cases of issue 22 (reliability round two)."""
    r, out = str(root), str(root / "out")
    return [
        *_round_two_training(root),
        *_round_two_config(root),
        *_round_two_data(root),
        *_round_two_rjs(root),
        *_round_two_solver(r),
        Case("--seed -1", ("--seed", "-1", "--output_dir", out), "--seed"),
        Case("output_dir is an existing file", ("--output_dir", str(root / "a_file")), "a_file"),
    ]


def _round_two_training(root: Path) -> list[Case]:
    r = str(root)
    return [
        Case(
            "fresh run into a folder holding an earlier run",
            _train_tiny(root / "earlier"),
            "--overwrite_output_dir",
        ),
        Case(
            "--resume and --overwrite_output_dir together",
            ("--output_dir", str(root / "earlier"), "--resume", "--overwrite_output_dir"),
            "give one of them",
        ),
        _python(
            "a second run on a folder another run holds",
            "train while another process holds output_dir's lock",
            "in use by another run",
            snip.snippet(snip.LOCK_HELD, r),
        ),
        Case(
            "--resume from a crafted checkpoint whose pickle runs code",
            _train_tiny(root / "evil", "--resume"),
            "refusing to load",
            must_not_create=str(root / "pwned.txt"),
        ),
        Case(
            "--resume from a checkpoint with a bit-flipped weights file",
            _train_tiny(root / "flipped", "--resume"),
            "sha256 differs",
        ),
        Case(
            "--resume from a truncated checkpoint",
            _train_tiny(root / "truncated", "--resume"),
            "truncated",
        ),
        _python(
            "disk full while saving a checkpoint",
            "save_checkpoint with fsync failing ENOSPC",
            "disk full",
            snip.snippet(snip.DISK_FULL, r),
        ),
    ]


def _round_two_config(root: Path) -> list[Case]:
    r = str(root)
    return [
        Case("duplicate key in a YAML config", ("--config", str(root / "dup.yaml")), "dup.yaml:3"),
        Case("YAML alias bomb (300 bytes)", ("--config", str(root / "bomb.yaml")), "alias"),
        Case("YAML nested 100 000 deep", ("--config", str(root / "deep.yaml")), "nested"),
        Case("YAML config that is a FIFO", ("--config", str(root / "fifo.yaml")), "regular file"),
        Case(
            "cap_train: yse (a typo of a boolean)",
            ("--config", str(root / "cap_typo.yaml"), "--output_dir", str(root / "out")),
            "cap_train",
        ),
        _python(
            "cap_train: yes",
            "parse a config with cap_train: yes",
            "reads as True",
            snip.snippet(snip.CAP_TRAIN_YES, r),
            expect="handled",
        ),
        Case(
            "evaluate --models with one label twice",
            ("--models", "a=M1", "a=M2", "--output_dir", str(root / "out")),
            "'a' given twice",
            program="evaluate",
        ),
    ]


def _round_two_data(root: Path) -> list[Case]:
    def data(name: str, mentions: str, what: str) -> Case:
        return Case(what, ("--config", str(root / f"{name}.yaml"), *_tail(root)), mentions)

    return [
        data("gz_truncated", "ends early", "truncated .jsonl.gz"),
        data("gz_fake", "not gzip data", "plain text named .jsonl.gz"),
        data("deep_json", "nested too deeply", "deeply nested JSON line"),
        data("fifo_data", "not a regular file", "data file that is a FIFO"),
        _python(
            "unreadable sub-folder of a data folder",
            "read a folder whose sub-folder cannot be listed",
            "cannot list the folder",
            snip.snippet(snip.UNREADABLE_FOLDER, str(root)),
        ),
    ]


def _tail(root: Path) -> tuple[str, ...]:
    return ("--output_dir", str(root / "out"), "--max_steps", "1")


def _round_two_rjs(root: Path) -> list[Case]:
    r, out = str(root), ("--output_dir", str(root / "rjs"))
    judge = {
        "redirect": (snip.JUDGE_REDIRECT, "another host"),
        "huge": (snip.JUDGE_HUGE, "larger than 100000 bytes"),
    }
    cases = [
        Case("RJS --rms name ../../x", ("score", "--rms", "../../x=m", *out), "../../x", "rjs"),
        Case("RJS --rms name ..", ("score", "--rms", "..=m", *out), "'..'", "rjs"),
        Case(
            "RJS --judge http without --judge_url",
            ("evaluate", "--judge", "http", *out),
            "--judge_url",
            "rjs",
        ),
    ]
    for key, what in (
        ("redirect", "HTTP judge redirected to another host (API key)"),
        ("huge", "HTTP judge answer of 2 MB"),
    ):
        body, mentions = judge[key]
        code = snip.snippet(snip.JUDGE, r, setup=body)
        cases.append(_python(what, "HTTPChatJudge.compare against local servers", mentions, code))
    trickle = snip.snippet(snip.JUDGE, r, setup=snip.JUDGE_TRICKLE)
    shown = "HTTPChatJudge.compare, server sends 1 byte / 50 ms"
    cases.append(
        _python(
            "HTTP judge answer trickling past the deadline",
            shown,
            "within its 3 s budget",
            trickle,
            expect="handled",
        )
    )
    return cases


def _round_two_solver(r: str) -> list[Case]:
    cases = [
        _python(
            f"MinNormSolver({text})",
            f"MinNormSolver({text})",
            name,
            snip.snippet(snip.SOLVER_OPTION, r, options=options),
        )
        for text, options, name in (
            ("tol=inf", "{'tol': float('inf')}", "tol"),
            ("input_tol=nan", "{'input_tol': float('nan')}", "input_tol"),
            ("max_iter=True", "{'max_iter': True}", "max_iter"),
            ("check_every=-1", "{'check_every': -1}", "check_every"),
            ("check_every='16'", "{'check_every': '16'}", "check_every"),
        )
    ]
    for scale in ("1e-310", "1e-320", "5e-324"):
        cases.append(
            _python(
                f"one CPU Gramian at scale {scale}",
                f"MinNormSolver().solve_gram(G * {scale})",
                "equals the batched",
                snip.snippet(snip.SUBNORMAL, r, scale=scale),
                expect="handled",
            )
        )
    return cases


def run_case(case: Case, timeout: float = 120.0) -> Outcome:
    """Run one case offline and record how it ended."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    proc = subprocess.run(
        [*PROGRAMS[case.program], *case.argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    message = next((line for line in lines if line.startswith("error")), lines[-1] if lines else "")
    if case.expect == "handled" and proc.returncode == 0:
        message = next((ln for ln in reversed(proc.stdout.splitlines()) if ln.strip()), message)
    leaked = "Traceback" in proc.stderr
    created = bool(case.must_not_create) and os.path.exists(case.must_not_create)
    return Outcome(case, proc.returncode, message, leaked, seconds, created)


def verdict(outcome: Outcome) -> str:
    """``refused`` / ``handled`` when the case ended as it must, else what went wrong."""
    case = outcome.case
    if outcome.created:
        return "FAILED: the crafted file ran code"
    if outcome.traceback:
        return "FAILED: traceback"
    if case.expect == "refused" and outcome.returncode == 0:
        return "FAILED: accepted"
    if case.expect == "handled" and outcome.returncode != 0:
        return "FAILED: refused"
    if case.mentions not in outcome.message:
        return "FAILED: message"
    return case.expect


def _shown(case: Case) -> str:
    if case.shown:
        return case.shown
    args = " ".join(a if "/" not in a or "=" in a else Path(a).name for a in case.argv)
    return f"{case.program} {args}"


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of outcomes."""
    rows = [
        "| bad input | command | verdict | exit status | message | traceback | seconds |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        message = o.message.replace("|", "\\|")
        shown = _shown(o.case).replace("|", "\\|")
        rows.append(
            f"| {o.case.what} | `{shown}` | {verdict(o)} | {o.returncode} | {message} | "
            f"{'yes' if o.traceback else 'no'} | {o.seconds:.1f} |"
        )
    return "\n".join(rows)


PAGE = """# Bad inputs and what they do

Generated by `python scripts/bad_inputs.py --write` (do not edit by hand);
`tests/test_bad_inputs.py` runs the same cases and asserts each verdict. A case is **refused**
when the command exits non-zero with a one-line message naming the offending option or file
(`file:line` for data), without a traceback; it is **handled** when the input is valid, or is
dealt with correctly, and the command exits 0 (its last output line is shown). Commands are
`python -m applications.reward_models.<command>` with the arguments shown (file paths shortened
to their names; the files are made by the script: `scripts/bad_input_files.py`), or a Python
snippet (`scripts/bad_input_snippets.py`) for inputs that are not a command line. The crafted
checkpoint's pickle would create a file when unpickled; the case also checks it was not created.

{table}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {DOC.relative_to(ROOT)}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_files(Path(tmp))
        outcomes = [run_case(c) for c in cases(Path(tmp))]
    text = PAGE.format(table=table(outcomes))
    if args.write:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
