"""Config files (issue 22): duplicate keys and aliases refused with file:line, ``yes``/``no``
booleans read as booleans, ``--models`` labels unique; plus a fuzz test of the loader."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applications.reward_models.cli import ConfigError
from applications.reward_models.cli.strict_yaml import (
    MAX_DEPTH,
    YAMLConfigError,
    load_yaml_file,
    load_yaml_text,
    parse_bool,
)
from applications.reward_models.training.config import parse_args

# 300 bytes that expand to 9^6 ≈ 530 000 strings ("billion laughs").
ALIAS_BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, n in zip("abcde", "bcdef", strict=True)
        ),
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
    ]
)


def test_duplicate_keys_are_refused_naming_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("max_steps: 1\nseed: 0\nmax_steps: 1000000\n")
    with pytest.raises(ConfigError) as err:
        parse_args(["--config", str(path)])
    assert f"{path}:3: duplicate key 'max_steps' (first at {path}:1)" in str(err.value)


def test_duplicate_keys_in_a_nested_section(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("more:\n  ema_alpha: 0.1\n  ema_alpha: 0.5\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: duplicate key 'ema_alpha'.*:2"):
        parse_args(["--config", str(path)])


def test_an_alias_bomb_fails_at_the_first_alias(tmp_path: Path) -> None:
    import tracemalloc

    assert len(ALIAS_BOMB) < 400
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB)
    tracemalloc.start()
    try:
        with pytest.raises(YAMLConfigError, match=rf"{path}:2: YAML alias \*a is not allowed"):
            load_yaml_file(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20  # nothing was expanded (the expansion is hundreds of MB)
    with pytest.raises(ConfigError, match=rf"{path}:2: YAML alias \*a is not allowed"):
        parse_args(["--config", str(path)])


def test_an_anchor_without_alias_is_harmless() -> None:
    assert load_yaml_text("x: &a 1\ny: 2\n") == {"x": "1", "y": "2"}


def test_nesting_is_bounded() -> None:
    deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    with pytest.raises(YAMLConfigError, match=f"nested more than {MAX_DEPTH}"):
        load_yaml_text(deep, "deep.yaml")
    very_deep = "[" * 50_000 + "]" * 50_000  # would be a RecursionError in PyYAML's composer
    with pytest.raises(YAMLConfigError, match=r"deep\.yaml:1"):
        load_yaml_text(very_deep, "deep.yaml")
    assert load_yaml_text("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_a_fifo_or_folder_is_not_read(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(YAMLConfigError, match="not a regular file"):
        load_yaml_file(str(fifo))  # would block forever if opened
    with pytest.raises(ConfigError, match="not a regular file"):
        parse_args(["--config", str(tmp_path)])


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("yes", True),
        ("Yes", True),
        ("on", True),
        ("true", True),
        ("1", True),
        ("y", True),
        ("no", False),
        ("off", False),
        ("False", False),
        ("0", False),
        (False, False),
    ],
)
def test_booleans_from_files(word, expected: bool) -> None:
    assert parse_bool(word, "x") is expected


def test_cap_train_yes_is_true_and_a_typo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "src.yaml"
    source = "sources:\n  - name: s\n    kind: hh_harmless\n    path: {p}\n    cap_train: {v}\n"
    data = tmp_path / "d.jsonl"
    data.write_text('{"chosen": "a", "rejected": "b"}\n')
    path.write_text(source.format(p=data, v="yes"))
    assert parse_args(["--config", str(path)]).sources[0].cap_train is True
    path.write_text(source.format(p=data, v="no"))
    assert parse_args(["--config", str(path)]).sources[0].cap_train is False
    path.write_text(source.format(p=data, v="yse"))
    with pytest.raises(ValueError, match=r"sources\[s\].cap_train: expected a boolean"):
        parse_args(["--config", str(path)])


def test_evaluate_refuses_a_label_given_twice() -> None:
    from applications.reward_models.evaluation.config import parse_args as evaluate_args

    with pytest.raises(ValueError, match=r"label 'a' given twice \('M1' and 'M2'\)"):
        evaluate_args(["--models", "a=M1", "a=M2", "--output_dir", "out"])
    assert evaluate_args(["--models", "a=M1", "b=M2", "--output_dir", "out"]).models == [
        "a=M1",
        "b=M2",
    ]


_YAML_ALPHABET = st.sampled_from([*list("ab:-[]{},&*!?|>'\"#\n \t0yes~%@`\\"), "\x00", "é"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(_YAML_ALPHABET, max_size=300))
def test_fuzz_the_yaml_loader_gives_a_result_or_one_error_naming_the_file(
    tmp_path_factory, text: str
) -> None:
    """Any text: parsed data, or exactly one YAMLConfigError (a ValueError) naming the file —
    never another exception type. Bounded by structure: aliases refused, depth ≤ MAX_DEPTH."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_yaml_file(str(path))
    except YAMLConfigError as err:
        assert str(err).startswith(str(path))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(_YAML_ALPHABET, max_size=200))
def test_fuzz_the_config_parser_gives_a_config_or_one_clean_error(
    tmp_path_factory, text: str
) -> None:
    """Through ``--config``: a config or one ``ValueError`` (ConfigError and the option checks,
    which name the option or the file) — nothing the CLI would print as a traceback."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        parse_args(["--config", str(path)])
    except ConfigError as err:
        assert str(path) in str(err) or "--" in str(err)
    except ValueError as err:
        assert str(err)
