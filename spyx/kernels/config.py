"""``KernelConfig``: the tunables of the fused Pallas kernels (block of lanes, warps, time unroll)."""

from __future__ import annotations

from dataclasses import dataclass

from spyx.errors import OptionError

__all__ = ["KernelConfig"]


def _pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class KernelConfig:
    """How a fused neuron kernel is laid out on the GPU, and how far the scan implementations unroll ``t``.

    The ``[T, B, *hidden]`` sequence is viewed as ``[T, M]`` with ``M = B * prod(hidden)`` lanes; each Pallas
    program owns ``block`` consecutive lanes for the whole sequence and walks ``t`` with the state in registers.

    Attributes:
        block: lanes per program, a power of 2 (Triton tensors must be); shrunk to the next power of 2 above
            ``M`` for small inputs. ``M`` is padded up to a multiple of it.
        num_warps: warps per program (Triton's ``num_warps``); ``block / (32 num_warps)`` lanes per thread.
        num_stages: Triton's software-pipelining depth (``None``: Pallas' default).
        unroll: time steps per chunk: the kernel issues the loads of ``unroll`` steps before computing them
            (more memory requests in flight per program), a static Python loop inside a ``fori_loop``.
    """

    block: int = 128
    num_warps: int = 4
    num_stages: int | None = None
    unroll: int = 8
    scan_unroll: int = 1

    def __post_init__(self) -> None:
        if not _pow2(int(self.block)):
            raise OptionError(f"KernelConfig: block={self.block!r} must be a power of 2 (e.g. 128)")
        if not _pow2(int(self.num_warps)):
            raise OptionError(f"KernelConfig: num_warps={self.num_warps!r} must be a power of 2 (1, 2, 4, 8)")
        if int(self.unroll) < 1:
            raise OptionError(f"KernelConfig: unroll={self.unroll!r} must be a positive number of time steps")
        if int(self.scan_unroll) < 1:
            raise OptionError(f"KernelConfig: scan_unroll={self.scan_unroll!r} must be a positive number of steps")
        if self.num_stages is not None and int(self.num_stages) < 1:
            raise OptionError(f"KernelConfig: num_stages={self.num_stages!r} must be positive or None")

    def lanes(self, m: int) -> int:
        """The block used for ``m`` lanes: ``block``, or the next power of 2 >= ``m`` when that is smaller."""
        return min(int(self.block), 1 << max(0, (int(m) - 1).bit_length()))
