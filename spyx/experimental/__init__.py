"""spyx.experimental: research-stage layers whose API may change without a deprecation cycle (Spyx 1.0's
namespace, ``../shared/spyx-api.md`` §13).

* :mod:`spyx.experimental.rf_ssm`: :class:`RFSSM` (alias :data:`ResonateFireSSM`), the resonate-and-fire spiking SSM.
* :class:`ResonateFire`: re-exported from :mod:`spyx.phasor` (the same class).
"""

from spyx.experimental import rf_ssm
from spyx.experimental.rf_ssm import RFSSM, ResonateFireSSM
from spyx.phasor import ResonateFire

__all__ = ["rf_ssm", "RFSSM", "ResonateFireSSM", "ResonateFire"]
