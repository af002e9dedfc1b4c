"""Graph passes: small declared units that report what they changed. See ``spyx-convert passes``."""

from spyx.passes.base import Pass, PassManager, PassResult
from spyx.passes.describe import GraphDiff, describe_changes, graph_diff
from spyx.passes.registry import PASSES, build_options, get_pass, list_passes, parse_pipeline, parse_spec
from spyx.passes.reorder import rekey_params
from spyx.passes.retime import DT_KEY


def run_pipeline(graph, pipeline, *, fixed_point: bool = False, log: list | None = None):
    """Run passes given as text (``"inline,dce"``) or a list of :class:`Pass` on ``graph``.

    ``log``, when given, receives one ``(spec, PassResult)`` per pass run, for :func:`describe_changes`.
    """
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    manager = PassManager(passes, fixed_point=fixed_point)
    result = manager(graph)
    if log is not None:
        log.extend(manager.log)
    return result


__all__ = [
    "DT_KEY",
    "PASSES",
    "GraphDiff",
    "Pass",
    "PassManager",
    "PassResult",
    "build_options",
    "describe_changes",
    "graph_diff",
    "get_pass",
    "list_passes",
    "parse_pipeline",
    "parse_spec",
    "rekey_params",
    "run_pipeline",
]
