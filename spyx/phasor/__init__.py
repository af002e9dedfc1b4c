"""spyx.phasor: phasor networks and resonate-and-fire neurons with Spyx 1.0's API and numbers
(``../shared/spyx-api.md`` §11).

* Codecs: :func:`real_to_phasor`, :func:`phasor_to_real`, :func:`phase_of`, :func:`phase_to_spikes`,
  :func:`spikes_to_phase`.
* Layers: :class:`PhasorLinear` (complex dense, real/imaginary storage), :class:`PhasorActivation` (unit circle),
  :class:`PhasorReadout` (real logits), :class:`PhasorMLP`, :class:`SpikingPhasor` (whole-period spike transform).
* :class:`ResonateFire`: the reset-free resonate-and-fire neuron (complex membrane) with ``parallel``; also
  ``spyx.experimental.ResonateFire``.

``docs/phasor.md`` gives every equation.
"""

from spyx.phasor.codecs import phase_of, phase_to_spikes, phasor_to_real, real_to_phasor, spikes_to_phase
from spyx.phasor.linear import PhasorActivation, PhasorLinear, PhasorReadout
from spyx.phasor.mlp import PhasorMLP
from spyx.phasor.resonate_fire import ResonateFire  # noqa: F401  (public, outside __all__ as in Spyx 1.0)
from spyx.phasor.spiking import SpikingPhasor

__all__ = [
    "PhasorLinear",
    "PhasorActivation",
    "PhasorReadout",
    "PhasorMLP",
    "SpikingPhasor",
    "real_to_phasor",
    "phasor_to_real",
    "phase_of",
    "phase_to_spikes",
    "spikes_to_phase",
]
