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
    if os.path.isdir(path) or path.endswith(("/", os.sep)):
        raise ValueError(f"{path} is a folder; give a file path, e.g. {os.path.join(path, 'model.jaxlstm')}")
    payload = serialization.msgpack_serialize(tree)
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):  # mkstemp's error would name the temporary file
        raise FileNotFoundError(errno.ENOENT, f"no such folder to write {path} in", folder)
    # the name cut so that a file name near the system's 255-byte limit still has a temporary name
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)[:64]}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(magic + hashlib.sha256(payload).digest() + payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp's 0600 would make a model file private to its writer
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _read_umask() -> int:
    mask = os.umask(0o022)  # read once, at import: os.umask sets the whole process's
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def read(path, magic: bytes, what: str) -> dict:
    """The tree :func:`write` wrote to ``path``.

    Raises:
      ValueError: the file cannot be read, lacks ``magic``, fails its
        checksum (truncated or altered) or holds no table; the message names
        ``path`` and ``what`` the file should be (``"checkpoint"``).
    """
    from flax import serialization

    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as e:
        raise ValueError(f"cannot read {what} {path}: {e}") from None
    if not blob.startswith(magic):
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
