"""One exception tree for spyx.

Every error a user can trigger with bad input is a :class:`SpyxError`. Messages name the node, edge or
file at fault, say what was expected, and, where there is one, what to do. The CLI prints ``str(err)`` as
one line and exits with :attr:`SpyxError.exit_code`.
"""

from __future__ import annotations

__all__ = [
    "SpyxError",
    "ReadError",
    "FormatError",
    "DanglingEdgeError",
    "VerifyError",
    "ShapeError",
    "ParameterError",
    "CycleError",
    "SizeError",
    "PassError",
    "OptionError",
    "CompileError",
    "MissingDtError",
    "InputError",
    "ArgumentError",
    "EmptyDataError",
    "ExportError",
    "UnsupportedError",
    "TargetError",
    "WriteError",
    "SpyxWarning",
    "ApproximationWarning",
    "AssumptionWarning",
]


class SpyxError(Exception):
    """Base of every spyx error. ``exit_code`` is what ``spyx-convert`` exits with."""

    exit_code = 1


class ReadError(SpyxError):
    """A file cannot be read at all: missing, not HDF5, truncated."""

    exit_code = 2


class FormatError(SpyxError):
    """A readable file whose content is not a NIR graph we understand (unknown node type, missing field)."""


class DanglingEdgeError(FormatError):
    """An edge names a node that does not exist."""


class VerifyError(SpyxError):
    """A graph breaks an invariant. ``diagnostics`` holds one line per problem."""

    def __init__(self, diagnostics: list[str] | str):
        if isinstance(diagnostics, str):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(self.diagnostics))


class ShapeError(VerifyError):
    """Shapes disagree along an edge or a parameter has the wrong shape."""


class ParameterError(VerifyError):
    """A parameter is missing, non-finite or out of its domain."""


class CycleError(VerifyError):
    """A cycle passes through stateless nodes only (an algebraic loop)."""


class SizeError(VerifyError):
    """A file or graph declares more memory than the budget allows (a dataset, a signal, a population's
    state); the message gives the number of bytes and the budget (``max_bytes=``)."""


class PassError(SpyxError):
    """A pass failed; the message names it and the passes that ran before it."""


class OptionError(SpyxError):
    """An unknown pass, profile, target or option, or an option value of the wrong type."""


class CompileError(SpyxError):
    """A graph cannot be turned into a program."""


class MissingDtError(CompileError):
    """A continuous-time graph was compiled without a time step."""


class InputError(SpyxError, ValueError):
    """Input data of the wrong shape or type was given to a program or layer (also a ``ValueError``, which is
    what Spyx 1.0 raised for such input, so code catching that keeps working)."""


class ArgumentError(InputError, ValueError):
    """Arguments that do not fit together: traces and targets of a loss, an axis out of range, a missing
    companion argument. A ``ValueError`` too, so Spyx 1.0 code that catches ``ValueError`` keeps working."""


class EmptyDataError(InputError, RuntimeError):
    """A data iterable yielded no batches where at least one is needed (a training epoch). A
    ``RuntimeError`` too, as in Spyx 1.0."""


class ExportError(SpyxError):
    """A model or graph cannot be written in the requested form."""


class UnsupportedError(SpyxError):
    """A layer, node or option that spyx does not (yet) handle; the message says why."""


class TargetError(SpyxError):
    """A graph violates the rules of a hardware target."""


class SpyxWarning(UserWarning):
    """Base of spyx's warnings (results that are valid but not what the user may assume)."""


class ApproximationWarning(SpyxWarning):
    """An export or conversion that cannot keep the model's exact semantics; the message says what differs."""


class WriteError(SpyxError):
    """An output cannot be written where it was asked for: its folder does not exist, is not a folder, or
    refuses the write; the message names the folder. Nothing is written."""

    exit_code = 2


class AssumptionWarning(SpyxWarning):
    """A result that rests on a value the file does not record: an option ``profile="auto"`` took at the
    framework's default, or a time step that is a guess. The message names the value and how to set it."""
