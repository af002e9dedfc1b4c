"""Resource tables and Speck placement: counts equal hand counts written out from the layer shapes, a
placement is found or the layer that fits nowhere is named with the reason, the table's text and JSON forms
carry the same rows, and ``validate --target`` prints / emits them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import spyx
from cli.main import main
from spyx.errors import OptionError
from spyx.ir import IF, Conv2d, Graph
from spyx.targets import get_target, quantize_for, resources
from spyx.targets.speck_memory import SPECK_CORES, place, speck_layers
from tests.quant.test_targets import S2_GOOD, _xylo

F = np.float32
KI = 1024


def _conv_chain(channels: list[int], side: int, k: int = 3) -> Graph:
    """Input (channels[0], side, side) -> [Conv2d k x k, padding k // 2 -> IF] per next channel count."""
    rng = np.random.default_rng(len(channels) * 100 + side)
    layers = []
    for i, (c, f) in enumerate(zip(channels[:-1], channels[1:], strict=True)):
        layers.append((f"conv{i}", Conv2d(
            weight=rng.integers(-3, 4, (f, c, k, k)).astype(F), bias=np.zeros(f, F), stride=np.array([1, 1]),
            padding=np.array([k // 2] * 2), dilation=np.array([1, 1]), groups=np.int64(1),
            input_shape=np.array([side, side]),
        )))
        shape = (f, side, side)
        layers.append((f"if{i}", IF(r=np.ones(shape, F), v_threshold=np.ones(shape, F), v_reset=np.zeros(shape, F))))
    return Graph.sequential(layers, input_shape=(channels[0], side, side))


def _pow2_up(x: int) -> int:
    """The smallest power of two >= x, by doubling (independent of the library's log2)."""
    p = 1
    while p < x:
        p *= 2
    return p


def test_speck_core_table_is_sinabs_constraints():
    """Sinabs chips/dynapcnn.py get_constraints: kernel 16,16,16,32,32,64,64,16,16 Ki; neuron 64,64,64,32,32,
    16,16,16,16 Ki; bias 1024."""
    assert [c.kernel // KI for c in SPECK_CORES] == [16, 16, 16, 32, 32, 64, 64, 16, 16]
    assert [c.neuron // KI for c in SPECK_CORES] == [64, 64, 64, 32, 32, 16, 16, 16, 16]
    assert {c.bias for c in SPECK_CORES} == {1024}


def test_corpus_cnn_memory_equals_hand_counts_and_places(corpus):
    """Sinabs' N-MNIST CNN: kernel = c * 2^(ceil log2(kx ky) + ceil log2 f), neuron = f * 2^(ceil log2 fy +
    ceil log2 fx), written out from the layer shapes in the file."""
    g = spyx.load(corpus / "cnn_sinabs.nir")
    hand = {
        # conv 0: weight (16, 2, 5, 5), output (16, 16, 16): 2 * 2^(5 + 4); 16 * 2^(4 + 4)
        "0->1": (2 * 2 ** (5 + 4), 16 * 2 ** (4 + 4), 16),
        # conv 2: weight (16, 16, 3, 3), output (16, 16, 16): 16 * 2^(4 + 4); 16 * 2^(4 + 4)
        "2->3": (16 * 2 ** (4 + 4), 16 * 2 ** (4 + 4), 16),
        # conv 5: weight (8, 16, 3, 3), output (8, 8, 8): 16 * 2^(4 + 3); 8 * 2^(3 + 3)
        "5->6": (16 * 2 ** (4 + 3), 8 * 2 ** (3 + 3), 8),
        # Affine 9 (256, 128) after Flatten of (8, 4, 4): a (256, 8, 4, 4) conv: 8 * 2^(4 + 8); 256 * 1
        "9->10": (8 * 2 ** (4 + 8), 256, 256),
        # Affine 11 (10, 256) on a flat (256,): a (10, 256, 1, 1) conv: 256 * 2^(0 + 4); 10 * 1
        "11->12": (256 * 2 ** (0 + 4), 10, 10),
    }
    table = resources(g, "speck")
    got = {
        lyr: tuple(table.row(lyr, w).used for w in ("kernel entries", "neuron entries", "bias entries"))
        for lyr in hand
    }
    assert got == hand
    placement = place(speck_layers(g))
    assert placement.ok and len(set(placement.assignment.values())) == 5
    # 9->10 needs 32 Ki kernel entries: only cores 3-6 have that much
    assert placement.candidates["9->10"] == (3, 4, 5, 6)
    assert placement.assignment["9->10"] in (3, 4, 5, 6)
    for name, core in placement.assignment.items():
        k, n, b = hand[name]
        c = SPECK_CORES[core]
        assert k <= c.kernel and n <= c.neuron and b <= c.bias
        assert table.row(name, "kernel entries").note == f"core {core}"
    assert table.row("chip", "cores").used == 5 and table.fits
    assert not any(v.rule == "speck.memory" for v in get_target("speck").check(g))


def test_memory_counts_against_a_float64_loop_on_random_convs():
    """Random conv chains: the counts equal the formula computed with a doubling loop."""
    rng = np.random.default_rng(5)
    for _ in range(3):
        chans = [int(x) for x in rng.integers(1, 40, size=3)]
        side, k = int(rng.integers(3, 20)), int(rng.choice([1, 3, 5]))
        layers = speck_layers(_conv_chain(chans, side, k))
        for lyr, c, f in zip(layers, chans[:-1], chans[1:], strict=True):
            assert lyr.kernel == c * _pow2_up(k * k) * _pow2_up(f)
            assert lyr.neurons == f * _pow2_up(side) * _pow2_up(side)


def test_sinabs_memory_summary_agrees():
    """Our counts equal Sinabs' own DynapcnnLayer.memory_summary (needs sinabs' dynapcnn backend, which
    imports samna)."""
    try:
        from sinabs.backend.dynapcnn.dynapcnn_layer import DynapcnnLayer
    except ImportError as e:
        pytest.skip(f"sinabs.backend.dynapcnn is not importable here ({e}); the hand counts above still run")
    import sinabs.layers as sl
    import torch.nn as nn

    for chans, side, k in (([2, 16, 8], 16, 3), ([3, 5, 7], 11, 5)):
        for lyr, c, f in zip(speck_layers(_conv_chain(chans, side, k)), chans[:-1], chans[1:], strict=True):
            conv = nn.Conv2d(c, f, k, padding=k // 2)
            ref = DynapcnnLayer(conv=conv, spk=sl.IAFSqueeze(batch_size=1), in_shape=(c, side, side),
                                pool=[[1, 1]]).memory_summary()
            assert (lyr.kernel, lyr.neurons, lyr.bias) == (ref["kernel"], ref["neuron"], ref["bias"])


def test_a_layer_that_fits_no_core_is_named_with_its_counts():
    # 64 -> 64 channels, 3x3, on 32x32: kernel 64 * 2^(4 + 6) = 64 Ki fits only cores 5, 6 (64 Ki kernel);
    # neuron 64 * 2^(5 + 5) = 64 Ki needs cores 0-2 (64 Ki neuron): no core has both
    g = _conv_chain([64, 64], 32)
    (lyr,) = speck_layers(g)
    assert (lyr.kernel, lyr.neurons) == (64 * 16 * 64, 64 * 32 * 32)
    found = [v for v in get_target("speck").check(g) if v.rule == "speck.memory"]
    assert [v.nodes for v in found] == [("conv0", "if0")]
    assert "fits no core" in found[0].message and "(5, 6) have too little neuron memory" in found[0].message
    # a kernel bigger than any core: 128 channels in, 128 out, 3x3 on 4x4: 128 * 2^(4 + 7) = 256 Ki
    g = _conv_chain([128, 128], 4)
    (v,) = [v for v in get_target("speck").check(g) if v.rule == "speck.memory"]
    assert "262144 kernel entries > 65536, the most any core has (cores 5, 6)" in v.message
    t = resources(g, "speck")
    row = t.row("conv0->if0", "kernel entries")
    assert (row.used, row.limit, row.fits, row.note) == (262144, 65536, False, "largest core (not placed)")
    assert not t.fits


def test_contention_for_the_large_cores_is_reported():
    """Three layers of 64 Ki kernel entries (64 -> 64, 3x3) fit only cores 5 and 6: the third is unplaced
    and the message names the cores and the layers holding them."""
    g = _conv_chain([64, 64, 64, 64], 4)
    placement = place(speck_layers(g))
    assert all(c == (5, 6) for c in placement.candidates.values())
    assert placement.unplaced == ("conv2->if2",)
    (v,) = [v for v in get_target("speck").check(g) if v.rule == "speck.memory"]
    assert "fits cores 5, 6 only" in v.message and v.nodes == ("conv2", "if2")
    holders = {placement.assignment["conv0->if0"], placement.assignment["conv1->if1"]}
    assert holders == {5, 6}
    for name in ("conv0->if0", "conv1->if1"):
        assert f"core {placement.assignment[name]} ({name})" in v.message
    # with two such layers there is room
    assert place(speck_layers(_conv_chain([64, 64, 64], 4))).ok


def test_xylo_and_spinnaker2_tables_equal_counts():
    g = _xylo(n_in=4, n_hid=6, n_out=2)
    t = resources(g, "xylo-audio3")
    assert [(r.what, r.used, r.limit) for r in t.rows[:3]] == [
        ("input channels", 4, 16), ("hidden neurons", 6, 992), ("output neurons", 2, 32)
    ]
    # fan-out by a loop over columns: inputs through w_in, h through w_rec and w_out
    def most(*ws):
        return max(sum(int(w[r, col] != 0) for w in ws for r in range(w.shape[0])) for col in range(ws[0].shape[1]))

    n = g.nodes
    assert t.row("in", "max fan-out").used == most(n["w_in"].weight)
    assert t.row("h", "max fan-out").used == most(n["w_rec"].weight, n["w_out"].weight)
    assert t.row("h", "max fan-out").limit is None  # Audio 3's fan-out is not in the sources
    assert resources(g, "xylo-imu").row("h", "max fan-out").limit == 512
    s2 = resources(S2_GOOD, "spinnaker2{max_atoms_per_core=3}")
    assert (s2.row("lif", "neurons").used, s2.row("lif", "neurons").note) == (4, "2 core(s) at 3 per core")
    assert s2.row("fc", "weights").used == 4 * 3 and s2.row("fc", "weights").fits is None
    assert resources(S2_GOOD, "loihi2").rows == ()  # no resource model: an empty table, said so
    assert "no resource model" in resources(S2_GOOD, "loihi2").format_table()


def test_table_text_and_json_carry_the_same_rows(corpus):
    t = resources(spyx.load(corpus / "cnn_sinabs.nir"), "speck")
    d = json.loads(t.to_json())
    assert d == t.to_dict() and len(d["rows"]) == len(t.rows) and d["fits"] is True
    text = t.format_table().splitlines()
    assert text[0] == "resources on speck:" and len(text) == 2 + len(t.rows) + len(t.notes)
    for line, r in zip(text[2:], t.rows, strict=False):
        limit, fits = ("-", "-") if r.limit is None else (str(r.limit), "yes" if r.fits else "NO")
        assert line.split() == [r.where, *r.what.split(), str(r.used), limit, fits, *r.note.split()]


def test_validate_prints_the_table_and_json(corpus, tmp_path):
    src = corpus / "cnn_sinabs.nir"
    r = CliRunner().invoke(main, ["validate", str(src), "--target", "speck"], catch_exceptions=False)
    assert r.exit_code == 1 and "speck.weight-format" in r.stderr  # float weights: rules fail, table still shown
    assert "resources on speck:" in r.stdout and "9->10" in r.stdout
    r = CliRunner().invoke(main, ["validate", str(src), "--target", "speck", "--format", "json"],
                           catch_exceptions=False)
    info = json.loads(r.stdout)
    assert r.exit_code == 1 and info["valid"] is False and info["target"] == "speck"
    assert {v["rule"] for v in info["violations"]} == {"speck.weight-format"}
    assert info["resources"] == resources(spyx.load(src), "speck").to_dict()
    g = spyx.load(src)
    q = quantize_for(g, "speck").graph
    spyx.save(q, tmp_path / "q.nir")
    r = CliRunner().invoke(main, ["validate", str(tmp_path / "q.nir"), "--target", "speck", "--format", "json"],
                           catch_exceptions=False)
    info = json.loads(r.stdout)
    assert r.exit_code == 0 and info["valid"] and info["violations"] == [] and info["resources"]["fits"]


def test_unknown_target_lists_the_variants():
    with pytest.raises(OptionError, match="xylo-audio3, xylo-imu"):
        get_target("xylo-audio4")


def test_neuron_rows_of_a_non_power_of_two_map_say_both_counts():
    # 2 -> 6 channels on 34 x 34 (NMNIST's size): 6 * 34 * 34 = 6936 neurons; the chip stores rows and columns of
    # 2^6 = 64 entries, so 6 * 64 * 64 = 24576 entries, and the note names both (issue 16 writes f * fx * fy)
    g = _conv_chain([2, 6], 34)
    row = resources(g, "speck").row("conv0->if0", "neuron entries")
    assert row.used == 6 * _pow2_up(34) * _pow2_up(34)
    assert f"6 x 34 x 34 = {6 * 34 * 34} neurons" in row.note and "powers of 2" in row.note
    # a power-of-two map has one count: no second one in the note
    g = _conv_chain([2, 6], 32)
    assert "neurons" not in resources(g, "speck").row("conv0->if0", "neuron entries").note
