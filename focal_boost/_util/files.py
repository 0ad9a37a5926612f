"""Output files: written atomically, and their paths checked before long work starts.

A file is written to a temporary file in its target folder and renamed into
place (``os.replace``, atomic on POSIX and Windows), so an interrupted or
failed write leaves either the complete new file or whatever was there
before, never a truncated file that still parses or a destroyed model.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import stat
import tempfile
from collections.abc import Callable


class OutputPathError(OSError):
    """An output path that cannot be written; the message names it and says why."""


def write_atomically(path: str | os.PathLike, write: Callable[[pathlib.Path], None]) -> pathlib.Path:
    """Call ``write(temporary_path)`` and move the result to ``path`` in one step.

    The temporary file lies in ``path``'s folder (created if missing), so the
    rename never crosses file systems. It gets the permissions of the file it
    replaces, or the ones a new file would get (the umask). On any failure,
    ``KeyboardInterrupt`` included, the temporary file is removed and
    ``path`` is left as it was.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temporary = pathlib.Path(name)
    try:
        write(temporary)
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return path


def _mode_for(path: pathlib.Path) -> int:
    """The permission bits ``path`` has, or those a new file would get under the current umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def check_writable(path: str | os.PathLike, what: str = "output") -> None:
    """Raise :class:`OutputPathError` unless a file can be written at ``path``.

    Checked by creating (and removing) a file in the folder that would hold
    it, or in its nearest existing ancestor when the folder does not exist
    yet: no guess from permission bits, which do not bind root or see
    read-only file systems.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: cannot write the {what}: it is a folder")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputPathError(f"{path}: cannot write the {what}: {folder} is not a folder")
    try:
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check", dir=folder)
    except OSError as error:
        raise OutputPathError(f"{path}: cannot write the {what}: {error.strerror or error}") from error
    os.close(handle)
    os.unlink(name)
