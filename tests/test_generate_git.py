"""The root version from git without running git (sbom/generate/gitrepo.py).

Real repositories are made with git in temporary folders; what mamori reads from their files must equal
what ``git describe --tags --always`` prints for them (git runs here only on repositories the test made,
with no configured programs). A repository whose own ``.git/config`` names programs must not get them run
by ``mamori sbom generate`` or ``mamori scan`` (installed CLI, subprocess).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mamori.sbom.generate import gitrepo

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
MAMORI = Path(sys.executable).with_name("mamori")


class Repo:
    """A repository made with the real git, commits dated one minute apart (so the walk order is known)."""

    def __init__(self, path: Path, *init: str) -> None:
        self.path = path
        self.tick = 0
        home = path.parent / f".home-{path.name}"
        home.mkdir(parents=True, exist_ok=True)
        (home / ".gitconfig").touch()  # an empty global config of the test's own (not the user's)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
            "GIT_AUTHOR_NAME": "Tester",
            "GIT_AUTHOR_EMAIL": "tester@example.jp",
            "GIT_COMMITTER_NAME": "Tester",
            "GIT_COMMITTER_EMAIL": "tester@example.jp",
        }
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main", *init)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        self.tick += 1
        env = {**self.env, "GIT_COMMITTER_DATE": f"{1_700_000_000 + 60 * self.tick} +0900"}
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"]
        done = subprocess.run(
            [GIT or "git", *args], cwd=cwd or self.path, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def commit(self, text: str = "", message: str | None = None) -> str:
        (self.path / "file.txt").write_text(text or f"change {self.tick}\n")
        self.git("add", "file.txt")
        self.git("commit", "-q", "-m", message or f"commit {self.tick}")
        return self.git("rev-parse", "HEAD")

    def describe(self, folder: Path | None = None) -> str | None:
        done = subprocess.run(
            [GIT or "git", "describe", "--tags", "--always"],
            cwd=folder or self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout.strip() if done.returncode == 0 else None


def _linear(repo: Repo, count: int) -> list[str]:
    return [repo.commit() for _ in range(count)]


def case_one_commit(repo: Repo) -> None:
    repo.commit()


def case_lightweight_tag_on_head(repo: Repo) -> None:
    _linear(repo, 2)
    repo.git("tag", "v1.0")


def case_annotated_tag_on_head(repo: Repo) -> None:
    _linear(repo, 2)
    repo.git("tag", "-a", "v1.0", "-m", "release 1.0")


def case_commits_after_tag(repo: Repo) -> None:
    _linear(repo, 2)
    repo.git("tag", "-a", "v1.0", "-m", "release")
    _linear(repo, 3)


def case_commits_after_lightweight_tag(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "v0.9")
    _linear(repo, 4)


def case_annotated_beats_lightweight(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "a-light")
    repo.git("tag", "-a", "z-annotated", "-m", "annotated")


def case_newest_annotated_wins(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "b-newer", "-m", "x")  # tagger dates follow the order of the commands
    repo.git("tag", "-a", "a-older", "-m", "x")
    repo.git("tag", "-d", "b-newer")
    repo.git("tag", "-a", "b-newer", "-m", "y")


def case_nearest_of_two_tags(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "v1.0", "-m", "x")
    _linear(repo, 2)
    repo.git("tag", "-a", "v1.1", "-m", "x")
    _linear(repo, 2)


def case_annotated_tag_renamed(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "v2.0", "-m", "x")
    tag = repo.git("rev-parse", "refs/tags/v2.0")
    repo.git("update-ref", "refs/tags/renamed", tag)
    repo.git("update-ref", "-d", "refs/tags/v2.0")
    repo.commit()


def case_tag_in_a_folder(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "release/2024.1", "-m", "x")
    repo.commit()


def case_tag_of_a_tag(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "inner", "-m", "x")
    repo.git("tag", "-a", "outer", "-m", "y", "inner")
    repo.git("tag", "-d", "inner")
    repo.commit()


def case_packed_refs_and_objects(repo: Repo) -> None:
    _linear(repo, 3)
    repo.git("tag", "-a", "v3.0", "-m", "x")
    repo.git("tag", "light")
    _linear(repo, 2)
    repo.git("gc", "-q")
    assert (repo.path / ".git" / "packed-refs").is_file()
    assert not list((repo.path / ".git" / "refs" / "tags").iterdir())


def case_deltified_commits(repo: Repo) -> None:
    body = "".join(f"line {n} of a long commit message that repeats\n" for n in range(400))
    for n in range(8):
        repo.commit(message=f"commit {n}\n\n{body}")
        if n == 2:
            repo.git("tag", "-a", "v0.1", "-m", body)
    repo.git("repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=250")
    pack = next((repo.path / ".git" / "objects" / "pack").glob("*.idx"))
    listing = repo.git("verify-pack", "-v", str(pack))
    assert any(line.split()[1] == "commit" and len(line.split()) == 7 for line in listing.splitlines()), (
        "the test needs commits stored as deltas"
    )


def case_detached_head(repo: Repo) -> None:
    first = repo.commit()
    repo.git("tag", "v1", first)
    _linear(repo, 3)
    repo.git("tag", "v2")
    middle = repo.git("rev-parse", "HEAD~1")
    repo.git("checkout", "-q", "--detach", middle)


def case_merges(repo: Repo) -> None:
    repo.commit()
    repo.git("tag", "-a", "v1.0", "-m", "x")
    repo.git("checkout", "-q", "-b", "topic")
    for n in range(2):
        (repo.path / "topic.txt").write_text(f"topic {n}\n")
        repo.git("add", "topic.txt")
        repo.git("commit", "-q", "-m", f"topic {n}")
        if n == 0:
            repo.git("tag", "-a", "topic-1", "-m", "x")
    repo.git("checkout", "-q", "main")
    _linear(repo, 2)
    repo.git("tag", "v1.1")
    repo.commit()
    repo.git("merge", "-q", "--no-ff", "-m", "merge topic", "topic")
    repo.commit()


def case_no_tag_reachable(repo: Repo) -> None:
    repo.commit()
    repo.git("checkout", "-q", "-b", "side")
    repo.commit()
    repo.git("tag", "-a", "side-1", "-m", "x")
    repo.git("checkout", "-q", "main")
    repo.commit()


def case_core_abbrev(repo: Repo) -> None:
    repo.commit()
    repo.git("config", "core.abbrev", "12")


def case_sha256(repo: Repo) -> None:
    _linear(repo, 2)
    repo.git("tag", "-a", "v1", "-m", "x")
    repo.commit()


def case_sha256_packed(repo: Repo) -> None:
    case_sha256(repo)
    repo.git("gc", "-q")


CASES: dict[str, Callable[[Repo], None]] = {
    name.removeprefix("case_"): fn for name, fn in globals().items() if name.startswith("case_")
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_describe_agrees_with_git(tmp_path: Path, name: str) -> None:
    init = ("--object-format=sha256",) if name.startswith("sha256") else ()
    try:
        repo = Repo(tmp_path / "repo", *init)
    except AssertionError as exc:
        if init:
            pytest.skip(f"this git makes no SHA-256 repositories: {exc}")
        raise
    CASES[name](repo)
    expected = repo.describe()
    assert expected
    assert gitrepo.describe(repo.path) == expected


def test_describe_has_the_three_forms(tmp_path: Path) -> None:
    """The comparison above is only worth something if it sees each form git prints."""
    repo = Repo(tmp_path / "repo")
    head = repo.commit()
    assert gitrepo.describe(repo.path) == head[:7]
    repo.git("tag", "-a", "v1.0", "-m", "x")
    assert gitrepo.describe(repo.path) == "v1.0"
    head = repo.commit()
    assert gitrepo.describe(repo.path) == f"v1.0-1-g{head[:7]}"


def test_worktree_submodule_and_subfolder(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.commit()
    repo.git("tag", "-a", "v5", "-m", "x")
    repo.git("worktree", "add", "-q", "--detach", str(tmp_path / "wt"), "HEAD")
    assert (tmp_path / "wt" / ".git").is_file()
    (tmp_path / "wt" / "file.txt").write_text("more\n")
    repo.git("commit", "-q", "-am", "in the worktree", cwd=tmp_path / "wt")
    assert gitrepo.describe(tmp_path / "wt") == repo.describe(tmp_path / "wt")
    assert gitrepo.describe(tmp_path / "wt").startswith("v5-1-g")  # type: ignore[union-attr]
    assert gitrepo.describe(repo.path) == "v5"  # the main work tree keeps its own HEAD

    # a submodule: .git is a file naming a folder relative to it
    sub = tmp_path / "super" / "lib"
    sub.mkdir(parents=True)
    shutil.move(str(repo.path / ".git"), str(tmp_path / "super" / "modules-lib"))
    (sub / ".git").write_text("gitdir: ../modules-lib\n")
    assert gitrepo.describe(sub) == "v5"

    # a folder inside the work tree climbs to it
    deep = repo.path / "src" / "pkg"
    deep.mkdir(parents=True)
    (repo.path / ".git").write_text(f"gitdir: {tmp_path / 'super' / 'modules-lib'}\n")
    assert gitrepo.describe(deep) == "v5"


def test_shallow_clone(tmp_path: Path) -> None:
    origin = Repo(tmp_path / "origin")
    origin.commit()
    origin.git("tag", "-a", "v1", "-m", "x")
    _linear(origin, 4)
    origin.git("clone", "-q", "--depth", "2", f"file://{origin.path}", str(tmp_path / "clone"))
    clone = tmp_path / "clone"
    assert (clone / ".git" / "shallow").is_file()
    assert gitrepo.describe(clone) == origin.describe(clone)


# ---------------------------------------------------------------- broken and hostile repositories


def _write_loose(repo_git: Path, oid: str, raw: bytes) -> None:
    path = repo_git / "objects" / oid[:2] / oid[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.chmod(0o644)
    path.write_bytes(raw)


def _broken_cases(tmp_path: Path) -> dict[str, tuple[Path, set[str | None]]]:
    """name → (folder, what describe may give). None: no version; a string: that version exactly."""
    out: dict[str, tuple[Path, set[str | None]]] = {}

    def fresh(name: str, tag: bool = False) -> tuple[Repo, str]:
        repo = Repo(tmp_path / name)
        head = repo.commit()
        if tag:
            repo.git("tag", "v1")
        return repo, head

    out["no repository"] = (tmp_path, {None})
    repo = Repo(tmp_path / "unborn")
    out["unborn HEAD"] = (repo.path, {None})
    repo, _ = fresh("bare-source", tag=True)
    repo.git("clone", "-q", "--bare", str(repo.path), str(tmp_path / "bare.git"))
    out["bare repository"] = (tmp_path / "bare.git", {None})

    repo, _ = fresh("target", tag=True)
    (tmp_path / "dotgit-link").mkdir()
    (tmp_path / "dotgit-link" / ".git").symlink_to(repo.path / ".git")
    out[".git is a symbolic link"] = (tmp_path / "dotgit-link", {None})
    (tmp_path / "garbage").mkdir()
    (tmp_path / "garbage" / ".git").write_bytes(b"\x00\xff not a gitdir line")
    out[".git file without gitdir"] = (tmp_path / "garbage", {None})
    (tmp_path / "nowhere").mkdir()
    (tmp_path / "nowhere" / ".git").write_text("gitdir: ../no/such/folder\n")
    out[".git file to a missing folder"] = (tmp_path / "nowhere", {None})
    (tmp_path / "huge").mkdir()
    (tmp_path / "huge" / ".git").write_bytes(b"gitdir: " + b"a" * 200_000)
    out[".git file too large"] = (tmp_path / "huge", {None})
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / ".git")
    out[".git is a FIFO"] = (tmp_path / "fifo", {None})

    outside = tmp_path / "outside-head"
    repo, head = fresh("head-link")
    outside.write_text(head + "\n")
    (repo.path / ".git" / "HEAD").unlink()
    (repo.path / ".git" / "HEAD").symlink_to(outside)
    out["HEAD links out of the repository"] = (repo.path, {None})

    repo, head = fresh("ref-link")
    ref = repo.path / ".git" / "refs" / "heads" / "main"
    ref.unlink()
    ref.symlink_to(outside)
    out["branch ref links out of the repository"] = (repo.path, {None})

    repo, head = fresh("ref-traversal")
    (repo.path / ".git" / "HEAD").write_text("ref: refs/../../../outside-head\n")
    out["HEAD names a ref outside refs/"] = (repo.path, {None})

    repo, head = fresh("big-head")
    (repo.path / ".git" / "HEAD").write_text("ref: refs/heads/" + "x" * 100_000 + "\n")
    out["HEAD too large"] = (repo.path, {None})

    repo, head = fresh("tag-link")
    tag_ref = repo.path / ".git" / "refs" / "tags" / "v9"
    tag_ref.symlink_to(outside)
    out["tag ref links out of the repository"] = (repo.path, {head[:7]})

    repo, head = fresh("damaged-object", tag=False)
    repo.git("tag", "-a", "v1", "-m", "x")
    repo.commit()
    head = repo.git("rev-parse", "HEAD")
    _write_loose(repo.path / ".git", head, b"not zlib at all")
    out["HEAD commit damaged"] = (repo.path, {head[:7]})

    repo, head = fresh("bomb")
    repo.git("tag", "-a", "v1", "-m", "x")
    head = repo.commit()
    bomb = zlib.compress(b"commit 99999999\x00" + b"parent " + b"0" * 50_000_000, 9)
    _write_loose(repo.path / ".git", head, bomb)
    out["HEAD commit inflates past the limit"] = (repo.path, {head[:7]})

    repo, head = fresh("damaged-pack")
    repo.git("tag", "-a", "v1", "-m", "x")
    head = repo.commit()
    repo.git("gc", "-q")
    for idx in (repo.path / ".git" / "objects" / "pack").glob("*.idx"):
        idx.chmod(0o644)
        data = bytearray(idx.read_bytes())
        data[8 : 8 + 1024] = b"\xff" * 1024  # a fanout that says every name is in the last bucket
        idx.write_bytes(bytes(data))
    out["pack index damaged"] = (repo.path, {head[:7], "v1-1-g" + head[:7]})

    repo, head = fresh("pack-link")
    repo.git("gc", "-q")
    objects = repo.path / ".git" / "objects"
    shutil.move(str(objects), str(tmp_path / "objects-elsewhere"))
    objects.symlink_to(tmp_path / "objects-elsewhere")
    out["objects folder links out of the repository"] = (repo.path, {head[:7]})

    repo, head = fresh("reftable")
    repo.git("config", "extensions.refStorage", "reftable")
    out["reftable ref storage"] = (repo.path, {None})
    return out


def test_broken_and_hostile_repositories_give_no_error(tmp_path: Path) -> None:
    cases = _broken_cases(tmp_path)
    wrong = {name: gitrepo.describe(folder) for name, (folder, allowed) in cases.items()}
    wrong = {name: got for name, got in wrong.items() if got not in cases[name][1]}
    assert wrong == {}
    assert len(cases) >= 18


# ---------------------------------------------------------------- hostile configuration, installed CLI


HOOKS = ("pre-commit", "post-checkout", "post-index-change", "fsmonitor-watchman", "reference-transaction")


def _hostile(tmp_path: Path) -> tuple[Path, Path, str]:
    """A project (requirements.txt) whose .git/config names a program for every slot that git runs one
    from; each would create a file in ``markers``. Returns (project, markers, expected version)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = Repo(tmp_path / "project")
    (repo.path / "requirements.txt").write_text("requests==2.31.0\n")
    (repo.path / ".gitattributes").write_text("* filter=evil diff=evil\n")
    repo.git("add", "requirements.txt", ".gitattributes")
    repo.git("commit", "-q", "-m", "project")
    repo.git("tag", "-a", "v1.2.3", "-m", "release")
    repo.commit()
    expected = repo.describe()
    assert expected and expected.startswith("v1.2.3-1-g")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    for hook in HOOKS:
        script = hooks / hook
        script.write_text(f"#!/bin/sh\ntouch '{markers}/hook-{hook}'\n")
        script.chmod(0o755)
    marker = f"touch '{markers}'/"
    config = f"""
[core]
\tfsmonitor = {marker}fsmonitor
\thooksPath = {hooks}
\tpager = {marker}pager
\tsshCommand = {marker}ssh
\teditor = {marker}editor
\taskPass = {marker}askpass
[diff]
\texternal = {marker}diff-external
[diff "evil"]
\ttextconv = {marker}textconv
[filter "evil"]
\tclean = {marker}clean
\tsmudge = {marker}smudge
\tprocess = {marker}process
[gpg]
\tprogram = {marker}gpg
[credential]
\thelper = !{marker}credential
[user]
\tname = Hostile Config
"""
    with (repo.path / ".git" / "config").open("a") as fh:
        fh.write(config)
    (repo.path / "file.txt").write_text("uncommitted change\n")  # a dirty tree: git would refresh the index
    return repo.path, markers, expected


def _mamori(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MAMORI_DB": str(cwd / "kb.db"),
        "XDG_DATA_HOME": str(cwd / "data"),
        "NO_COLOR": "1",
        "HOME": str(cwd),
    }
    env.pop("GIT_DIR", None)
    return subprocess.run([str(MAMORI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_hostile_git_config_runs_nothing(tmp_path: Path) -> None:
    project, markers, expected = _hostile(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    done = _mamori(["sbom", "generate", str(project), "-o", str(work / "sbom.cdx.json")], work)
    scanned = _mamori(["scan", str(project), "--format", "json", "-o", str(work / "scan.json")], work)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert done.returncode == 0, done.stderr
    sbom = json.loads((work / "sbom.cdx.json").read_text())
    assert sbom["metadata"]["component"].get("version") == expected
    assert scanned.returncode == 3, scanned.stderr  # the empty store cannot judge; the folder was read
    assert json.loads((work / "scan.json").read_text())["sbom"]["format"] == "generated"


def test_identity_from_a_repository_git_would_not_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    (home / ".gitconfig").write_text("[user]\n\tname = Global Person\n\temail = global@example.jp\n")
    repo = Repo(tmp_path / "repo")
    repo.commit()
    repo.git("config", "user.name", "Local Person")
    assert gitrepo.user_identity(repo.path) == ("Local Person", "global@example.jp")
    if os.geteuid() != 0:
        return  # changing a folder's owner needs root
    monkeypatch.delenv("SUDO_UID", raising=False)
    for path in (repo.path, repo.path / ".git"):
        os.chown(path, 12345, 12345)
    assert gitrepo.user_identity(repo.path) == ("Global Person", "global@example.jp")
    with (home / ".gitconfig").open("a") as fh:
        fh.write(f"[safe]\n\tdirectory = {repo.path}\n")
    assert gitrepo.user_identity(repo.path) == ("Local Person", "global@example.jp")


def test_config_parser_reads_what_git_writes(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    repo.git("config", "user.name", 'Name "Quoted" ; not a comment')
    repo.git("config", "remote.origin.url", "https://example.jp/x.git")
    repo.git("config", "section.Sub.Section.key", "a\tb")
    data = (repo.path / ".git" / "config").read_bytes()
    config = gitrepo.parse_config(data)
    assert config["user.name"] == 'Name "Quoted" ; not a comment'
    assert config["remote.origin.url"] == "https://example.jp/x.git"
    assert config["section.Sub.Section.key"] == "a\tb"


def test_reads_are_bounded_and_stay_inside(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "small").write_bytes(b"x" * 10)
    (base / "big").write_bytes(b"x" * 11)
    (tmp_path / "secret").write_bytes(b"s")
    (base / "link").symlink_to(tmp_path / "secret")
    (base / "inner").symlink_to(base / "small")
    os.mkfifo(base / "fifo")
    real = Path(os.path.realpath(base))
    assert gitrepo.read_bounded(real, "small", 10) == b"x" * 10
    assert gitrepo.read_bounded(real, "big", 10) is None
    assert gitrepo.read_bounded(real, "link", 10) is None
    assert gitrepo.read_bounded(real, "inner", 10) == b"x" * 10
    assert gitrepo.read_bounded(real, "../secret", 10) is None
    assert gitrepo.read_bounded(real, "fifo", 10) is None
    assert stat.S_ISFIFO(os.stat(base / "fifo").st_mode)
