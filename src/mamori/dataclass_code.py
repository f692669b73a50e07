"""The methods :mod:`dataclasses` writes for each data class (``__init__``, ``__repr__``, ``__eq__`` …),
compiled once and kept beside mamori's bytecode, as Python keeps a module's.

A data class is built at import: :mod:`dataclasses` writes the text of each method and compiles it, about
0.2 ms a method. A scan imports about 130 data classes, 560 methods: some 0.1 s of a 3-component scan's
start-up went to compiling the same texts again in every process. While :func:`compiled_dataclasses` is
active, the ``exec`` of :mod:`dataclasses` takes each text's code object from a cache file when it holds
that very text (the key is the whole text, so a changed class misses and is compiled), and compiles the
others as ``exec`` would have (same file name, no ``__future__`` flags inherited); the code objects run
exactly as compiled ones do. New ones are written back, atomically, when the block ends, unless Python is
told not to write bytecode (``PYTHONDONTWRITEBYTECODE``, ``-B``).

While the block is active, :mod:`dataclasses` also reads each text annotation (``from __future__ import
annotations``: every field of mamori's classes) through :func:`_is_type` here, which asks whether the
text names ``ClassVar``, ``InitVar`` or ``KW_ONLY`` exactly as :mod:`dataclasses` does, with the text's
pattern match done once per distinct text instead of three times per field (about 16,000 instructions a
field; a scan builds some 700 fields).

The file is ``__pycache__/dataclass-code.<tag>.marshal`` in mamori's package folder (the tag names the
interpreter, like a ``.pyc``; a file of another interpreter's bytecode version is ignored): whoever may
write it may already write mamori's ``.pyc`` files. A file that is not a regular file, is larger than
:data:`MAX_BYTES`, or does not read back as a mapping of texts to code objects is ignored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import marshal
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

MAX_BYTES = 8 * 1024 * 1024
# more texts than this (edits of the classes leave old ones behind): the file keeps only those of the last run
MAX_ENTRIES = 20_000
_FILE = f"dataclass-code.{sys.implementation.cache_tag}.marshal"
_active = False


def cache_path() -> Path:
    """Where the compiled methods are kept: mamori's own ``__pycache__`` folder."""
    return Path(__file__).with_name("__pycache__") / _FILE


def read_cache(path: Path) -> dict[str, bytes]:
    """The code objects of ``path`` by method text, each still marshalled (loaded when a class asks for
    it); empty when the file is missing or unusable."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return {}
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            return {}
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return {}
        loaded = marshal.loads(data)
    except Exception:  # marshal refuses bad data with several types: a bad cache is no cache
        return {}
    finally:
        if fd >= 0:
            os.close(fd)
    if (
        not isinstance(loaded, tuple)
        or len(loaded) != 2
        or loaded[0] != importlib.util.MAGIC_NUMBER
        or not isinstance(loaded[1], dict)
    ):
        return {}
    return {k: v for k, v in loaded[1].items() if type(k) is str and type(v) is bytes}


def write_cache(path: Path, codes: dict[str, bytes]) -> None:
    """Write ``codes`` (marshalled code objects by text) to ``path`` atomically (a temporary file renamed
    over it, readable as the package's own files are); nothing on failure."""
    data = marshal.dumps((importlib.util.MAGIC_NUMBER, codes))
    if len(data) > MAX_BYTES:
        return
    import tempfile  # only when there is something to write (it imports random)

    tmp = None
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".dataclass-code.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        with contextlib.suppress(OSError):
            os.chmod(tmp, stat.S_IMODE(os.stat(__file__).st_mode) & 0o666)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


_IS_TYPE_PARAMETERS = ("annotation", "cls", "a_module", "a_type", "is_type_predicate")
# the parts of each text annotation dataclasses' pattern finds: (module name or None, name), or () for none
_PARSED: dict[str, tuple[str | None, str] | tuple[()]] = {}


def _is_type(annotation: str, cls: type, a_module: Any, a_type: Any, is_type_predicate: Any) -> bool:
    """``dataclasses._is_type`` (does the text annotation name ``a_type`` of ``a_module``, looked up in
    the class's module), its pattern matched once per distinct text."""
    parsed = _PARSED.get(annotation)
    if parsed is None:
        match = dataclasses._MODULE_IDENTIFIER_RE.match(annotation)  # type: ignore[attr-defined]
        parsed = _PARSED[annotation] = (match.group(1), match.group(2)) if match else ()
    if not parsed:
        return False
    module_name, name = parsed
    ns = None
    if not module_name:
        ns = sys.modules.get(cls.__module__).__dict__  # type: ignore[union-attr]  # as dataclasses does
    else:
        module = sys.modules.get(cls.__module__)
        if module and module.__dict__.get(module_name) is a_module:
            ns = sys.modules.get(a_type.__module__).__dict__  # type: ignore[union-attr]
    return bool(ns and is_type_predicate(ns.get(name), a_module))


def _replaceable_is_type() -> bool:
    """Whether this Python's ``dataclasses._is_type`` is the one :func:`_is_type` reproduces."""
    original = vars(dataclasses).get("_is_type")
    code = getattr(original, "__code__", None)
    return (
        code is not None
        and code.co_varnames[: code.co_argcount] == _IS_TYPE_PARAMETERS
        and hasattr(dataclasses, "_MODULE_IDENTIFIER_RE")
    )


@contextlib.contextmanager
def compiled_dataclasses(path: Path | None = None) -> Iterator[None]:
    """Within the block, data classes are built with their methods' code from the cache at ``path``
    (default :func:`cache_path`), read on the first class built; what was compiled meanwhile is added
    to it at the end. Nested or concurrent use leaves the outer block in charge."""
    global _active
    if _active or "exec" in vars(dataclasses):  # already on, or someone else's exec: leave it alone
        yield
        return
    where = path or cache_path()
    cache: dict[str, bytes] | None = None
    new: dict[str, bytes] = {}
    used: set[str] = set()

    def cached_exec(source: Any, globals: Any = None, locals: Any = None) -> None:
        nonlocal cache
        if type(source) is not str:
            return exec(source, globals, locals)  # what dataclasses asked for
        if cache is None:
            cache = read_cache(where)
        used.add(source)
        stored = cache.get(source)
        code = None
        if stored is not None:
            with contextlib.suppress(Exception):  # unreadable: compiled again
                code = marshal.loads(stored)
        if type(code) is not CodeType:
            # what exec(source) in dataclasses compiles: file "<string>", no flags of this module
            code = compile(source, "<string>", "exec", dont_inherit=True)
            new[source] = cache[source] = marshal.dumps(code)
        return exec(code, globals, locals)  # the code dataclasses wrote

    _active = True
    dataclasses.exec = cached_exec  # type: ignore[attr-defined]  # a module global shadows the builtin
    original_is_type = dataclasses._is_type if _replaceable_is_type() else None  # type: ignore[attr-defined]
    if original_is_type is not None:
        dataclasses._is_type = _is_type  # type: ignore[attr-defined]
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError):
            del dataclasses.exec  # type: ignore[attr-defined]
        if original_is_type is not None and dataclasses._is_type is _is_type:  # type: ignore[attr-defined]
            dataclasses._is_type = original_is_type  # type: ignore[attr-defined]
        _active = False
        if new and cache is not None and not sys.dont_write_bytecode:
            write_cache(where, cache if len(cache) <= MAX_ENTRIES else {k: cache[k] for k in used})


def slot_setters(cls: type) -> tuple[Any, ...]:
    """The ``__set__`` of each field's slot of a frozen data class with slots, in field order: what a
    hand-written ``__init__`` of a class built tens of thousands of times a scan sets its fields with.
    The ``__init__`` :mod:`dataclasses` writes for a frozen class calls ``object.__setattr__`` per field,
    which looks the slot up by name and then calls the same ``__set__``: the object is the same."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in vars(cls):
        raise TypeError(f"{cls.__name__}: not a frozen data class with slots")
    return tuple(vars(cls)[f.name].__set__ for f in dataclasses.fields(cls))
