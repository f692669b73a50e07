"""What the compliance documents (self-conformity declaration, its PDF, the JC-STAR label page) share:
the template environment, the review interval (``1y``, ``6m``, ``90d``) and the words for intervals and roles.
Below the documents themselves, so that none of them imports another for these."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

import jinja2

from mamori.compliance import catalog as cat
from mamori.compliance.messages import t
from mamori.errors import InputError
from mamori.i18n import _

DEFAULT_REVIEW_INTERVAL = "1y"
_INTERVAL = re.compile(r"^\s*(\d{1,3})\s*([ymd])\s*$", re.IGNORECASE)


def parse_interval(text: str) -> tuple[int, str]:
    """``"1y"``, ``"6m"``, ``"90d"`` → (count, unit); the review interval of a declaration."""
    found = _INTERVAL.match(text)
    if not found or int(found.group(1)) == 0:
        raise InputError(
            None,
            _(
                "--review-interval must be a number of years, months or days such as 1y, 6m or 90d, not {text}"
            ).format(text=repr(text)),
        )
    return int(found.group(1)), found.group(2).lower()


def add_interval(day: dt.date, count: int, unit: str) -> dt.date:
    """``day`` plus ``count`` years, months or days; a month end that does not exist becomes the last day."""
    if unit == "d":
        return day + dt.timedelta(days=count)
    months = day.month - 1 + count * (12 if unit == "y" else 1)
    year, month = day.year + months // 12, months % 12 + 1
    for last in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


@cache
def templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mamori", "data/templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def interval_words(text: str, lang: cat.Lang) -> str:
    """``"1y"`` → 「1年」 / "1 year(s)"."""
    count, unit = parse_interval(text)
    return t(f"declaration.interval_{unit}{'_one' if count == 1 else ''}", lang, n=count)


def role_names(roles: list[str] | tuple[str, ...], lang: cat.Lang) -> str:
    return ("、" if lang == "ja" else ", ").join(t(f"role.{role}", lang) for role in roles)
