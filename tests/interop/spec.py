"""The profile spec for a fixture: its peer's native options (meta.json ``ref``) in profile option names."""

from __future__ import annotations

# meta.json records some options under the reference interpreter's names; the profiles use the framework's.
RENAMES = {"norse": {"reset": "reset_method"}}


def _value(v) -> str:
    return "none" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))


def profile_spec(meta: dict) -> str:
    ref = meta["ref"]
    peer = ref["profile"]
    names = RENAMES.get(peer, {})
    parts = [f"{names.get(k, k)}={_value(v)}" for k, v in (ref.get("options") or {}).items()]
    for node, opts in (ref.get("node_options") or {}).items():
        parts += [f"{names.get(k, k)}@{node}={_value(v)}" for k, v in opts.items()]
    return peer + ("{" + ",".join(parts) + "}" if parts else "")
