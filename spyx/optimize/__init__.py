"""spyx.optimize: training loops (the Spyx 1.0 ``spyx.optimize`` API).

* :func:`fit` — a Python epoch loop over a per-batch compiled step; trains the model in place and returns a
  :data:`History` (a list of per-epoch metric dicts).
* :func:`compile_fit` — the whole run (epochs x batches, evaluation) as one compiled XLA program; returns a
  new model and a dict of per-epoch arrays.
* :class:`SolverImpl`, :data:`Solver`, :func:`backprop` — the update-rule protocol of ``compile_fit``.
* :func:`make_train_step`, :func:`make_eval_step` — the compiled steps ``fit`` uses.
* :func:`sweep` — a population (seeds, parameter sets, hyper-parameters) trained at once, ``jax.vmap`` of
  ``compile_fit``'s program; :func:`stack`, :func:`unstack`, :func:`population_size` for stacked modules.
* :func:`make_mesh` — the ``(population, data)`` device mesh that ``fit``, ``compile_fit`` and ``sweep`` take
  as ``mesh=`` (from :mod:`spyx.sharding`).

See ``docs/training.md`` and ``docs/scaling.md``.
"""

from spyx.optimize.compiled import compile_fit
from spyx.optimize.loop import History, fit
from spyx.optimize.solver import Solver, SolverImpl, backprop
from spyx.optimize.steps import make_eval_step, make_train_step
from spyx.optimize.sweep import population_size, stack, sweep, unstack
from spyx.sharding import make_mesh

__all__ = [
    "fit",
    "compile_fit",
    "backprop",
    "SolverImpl",
    "Solver",
    "make_train_step",
    "make_eval_step",
    "History",
    "sweep",
    "stack",
    "unstack",
    "population_size",
    "make_mesh",
]
