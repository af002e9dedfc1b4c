"""Graph passes: small declared units that report what they changed. See ``spyx-convert passes``."""

from spyx.passes.base import Pass, PassManager, PassResult
from spyx.passes.registry import PASSES, build_options, get_pass, list_passes, parse_pipeline, parse_spec


def run_pipeline(graph, pipeline, *, fixed_point: bool = False):
    """Run passes given as text (``"inline,dce"``) or a list of :class:`Pass` on ``graph``."""
    passes = parse_pipeline(pipeline) if isinstance(pipeline, str) else list(pipeline)
    return PassManager(passes, fixed_point=fixed_point)(graph)


__all__ = [
    "PASSES",
    "Pass",
    "PassManager",
    "PassResult",
    "build_options",
    "get_pass",
    "list_passes",
    "parse_pipeline",
    "parse_spec",
    "run_pipeline",
]
