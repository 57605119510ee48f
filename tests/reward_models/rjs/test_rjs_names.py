"""RJS model names as path components, and paths kept inside output_dir (issue 22)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from applications.reward_models.cli import ConfigError
from applications.reward_models.rjs.config import RJSConfig, parse_args
from applications.reward_models.rjs.names import PathOutsideRunError, check_name, contained_path


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("..", "relative directory"),
        (".", "relative directory"),
        ("../../x", "separator"),
        ("a/b", "separator"),
        ("a\\b", "separator"),
        ("/abs", "separator"),
        ("", "empty"),
        ("   ", "empty"),
        ("bad\x00name", "control character"),
        ("new\nline", "control character"),
    ],
)
def test_unsafe_names_are_refused_naming_them(name: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as err:
        check_name(name, "--rms")
    assert repr(name) in str(err.value) and "--rms" in str(err.value)


@pytest.mark.parametrize("name", ["more", "multitask", "rm-1.v2", "MORE_ema0.1", "..x", "x.."])
def test_safe_names_pass(name: str) -> None:
    assert check_name(name, "--rms") == name


@pytest.mark.parametrize(
    "argv",
    [
        ["score", "--rms", "../../x=/tmp/model"],
        ["score", "--rms", "..=/tmp/model"],
        ["score", "--schemes", "../evil"],
        ["evaluate", "--judge", "rm:../x"],
    ],
)
def test_the_cli_refuses_unsafe_names_before_building_paths(argv: list[str], tmp_path) -> None:
    with pytest.raises(ConfigError, match="model name"):
        parse_args([*argv, "--output_dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_argument_time_checks(tmp_path) -> None:
    with pytest.raises(ConfigError, match="--judge_url"):
        parse_args(["evaluate", "--judge", "http"])
    with pytest.raises(ConfigError, match="--seed"):
        parse_args(["sample", "--seed", "-1"])
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        parse_args(["sample", "--output_dir", str(a_file)])
    stage, cfg = parse_args(["evaluate", "--judge", "http", "--judge_url", "http://127.0.0.1:1"])
    assert stage == "evaluate" and cfg.judge_url == "http://127.0.0.1:1"


def test_paths_resolving_outside_the_run_are_refused(tmp_path: Path) -> None:
    run, outside = tmp_path / "run", tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    run.mkdir()
    assert contained_path(run, "policies", "more") == run / "policies" / "more"
    with pytest.raises(PathOutsideRunError, match="outside the run directory"):
        contained_path(run, "..", "precious")
    os.symlink(outside, run / "policies")  # policies/ points elsewhere
    cfg = RJSConfig(output_dir=str(run))
    with pytest.raises(PathOutsideRunError):
        cfg.path("policies", "more")


def test_the_sft_stage_never_replaces_a_folder_outside_output_dir(tmp_path: Path) -> None:
    from applications.reward_models.rjs.pipeline import stage_sft

    run, outside = tmp_path / "run", tmp_path / "precious"
    (outside / "more").mkdir(parents=True)
    (outside / "more" / "keep.txt").write_text("mine")
    run.mkdir()
    os.symlink(outside, run / "policies")
    cfg = RJSConfig(output_dir=str(run), rms=["more=/nonexistent"])
    with pytest.raises(PathOutsideRunError):
        stage_sft(cfg, models=None, log=lambda *_: None)  # type: ignore[arg-type]
    assert (outside / "more" / "keep.txt").read_text() == "mine"
