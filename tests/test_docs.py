"""The documentation cannot rot: its examples run, its site builds, its API pages cover the API.

* Every ```python (or ```py) fenced block of every page in docs/**/*.md and of README.md is
  executed. The blocks of one page run in order in one shared namespace, with a fresh temporary
  directory as the working directory; one test per page, its id is the page path. Blocks in any
  other language (```bash, ```text, ```yaml, ...) are not run.
* `mkdocs build --strict` passes (broken links, missing pages, unresolved API references fail it).
* Every file named in the nav of mkdocs.yml exists and every page is in the nav.
* Every public name in `mooptim.__all__` is rendered by some `::: identifier` in docs/api/.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API = DOCS / "api"

# Languages whose blocks are executed; the first word of the info string, braces and dots stripped
# (```python, ```py, ```{.python title="x"}, ```python title="x").
RUN_LANGUAGES = {"python", "py"}
_FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_DIRECTIVE = re.compile(r"^[ \t]*:::[ \t]+(?P<identifier>[\w.]+)", re.MULTILINE)


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block: its language, 1-based line of its first code line, and dedented code."""

    language: str
    line: int
    code: str


def _language(info: str) -> str:
    match = re.match(r"[\s{.]*([\w+-]*)", info)
    return match[1].lower() if match else ""


def extract_blocks(text: str) -> list[CodeBlock]:
    """All fenced code blocks of a Markdown text, in order, including indented ones.

    A fence opens with three or more backticks (or tildes) and closes with at least as many of the
    same character and nothing else on the line; the indentation of the opening fence (blocks
    inside admonitions or tabs) is removed from every code line.

    Raises:
        ValueError: a fence is never closed (its line is named).
    """
    blocks: list[CodeBlock] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE_OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        fence, indent = match["fence"], match["indent"]
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        start = i + 1
        j = start
        while j < len(lines) and not close.match(lines[j]):
            j += 1
        if j == len(lines):
            raise ValueError(f"line {i + 1}: code fence {fence!r} is never closed")
        body = [line[len(indent) :] if line.startswith(indent) else line for line in lines[start:j]]
        blocks.append(
            CodeBlock(_language(match["info"]), start + 1, textwrap.dedent("\n".join(body)))
        )
        i = j + 1
    return blocks


def _pages() -> list[Path]:
    pages = sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []
    readme = ROOT / "README.md"
    return [*pages, readme] if readme.is_file() else pages


def _page_id(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _numbered(code: str, first_line: int) -> str:
    return "\n".join(f"{first_line + k:5d} | {line}" for k, line in enumerate(code.splitlines()))


@pytest.mark.parametrize("page", _pages(), ids=_page_id)
def test_docs_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every Python block of `page` in order, in one namespace, inside a temporary directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = [
        b for b in extract_blocks(page.read_text(encoding="utf-8")) if b.language in RUN_LANGUAGES
    ]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks:
        # Leading newlines make tracebacks report the line numbers of the Markdown file itself.
        source = "\n" * (block.line - 1) + block.code
        try:
            exec(compile(source, str(page), "exec"), namespace)
        except Exception as error:
            failure = _describe_failure(page, block, error)
        else:
            continue
        pytest.fail(failure, pytrace=False)


def _describe_failure(page: Path, block: CodeBlock, error: BaseException) -> str:
    """The block with line numbers, then the traceback without this test module's own frame."""
    trace = traceback.TracebackException.from_exception(error)
    trace.stack = traceback.StackSummary.from_list(
        [frame for frame in trace.stack if frame.filename != __file__]
    )
    return (
        f"{_page_id(page)}: the python block starting at line {block.line} raised "
        f"{type(error).__name__}: {error}\n\n{_numbered(block.code, block.line)}\n\n"
        + "".join(trace.format())
    )


def test_extract_blocks_languages_indentation_and_nesting() -> None:
    text = textwrap.dedent(
        """\
        Intro.

        ```python
        a = 1
        ```

        !!! note
            ```py title="x.py"
            b = a + 1
            ```

        ````markdown
        ```python
        not_run()
        ```
        ````

        ```bash
        echo hi
        ```
        """
    )
    blocks = extract_blocks(text)
    assert [b.language for b in blocks] == ["python", "py", "markdown", "bash"]
    assert [b.line for b in blocks] == [4, 9, 13, 19]
    assert blocks[1].code == "b = a + 1"  # admonition indentation removed
    assert "not_run()" in blocks[2].code  # the inner fence belongs to the outer block
    with pytest.raises(ValueError, match="line 1: code fence"):
        extract_blocks("```python\nx = 1\n")


def test_sphinx_markup_becomes_markdown() -> None:
    path = DOCS / "overrides" / "griffe_sphinx_markup.py"
    spec = importlib.util.spec_from_file_location("griffe_sphinx_markup", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = "See :class:`~mooptim.MinNormSolver`, :meth:`solve <x.y.solve>` and :math:`a^2`."
    assert module.convert(text) == "See `MinNormSolver`, `solve` and $a^2$."
    converted = module.convert(".. math:: E = mc^2\n\n==  ==\na   b\n==  ==\n1   2\n==  ==\nend")
    assert converted.splitlines()[:3] == ["$$", "E = mc^2", "$$"]
    assert "```text\n==  ==\na   b" in converted and converted.endswith("```\nend")


def _nav_files(node: object) -> list[str]:
    if isinstance(node, str):
        return [node] if node.endswith(".md") else []
    if isinstance(node, dict):
        return [f for value in node.values() for f in _nav_files(value)]
    if isinstance(node, list):
        return [f for item in node for f in _nav_files(item)]
    return []


def _mkdocs_config() -> dict:
    yaml = pytest.importorskip("yaml")

    class _Loader(yaml.SafeLoader):
        """Safe loading that tolerates mkdocs' `!!python/name:` and `!ENV` tags (kept as None)."""

    _Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda *_: None)
    _Loader.add_multi_constructor("!", lambda *_: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)


def test_nav_matches_pages() -> None:
    """The nav names only existing pages; every page (outside excluded folders) is in the nav."""
    nav = _nav_files(_mkdocs_config()["nav"])
    missing = [f for f in nav if not (DOCS / f).is_file()]
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    pages = {p for p in pages if not p.startswith("overrides/")}
    orphans = sorted(pages - set(nav))
    assert not missing, f"mkdocs.yml nav names pages that do not exist under docs/: {missing}"
    assert not orphans, f"pages under docs/ missing from the nav of mkdocs.yml: {orphans}"


def _api_identifiers() -> set[str]:
    return {
        m["identifier"] for page in API.rglob("*.md") for m in _DIRECTIVE.finditer(page.read_text())
    }


def test_api_reference_covers_public_names() -> None:
    """Each name in `mooptim.__all__` is rendered by a `:::` directive in docs/api/*.md.

    A name counts as covered when a directive names it through the package (`mooptim.Name`),
    through its defining module (`mooptim.solver.Name`), or names that whole module.
    """
    mooptim = importlib.import_module("mooptim")
    identifiers = _api_identifiers()
    uncovered = []
    for name in mooptim.__all__:
        module = getattr(getattr(mooptim, name), "__module__", None) or ""
        accepted = {f"mooptim.{name}", f"{module}.{name}", module}
        if not accepted & identifiers:
            uncovered.append(name)
    assert not uncovered, (
        f"public names of mooptim without an API page entry (add `::: mooptim.Name` to a page "
        f"under docs/api/): {uncovered}"
    )


def test_api_identifiers_are_importable() -> None:
    """Every `mooptim.*` identifier in docs/api/ resolves (fast check before the full build)."""
    unresolved = []
    for identifier in sorted(i for i in _api_identifiers() if i.split(".")[0] == "mooptim"):
        parts = identifier.split(".")
        # Longest importable module prefix, then attributes.
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                unresolved.append(identifier)
            break
        else:
            unresolved.append(identifier)
    assert not unresolved, f"docs/api/ references objects that do not exist: {unresolved}"


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    """`mkdocs build --strict` succeeds: no broken link, missing page or unresolved reference."""
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        if importlib.util.find_spec(module.split(".")[0]) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[docs]')")
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    problems = [
        line for line in result.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))
    ]
    if result.returncode != 0:
        pytest.fail(
            "mkdocs build --strict failed:\n"
            + "\n".join(problems or result.stderr.splitlines()[-40:]),
            pytrace=False,
        )
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "search" / "search_index.json").stat().st_size > 0
