"""Fixtures of the Spyx 1.0 parity suite (see README.md): the reference generator, started once per session.

``reference`` starts ``spyx1_reference.py`` with the Spyx 1.0 environment's Python in a temporary folder and returns
at once; each test waits only for its own case's record, so our side (computed in the test) and the reference run
at the same time. Without a Spyx 1.0 environment every test skips and says how to create one.
"""

from __future__ import annotations

import pytest

from . import compat_harness as H


@pytest.fixture(scope="session")
def spyx1_exe() -> str:
    py, why = H.spyx1_python()
    if py is None:
        pytest.skip(why)
    return py


@pytest.fixture(scope="session")
def compat_workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("spyx-compat")


@pytest.fixture(scope="session")
def reference(request, spyx1_exe, compat_workdir):
    gen = H.start_reference(spyx1_exe, compat_workdir, H.selected_cases(request.session))
    yield gen
    if isinstance(gen, H.Generator) and gen.proc.poll() is None:
        gen.proc.kill()  # the session ended early (-x, a selection): do not leave it running
        gen.proc.wait()


@pytest.fixture(scope="session")
def ours(request, spyx1_exe, compat_workdir):
    """None: compute our side in-process with our spyx. A Generator: the self-check (SPYX_COMPAT_OURS=spyx1)."""
    gen = H.ours_source(spyx1_exe, compat_workdir, H.selected_cases(request.session))
    yield gen
    if gen is not None and gen.proc.poll() is None:
        gen.proc.kill()
        gen.proc.wait()


@pytest.fixture
def parity(reference, ours):
    def run(name: str) -> None:
        H.check(name, reference, ours)

    return run
