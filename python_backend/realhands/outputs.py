"""The rules every file RealHands writes for a user follows, defined once.

* ``output_folder``: an output folder, made if needed, or one clear error.
* ``OutputFolder``: a folder of many outputs (overlays, textures, an evaluation's results) that never replaces a
  file RealHands did not write there.
* ``check_outputs``, ``write_files``: a command's named output files, all checked before any is written; an
  existing file is replaced only when asked (the command line's --force); each written whole or not at all.
* ``same_folder``: whether two paths are one folder, by the file system's identity.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path

from .errors import OutputError


def output_folder(path: str | Path) -> Path:
    """Make (if needed) an output folder, or a clear error."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path} is a file; give a folder for the outputs") from None
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {path}: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK):
        raise OutputError(f"the output folder {path} is not writable")
    return path


def same_folder(a: Path, b: Path) -> bool:
    """Whether two existing paths are one folder (by the file system's identity: also across links, and across
    letter case where the file system folds it)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class OutputFolder:
    """An output folder that never replaces a file it did not write.

    Each file RealHands writes here is recorded in the folder's ``MANIFEST`` (a JSON line: its name, size and
    modification time), so a re-run replaces its own earlier outputs. Anything else at an output's name is kept:
    a file not recorded, or changed since (the user's ``photo.jpg`` in the overlay folder; an output deleted and
    replaced by the user's file), a link, a folder. That output then takes the next free name (``photo_2.jpg``)
    and a note says so. Two outputs of one run never share a name either (two folders' ``same.png``:
    ``same.jpg``, ``same_2.jpg``)."""

    MANIFEST = ".realhands-outputs"

    def __init__(self, path: str | Path, log=print):
        self.path = output_folder(path)
        self.manifest = self.path / self.MANIFEST
        self.log = log
        self._claimed: set[str] = set()
        self._noted = False
        self._ours: dict[str, tuple[int, int]] = {}  # name -> (size, mtime_ns) as written
        if self.manifest.is_symlink() or (self.manifest.exists() and not self.manifest.is_file()):
            raise OutputError(f"{self.manifest} (RealHands' list of the files it wrote there) is not a plain file; "
                              "remove it or choose another folder")
        try:
            text = self.manifest.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise OutputError(f"cannot read {self.manifest}: {exc.strerror or exc}") from None
        for line in text.splitlines():
            try:
                name, size, mtime = json.loads(line)
                self._ours[str(name)] = (int(size), int(mtime))
            except (ValueError, TypeError):
                continue  # not one of its records (a damaged or edited line): what it named counts as not ours

    def owns(self, name: str) -> bool:
        """Whether the file at ``name`` is a plain file RealHands wrote and nobody changed since."""
        try:
            st = os.lstat(self.path / name)
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and self._ours.get(name) == (st.st_size, st.st_mtime_ns)

    def claim(self, stem: str, endings: tuple[str, ...]) -> list[Path]:
        """The paths of an output group, ``stem + ending`` for each ending: ``stem``, or ``stem_2``, ``stem_3``...
        where a name of the group was taken in this run or holds something RealHands did not write (kept).
        Call :meth:`written` with them once written."""
        stem = stem.replace("/", "_").replace(os.sep, "_") or "_"
        name, k, kept = stem, 1, None
        while True:
            names = [name + e for e in endings]
            if not any(n in self._claimed for n in names):
                foreign = [n for n in names if os.path.lexists(self.path / n) and not self.owns(n)]
                if not foreign:
                    break
                kept = kept or foreign[0]
            k += 1
            name = f"{stem}_{k}"
        if kept and not self._noted:  # once a run: a folder of older outputs would repeat it for every file
            self._noted = True
            self.log(f"note: {self.path / kept} was not written by RealHands (or was changed since): kept, and "
                     f"this output is {name}{endings[0]}; other such files in {self.path} are kept the same way")
        self._claimed.update(names)
        return [self.path / n for n in names]

    def written(self, paths: list[Path]) -> None:
        """Record ``paths`` (from :meth:`claim`, now written) as RealHands' own."""
        records = []
        for p in paths:
            try:
                st = os.lstat(p)
            except OSError:
                continue
            self._ours[p.name] = (st.st_size, st.st_mtime_ns)
            records.append(json.dumps([p.name, st.st_size, st.st_mtime_ns]) + "\n")
        try:
            if self.manifest.is_symlink():
                raise OutputError(f"{self.manifest} became a link; not written through")
            with open(self.manifest, "a+", encoding="utf-8", errors="surrogateescape") as fh:
                if fh.tell() > 0:  # an edited manifest that does not end a line: its last line stays its own
                    fh.seek(fh.tell() - 1)
                    if fh.read(1) != "\n":
                        fh.write("\n")
                fh.write("".join(records))
        except OSError as exc:
            raise OutputError(f"cannot write {self.manifest}: {exc.strerror or exc}") from None

    def write(self, stem: str, writers: dict) -> list[Path]:
        """Claim ``stem`` for ``writers`` (ending -> a function writing that file to the path it is given), write
        them and record them; a file that cannot be written is an OutputError."""
        paths = self.claim(stem, tuple(writers))
        try:
            for path, write in zip(paths, writers.values(), strict=True):
                write(path)
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
        finally:
            self.written([q for q in paths if os.path.lexists(q)])
        return paths


def check_outputs(paths, overwrite: bool = False, other: str = "name") -> list[Path]:
    """``paths`` as Paths, if they may all be written: none is a folder (never replaced), and none exists unless
    ``overwrite``. Otherwise one OutputError naming them (the advice: choose another ``other``, or --force)."""
    paths = [Path(p) for p in paths]
    for p in paths:
        if p.is_dir() and not p.is_symlink():
            raise OutputError(f"{p} is a folder, where an output file goes: choose another {other}")
    there = [p for p in paths if os.path.lexists(p)]
    if there and not overwrite:
        one = len(there) == 1
        raise OutputError(f"{', '.join(map(str, there))} {'exists' if one else 'exist'}; choose another {other}, "
                          f"or pass --force to replace {'it' if one else 'them'}")
    return paths


def write_files(files: dict, overwrite: bool = True) -> list[Path]:
    """Write ``files`` (path -> bytes), checked first as a whole (``check_outputs``); each goes to a temporary file
    beside it, renamed into place once complete: a failure leaves neither half a file nor the temporary one.
    Returns the paths written; a file that cannot be written is an OutputError naming it."""
    paths = check_outputs(files, overwrite)
    for path, data in zip(paths, files.values(), strict=True):
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
            # (os.open, not mkstemp: the file gets the usual permissions, not mkstemp's owner-only ones)
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            tmp = None
        except OSError as exc:
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
    return paths
