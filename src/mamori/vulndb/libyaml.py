"""OSV YAML read by libyaml (PyYAML's C parser) with a small converter: what :func:`mamori.vulndb.osv.load_yaml`
falls back to when yaml-rs declines a document (:mod:`mamori.vulndb.yamlfast`). A module of its own so
that PyYAML (whose import compiles a pattern over most of Unicode) is imported only when a document needs
it: a JSON input, or OSV YAML that yaml-rs reads, never does."""

from __future__ import annotations

from typing import Any

import yaml

_PLAIN = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_PLAIN.update(dict.fromkeys(("null", "Null", "NULL", "~", ""), None))


class _TextLoader(yaml.SafeLoader):
    """Pure-Python fallback: numbers and timestamps stay text (``1.10`` is a version, not 1.1)."""


_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag.rsplit(":", 1)[-1] not in ("int", "float", "timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _value(node: yaml.Node, memo: dict[int, Any]) -> Any:
    """A composed node as plain data: strings, booleans and null only; aliases share one object."""
    kind = node.__class__
    if kind is _SCALAR:
        return node.value if node.style else _PLAIN.get(node.value, node.value)  # plain style: no quotes
    known = memo.get(id(node))
    if known is not None:
        return known
    if kind is _SEQUENCE:
        items: list[Any] = []
        memo[id(node)] = items
        for child in node.value:
            items.append(child.value if child.__class__ is _SCALAR and child.style else _value(child, memo))
        return items
    mapping: dict[Any, Any] = {}
    memo[id(node)] = mapping
    for key, value in node.value:
        mapping[_value(key, memo)] = _value(value, memo)
    return mapping


_SCALAR, _SEQUENCE = yaml.ScalarNode, yaml.SequenceNode


try:
    from yaml._yaml import CParser

    class _Composer(CParser):  # type: ignore[misc]
        """libyaml composing nodes; tags are not resolved (the converter below does what is needed)."""

        def resolve(self, kind: object, value: object, implicit: object) -> str:
            return ""

        def descend_resolver(self, current_node: object, current_index: object) -> None:
            return None

        def ascend_resolver(self) -> None:
            return None

except ImportError:  # PyYAML without libyaml
    _Composer = None


def load(data: bytes) -> Any:
    """YAML → data with libyaml composing and a small converter (twice PyYAML's constructor speed)."""
    if _Composer is None:
        return yaml.load(data, Loader=_TextLoader)
    parser = _Composer(data)
    try:
        node = parser.get_single_node()
    finally:
        parser.dispose()
    return _value(node, {}) if node is not None else None
