"""The pass registry (keys, descriptions, contracts, option errors) and describe_changes."""

from __future__ import annotations

import dataclasses

import pytest

from spyx.errors import OptionError
from spyx.passes import PASSES, describe_changes, graph_diff, list_passes, parse_pipeline, run_pipeline
from spyx.passes.base import PRESERVES
from spyx.passes.registry import get_pass_class
from tests.passes.passes_graphs import recurrent, scaled_mlp


@pytest.mark.parametrize("name", sorted(PASSES))
def test_every_key_is_the_pass_name_with_a_description_and_contract(name):
    cls = get_pass_class(name)
    assert cls.name == name
    assert len(cls.description) > 20
    assert cls.preserves in PRESERVES
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen


def test_list_passes_shows_options_with_choices():
    rows = {name: opts for name, _, _, opts in list_passes()}
    assert "mode: none|gain = none" in rows["rescale"]
    assert "rename: bool = False" in rows["reorder"]


def test_unknown_pass_and_option_list_the_valid_ones():
    with pytest.raises(OptionError) as e:
        parse_pipeline("fuse,rescal{threshold=1}")
    assert "unknown pass 'rescal'" in str(e.value)
    for name in PASSES:
        assert name in str(e.value)
    with pytest.raises(OptionError, match="pass 'reorder' has no option 'renmae'; valid options: rename"):
        parse_pipeline("reorder{renmae=true}")
    with pytest.raises(OptionError, match="option rename of pass 'reorder' expects bool, got 'maybe'"):
        parse_pipeline("reorder{rename=maybe}")
    with pytest.raises(OptionError, match="must be one of skip, error"):
        parse_pipeline("rescale{threshold=1,on_conflict=ignore}")


def test_describe_changes_counts_nodes_and_parameters():
    g = scaled_mlp()  # input, scale, fc1, fc2, scale2, lif, output
    log: list = []
    result = run_pipeline(g, "rescale{threshold=1},fuse,reorder{rename=true},cse", log=log)
    lines = describe_changes(g, log)
    # threshold: lif (v_threshold, v_reset, v_leak) and its only feeder scale2 (scale) change
    assert lines[0] == "rescale{threshold=1.0}: 2 nodes changed, 4 parameters touched, nodes 7 -> 7"
    assert (
        lines[1] == "fuse: 3 nodes removed, 1 node changed, 2 parameters touched, nodes 7 -> 4, edges 6 -> 3"
    )
    assert lines[2] == "reorder{rename=true}: 2 nodes renamed, nodes 4 -> 4"  # fc1 -> fc0, lif -> lif0
    assert lines[3] == "cse: unchanged"
    d = graph_diff(g, result.graph)
    assert d.nodes_before == 7 and d.nodes_after == 4


def test_notes_are_listed_under_their_pass():
    g = recurrent()
    log: list = []
    run_pipeline(g, "rescale{mode=gain,threshold=1}", log=log)
    lines = describe_changes(g, log)
    assert lines[0].startswith("rescale{mode=gain,threshold=1.0}: 3 nodes changed")
    assert not any(line.startswith("    note:") for line in lines)
