"""One command-line convention: the parser of every entry point (``reward_models.cli``)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from applications.reward_models.cli import (
    ConfigError,
    at_least,
    build_parser,
    flat_fields,
    in_range,
    key_value,
    one_of,
    option,
    parse,
    positive,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class Inner:
    alpha: float | None = option(0.5, help="a weight", check=in_range(0, 1))
    name: str = option("a", help="a name", check=one_of(lambda: ("a", "b")))


@dataclass
class Toy:
    output_dir: str = option(help="required folder")
    steps: int = option(3, help="steps", check=positive)
    rate: float = option(0.1, help="a rate", check=at_least(0))
    tags: list[str] = option(factory=lambda: ["x"], help="tags")
    pairs: dict[str, str] = option(factory=dict, parse=key_value, help="NAME=VALUE pairs")
    flag: bool = option(True, help="a flag")
    inner: Inner = dataclasses.field(default_factory=Inner)


def _parse(argv, **kw):
    return parse(Toy, argv, "toy", "a toy CLI", **kw)


def test_types_nesting_and_defaults():
    toy = _parse(
        ["--output_dir", "2024-01-01", "--inner.alpha", "none", "--tags", "p", "q", "--no_flag"]
    )
    assert toy == Toy("2024-01-01", tags=["p", "q"], flag=False, inner=Inner(alpha=None))
    toy = _parse(["--output-dir=o", "--pairs", "a=1", "b=x=y", "--flag", "false"])
    assert toy.pairs == {"a": "1", "b": "x=y"} and toy.flag is False


def test_precedence_defaults_then_data_then_file_then_command_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("output_dir: file\nsteps: 5\ninner:\n  alpha: 0.25\npairs: {k: v}\n")
    toy = _parse(["--config", str(path), "--steps", "7"], data={"rate": 2, "steps": 1})
    assert (toy.output_dir, toy.steps, toy.rate) == ("file", 7, 2.0)
    assert toy.inner.alpha == 0.25 and toy.pairs == {"k": "v"}


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        ([], "--output_dir is required"),
        (["--output_dir", "o", "--steps", "0"], "--steps must be > 0, got 0"),
        (["--output_dir", "o", "--rate", "nan"], "--rate must be a finite number"),
        (["--output_dir", "o", "--rate", "-inf"], "--rate must be a finite number"),
        (["--output_dir", "o", "--inner.alpha", "2"], r"--inner.alpha must be in \[0, 1\]"),
        (["--output_dir", "o", "--inner.name", "c"], "--inner.name: unknown name 'c'"),
        (["--output_dir", "o", "--stesp", "1"], "did you mean '--steps'"),
        (["--output_dir", "o", "--output_dir", "p"], "--output_dir given twice"),
        (["--output_dir", "o", "--flag", "--no_flag"], "given twice"),
        (["--output_dir", "o", "--pairs", "novalue"], "expected KEY=VALUE"),
        (["--output_dir", "o", "--pairs", "a=1", "a=2"], "--pairs: key 'a' given twice"),
        (["--output_dir", "o", "--ste", "1"], "unknown option --ste"),  # no prefix matching
        (["--output_dir", "o", "--config"], "--config expects a file"),
    ],
)
def test_errors(argv, match):
    with pytest.raises(ConfigError, match=match):
        _parse(argv)


@pytest.mark.parametrize(
    ("config", "argv", "name"),
    [
        ("evaluation", ["--models", "A=m", "--trained_on", "A=x", "B=z", "A=y"], "trained_on"),
        ("training", ["--more.weighting_options", "a=x", "a=y"], "more.weighting_options"),
        ("reproduce", ["--set", "a=x", "a=y"], "overrides"),
    ],
)
def test_a_repeated_key_of_a_dict_option_names_the_key_and_both_values(config, argv, name):
    # regression: a dict option kept the last value of a repeated key, or named neither value
    from applications.reward_models import reproduce
    from applications.reward_models.evaluation.config import EvalConfig
    from applications.reward_models.training.config import TrainConfig

    cls = {
        "evaluation": EvalConfig,
        "training": TrainConfig,
        "reproduce": reproduce.ReproduceSettings,
    }
    with pytest.raises(ConfigError, match=rf"--{name}: key '(a|A)' given twice \('x' and 'y'\)"):
        parse(cls[config], ["--output_dir", "o", *argv], "p", "d")


def test_an_option_without_help_is_a_programming_error():
    @dataclass
    class NoHelp:
        x: int = dataclasses.field(default=1)

    with pytest.raises(TypeError, match="no help text"):
        build_parser(NoHelp, "p", "d")


def _help_of(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def _entry_points():
    from applications.reward_models import evaluate, reproduce, train
    from applications.reward_models.evaluation.config import EvalConfig
    from applications.reward_models.rjs import __main__ as rjs
    from applications.reward_models.rjs.config import RJSConfig
    from applications.reward_models.training.config import TrainConfig

    return [
        (train.main, [], TrainConfig),
        (evaluate.main, [], EvalConfig),
        (rjs.main, ["sample"], RJSConfig),
        (reproduce.main, [], reproduce.ReproduceSettings),
    ]


@pytest.mark.parametrize("index", range(4))
def test_every_cli_helps_every_option_and_accepts_config_and_output_dir(index, capsys):
    from applications.reward_models.cli import flat_fields

    main, prefix, cls = _entry_points()[index]
    text = _help_of(main, [*prefix, "--help"], capsys)
    assert "--config FILE.yaml" in text and "\n  --output_dir" in text
    lines = text.splitlines()
    for leaf in flat_fields(cls):
        # the flag's line, then its help on the same or the next line
        flag = (f"--{leaf.name} ", f"--{leaf.name},")
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(flag))
        rest = [*lines[at].strip().split("  ", 1)[1:], lines[at + 1].strip()]
        assert rest[0].strip() and not rest[0].startswith("--"), leaf.name
        assert leaf.field.metadata["help"].split()[0] in " ".join(lines[at : at + 3])


def _run(*args: str, torch_free: bool = True) -> tuple[int, str, float]:
    """Run a CLI in a fresh interpreter; with ``torch_free`` also fails (rc 3) if torch was
    imported (nothing was loaded)."""
    module, *argv = args
    code = (
        "import sys, importlib\n"
        f"rc = importlib.import_module({module!r}).main({argv!r})\n"
        f"sys.exit(3 if {torch_free} and 'torch' in sys.modules else rc)\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": ROOT}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return proc.returncode, proc.stderr, time.perf_counter() - start


@pytest.mark.parametrize(
    ("argv", "option_name"),
    [
        (["--learning_rate", "nan"], "--learning_rate"),
        (["--learning_rate", "inf"], "--learning_rate"),
        (["--adam_beta1", "2"], "--adam_beta1"),
        (["--adam_epsilon", "-1"], "--adam_epsilon"),
        (["--max_grad_norm", "-1"], "--max_grad_norm"),
    ],
)
def test_train_rejects_bad_numbers_in_seconds_without_loading_anything(argv, option_name):
    rc, err, seconds = _run("applications.reward_models.train", *argv)
    assert rc == 2, err
    assert err.startswith(f"error: {option_name} must be") and err.count("\n") == 1
    assert "Traceback" not in err
    assert seconds < 60  # the parse imports neither torch nor data (checked by rc != 3)


def test_every_cli_rejects_a_repeated_option_the_same_way():
    for module, argv in [
        ("applications.reward_models.evaluate", ["--models", "a", "--output_dir", "o"] * 2),
        ("applications.reward_models.reproduce", ["--seeds", "1", "--seeds", "2"]),
    ]:
        rc, err, _ = _run(module, *argv, torch_free=False)
        assert rc == 2 and err.startswith("error: --") and "given twice" in err, err


def test_reproduce_eval_batch_size_counts_pairs(monkeypatch, tmp_path):
    """One meaning per knob: ``eval_batch_size`` is pairs per forward pass in training and in
    reproduce alike (the old reproduce halved it as if it counted sequences)."""
    from applications.reward_models import reproduce
    from applications.reward_models.evaluation import evaluator

    seen = {}

    def fake_evaluate_models(models, test, *, batch_size, **kw):
        seen["batch_size"] = batch_size
        raise StopIteration

    monkeypatch.setattr(evaluator, "evaluate_models", fake_evaluate_models)
    settings = reproduce.parse_args(
        ["--output_dir", str(tmp_path), "--schemes", "raw", "--eval_batch_size", "10"]
    )
    with pytest.raises(StopIteration):
        reproduce.run_seed(settings, 0)
    assert seen["batch_size"] == 10
    assert settings.simulator_seed == 0 and "sim_seed" not in vars(settings)


def test_config_files_work_for_evaluate_and_rjs(tmp_path):
    from applications.reward_models.evaluation.config import parse_args as eval_args
    from applications.reward_models.rjs.config import parse_args as rjs_args

    path = tmp_path / "e.yaml"
    path.write_text("models: [A=x, B=y]\noutput_dir: o\ntrained_on: {A: shared}\nbins: [5]\n")
    config = eval_args(["--config", str(path), "--bins", "10", "20"])
    assert config.models == ["A=x", "B=y"] and config.trained_on == {"A": "shared"}
    assert config.bins == [10, 20] and config.output_dir == "o"
    path.write_text("output_dir: r\nn: 2\nrms: [a=/x]\ntrust_remote_code: true\n")
    stage, cfg = rjs_args(["score", "--config", str(path), "--n", "3"])
    assert (stage, cfg.output_dir, cfg.n, cfg.rms) == ("score", "r", 3, ["a=/x"])
    assert cfg.trust_remote_code is True


def _shadow(leaf):
    import copy
    import types

    shadow = copy.copy(leaf.field)
    shadow.name, shadow.type = leaf.name, leaf.type
    meta = {k: leaf.field.metadata[k] for k in ("help", "aliases") if leaf.field.metadata.get(k)}
    shadow.metadata = types.MappingProxyType(meta)
    return shadow


def _actions(parser) -> list[tuple]:
    keys = ("option_strings", "dest", "nargs", "const", "default", "required", "help")
    return [
        (*(getattr(a, k) for k in keys), getattr(a.type, "__name__", a.type))
        for a in parser._actions
        if a.dest != "help"
    ]


@pytest.mark.parametrize(
    "module, name",
    [
        ("applications.reward_models.training.config", "TrainConfig"),
        ("applications.reward_models.evaluation.config", "EvalConfig"),
        ("applications.reward_models.reproduce", "ReproduceSettings"),
        ("applications.reward_models.rjs.config", "RJSConfig"),
        ("applications.reward_models.study.config", "StudyConfig"),
    ],
)
def test_every_option_gets_the_arguments_hf_argument_parser_gives_it(module, name):
    """The parser re-implements HfArgumentParser's field mapping (so --help imports no
    transformers): the same flags, types, defaults and nargs, field by field."""
    import argparse
    import copy
    import importlib

    from transformers import HfArgumentParser

    from applications.reward_models.cli._hf_fields import add_field_argument

    cls = getattr(importlib.import_module(module), name)
    leaves = [leaf for leaf in flat_fields(cls) if leaf.field.metadata.get("parse") is None]
    assert leaves
    for leaf in leaves:
        ours, theirs = argparse.ArgumentParser(), HfArgumentParser([])
        add_field_argument(ours, _shadow(leaf))
        HfArgumentParser._parse_dataclass_field(theirs, copy.copy(_shadow(leaf)))
        assert _actions(ours) == _actions(theirs), leaf.name
