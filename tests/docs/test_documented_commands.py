"""Every ``spyx-convert`` command and every self-contained Python snippet in README.md and docs/*.md runs as
written, on real files.

Commands are the lines of fenced blocks that start with ``spyx-convert``; each distinct one runs once, in its
own folder, where the file names the docs use stand for corpus files (:data:`PLACEHOLDERS`, copied there
under the documented name, so the command line is not changed). A trailing comment that starts with
``exit N`` is the exit code the docs promise (default 0). Python blocks run when they are self-contained:
every name they read is imported or assigned in the block (a fragment that continues an earlier example is
not run).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.conftest import CORPUS

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# documented file name -> the corpus file it stands for
PLACEHOLDERS = {
    "model.nir": "lif_norse.nir",
    "lif_norse.nir": "lif_norse.nir",
    "in.nir": "braille_noDelay_bias_zero.nir",
    "braille.nir": "braille_noDelay_bias_zero.nir",
    "braille_subgraph.nir": "braille_noDelay_bias_zero_subgraph.nir",
    "cnn_sinabs.nir": "cnn_sinabs.nir",
}
# Python blocks that take more than a few seconds on 2 CPU cores (page name: why)
SLOW = {"training.md": "trains 10 epochs", "bench.md": "times 3 models", "tutorial-import-finetune.md": "trains"}
# Python blocks that cannot run on one CPU (page name: why); they are skipped, saying so
ELSEWHERE = {"scaling.md": "builds meshes of 8 devices (make_mesh(population=4, data=2))"}

_FENCE = re.compile(r"^\s*```(\w*)\s*$")


def _blocks(path: Path) -> list[tuple[str, str, int]]:
    """(language, text, first line number) of each fenced block."""
    out, lang, start, body = [], None, 0, []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        m = _FENCE.match(line)
        if m and lang is None:
            lang, start, body = m.group(1), i + 1, []
        elif m and lang is not None:
            out.append((lang, "\n".join(body), start))
            lang = None
        elif lang is not None:
            body.append(line)
    return out


def _dedent(text: str) -> str:
    lines = text.splitlines()
    pad = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
    return "\n".join(ln[pad:] for ln in lines)


def _commands() -> dict[str, str]:
    """command line -> where it is first documented."""
    found: dict[str, str] = {}
    for page in PAGES:
        for lang, text, start in _blocks(page):
            if lang not in ("", "bash", "sh", "console", "shell"):
                continue
            for k, line in enumerate(text.splitlines()):
                line = line.strip()
                if line.startswith("spyx-convert "):
                    found.setdefault(line, f"{page.relative_to(ROOT)}:{start + k}")
    return found


def _free_names(code: str) -> set[str]:
    """Names the code reads that it neither imports nor assigns anywhere (nor are builtins)."""
    tree = ast.parse(code)
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read - bound


def _snippets() -> dict[str, str]:
    """``page:line`` -> code of every self-contained Python block."""
    out = {}
    for page in PAGES:
        for lang, text, start in _blocks(page):
            code = _dedent(text)
            if lang == "python" and not _free_names(code):
                out[f"{page.relative_to(ROOT)}:{start}"] = code
    return out


COMMANDS = _commands()
SNIPPETS = _snippets()


def _page(where: str) -> str:
    return Path(where.split(":")[0]).name


COMMAND_PARAMS = [pytest.param(line, id=where) for line, where in COMMANDS.items()]
SNIPPET_PARAMS = [pytest.param(where, id=where, marks=[pytest.mark.slow] if _page(where) in SLOW else [])
                  for where in SNIPPETS]


def test_the_docs_have_commands_and_snippets_to_run():
    # a change of the extraction that finds nothing must fail, not pass vacuously
    assert len(COMMANDS) >= 15 and any(c.startswith("spyx-convert run ") for c in COMMANDS)
    assert len(SNIPPETS) >= 4
    assert _free_names("import spyx\nx = spyx.load(p)") == {"p"}


def _workdir(tmp_path: Path, text: str) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"NIR corpus not found at {CORPUS} (the documented commands run on its files)")
    for name, real in PLACEHOLDERS.items():
        if re.search(rf"(?<![\w./-]){re.escape(name)}\b", text):
            shutil.copy(CORPUS / real, tmp_path / name)
    return tmp_path


def _input_for(cmd: list[str], workdir: Path) -> None:
    """Write the ``--input`` file a command names: seeded spikes of the model's input shape, (T=50, B=2, ...)."""
    if "--input" not in cmd:
        return
    import spyx

    model = next(a for a in cmd[2:] if a.endswith(".nir"))
    graph = spyx.load(workdir / model, repair="--repair" in cmd)
    (shape,) = [tuple(int(s) for s in node.shape) for node in graph.inputs.values()]
    x = (np.random.default_rng(0).random((50, 2, *shape)) < 0.1).astype(np.float32)
    np.save(workdir / cmd[cmd.index("--input") + 1], x)


def _needs(argv: list[str]) -> None:
    """Skip, saying why, a command whose optional parts are not installed here (``draw``: the graphviz
    package, and Graphviz's dot program for pictures)."""
    if argv[1] != "draw":
        return
    pytest.importorskip("graphviz", reason="spyx-convert draw needs the graphviz package (pip install 'spyx[draw]')")
    out = argv[argv.index("-o") + 1]
    if not out.endswith((".dot", ".gv")) and shutil.which("dot") is None:
        pytest.skip(f"writing {out} needs Graphviz's dot program, which is not on PATH")


@pytest.mark.parametrize("line", COMMAND_PARAMS)
def test_documented_command_runs(line, tmp_path, monkeypatch):
    from spyx_cli.main import main

    command, _, comment = line.partition(" # ")
    command, _, pipe = command.partition(" | ")
    m = re.match(r"\s*exit (\d)\b", comment)
    expected = int(m.group(1)) if m else 0
    argv = shlex.split(command)
    _needs(argv)
    workdir = _workdir(tmp_path, command)
    monkeypatch.chdir(workdir)
    _input_for(argv, workdir)
    result = CliRunner().invoke(main, argv[1:], catch_exceptions=False)
    assert result.exit_code == expected, f"{line}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    if expected:
        return
    if "--format json" in command:
        json.loads(result.stdout)
    tool = shlex.split(pipe)[0] if pipe else None
    if tool and shutil.which(tool):  # the documented pipe too, when its program is installed here
        done = subprocess.run(pipe, shell=True, input=result.stdout, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("where", SNIPPET_PARAMS)
def test_documented_python_runs(where, tmp_path, monkeypatch):
    code = SNIPPETS[where]
    if _page(where) in ELSEWHERE:
        pytest.skip(f"{where} {ELSEWHERE[_page(where)]}")
    monkeypatch.chdir(_workdir(tmp_path, code))
    exec(compile(code, where, "exec"), {"__name__": "__docs__"})  # noqa: S102  the docs' own code
