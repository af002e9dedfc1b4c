"""Limits spyx applies to what it reads and verifies (``docs/nir-io.md``, Limits). No imports: the isolated
file reader (:mod:`spyx.io.isolate`) loads this module without the rest of spyx."""

MAX_BYTES = 2 * 2**30
"""Default memory budget: the most bytes a file's datasets may declare (each, and all together), and the
most bytes one signal, one population's state, or all state may take per sample at float32."""

MAX_DEPTH = 64
"""The deepest nesting of graphs spyx reads and verifies (the top graph is depth 1)."""

MAX_STRINGS = 2**20
"""The most strings one dataset may hold (``edges`` of 512 Ki rows); reading strings is slow in HDF5."""

READ_SECONDS = 10.0
"""Time given to an isolated read (a file that looks damaged is read in a separate process), plus one
second per 100 MB of file."""
