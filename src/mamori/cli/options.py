"""Small checks shared by the CLI modules (kept light: imported at start-up)."""

from __future__ import annotations

from mamori.errors import InputError
from mamori.i18n import _


def choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    """``value`` when it is one of ``allowed`` (None passes through), else a one-line InputError."""
    if value is not None and value not in allowed:
        raise InputError(
            None,
            _("{option}: expected one of {allowed}, got {value!r}").format(
                option=option, allowed=", ".join(allowed), value=value
            ),
        )
    return value


def print_read_warnings(warnings: list, lang: str, limit: int = 20) -> None:
    """The warnings of a lenient SBOM read on stderr: one line each (control characters made visible,
    no markup), at most ``limit``, then one "... and N more" line."""
    import sys

    from mamori.display import visible
    from mamori.sbom.problems import warning_lines

    for line in warning_lines(warnings, lang, limit):
        sys.stderr.write(visible(line) + "\n")
    sys.stderr.flush()
