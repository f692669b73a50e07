"""Write the DDL a new store is created with (src/mamori/data/store/schema-<dialect>.sql) and the rules
of every column that imports check records against (src/mamori/data/store/columns.json) from the
tables' metadata, for the newest migration: run after adding a migration or changing a table.

Usage: python tools/new_schema.py
"""

from __future__ import annotations

from mamori.store import newschema
from mamori.store.engine import head_revision
from mamori.store.limits import COLUMNS, render_columns


def main() -> None:
    head = head_revision()
    assert head is not None
    for dialect in newschema.DIALECTS:
        target = newschema.path(dialect)
        target.write_text(newschema.render(dialect, head), encoding="utf-8")
        print(f"{target.name}: {head}")
    COLUMNS.write_text(render_columns(head), encoding="utf-8")
    print(f"{COLUMNS.name}: {head}")


if __name__ == "__main__":
    main()
