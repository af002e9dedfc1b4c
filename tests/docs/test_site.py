"""The documentation site builds with ``mkdocs build --strict`` (a broken link, an anchor that does not exist,
a page missing from the nav or a docstring the API reference cannot parse fails it), and the API reference
is generated from the docstrings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_mkdocs_build_strict(tmp_path):
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install 'spyx[docs]')")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(site)], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    for page in (ROOT / "docs").glob("*.md"):
        name = "index.html" if page.stem == "index" else f"{page.stem}/index.html"
        assert (site / name).is_file(), page.name
    # the reference holds the docstrings themselves, not only the headings
    html = (site / "api" / "draw" / "index.html").read_text()
    assert 'id="spyx.draw.draw"' in html and "closer to 4:3" in html
    html = (site / "api" / "nn" / "index.html").read_text()
    assert 'id="spyx.nn.LIF"' in html and 'id="spyx.nn.export.export"' in html
