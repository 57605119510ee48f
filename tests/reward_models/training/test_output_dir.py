"""One run per output folder, never on top of an earlier run (issue 22).

* a fresh run (no ``--resume``) into a folder holding an earlier run is refused, naming
  ``--resume`` and ``--overwrite_output_dir``; ``--overwrite_output_dir`` moves the earlier run
  aside and deletes it, so a later ``--resume`` can never read the old run's metrics.json or
  checkpoints as its own;
* an exclusive lock: a second process on the same folder fails naming the first one's pid; a lock
  file left by a dead process is taken over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from applications.reward_models.training.config import parse_args
from applications.reward_models.training.output_dir import (
    LOCK_NAME,
    OutputDirError,
    OutputDirInUseError,
    OutputDirNotEmptyError,
    claim_output_dir,
    earlier_run_files,
    lock_output_dir,
)

ROOT = Path(__file__).resolve().parents[3]


def _earlier_run(out: Path) -> None:
    (out / "multitask" / "checkpoint-0000002").mkdir(parents=True)
    (out / "multitask" / "checkpoint-0000002" / "trainer_state.pt").write_bytes(b"old")
    (out / "more").mkdir()
    (out / "more" / "metrics.json").write_text('{"old": true}')
    (out / "config.yaml").write_text("seed: 0\n")


def test_fresh_run_into_an_earlier_run_is_refused(tmp_path: Path) -> None:
    _earlier_run(tmp_path)
    with pytest.raises(OutputDirNotEmptyError) as err:
        claim_output_dir(str(tmp_path), resume=False, overwrite=False)
    message = str(err.value)
    assert "--resume" in message and "--overwrite_output_dir" in message
    assert "more/metrics.json" in message and "config.yaml" in message
    assert (tmp_path / "more" / "metrics.json").exists()  # nothing touched
    with claim_output_dir(str(tmp_path), resume=True, overwrite=False):
        assert (tmp_path / "more" / "metrics.json").exists()


def test_overwrite_moves_the_earlier_run_aside_and_deletes_it(tmp_path: Path) -> None:
    _earlier_run(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with claim_output_dir(str(tmp_path), resume=False, overwrite=True):
        assert sorted(os.listdir(tmp_path)) == [LOCK_NAME]
    assert earlier_run_files(str(tmp_path)) == []
    # then a crash of the new run and a --resume finds nothing of the old run
    with claim_output_dir(str(tmp_path), resume=True, overwrite=False):
        assert not (tmp_path / "more" / "metrics.json").exists()


def test_an_unrelated_file_is_not_an_earlier_run(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("hi")
    (tmp_path / "data").mkdir()
    with claim_output_dir(str(tmp_path), resume=False, overwrite=False):
        assert (tmp_path / "README.txt").exists()


def test_a_crashed_overwrite_leaves_only_its_trash_which_the_next_claim_removes(
    tmp_path: Path,
) -> None:
    trash = tmp_path / ".overwritten-12345"
    (trash / "more").mkdir(parents=True)
    (trash / "more" / "metrics.json").write_text("{}")
    assert earlier_run_files(str(tmp_path)) == []
    with claim_output_dir(str(tmp_path), resume=False, overwrite=False):
        assert not trash.exists()


def test_argument_time_checks(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(OutputDirError, match="is a file"):
        parse_args(["--output_dir", str(a_file)])
    with pytest.raises(OutputDirError, match="inside the file"):
        parse_args(["--output_dir", str(a_file / "sub")])
    with pytest.raises(OutputDirError, match="give one of them"):
        parse_args(["--output_dir", str(tmp_path), "--resume", "--overwrite_output_dir"])
    with pytest.raises(ValueError, match="--seed"):
        parse_args(["--output_dir", str(tmp_path), "--seed", "-1"])


_HOLDER = textwrap.dedent(
    """
    import sys
    from applications.reward_models.training.output_dir import lock_output_dir
    lock = lock_output_dir(sys.argv[1])
    print("locked", flush=True)
    sys.stdin.readline()  # hold the lock until the test says so
    lock.release()
    print("released", flush=True)
    """
)


def _holder(out: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


def test_a_second_process_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        with pytest.raises(OutputDirInUseError) as err:
            lock_output_dir(str(tmp_path))
        assert f"pid {holder.pid}" in str(err.value) and "another run" in str(err.value)
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    with lock_output_dir(str(tmp_path)):  # free again
        pass


def test_the_training_cli_refuses_a_locked_folder(tmp_path: Path, capsys) -> None:
    from applications.reward_models.train import main

    holder = _holder(tmp_path)
    try:
        assert main(["--output_dir", str(tmp_path), "--max_steps", "1"]) == 2
        assert f"pid {holder.pid}" in capsys.readouterr().err
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)


def test_a_dead_processes_lock_file_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": "h"}))
    with lock_output_dir(str(tmp_path)) as lock:
        info = json.loads(Path(lock.path).read_text())
        assert info["pid"] == os.getpid()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from applications.reward_models.testing import save_tiny_reward_model

    return save_tiny_reward_model(str(tmp_path_factory.mktemp("tiny") / "bert"), "bert")


def _argv(model: str, out: Path, *extra: str) -> list[str]:
    return [
        "--model", model, "--output_dir", str(out), "--sources", "shared,lists",
        "--max_length", "128", "--train_pairs_per_source", "4", "--test_pairs_per_source", "2",
        "--pairs_per_source", "2", "--max_steps", "2", "--progress_bar", "false",
        "--scheme", "multitask", *extra,
    ]  # fmt: skip


def test_a_finished_run_is_neither_reused_nor_mixed_by_a_fresh_one(
    tmp_path: Path, tiny_model: str, capsys
) -> None:
    from applications.reward_models.train import main

    assert main(_argv(tiny_model, tmp_path)) == 0
    first = json.loads((tmp_path / "multitask" / "metrics.json").read_text())
    capsys.readouterr()
    assert main(_argv(tiny_model, tmp_path, "--seed", "1")) == 2
    err = capsys.readouterr().err
    assert "already holds an earlier run" in err and "--overwrite_output_dir" in err
    assert json.loads((tmp_path / "multitask" / "metrics.json").read_text()) == first
    assert main(_argv(tiny_model, tmp_path, "--seed", "1", "--overwrite_output_dir")) == 0
    second = json.loads((tmp_path / "multitask" / "metrics.json").read_text())
    assert second["settings"]["seed"] == 1 and first["settings"]["seed"] == 0
    assert "already finished" not in capsys.readouterr().out  # trained anew, not reused
