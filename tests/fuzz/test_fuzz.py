"""A small, deterministic run of the mutation fuzzer (``scripts/fuzz.py`` runs the big one): 200 cases of
seed 14 over the corpus, each in a worker process with 5 CPU-seconds and 4 GiB of address space. Every case
must end as a spyx error naming the file, or as an accepted file that the independent oracle finds sound."""

from __future__ import annotations

import pytest

from tests.conftest import CORPUS
from tests.fuzz.harness import BAD, fuzz, summary

SEED = 14
CASES = 200


@pytest.fixture(scope="module")
def results():
    if not any(CORPUS.glob("*.nir")):
        pytest.skip(f"NIR corpus not found at {CORPUS} (it lives in ../shared/nir-corpus beside the checkout)")
    return fuzz(SEED, CASES, corpus=CORPUS, workers=2, cpu_seconds=5, memory_bytes=4 * 2**30)


def test_no_crash_hang_false_accept_or_unnamed_error(results):
    bad = [r for r in results if r["outcome"] in BAD]
    lines = [
        f"case {r.get('index')} ({r.get('mutation')} of {r.get('source')}: {r.get('detail')}): {r['outcome']}: "
        f"{r.get('message', '')[:300]}"
        for r in bad
    ]
    assert not bad, f"{len(bad)} of {len(results)} cases went wrong (rerun one: scripts/fuzz.py --seed {SEED} " \
        "--start I --cases 1 --keep DIR):\n" + "\n".join(lines)


def test_the_run_exercises_both_families_and_both_good_outcomes(results):
    s = summary(results)
    assert s["cases"] == CASES
    assert s["families"].get("byte", 0) > 40 and s["families"].get("h5py", 0) > 80, s
    assert s["outcomes"].get("error", 0) > 100 and s["outcomes"].get("accepted", 0) > 5, s
    assert not s["outcomes"].get("generator_error"), s


def test_cases_are_reproducible(tmp_path):
    """Case (seed, index) is the same mutation, and for byte mutations the same bytes, every time."""
    if not any(CORPUS.glob("*.nir")):
        pytest.skip(f"NIR corpus not found at {CORPUS}")
    from tests.fuzz.mutations import corpus_files, make_case

    files = corpus_files(CORPUS)
    for index in range(12):
        made = []
        for run in ("a", "b"):
            folder = tmp_path / f"{run}{index}"
            folder.mkdir()
            made.append(make_case(SEED, index, files, folder))
        a, b = made
        assert (a.source, a.mutation, a.detail, a.expect) == (b.source, b.mutation, b.detail, b.expect)
        if a.mutation.startswith("byte"):
            assert a.path.read_bytes() == b.path.read_bytes()
