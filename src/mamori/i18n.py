"""Japanese and English: the language type, the ja/en text pair, bilingual message files and the one rule
that picks the language when ``--lang`` is not given. Light on purpose (no YAML import until a file is read)."""

from __future__ import annotations

import gettext as gettext_module
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from mamori.errors import InputError, MamoriError, StoreError

Lang = Literal["ja", "en"]
LANGS: tuple[Lang, ...] = ("ja", "en")


@dataclass(frozen=True)
class Text:
    """A text that exists in Japanese and English."""

    ja: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.ja if lang == "ja" else self.en


#: The ``--help`` note on how the language is chosen when ``--lang`` is not given.
DEFAULT_NOTE = "default: MAMORI_LANG, else the locale (ja_* → ja), else en"


def default_lang() -> Lang:
    """``MAMORI_LANG``, else the locale (``LC_ALL``, then ``LANG``; ``ja*`` → ja), else English."""
    for name in ("MAMORI_LANG", "LC_ALL", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


#: The language the running command chose (``--lang``), for messages made far from the command
#: (a file that cannot be read, an output that cannot be written); empty: :func:`default_lang`.
_CHOSEN: list[Lang] = []


def choose_lang(value: str | None) -> Lang:
    """The ``--lang`` value when given (ja or en, else an InputError), else :func:`default_lang`."""
    if value is None:
        return default_lang()
    if value not in LANGS:
        raise InputError(None, _("--lang must be ja or en, not {value!r}").format(value=value))
    set_lang(value)  # type: ignore[arg-type]
    return value  # type: ignore[return-value]


def set_lang(value: Lang | None) -> None:
    """Remember the command's ``--lang`` (None: forget it, back to :func:`default_lang`)."""
    _CHOSEN[:] = [value] if value in LANGS else []


def current_lang() -> Lang:
    """The running command's ``--lang`` when it gave one, else :func:`default_lang`."""
    return _CHOSEN[0] if _CHOSEN else default_lang()


@cache
def _translations(lang: str) -> gettext_module.NullTranslations:
    """The compiled gettext catalog of ``lang`` (``mamori/locale/<lang>/LC_MESSAGES/mamori.mo``), read once;
    English is the source language (msgids are English), so it has no catalog."""
    from importlib import resources

    if lang == "en":
        return gettext_module.NullTranslations()
    localedir = resources.files("mamori").joinpath("locale")
    return gettext_module.translation("mamori", localedir=str(localedir), languages=[lang], fallback=True)


def gettext(message: str) -> str:
    """``message`` (English, the msgid) in the running command's language (:func:`current_lang`), looked up
    when called; extracted by Babel from every ``_()`` and ``N_()`` call (see docs/translating.md). Inside
    :func:`recording`, a :class:`Phrase` that keeps the msgid."""
    if not message:
        return message
    found = _translations(current_lang()).gettext(message)
    return Phrase(found, message) if _RECORDING.get() else found


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form of an English message for ``n``, in the running command's language."""
    return _translations(current_lang()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (module constants, translated on use)."""
    return message


def NC_(context: str, message: str) -> tuple[str, str]:
    """Mark ``message`` with a context (msgctxt) for extraction: a short word whose Japanese depends on
    where it is shown; translated on use with :func:`translate` or :func:`pgettext`."""
    return context, message


def pgettext(context: str, message: str) -> str:
    """``message`` in the running command's language, in ``context`` (the msgctxt)."""
    return _translations(current_lang()).pgettext(context, message)


def translate(message: str, lang: str, context: str | None = None) -> str:
    """``message`` (the English msgid) in ``lang`` rather than the running command's language: for texts
    made for a language given explicitly (English for a language mamori does not have)."""
    catalog = _translations(lang if lang in LANGS else "en")
    return catalog.pgettext(context, message) if context else catalog.gettext(message)


_ = gettext


# -- texts kept language-neutral ---------------------------------------------------------------------------
#: whether :func:`gettext` answers :class:`Phrase` objects (in this thread or task only)
_RECORDING: ContextVar[bool] = ContextVar("mamori_i18n_recording", default=False)


class Phrase(str):
    """A translated text that remembers how it was made: its msgid and the values ``format`` filled in, so
    that it can be said again in another language (:func:`phrase_data`, :func:`phrase_text`). It is the
    text in the running command's language, as :func:`gettext` answers outside :func:`recording`; joining
    it to other text with ``+`` or an f-string gives a plain ``str`` (the msgid is lost, the text is not)."""

    __slots__ = ("args", "kwargs", "msgid")

    msgid: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __new__(
        cls, text: str, msgid: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Phrase:
        made = super().__new__(cls, text)
        made.msgid = msgid
        made.args = args
        made.kwargs = kwargs or {}
        return made

    def format(self, *args: Any, **kwargs: Any) -> str:
        text = str.format(self, *args, **kwargs)
        if self.args or self.kwargs:  # formatted twice: a plain text (said again as it is)
            return text
        return Phrase(text, self.msgid, args, kwargs)


def joined(head: str, text: str) -> str:
    """``"{head}: {text}"``, a :class:`Phrase` when ``text`` is one (a file or place and what is wrong)."""
    line = f"{head}: {text}"
    return Phrase(line, _JOINED, (), {"head": head, "text": text}) if isinstance(text, Phrase) else line


_JOINED = "{head}: {text}"  # not translated: the same in every language


@contextmanager
def recording() -> Iterator[None]:
    """Within: :func:`gettext` answers :class:`Phrase` objects (the same text), for work whose messages are
    stored and read later in the reader's language (a background job's refusal)."""
    token = _RECORDING.set(True)
    try:
        yield
    finally:
        _RECORDING.reset(token)


_PLAIN = (str, int, float, bool, type(None))


def _neutral(value: Any) -> Any:
    if isinstance(value, Phrase):
        out: dict[str, Any] = {"msgid": value.msgid}
        if value.args:
            out["args"] = [_neutral(v) for v in value.args]
        if value.kwargs:
            out["values"] = {k: _neutral(v) for k, v in value.kwargs.items()}
        return out
    return str(value) if isinstance(value, str) else value if isinstance(value, _PLAIN) else str(value)


def _plain_fields(template: str) -> bool:
    """Whether every replacement field of ``template`` is a bare name or position (``{name}``, ``{0}``,
    ``{}``, with a conversion or a format spec without nested fields): a stored msgid read back from a store
    must not reach attributes or items of the values (``{0.__class__}``)."""
    from string import Formatter

    for _literal, name, spec, _conversion in Formatter().parse(template):
        if name is None:
            continue
        if (name and not (name.isidentifier() or name.isdigit())) or (spec and "{" in spec):
            return False
    return True


def _said(data: Any, lang: str) -> Any:
    if not isinstance(data, dict):
        return data
    args = [_said(v, lang) for v in data.get("args") or ()]
    values = {k: _said(v, lang) for k, v in (data.get("values") or {}).items()}
    template = translate(str(data.get("msgid") or ""), lang)
    if not (args or values):
        return template
    if not _plain_fields(template):
        raise ValueError("a stored message with a field that is not a plain name")
    return template.format(*args, **values)


def phrase_data(text: str) -> dict[str, Any] | None:
    """The language-neutral form of a :class:`Phrase` (``{"msgid", "args", "values"}``, values that are
    phrases nested the same way), or None when ``text`` is not one or would not read back as it reads
    now: then only the text itself can be kept."""
    if not isinstance(text, Phrase):
        return None
    data = _neutral(text)
    try:
        if _said(data, current_lang()) != str(text):
            return None
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None
    return data


def error_data(exc: BaseException) -> dict[str, Any] | None:
    """The language-neutral form of an error's one line (:func:`phrase_data`): an
    :class:`~mamori.errors.InputError` whose problem was made inside :func:`recording`, or a
    :class:`~mamori.errors.StoreError` (``{"texts": {"ja", "en"}, "where"}``); None for any other."""
    if isinstance(exc, StoreError):
        return {"where": exc.where, "texts": dict(exc.texts)}
    if not isinstance(exc, InputError) or type(exc).message is not MamoriError.message:
        return None
    problem = exc.problem
    text = joined(exc.path, problem) if exc.path is not None else problem
    return phrase_data(text) if str(text) == str(exc) else None


def phrase_text(data: Any, lang: str) -> str | None:
    """The text of :func:`phrase_data`'s ``data`` in ``lang`` (English for a language mamori does not
    have); None when ``data`` is not of that shape (it came from elsewhere)."""
    if isinstance(data, dict) and isinstance(data.get("texts"), dict):
        texts = data["texts"]
        found = texts.get(lang) or texts.get("en")
        return f"{data.get('where')}: {found}" if isinstance(found, str) else None
    if not isinstance(data, dict) or not isinstance(data.get("msgid"), str):
        return None
    try:
        return str(_said(data, lang))
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return None


@cache
def _load(resource: str) -> Any:
    from mamori.packaged import load_yaml

    return load_yaml(resource)


class Messages:
    """A bilingual message file under ``mamori/`` (YAML: nested keys, leaves ``{ja: ..., en: ...}``), read once."""

    def __init__(self, resource: str, *, strip: bool = False, langs: tuple[str, ...] = LANGS) -> None:
        self.resource = resource
        self.strip = strip
        self.langs = langs  # the key order of :meth:`pair` (it shows in JSON output)

    def table(self) -> dict[str, Any]:
        """The whole file, parsed (cached: do not change it)."""
        return _load(self.resource)

    def pair(self, *path: str) -> dict[str, str]:
        """The ``{"ja": ..., "en": ...}`` leaf at ``path``."""
        node: Any = self.table()
        for part in path:
            node = node[part]
        return {lang: str(node[lang]).strip() if self.strip else str(node[lang]) for lang in self.langs}

    def text(self, lang: str, *path: str, **values: object) -> str:
        """The message at ``path`` in ``lang`` (English when the language is unknown), placeholders filled."""
        entry = self.pair(*path)
        message = entry.get(lang) or entry["en"]
        return message.format(**values) if values else message
