"""Which files of a folder an import reads: every file below it, hidden entries and ``__MACOSX`` folders left
out, links to folders not followed (as ``os.walk`` lists them), in sorted order; the listing's fingerprint
(what lets an interrupted import resume) is the same however often the folder is opened."""

from __future__ import annotations

import os
from pathlib import Path

from mamori.vulndb.sources import open_input


def _walked(top: Path) -> list[str]:
    files: list[str] = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        files.extend(os.path.join(folder, n) for n in names if not n.startswith("."))
    return sorted(files)


def test_a_folder_lists_its_files_as_a_walk_does(tmp_path: Path) -> None:
    for folder in ("pkg/a", "pkg/.hidden", "pkg/__MACOSX", "other/deep/er", "elsewhere"):
        (tmp_path / folder).mkdir(parents=True)
    for name in ("pkg/a/r1.json", "pkg/a/.r2.json", "pkg/.hidden/r3.json", "pkg/__MACOSX/r4.json"):
        (tmp_path / name).write_text("{}")
    for name in ("other/deep/er/r5.yaml", "top.json", ".top.json", "elsewhere/r6.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "pkg" / "linked").symlink_to(tmp_path / "elsewhere")  # a folder link: not followed
    (tmp_path / "pkg" / "file-link.json").symlink_to(tmp_path / "top.json")
    (tmp_path / "pkg" / "dangling.json").symlink_to(tmp_path / "nowhere")  # listed; reading it fails
    inputs = open_input(tmp_path)
    names = [blob.name for blob in inputs.blobs]
    expected = [
        str(tmp_path / p)
        for p in (
            "elsewhere/r6.json",
            "other/deep/er/r5.yaml",
            "pkg/a/r1.json",
            "pkg/dangling.json",
            "pkg/file-link.json",
            "top.json",
        )
    ]
    assert names == expected == _walked(tmp_path) and inputs.total == len(expected)
    fingerprint = inputs.listing()
    assert fingerprint is not None and open_input(tmp_path).listing() == fingerprint
    (tmp_path / "top.json").write_text('{"changed": true}')
    assert open_input(tmp_path).listing() != fingerprint
