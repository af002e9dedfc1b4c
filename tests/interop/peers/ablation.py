"""Which piece of each profile matters: re-run fixtures with one option changed and count the differences.

python -m tests.interop.peers.ablation FIXTURE_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from .numpy_ref import check_case

# (peer, case, what is changed, override of meta['ref'])
ABLATIONS = [
    (
        "snntorch",
        "leaky_zero_delay",
        "reset=subtract (the file cannot tell)",
        {"options": {"reset": "subtract", "reset_delay": True}},
    ),
    (
        "snntorch",
        "leaky_subtract_delay",
        "reset_delay=False",
        {"options": {"reset": "subtract", "reset_delay": False}},
    ),
    (
        "snntorch",
        "leaky_zero_nodelay",
        "reset_delay=True",
        {"options": {"reset": "zero", "reset_delay": True}},
    ),
    (
        "snntorch",
        "rleaky_subtract_delay",
        "nir profile (exact ZOH, reset to v_reset) at dt=1e-4",
        {"profile": "nir"},
    ),
    (
        "norse",
        "lifbox_dt1e-3",
        "tau read as written (tau_written_times_dt=False)",
        {"options": {"tau_written_times_dt": False}},
    ),
    (
        "norse",
        "lifbox_dt5e-4_vleak_vreset",
        "v_reset from the file (0) instead of the user's -0.1",
        {"node_options": {}},
    ),
    ("norse", "lifbox_reset_subtract", "reset to value (the file cannot tell)", {"options": {}}),
    ("norse", "lif_cuba_dt2e-4", "dt=1e-3 (norse's default) instead of 2e-4", {"dt": 1e-3}),
    ("sinabs", "iaf_min_v_mem", "no min_v_mem", {"options": {}}),
    ("sinabs", "lif_norm_input_expleak", "norm_input=False", {"options": {"norm_input": False}}),
    ("sinabs", "lif_tau_syn", "tau_syn not given", {"options": {"norm_input": False}}),
    ("sinabs", "iaf_singlespike_reset", "MultiSpike + subtract (sinabs defaults)", {"options": {}}),
    ("rockpool", "lif_cuba_bias", "bias from the file (0)", {"node_options": {}}),
    ("rockpool", "lif_cuba_dt5e-4_maxspikes2", "no max_spikes cap", {"options": {"max_spikes_per_dt": 0}}),
    ("rockpool", "lif_cuba", "dt recovered from r (dt=None)", {"dt": None}),
    ("spyx1", "lif_mlp", "no output shift (spike on the updated membrane)", {"options": {"shift": False}}),
    ("spyx1", "cubalif_mlp", "no output shift", {"options": {"shift": False}}),
    (
        "spyx1",
        "rlif_mlp",
        "recurrent sub-graph edges as written (lif input = W(x + s))",
        {"options": {"rnn_edges": "as_written"}},
    ),
    ("spyx1", "conv_sumpool_flatten", "Flatten in the file's channels-first order", {"options": {}}),
    (
        "spyx1",
        "lif_mlp_dt1e-3",
        "snnTorch profile at dt=1e-3 (beta = 1 - dt/tau, no shift)",
        {"profile": "snntorch", "options": {"reset": "subtract", "reset_delay": True}},
    ),
]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0])
    for peer, case, what, ov in ABLATIONS:
        cdir = root / peer / case
        if not (cdir / "meta.json").exists():
            continue
        r = check_case(cdir, override=ov)
        print(f"{peer:9s} {case:28s} {what:58s} -> {r['status']}: {r['detail']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
