"""spyx.optimize: training loops (the Spyx 1.0 ``spyx.optimize`` API).

* :func:`fit` — a Python epoch loop over a per-batch compiled step; trains the model in place and returns a
  :data:`History` (a list of per-epoch metric dicts).
* :func:`compile_fit` — the whole run (epochs x batches, evaluation) as one compiled XLA program; returns a
  new model and a dict of per-epoch arrays.
* :class:`SolverImpl`, :data:`Solver`, :func:`backprop` — the update-rule protocol of ``compile_fit``.
* :func:`make_train_step`, :func:`make_eval_step` — the compiled steps ``fit`` uses.

See ``docs/training.md``.
"""

from spyx.optimize.compiled import compile_fit
from spyx.optimize.loop import History, fit
from spyx.optimize.solver import Solver, SolverImpl, backprop
from spyx.optimize.steps import make_eval_step, make_train_step

__all__ = [
    "fit",
    "compile_fit",
    "backprop",
    "SolverImpl",
    "Solver",
    "make_train_step",
    "make_eval_step",
    "History",
]
