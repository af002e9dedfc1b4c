r"""Routing slot memories (``../shared/spyx-api.md`` §13.8): a bank of ``M`` slots of ``d_slot`` values each, of
which every input step writes only the slots its router selects.

With router gates ``r`` ``[B, M]`` (``sigmoid`` of a linear map of the input; optionally only the top ``k`` kept)
and the write ``U = write(u_t)`` ``[B, M, d_slot]``, a slot ``m`` follows

    S'_m = (1 - r_m) S_m + r_m (decay_m * S_m + U_m)

so an unrouted slot (``r_m = 0``) keeps its content exactly, which is what lets such a memory hold a value over
long gaps (the ``make_recall_batch`` task). :class:`RavenRSM` reads the memory out by a softmax over slots;
:class:`SpikingSlotMemory` makes the slots LIF-like membranes that spike.

These are sequence modules, not stateful layers for ``spyx.nn.run``: ``step(state, u_t) -> (state, y_t)`` takes and
returns the state first, and ``__call__(u)`` runs a whole time-major ``[T, B, d_model]`` sequence from zero.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from spyx.errors import ArgumentError, InputError
from spyx.nn.base import default_spike

__all__ = ["RavenRSM", "SlotRouter", "SpikingSlotMemory", "make_recall_batch"]


def _straight_through_topk(r, k: int):
    """``r`` with all but its ``k`` largest entries per row set to exactly 0 (chosen by index with ``lax.top_k``,
    so ties keep exactly ``k``, lower index first); the gradient is that of the dense ``r``."""
    _, idx = jax.lax.top_k(r, k)
    mask = jnp.sum(jax.nn.one_hot(idx, r.shape[-1], dtype=r.dtype), axis=-2)
    return r + jax.lax.stop_gradient(r * mask - r)


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _positive(name: str, value, what: str) -> int:
    if int(value) != value or value < 1:
        raise ArgumentError(f"{what}: {name} must be an integer >= 1, got {value!r}")
    return int(value)


def _open_unit(name: str, value, what: str) -> float:
    if not 0 < value < 1:
        raise ArgumentError(f"{what}: {name} must lie in (0, 1), got {value!r}")
    return float(value)


class SlotRouter(nnx.Module):
    """Gates ``r = sigmoid(proj(u))`` ``[..., n_slots]``; with ``hard_top_k = k < n_slots`` the forward keeps only
    each row's ``k`` largest gates (the others exactly 0) while the backward sees the dense gates."""

    def __init__(self, d_model: int, n_slots: int, *, hard_top_k: int | None = None, rngs):
        if hard_top_k is not None and hard_top_k < 1:
            raise ArgumentError(f"SlotRouter: hard_top_k must be >= 1 (or None for dense gates), got {hard_top_k!r}")
        self.proj = nnx.Linear(d_model, n_slots, rngs=rngs)
        self.n_slots = int(n_slots)
        self.hard_top_k = hard_top_k

    def __call__(self, u):
        r = jax.nn.sigmoid(self.proj(u))
        if self.hard_top_k is not None and self.hard_top_k < self.n_slots:
            r = _straight_through_topk(r, int(self.hard_top_k))
        return r


def _check_sequence(what: str, u, d_model: int) -> None:
    if u.ndim != 3 or u.shape[-1] != d_model:
        raise InputError(f"{what} expects [T, B, d_model={d_model}]; got {tuple(u.shape)}")


class _SlotMemory(nnx.Module):
    """What both memories share: the router, the write projection, the routed slot update, the scan."""

    def _build(self, what, d_model, n_slots, d_slot, hard_top_k, rngs):
        n_slots = _positive("n_slots", n_slots, what)
        d_slot = _positive("d_slot", d_model if d_slot is None else d_slot, what)
        self.d_model, self.n_slots, self.d_slot = int(d_model), n_slots, d_slot
        self.router = SlotRouter(d_model, n_slots, hard_top_k=hard_top_k, rngs=rngs)
        self.write = nnx.Linear(d_model, n_slots * d_slot, rngs=rngs)

    def initial_state(self, batch_size):
        return jnp.zeros((int(batch_size), self.n_slots, self.d_slot), jnp.float32)

    def _route(self, u_t):
        """The router's gates ``r`` ``(..., M)`` of an input (one step or a whole sequence)."""
        return self.router(u_t)

    def _writes(self, u):
        """``write(u)`` reshaped ``(..., M, d_slot)``."""
        return self.write(u).reshape(*u.shape[:-1], self.n_slots, self.d_slot)

    @staticmethod
    def _update(S, r, U, decay):
        """One routed slot update: ``(1 - r) S + r (decay S + U)`` (``r`` ``(B, M)``)."""
        r = r[..., None]
        return (1 - r) * S + r * (decay[None] * S + U)

    def __call__(self, u):
        _check_sequence(type(self).__name__, u, self.d_model)
        return self._run(u, self._route(u))


class RavenRSM(_SlotMemory):
    r"""Routed slot memory with a softmax read-out.

    One step, in this order, for ``u_t`` ``[B, d_model]`` and memory ``S`` ``[B, M, d_slot]``:

    1. ``r = router(u_t)``; ``U = write(u_t)`` reshaped ``[B, M, d_slot]``;
    2. ``S' = (1 - r) S + r (decay S + U)`` (``decay = sigmoid(raw_decay)``, per slot and value);
    3. ``q = softmax(readout_query(u_t))`` over slots; ``read = sum_m q_m S'_m``; ``y_t = out_proj(read)``.

    Submodules (built in this order, drawing from ``rngs``): ``router``, ``write``, ``readout_query``,
    ``out_proj``; then ``raw_decay = logit(decay_init) + 0.01 N(0, 1)`` ``[M, d_slot]`` (one draw).
    """

    def __init__(self, d_model: int, n_slots: int = 8, d_slot: int | None = None, *, hard_top_k: int | None = None,
                 decay_init: float = 0.9, rngs):
        decay_init = _open_unit("decay_init", decay_init, "RavenRSM")
        self._build("RavenRSM", d_model, n_slots, d_slot, hard_top_k, rngs)
        self.readout_query = nnx.Linear(d_model, self.n_slots, rngs=rngs)
        self.out_proj = nnx.Linear(self.d_slot, d_model, rngs=rngs)
        noise = jax.random.normal(rngs.params(), (self.n_slots, self.d_slot))
        self.raw_decay = nnx.Param(_logit(decay_init) + 0.01 * noise)

    @property
    def decay(self):
        return jax.nn.sigmoid(self.raw_decay[...])

    def _read(self, u):
        """The read-out weights ``softmax(readout_query(u))`` over slots."""
        return jax.nn.softmax(self.readout_query(u), axis=-1)

    def step(self, state, u_t):
        S = self._update(state, self._route(u_t), self._writes(u_t), self.decay)
        read = jnp.einsum("bm,bmd->bd", self._read(u_t), S)
        return S, self.out_proj(read)

    def _run(self, u, r):
        """Outputs ``(T, B, d_model)`` of a sequence from zero memory, with the router's gates ``r`` ``(T, B, M)``
        given (so a test can force them)."""
        _check_sequence("RavenRSM", u, self.d_model)
        decay = self.decay

        def body(S, inputs):
            r_t, U_t, q_t = inputs
            S = self._update(S, r_t, U_t, decay)
            return S, jnp.einsum("bm,bmd->bd", q_t, S)

        _, reads = jax.lax.scan(body, self.initial_state(u.shape[1]), (r, self._writes(u), self._read(u)))
        return self.out_proj(reads)


class SpikingSlotMemory(_SlotMemory):
    r"""Routed slot memory of leaky membranes that spike.

    One step: ``r, U`` as :class:`RavenRSM`; ``V' = (1 - r) V + r (beta V + U)`` (``beta = sigmoid(raw_beta)``);
    ``s = spike(V' - threshold)``; returns ``(V', s)``. ``__call__(u)`` gives the spikes ``[T, B, M, d_slot]``
    (no read-out). Draws: ``router``, ``write``, then ``raw_beta = logit(beta_init) + 0.01 N(0, 1)``.
    """

    def __init__(self, d_model: int, n_slots: int = 8, d_slot: int | None = None, *, hard_top_k: int | None = None,
                 beta_init: float = 0.9, threshold: float = 1.0, activation=None, rngs):
        beta_init = _open_unit("beta_init", beta_init, "SpikingSlotMemory")
        self._build("SpikingSlotMemory", d_model, n_slots, d_slot, hard_top_k, rngs)
        noise = jax.random.normal(rngs.params(), (self.n_slots, self.d_slot))
        self.raw_beta = nnx.Param(_logit(beta_init) + 0.01 * noise)
        self.threshold = threshold
        self.spike = activation if activation is not None else default_spike()

    @property
    def beta(self):
        return jax.nn.sigmoid(self.raw_beta[...])

    def step(self, state, u_t):
        V = self._update(state, self._route(u_t), self._writes(u_t), self.beta)
        return V, self.spike(V - self.threshold)

    def _run(self, u, r):
        """Spikes ``(T, B, M, d_slot)`` of a sequence from zero membranes, with the gates ``r`` ``(T, B, M)``
        given."""
        _check_sequence("SpikingSlotMemory", u, self.d_model)
        beta = self.beta

        def body(V, inputs):
            r_t, U_t = inputs
            V = self._update(V, r_t, U_t, beta)
            return V, self.spike(V - self.threshold)

        return jax.lax.scan(body, self.initial_state(u.shape[1]), (r, self._writes(u)))[1]


def make_recall_batch(key, *, batch: int = 8, n_pairs: int = 3, n_keys: int = 8, n_values: int = 8):
    """A key-value recall batch ``(u, target)``: ``n_pairs`` (key, value) one-hot token pairs, then a query key;
    the target is the value stored with it.

    ``d_model = n_keys + n_values``, ``T = 2 n_pairs + 1``. For each example in order: ``key, k_perm, k_val, k_q =
    split(key, 4)``; distinct keys ``permutation(k_perm, n_keys)[:n_pairs]``; values ``randint(k_val, (n_pairs,),
    0, n_values)``; token ``2p`` is key ``p``'s one-hot, token ``2p + 1`` the value's (offset by ``n_keys``); the
    query ``q = randint(k_q, (), 0, n_pairs)`` repeats key ``q`` last, and ``target = value q``. Returns ``u``
    float32 ``[T, batch, d_model]`` and ``target`` int32 ``[batch]``.
    """
    if n_keys < n_pairs:
        raise ArgumentError(f"make_recall_batch: n_keys ({n_keys}) must be >= n_pairs ({n_pairs}) (keys are distinct)")
    d_model = n_keys + n_values
    tokens, targets = [], []
    for _ in range(int(batch)):
        key, k_perm, k_val, k_q = jax.random.split(key, 4)
        kids = jax.random.permutation(k_perm, n_keys)[:n_pairs]
        vids = jax.random.randint(k_val, (n_pairs,), 0, n_values)
        q = jax.random.randint(k_q, (), 0, n_pairs)
        ids = jnp.stack([kids, n_keys + vids], axis=1).reshape(-1)
        ids = jnp.concatenate([ids, kids[q][None]])
        tokens.append(jax.nn.one_hot(ids, d_model, dtype=jnp.float32))
        targets.append(vids[q])
    u = jnp.stack(tokens, axis=1)
    return u, jnp.stack(targets).astype(jnp.int32)
