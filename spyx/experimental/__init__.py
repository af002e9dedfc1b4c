"""spyx.experimental: research-stage layers, solvers and tools (Spyx 1.0's ``spyx.experimental``,
``../shared/spyx-api.md`` §13-§14).

What is here may change without a deprecation period; ideas graduate into the stable core by the promotion rules of
``research/README.md``. Every neuron's equations and order of operations are in its docstring and in
``docs/experimental.md``. Submodules:

* :mod:`~spyx.experimental.compress`: bit-packing of spikes and low-bit activations for BPTT residuals;
* :mod:`~spyx.experimental.evolve`: ES and CMA-ES solvers for ``spyx.optimize.compile_fit``;
* :mod:`~spyx.experimental.hybrid`: surrogate gradients corrected by evolution strategies;
* :mod:`~spyx.experimental.matfree`: multiplication-free (ternary, power-of-two) layers;
* :mod:`~spyx.experimental.onnx`: ONNX export of a step or a sequence (jax2onnx, optional);
* :mod:`~spyx.experimental.parallel_reset`: ``ParallelResetLIF``, LIF with a parallel-in-time solver;
* :mod:`~spyx.experimental.raven`: routing slot memories;
* :mod:`~spyx.experimental.rf_ssm`: ``RFSSM`` (alias ``ResonateFireSSM``), the resonate-and-fire spiking SSM;
* :mod:`~spyx.experimental.sigma_delta`: ``SigmaDelta``, graded change events;
* :mod:`~spyx.experimental.stochastic`: Bernoulli-spiking neurons;
* :mod:`~spyx.experimental.zoo`: a registry of small worked experiments.

``PSU_LIF`` and ``AssociativeLIF`` are ``spyx.nn``'s classes and ``ResonateFire`` is ``spyx.phasor``'s (the same
objects).
"""

from spyx.experimental import (
    compress,
    evolve,
    hybrid,
    matfree,
    onnx,
    parallel_reset,
    raven,
    rf_ssm,
    sigma_delta,
    stochastic,
    zoo,
)
from spyx.experimental.compress import (
    pack_nbit,
    pack_spikes,
    packed_quant_dense,
    packed_spike_dense,
    packing_footprint,
    sparse_quant_pack,
    sparse_quant_unpack,
    unpack_nbit,
    unpack_spikes,
)
from spyx.experimental.hybrid import (
    es_gradient,
    hybrid_diagnostics,
    hybrid_gradient,
    make_hybrid_train_step,
    make_sges_hybrid_train_step,
    sges_gradient,
)
from spyx.experimental.parallel_reset import ParallelResetLIF
from spyx.experimental.raven import RavenRSM, SlotRouter, SpikingSlotMemory, make_recall_batch
from spyx.experimental.sigma_delta import SigmaDelta, graded_quant
from spyx.experimental.stochastic import (
    SPSN,
    StochasticAssociativeCuBaLIF,
    StochasticAssociativeLIF,
    refractory_sigmoid_bernoulli,
    sigmoid_bernoulli,
)
from spyx.nn.psu_lif import PSU_LIF, AssociativeLIF

from spyx.experimental.rf_ssm import RFSSM, ResonateFireSSM
from spyx.phasor import ResonateFire

__all__ = [
    # submodules
    "compress",
    "evolve",
    "hybrid",
    "matfree",
    "onnx",
    "parallel_reset",
    "raven",
    "rf_ssm",
    "sigma_delta",
    "stochastic",
    "zoo",
    # re-exports (spyx-api.md §13.1, §14)
    "PSU_LIF",
    "AssociativeLIF",
    "ResonateFire",
    "RFSSM",
    "ResonateFireSSM",
    "pack_spikes",
    "unpack_spikes",
    "packed_spike_dense",
    "pack_nbit",
    "unpack_nbit",
    "packed_quant_dense",
    "sparse_quant_pack",
    "sparse_quant_unpack",
    "packing_footprint",
    "es_gradient",
    "hybrid_gradient",
    "hybrid_diagnostics",
    "sges_gradient",
    "make_hybrid_train_step",
    "make_sges_hybrid_train_step",
    "ParallelResetLIF",
    "RavenRSM",
    "SpikingSlotMemory",
    "SlotRouter",
    "make_recall_batch",
    "SPSN",
    "StochasticAssociativeLIF",
    "StochasticAssociativeCuBaLIF",
    "sigmoid_bernoulli",
    "refractory_sigmoid_bernoulli",
    "SigmaDelta",
    "graded_quant",
]
