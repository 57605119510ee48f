"""Try every known bad input on the command-line tools and write the outcome table.

Each case runs one CLI in a subprocess (offline, tiny settings) and records its exit status, the
first line it printed on stderr, whether a Python traceback leaked, and how long it took. The
Markdown table goes to ``docs/reward-models/bad-inputs.md`` (``--write``) or to stdout.
``tests/test_bad_inputs.py`` runs the same cases and asserts that each one fails fast and cleanly.

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

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reward-models" / "bad-inputs.md"
TRAIN = [sys.executable, "-m", "applications.reward_models.train"]
EVALUATE = [sys.executable, "-m", "applications.reward_models.evaluate"]


@dataclass(frozen=True)
class Case:
    """One bad input: what it is, the command, and the text its error must mention."""

    what: str
    argv: tuple[str, ...]
    mentions: str


@dataclass(frozen=True)
class Outcome:
    """How a case ended."""

    case: Case
    returncode: int
    message: str
    traceback: bool
    seconds: float


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


def cases(root: Path) -> list[Case]:
    """Every bad input we try (``root``: the folder of :func:`make_files`)."""
    f = {k: str(v) for k, v in _files(root).items()}
    out = str(root / "out")
    train = ("--output_dir", out)
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


def run_case(case: Case, timeout: float = 120.0) -> Outcome:
    """Run one case offline and record how it ended."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    start = time.perf_counter()
    proc = subprocess.run(
        [*TRAIN, *case.argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    seconds = time.perf_counter() - start
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    message = next((line for line in lines if line.startswith("error")), lines[-1] if lines else "")
    return Outcome(case, proc.returncode, message, "Traceback" in proc.stderr, seconds)


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table of outcomes."""
    rows = [
        "| bad input | command-line arguments | exit status | message | traceback | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        args = " ".join(a if "/" not in a else Path(a).name for a in o.case.argv)
        message = o.message.replace("|", "\\|")
        rows.append(
            f"| {o.case.what} | `{args}` | {o.returncode} | {message} | "
            f"{'yes' if o.traceback else 'no'} | {o.seconds:.1f} |"
        )
    return "\n".join(rows)


PAGE = """# Bad inputs and what they do

Generated by `python scripts/bad_inputs.py --write` (do not edit by hand);
`tests/test_bad_inputs.py` runs the same cases and asserts that each exits non-zero, with a
one-line message naming the offending option or file, without a traceback. Every case runs
`python -m applications.reward_models.train` with the arguments shown (file paths shortened to
their names; the data files are made by the script) plus `--output_dir`.

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
