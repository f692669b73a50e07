"""The field types that rebuild stored records (mamori.model.vulnerability._hints) are the ones
``typing.get_type_hints`` gives, each annotation text evaluated once."""

from __future__ import annotations

import dataclasses
import typing

from mamori.model import vulnerability


def test_field_types_are_those_of_get_type_hints() -> None:
    classes = [
        c
        for c in vars(vulnerability).values()
        if isinstance(c, type) and dataclasses.is_dataclass(c) and c.__module__ == vulnerability.__name__
    ]
    assert len(classes) >= 10
    for cls in classes:
        expected = typing.get_type_hints(cls)
        got = vulnerability._hints(cls)
        assert got == expected, cls
        assert list(got) == list(expected), cls  # field order: the rebuild follows it


def test_a_subclass_sees_its_bases_fields_first() -> None:
    @dataclasses.dataclass
    class Extra(vulnerability.Reference):
        """A reference with one more field."""

        note: str | None = None

    got = vulnerability._hints(Extra)
    assert got == typing.get_type_hints(Extra)
    assert list(got)[-1] == "note"
