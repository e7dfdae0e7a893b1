"""Keep generated secrets (the session key, the credentials key) in files of the instance folder.

Why one helper: every process of an installation (web workers, RQ workers, the clock) reads the
same secret, and on a fresh instance several start at the same moment. The file is written
whole under a temporary name and then hard-linked into place, which fails if it already exists,
so a reader never sees a half-written file and two processes racing both end up with the key
that won (never one each, never a crash).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable


class SecretFileError(RuntimeError):
    """A secret file exists but cannot be used; the message names it and says what to do."""


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """Return the secret stored in `path`, creating it with `make()` if no process has yet."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    _write_new(temporary, make())
    try:
        os.link(temporary, path)  # atomic, and refuses to replace: the first process's key wins
    except FileExistsError:
        pass
    except OSError as exc:  # e.g. a file system without hard links
        raise SecretFileError(f"cannot create {path} ({exc}); set the secret in the environment instead") from None
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _write_new(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _read(path: Path) -> str:
    value = path.read_text().strip()
    if not value:
        raise SecretFileError(f"{path} is empty (an interrupted first start?); delete it and start again "
                              "to generate a new one")
    return value
