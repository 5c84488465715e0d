"""Checksummed, pickle-free files of plain data: a ``magic`` header, the
SHA-256 of the payload, then the payload (Flax's msgpack of dicts, lists,
scalars and NumPy arrays). Written atomically (a temporary file renamed into
place), so a torn write leaves no file; read back only if the header and
checksum match. Model checkpoints (:mod:`jaxlstm.checkpoint`) and a sweep's
stored member models (:mod:`jaxlstm.sweep`) are such files.

This module imports nothing from jaxlstm (the bottom layer).
"""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile

__all__ = ["write", "read"]


def write(path, tree: dict, magic: bytes) -> None:
    """Write ``tree`` to ``path`` behind ``magic`` and its checksum, atomically
    (through a temporary file of its own name in the same folder, removed if
    the write fails: a user's ``<path>.tmp`` is never touched).

    Raises:
      ValueError: ``path`` is a folder.
    """
    from flax import serialization

    path = os.fspath(path)
    if not path:
        raise ValueError("the path is empty; give a file path, e.g. model.jaxlstm")
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise ValueError(f"{path} is a folder; give a file path, e.g. {os.path.join(path, 'model.jaxlstm')}")
    path = os.path.realpath(path) if os.path.islink(path) else path  # a link's target is written, the link kept
    payload = serialization.msgpack_serialize(tree)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):  # mkstemp's error would name the temporary file
        raise FileNotFoundError(errno.ENOENT, f"no such folder to write {path} in", folder)
    # the name cut so that a file name near the system's 255-byte limit still has a temporary name
    # (64 bytes, not characters: 64 characters of 4 bytes each made the name too long again)
    short = os.path.basename(path).encode()[:64].decode(errors="ignore")
    fd, tmp = tempfile.mkstemp(prefix=f".{short}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(magic + hashlib.sha256(payload).digest() + payload)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp's 0600 would make a model file private to its writer: the mode of the file replaced, else
        # the umask's default (read now: a umask set after import counted not until 2026-12-08)
        os.chmod(tmp, os.stat(path).st_mode & 0o7777 if os.path.isfile(path) else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_umask() -> int:
    mask = os.umask(0o022)  # os.umask sets the whole process's: read so once, at import
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def _umask() -> int:
    """The process's umask now: Linux says so in /proc without setting it
    (thread-safe); elsewhere the one at import."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _UMASK


def read(path, magic: bytes | tuple[bytes, ...], what: str) -> dict:
    """The tree :func:`write` wrote to ``path``; ``magic``: its header, or the
    headers of every format this version reads (newest first).

    Raises:
      ValueError: the file cannot be read, lacks ``magic`` (one of a newer
        format than this version reads is named so), fails its checksum
        (truncated or altered) or holds no table; the message names ``path``
        and ``what`` the file should be (``"checkpoint"``).
    """
    from flax import serialization

    if os.path.isdir(path):  # a sweep's run folder given for its model, most likely
        inside = sorted(f for f in os.listdir(path) if f.endswith(".jaxlstm"))
        raise ValueError(f"{path} is a folder, not a {what}"
                         + (f"; it holds {os.path.join(path, inside[0])}" if inside else ""))
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise ValueError(f"cannot read {what} {path}: {e}") from None
    magics = (magic,) if isinstance(magic, bytes) else tuple(magic)
    magic = next((m for m in magics if blob.startswith(m)), None)
    if magic is None:
        head, newest = blob[: len(magics[0])], magics[0]
        if head[:-1] == newest[:-1] and head[-1:].isdigit() and newest[-1:].isdigit() and head[-1] > newest[-1]:
            raise ValueError(f"{path} is a jaxlstm {what} of format {chr(head[-1])}, newer than this jaxlstm reads "
                             f"(up to {chr(newest[-1])}): upgrade jaxlstm to read it")
        raise ValueError(f"{path} is not a jaxlstm {what} (bad header)")
    digest, payload = blob[len(magic) : len(magic) + 32], blob[len(magic) + 32 :]
    if len(digest) != 32 or hashlib.sha256(payload).digest() != digest:
        raise ValueError(f"{path} is truncated or corrupted (checksum mismatch)")
    try:
        tree = serialization.msgpack_restore(payload)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{path}: {what} is missing or has malformed fields ({e!r})") from None
    if not isinstance(tree, dict):
        raise ValueError(f"{path}: {what} is missing or has malformed fields (not a table)")
    return tree
