"""What an SBOM needs from a git repository, read from its files: git itself is never run.

A scanned folder is hostile. Running ``git`` inside it runs whatever its own ``.git/config`` names
(``core.fsmonitor``, ``core.hooksPath`` hooks, ``filter.*.clean``, ``diff.external``, ``core.pager`` …),
so this module reads ``HEAD``, the refs (loose and ``packed-refs``) and the commit and tag objects
(loose, zlib, and in packfiles, with deltas) itself, and computes what ``git describe --tags --always``
prints:

* HEAD carries a tag → the tag (an annotated tag shows the name written in the tag object, as git does;
  several tags on one commit → annotated before lightweight, then the newest annotated);
* commits after a tag → ``<tag>-<count>-g<abbreviated id>``, with git's own search (up to 10 candidate
  tags, date-ordered walk, the candidate with the fewest commits not reachable from it);
* no tag reachable → the abbreviated commit id.

Abbreviated ids are at least 7 hex digits, longer when the repository's packs hold many objects or when
the prefix is ambiguous, as in git. ``--dirty`` is not computed: knowing it means reading the index and
comparing every tracked file, where git runs the repository's clean filters and fsmonitor; the version
names the commit. Not read (→ the commit id, or no version): alternates, reftable ref storage, objects
beyond the bounds below.

Reads are bounded in size and count; symbolic links inside the git folder are not followed out of it; a
``.git`` file (worktrees, submodules) is followed to the folder its ``gitdir:`` line names. ``GIT_DIR``,
``GIT_WORK_TREE`` and the like are ignored (only the user's ``GIT_CONFIG_NOSYSTEM``/``GIT_CONFIG_GLOBAL``
choose which config files name the author). Anything unreadable gives ``None``, never an error.
"""

from __future__ import annotations

import heapq
import itertools
import os
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_SMALL_FILE = 64 * 1024  # HEAD, a loose ref, a .git file, commondir, shallow (per line count below)
MAX_PACKED_REFS = 64 * 1024 * 1024
MAX_CONFIG = 1024 * 1024
MAX_OBJECT = 4 * 1024 * 1024  # a commit or tag object, inflated (and each delta base on the way)
MAX_DELTA_DEPTH = 256  # git writes chains of at most 50 by default, 4095 at the very most
MAX_TAGS = 100_000
MAX_PACKS = 1_000
MAX_WALK = 100_000  # commits visited by describe before it settles for the commit id
MAX_CANDIDATES = 10  # git describe --candidates default
MIN_ABBREV = 7
MAX_UP = 64  # folders climbed looking for .git

_HEX = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_BAD_REF = re.compile(r"(^|/)\.|\.\.|//|@\{|\.lock(/|$)|[\x00-\x20\x7f~^:?*\[\\]|/$|^/")
_COMMIT, _TREE, _BLOB, _TAG, _OFS_DELTA, _REF_DELTA = 1, 2, 3, 4, 6, 7
_TYPES = {b"commit": _COMMIT, b"tree": _TREE, b"blob": _BLOB, b"tag": _TAG}
_PER_WORKTREE = ("refs/worktree/", "refs/bisect/", "refs/rewritten/")


def valid_ref(name: str) -> bool:
    """A ref name git would accept (``git check-ref-format``), so it is safe to join to a folder."""
    return name.startswith("refs/") and len(name) < 1024 and not _BAD_REF.search(name)


def read_bounded(base: Path, relative: str, limit: int) -> bytes | None:
    """The bytes of regular file ``base/relative`` when it lies inside ``base`` (``base`` resolved) and is
    at most ``limit`` bytes; None otherwise. Symbolic links are not followed out of ``base``."""
    fd = _open_inside(base, relative)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as fh:
        if os.fstat(fd).st_size > limit:
            return None
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None


def _open_inside(base: Path, relative: str) -> int | None:
    path = os.path.join(base, relative)
    try:
        real = os.path.realpath(path)
        if os.path.commonpath([real, str(base)]) != str(base):
            return None
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None
    except OSError:
        os.close(fd)
        return None
    return fd


# ------------------------------------------------------------------------------------------ discovery


@dataclass(slots=True)
class Repository:
    """A repository found from a folder: ``gitdir`` (HEAD, per-worktree refs), ``commondir`` (refs,
    objects, packed-refs, config), ``worktree`` (the folder holding ``.git``); all resolved."""

    gitdir: Path
    commondir: Path
    worktree: Path
    hexlen: int = 40
    config: dict[str, str] = field(default_factory=dict)
    _objects: ObjectStore | None = field(default=None, repr=False)

    @property
    def objects(self) -> ObjectStore:
        if self._objects is None:
            self._objects = ObjectStore(self.commondir, self.hexlen)
        return self._objects


def find_repository(folder: Path) -> Repository | None:
    """The repository ``folder`` is in (climbing to its parents as git does, not across file systems);
    None when there is none or it cannot be read."""
    try:
        current = Path(os.path.realpath(folder))
        device = current.stat().st_dev
    except (OSError, ValueError):
        return None
    for _ in range(MAX_UP):
        found = _repository_at(current)
        if found is not None:
            return found if found is not False else None
        parent = current.parent
        try:
            if parent == current or parent.stat().st_dev != device:
                return None
        except OSError:
            return None
        current = parent
    return None


def _repository_at(folder: Path) -> Repository | bool | None:
    """The repository whose ``.git`` is in ``folder``; None when there is no ``.git``; False when there
    is one that cannot be used (stop climbing: git would not look further either)."""
    dotgit = folder / ".git"
    try:
        mode = os.lstat(dotgit).st_mode
    except OSError:
        return None
    if stat.S_ISDIR(mode):
        gitdir = dotgit
    elif stat.S_ISREG(mode):
        data = read_bounded(folder, ".git", MAX_SMALL_FILE)
        text = data.decode("utf-8", "replace").strip() if data else ""
        if not text.startswith("gitdir:"):
            return False
        target = text.removeprefix("gitdir:").strip()
        if not target or "\x00" in target:
            return False
        gitdir = folder / target
    else:
        return False  # a symbolic link or something else: not followed
    try:
        gitdir = Path(os.path.realpath(gitdir))
    except (OSError, ValueError):
        return False
    if not gitdir.is_dir() or read_bounded(gitdir, "HEAD", MAX_SMALL_FILE) is None:
        return False
    commondir = gitdir
    pointer = read_bounded(gitdir, "commondir", MAX_SMALL_FILE)
    if pointer is not None:
        target = pointer.decode("utf-8", "replace").strip()
        if not target or "\x00" in target:
            return False
        commondir = Path(os.path.realpath(gitdir / target))
        if not commondir.is_dir():
            return False
    config = parse_config(read_bounded(commondir, "config", MAX_CONFIG) or b"")
    hexlen = 64 if config.get("extensions.objectformat", "").lower() == "sha256" else 40
    if config.get("extensions.refstorage", "files").lower() != "files":
        return False  # reftable: not read
    return Repository(gitdir=gitdir, commondir=commondir, worktree=folder, hexlen=hexlen, config=config)


# ------------------------------------------------------------------------------------------ config


def parse_config(data: bytes) -> dict[str, str]:
    """The last value of each key of a git config file (see :func:`config_entries`)."""
    return dict(config_entries(data))


def config_entries(data: bytes) -> list[tuple[str, str]]:
    """Every ``(key, value)`` of a git config file in order, keyed ``section.key`` or
    ``section.subsection.key`` (section and key lower-cased, as git compares them). Includes are not
    followed; a line that does not parse is skipped."""
    out: list[tuple[str, str]] = []
    section = ""
    text = data.decode("utf-8", "replace")
    lines = iter(text.splitlines())
    for raw in lines:
        line = raw.strip()
        while line.endswith("\\") and not line.endswith("\\\\"):
            line = line[:-1] + next(lines, "").strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            end = line.find("]")
            if end < 0:
                continue
            header = line[1:end].strip()
            quoted = re.fullmatch(r'([A-Za-z0-9.-]+)\s+"((?:[^"\\]|\\.)*)"', header)
            if quoted:
                subsection = re.sub(r"\\(.)", r"\1", quoted.group(2))
                section = f"{quoted.group(1).lower()}.{subsection}"
            elif re.fullmatch(r"[A-Za-z0-9.-]+", header):
                first, _, rest = header.partition(".")
                section = first.lower() + (f".{rest.lower()}" if rest else "")
            else:
                section = ""
            line = line[end + 1 :].strip()
            if not line or line[0] in "#;":
                continue
        if not section:
            continue
        key, eq, value = line.partition("=")
        key = key.strip()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", key):
            continue
        out.append((f"{section}.{key.lower()}", _config_value(value) if eq else "true"))
    return out


def _config_value(raw: str) -> str:
    out: list[str] = []
    quoted = False
    index = 0
    raw = raw.strip()
    while index < len(raw):
        char = raw[index]
        if char == '"':
            quoted = not quoted
        elif char == "\\" and index + 1 < len(raw):
            index += 1
            out.append({"n": "\n", "t": "\t", "b": "\b"}.get(raw[index], raw[index]))
        elif char in "#;" and not quoted:
            break
        else:
            out.append(char)
        index += 1
    return "".join(out).strip() if not quoted else "".join(out)


# ------------------------------------------------------------------------------------------ refs


def _ref_location(repo: Repository, name: str) -> Path:
    return repo.gitdir if name == "HEAD" or name.startswith(_PER_WORKTREE) else repo.commondir


def _loose_ref(repo: Repository, name: str) -> bytes | None:
    data = read_bounded(_ref_location(repo, name), name, MAX_SMALL_FILE)
    return data.strip() if data is not None else None


def packed_refs(repo: Repository) -> dict[str, tuple[str, str | None]]:
    """``packed-refs``: ref name → (id, peeled id or None)."""
    data = read_bounded(repo.commondir, "packed-refs", MAX_PACKED_REFS)
    out: dict[str, tuple[str, str | None]] = {}
    last: str | None = None
    for line in (data or b"").splitlines():
        if line.startswith(b"^") and last is not None and _is_id(line[1:], repo.hexlen):
            out[last] = (out[last][0], line[1:].decode())
            continue
        last = None
        oid, _, name = line.partition(b" ")
        text = name.decode("utf-8", "replace")
        if _is_id(oid, repo.hexlen) and valid_ref(text):
            out[text] = (oid.decode(), None)
            last = text
    return out


def _is_id(value: bytes, hexlen: int) -> bool:
    return len(value) == hexlen and _HEX.fullmatch(value) is not None


def resolve(
    repo: Repository, name: str, packed: dict[str, tuple[str, str | None]] | None = None
) -> str | None:
    """The object id ``name`` (``HEAD`` or ``refs/…``) points at, following symbolic refs."""
    for _ in range(6):
        if name != "HEAD" and not valid_ref(name):
            return None
        data = _loose_ref(repo, name)
        if data is None:
            if packed is None:
                packed = packed_refs(repo)
            entry = packed.get(name)
            return entry[0] if entry else None
        if data.startswith(b"ref:"):
            name = data[4:].strip().decode("utf-8", "replace")
            continue
        return data.decode() if _is_id(data, repo.hexlen) else None
    return None


def tag_refs(repo: Repository) -> list[tuple[str, str, str | None]]:
    """Every ``refs/tags/…`` as (ref name, id, peeled id when packed-refs gives it), sorted by name."""
    refs = {name: entry for name, entry in packed_refs(repo).items() if name.startswith("refs/tags/")}
    for name in _loose_names(repo.commondir, "refs/tags"):
        data = _loose_ref(repo, name)
        if data is not None and _is_id(data, repo.hexlen):
            refs[name] = (data.decode(), None)
        if len(refs) > MAX_TAGS:
            break
    return sorted((name, oid, peeled) for name, (oid, peeled) in refs.items())[:MAX_TAGS]


def _loose_names(base: Path, top: str) -> Iterator[str]:
    count = 0
    for folder, dirs, files in os.walk(base / top, followlinks=False):
        rel = Path(folder).relative_to(base).as_posix()
        for name in sorted(files):
            count += 1
            if count > MAX_TAGS:
                return
            ref = f"{rel}/{name}"
            if valid_ref(ref):
                yield ref
        dirs.sort()


# ------------------------------------------------------------------------------------------ objects


@dataclass(slots=True)
class _Pack:
    idx: int  # file descriptors, kept open while the store lives
    pack: int
    count: int
    fanout: list[int]
    hashlen: int

    def name(self, index: int) -> bytes:
        return os.pread(self.idx, self.hashlen, 8 + 1024 + index * self.hashlen)

    def first_at_least(self, key: bytes) -> int:
        low = self.fanout[key[0] - 1] if key[0] else 0
        high = self.fanout[key[0]]
        while low < high:
            mid = (low + high) // 2
            if self.name(mid) < key:
                low = mid + 1
            else:
                high = mid
        return low

    def offset(self, index: int) -> int:
        base = 8 + 1024 + self.count * (self.hashlen + 4)
        value = int.from_bytes(os.pread(self.idx, 4, base + index * 4), "big")
        if value & 0x80000000:
            large = base + self.count * 4 + (value & 0x7FFFFFFF) * 8
            value = int.from_bytes(os.pread(self.idx, 8, large), "big")
        return value


class ObjectStore:
    """Objects of ``COMMONDIR/objects`` (loose and packed), read with bounds. An ``objects`` folder that
    is a link out of the git folder is not read."""

    def __init__(self, commondir: Path, hexlen: int) -> None:
        self.folder = Path(os.path.realpath(commondir / "objects"))
        if os.path.commonpath([self.folder, commondir]) != str(commondir):
            self.folder = commondir / "objects-outside-the-repository"  # reads nothing
        self.hexlen = hexlen
        self._packs: list[_Pack] | None = None

    def close(self) -> None:
        for pack in self._packs or []:
            for fd in (pack.idx, pack.pack):
                os.close(fd)
        self._packs = []

    @property
    def packs(self) -> list[_Pack]:
        if self._packs is None:
            self._packs = []
            try:
                names = sorted(n for n in os.listdir(self.folder / "pack") if n.endswith(".idx"))
            except OSError:
                names = []
            for name in names[:MAX_PACKS]:
                pack = self._open_pack(f"pack/{name}")
                if pack is not None:
                    self._packs.append(pack)
        return self._packs

    def _open_pack(self, idx_name: str) -> _Pack | None:
        hashlen = self.hexlen // 2
        idx = _open_inside(self.folder, idx_name)
        if idx is None:
            return None
        pack = _open_inside(self.folder, idx_name.removesuffix(".idx") + ".pack")
        try:
            size = os.fstat(idx).st_size
            head = os.pread(idx, 8 + 1024, 0)
            if pack is None or len(head) < 8 + 1024 or head[:8] != b"\xfftOc\x00\x00\x00\x02":
                raise ValueError("not a version 2 pack index")
            fanout = [int.from_bytes(head[8 + 4 * i : 12 + 4 * i], "big") for i in range(256)]
            count = fanout[255]
            if any(a > b for a, b in itertools.pairwise(fanout)):
                raise ValueError("fanout not sorted")
            if size < 8 + 1024 + count * (hashlen + 8) + 2 * hashlen:
                raise ValueError("index shorter than its fanout says")
        except (OSError, ValueError):
            for fd in (idx, pack):
                if fd is not None:
                    os.close(fd)
            return None
        return _Pack(idx=idx, pack=pack, count=count, fanout=fanout, hashlen=hashlen)

    def approximate_count(self) -> int:
        return sum(p.count for p in self.packs)

    def _find(self, oid: str) -> tuple[_Pack, int] | None:
        key = bytes.fromhex(oid)
        for pack in self.packs:
            try:
                index = pack.first_at_least(key)
                if index < pack.count and pack.name(index) == key:
                    return pack, pack.offset(index)
            except OSError:
                continue
        return None

    def read(self, oid: str) -> tuple[int, bytes] | None:
        """(type, body) of object ``oid``; None when it is missing, too large or damaged."""
        try:
            return self._read(oid, 0)
        except (OSError, ValueError, zlib.error, IndexError):
            return None

    def _read(self, oid: str, depth: int) -> tuple[int, bytes] | None:
        loose = self._loose(oid)
        if loose is not None:
            return loose
        found = self._find(oid)
        return self._packed(*found, depth) if found is not None else None

    def _loose(self, oid: str) -> tuple[int, bytes] | None:
        fd = _open_inside(self.folder, f"{oid[:2]}/{oid[2:]}")
        if fd is None:
            return None
        with os.fdopen(fd, "rb") as fh:
            raw = _inflate(fh.read(MAX_OBJECT + 4096), MAX_OBJECT + 64)
        header, nul, body = raw.partition(b"\x00")
        kind, _, size = header.partition(b" ")
        if not nul or kind not in _TYPES or not size.isdigit() or int(size) != len(body):
            raise ValueError("damaged loose object")
        return _TYPES[kind], body

    def _packed(self, pack: _Pack, offset: int, depth: int) -> tuple[int, bytes] | None:
        if depth > MAX_DELTA_DEPTH:
            return None
        head = os.pread(pack.pack, 32 + pack.hashlen, offset)
        byte = head[0]
        kind, size, shift, pos = (byte >> 4) & 7, byte & 15, 4, 1
        while byte & 0x80:
            byte = head[pos]
            size |= (byte & 0x7F) << shift
            shift, pos = shift + 7, pos + 1
            if pos > 12:
                raise ValueError("bad object header")
        if size > MAX_OBJECT:
            return None
        base: tuple[int, bytes] | None = None
        if kind == _OFS_DELTA:
            byte = head[pos]
            pos += 1
            back = byte & 0x7F
            while byte & 0x80:
                byte = head[pos]
                pos += 1
                back = ((back + 1) << 7) | (byte & 0x7F)
            if not 0 < back <= offset:
                raise ValueError("bad delta base offset")
            base = self._packed(pack, offset - back, depth + 1)
        elif kind == _REF_DELTA:
            base = self._read(head[pos : pos + pack.hashlen].hex(), depth + 1)
            pos += pack.hashlen
        elif kind not in (_COMMIT, _TREE, _BLOB, _TAG):
            raise ValueError("bad object type")
        data = _inflate_at(pack.pack, offset + pos, size)
        if kind in (_OFS_DELTA, _REF_DELTA):
            if base is None:
                return None
            return base[0], _patch(base[1], data)
        return kind, data


def _inflate(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, limit + 1)
    if len(out) > limit:
        raise ValueError("object over the size limit")
    return out


def _inflate_at(fd: int, offset: int, size: int) -> bytes:
    inflater = zlib.decompressobj()
    out = bytearray()
    while not inflater.eof:
        chunk = os.pread(fd, 65536, offset)
        if not chunk:
            raise ValueError("truncated pack")
        offset += len(chunk)
        out += inflater.decompress(chunk, size + 1 - len(out))
        if len(out) > size:
            raise ValueError("object larger than its header says")
        if inflater.unconsumed_tail:
            raise ValueError("object larger than its header says")
    if len(out) != size:
        raise ValueError("object size differs from its header")
    return bytes(out)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos
        if shift > 63:
            raise ValueError("bad delta header")


def _patch(base: bytes, delta: bytes) -> bytes:
    source_size, pos = _varint(delta, 0)
    target_size, pos = _varint(delta, pos)
    if source_size != len(base) or target_size > MAX_OBJECT:
        raise ValueError("delta does not fit its base")
    out = bytearray()
    while pos < len(delta):
        op = delta[pos]
        pos += 1
        if op & 0x80:
            start = length = 0
            for bit in range(4):
                if op & (1 << bit):
                    start |= delta[pos] << (8 * bit)
                    pos += 1
            for bit in range(3):
                if op & (0x10 << bit):
                    length |= delta[pos] << (8 * bit)
                    pos += 1
            length = length or 0x10000
            if start + length > len(base):
                raise ValueError("delta copies past its base")
            out += base[start : start + length]
        elif op:
            out += delta[pos : pos + op]
            pos += op
        else:
            raise ValueError("bad delta opcode")
        if len(out) > target_size:
            raise ValueError("delta larger than it says")
    if len(out) != target_size:
        raise ValueError("delta size differs from its header")
    return bytes(out)


# ------------------------------------------------------------------------------------------ describe


@dataclass(slots=True)
class _Commit:
    parents: list[str]
    date: int


@dataclass(slots=True)
class _Name:
    path: str  # ref name without refs/tags/
    oid: str  # the tag object (annotated) or the commit (lightweight)
    prio: int  # 2 annotated, 1 lightweight
    tag_name: str | None = None
    tag_date: int | None = None


def _headers(body: bytes) -> Iterator[tuple[bytes, bytes]]:
    for line in body.split(b"\n\n", 1)[0].split(b"\n"):
        key, _, value = line.partition(b" ")
        yield key, value


def _person_date(value: bytes) -> int:
    parts = value.rsplit(b">", 1)[-1].split()
    return int(parts[0]) if parts and parts[0].isdigit() else 0


class _Describer:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.store = repo.objects
        self.commits: dict[str, _Commit | None] = {}
        shallow = read_bounded(repo.commondir, "shallow", MAX_PACKED_REFS) or b""
        self.shallow = {line.decode() for line in shallow.split() if _is_id(line, repo.hexlen)}

    def commit(self, oid: str) -> _Commit | None:
        if oid not in self.commits:
            self.commits[oid] = self._parse_commit(oid)
        return self.commits[oid]

    def _parse_commit(self, oid: str) -> _Commit | None:
        found = self.store.read(oid)
        if found is None or found[0] != _COMMIT:
            return None
        parents: list[str] = []
        date = 0
        for key, value in _headers(found[1]):
            if key == b"parent" and _is_id(value, self.repo.hexlen):
                parents.append(value.decode())
            elif key == b"committer":
                date = _person_date(value)
        return _Commit([] if oid in self.shallow else parents, date)

    def tag(self, oid: str) -> tuple[str | None, str | None, int]:
        """(object the tag points at, name written in the tag, tagger date) of tag object ``oid``."""
        found = self.store.read(oid)
        if found is None or found[0] != _TAG:
            return None, None, 0
        target = name = None
        date = 0
        for key, value in _headers(found[1]):
            if key == b"object" and _is_id(value, self.repo.hexlen):
                target = value.decode()
            elif key == b"tag":
                name = value.decode("utf-8", "replace")
            elif key == b"tagger":
                date = _person_date(value)
        return target, name, date

    def names(self) -> dict[str, _Name]:
        """Commit id → the tag git describe would name it by."""
        out: dict[str, _Name] = {}
        for ref, oid, peeled in tag_refs(self.repo):
            target = peeled
            if target is None:
                target = oid
                for _ in range(10):
                    kind = self.store.read(target)
                    if kind is None or kind[0] != _TAG:
                        break
                    target, _, _ = self.tag(target)
                    if target is None:
                        break
                if target is None:
                    continue
            entry = _Name(path=ref.removeprefix("refs/tags/"), oid=oid, prio=2 if target != oid else 1)
            if self._replaces(out.get(target), entry):
                out[target] = entry
        return out

    def _tag_details(self, entry: _Name) -> None:
        if entry.prio == 2 and entry.tag_date is None:
            _, entry.tag_name, entry.tag_date = self.tag(entry.oid)

    def _replaces(self, current: _Name | None, new: _Name) -> bool:
        if current is None or current.prio < new.prio:
            return True
        if current.prio == new.prio == 2:
            self._tag_details(current)
            self._tag_details(new)
            return (current.tag_date or 0) < (new.tag_date or 0)
        return False

    def display(self, entry: _Name) -> str:
        """The annotated tag's own name (git prints that one), unless it is not a plain printable name."""
        self._tag_details(entry)
        name = entry.tag_name
        if entry.prio == 2 and name and len(name) < 256 and name.isprintable() and " " not in name:
            return name
        return entry.path

    def describe(self, head: str) -> str:
        names = self.names()
        if head in names:
            return self.display(names[head])
        if not names or self.commit(head) is None:
            return self.abbrev(head)
        found = self._walk(head, names)
        if found is None:
            return self.abbrev(head)
        entry, depth = found
        return f"{self.display(entry)}-{depth}-g{self.abbrev(head)}"

    def _walk(self, head: str, names: dict[str, _Name]) -> tuple[_Name, int] | None:
        """git describe's search (builtin/describe.c): a walk newest first, up to 10 candidate tags, each
        counting the commits seen that it does not reach; the fewest wins, ties to the first found."""
        seen_flag = 1
        flags: dict[str, int] = {head: seen_flag}
        queue: list[tuple[int, int, str]] = []
        order = 0

        def push(oid: str) -> None:
            nonlocal order
            order += 1
            heapq.heappush(queue, (-self._date(oid), order, oid))

        push(head)
        matches: list[list[object]] = []  # [name, depth, flag, found order]
        annotated = 0
        seen = 0
        gave_up: str | None = None
        while queue:
            _, _, oid = heapq.heappop(queue)
            seen += 1
            if seen > MAX_WALK:
                return None
            entry = names.get(oid)
            if entry is not None:
                if len(matches) < MAX_CANDIDATES:
                    flag = 1 << (len(matches) + 1)
                    matches.append([entry, seen - 1, flag, len(matches) + 1])
                    flags[oid] |= flag
                    annotated += entry.prio == 2
                else:
                    gave_up = oid
                    break
            for match in matches:
                if not flags[oid] & match[2]:  # type: ignore[operator]
                    match[1] += 1  # type: ignore[operator]
            if annotated and not queue:
                break
            if not self._parents_into(oid, flags, push):
                return None
        if not matches:
            return None
        matches.sort(key=lambda m: (m[1], m[3]))  # type: ignore[arg-type,return-value]
        best = matches[0]
        if gave_up is not None:
            push(gave_up)
        flag: int = best[2]  # type: ignore[assignment]
        depth: int = best[1]  # type: ignore[assignment]
        while queue:
            _, _, oid = heapq.heappop(queue)
            seen += 1
            if seen > MAX_WALK:
                return None
            if flags[oid] & flag:
                if all(flags[other] & flag for _, _, other in queue):
                    break
            else:
                depth += 1
            if not self._parents_into(oid, flags, push):
                return None
        return best[0], depth  # type: ignore[return-value]

    def _date(self, oid: str) -> int:
        commit = self.commit(oid)
        return commit.date if commit is not None else 0

    def _parents_into(self, oid: str, flags: dict[str, int], push: object) -> bool:
        commit = self.commit(oid)
        if commit is None:
            return False  # a missing or damaged commit: the history cannot be counted
        for parent in commit.parents:
            if parent not in flags:
                flags[parent] = 0
                push(parent)  # type: ignore[operator]
            flags[parent] |= flags[oid]
        return True

    def abbrev(self, oid: str) -> str:
        """The shortest unique prefix of at least 7 hex digits (``core.abbrev`` when the repository sets a
        number), longer for large repositories as git's ``auto`` makes it (half the bits of the packed
        object count, rounded up) and until no other object shares it."""
        setting = self.repo.config.get("core.abbrev", "auto").strip().lower()
        if setting in ("no", "false", "off"):
            return oid
        if setting.isdigit():
            length = min(max(int(setting), 4), len(oid))
        else:
            length = max(MIN_ABBREV, (self.store.approximate_count().bit_length() + 1) // 2)
        while length < len(oid) and self._ambiguous(oid, length):
            length += 1
        return oid[:length]

    def _ambiguous(self, oid: str, length: int) -> bool:
        prefix = oid[:length]
        try:
            names = os.listdir(self.store.folder / oid[:2])[:MAX_TAGS]
        except OSError:
            names = []
        if any(oid[:2] + n != oid and (oid[:2] + n).startswith(prefix) for n in names):
            return True
        lowest = bytes.fromhex(prefix.ljust(len(oid), "0"))
        for pack in self.store.packs:
            try:  # names are sorted: those sharing the prefix follow the first one at or above it
                index = pack.first_at_least(lowest)
                for probe in range(index, min(index + 2, pack.count)):
                    other = pack.name(probe).hex()
                    if other != oid and other.startswith(prefix):
                        return True
            except OSError:
                continue
        return False


def describe(folder: Path) -> str | None:
    """What ``git describe --tags --always`` prints for the repository ``folder`` is in (see the module
    text), without running git; None when there is no repository, HEAD has no commit, or it is unreadable."""
    repo = find_repository(folder)
    if repo is None:
        return None
    try:
        head = resolve(repo, "HEAD")
        if head is None:
            return None
        return _Describer(repo).describe(head)
    except (OSError, ValueError, LookupError, RecursionError, zlib.error):
        return None  # whatever a damaged repository makes the reader trip on: no version, no error
    finally:
        repo.objects.close()


# ------------------------------------------------------------------------------------------ identity


def _read_file(path: Path, limit: int) -> bytes | None:
    """A regular file of the user's own (links followed), at most ``limit`` bytes; None otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        data = fh.read(limit + 1)
    return data if len(data) <= limit else None


def _user_config_files() -> list[Path]:
    """The system and global git config files, in the order git reads them; the user's own
    ``GIT_CONFIG_NOSYSTEM`` and ``GIT_CONFIG_GLOBAL`` are honoured as git honours them."""
    nosystem = os.environ.get("GIT_CONFIG_NOSYSTEM", "").strip().lower() in ("1", "true", "yes", "on")
    files = [] if nosystem else [Path("/etc/gitconfig")]
    chosen = os.environ.get("GIT_CONFIG_GLOBAL")
    if chosen:
        return [*files, Path(chosen)]
    try:
        home = Path.home()
    except (RuntimeError, KeyError):
        return files
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(home / ".config")
    return [*files, Path(xdg) / "git" / "config", home / ".gitconfig"]


def _owned(path: Path) -> bool:
    """git's ownership rule (``safe.directory``): owned by the effective user; for root, by root or by
    the user ``SUDO_UID`` names."""
    try:
        owner = os.lstat(path).st_uid
    except OSError:
        return False
    uid = os.geteuid()
    if uid == 0:
        if owner == 0:
            return True
        sudo = os.environ.get("SUDO_UID", "")
        uid = int(sudo) if sudo.isdigit() else uid
    return owner == uid


def _safe(repo: Repository, safe_directories: list[str]) -> bool:
    if all(_owned(p) for p in (repo.worktree, repo.gitdir)):
        return True
    for entry in safe_directories:
        if entry == "*":
            return True
        try:
            if Path(os.path.realpath(os.path.expanduser(entry))) == repo.worktree:
                return True
        except (OSError, ValueError):
            continue
    return False


def user_identity(folder: Path) -> tuple[str | None, str | None]:
    """``user.name`` and ``user.email`` as ``git config`` gives them in ``folder``: the system and global
    files, then the repository's own config, which counts only when git would trust the repository (it
    belongs to the user, or a ``safe.directory`` entry names it). Includes are not followed."""
    values: dict[str, str] = {}
    safe_directories: list[str] = []
    for path in _user_config_files():
        for key, value in config_entries(_read_file(path, MAX_CONFIG) or b""):
            if key == "safe.directory":
                safe_directories = [] if not value else [*safe_directories, value]
            elif key in ("user.name", "user.email"):
                values[key] = value
    repo = find_repository(folder)
    if repo is not None and _safe(repo, safe_directories):
        for key, value in config_entries(read_bounded(repo.commondir, "config", MAX_CONFIG) or b""):
            if key in ("user.name", "user.email"):
                values[key] = value
    return values.get("user.name") or None, values.get("user.email") or None
