"""Packaging: every spyx sub-package is listed for installation, and importing spyx stays light."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_directory_is_installed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "spyx").rglob("__init__.py")
    }
    missing = found - listed
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert "spyx_cli" in listed and config["tool"]["setuptools"]["package-dir"]["spyx_cli"] == "cli"


def test_import_spyx_does_not_import_optional_heavy_dependencies():
    code = (
        "import sys, spyx; heavy = [m for m in ('torch', 'qwix', 'tonic', 'nirtorch') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == ""
