"""Windows' file rules on Linux, for tests: ``SHEAF_WINDOWS_RULES=1``.

On Windows a file that any process holds open (a SQLite connection, a download being streamed,
a helper's log) cannot be deleted or renamed (WinError 32), a folder cannot be removed while a
process works in it or holds a file in it, and ``os.rename`` onto an existing file fails
(WinError 183). Linux allows all of these, so code that is wrong on Windows passes here. With
this module loaded, ``os.remove``, ``os.unlink``, ``os.rmdir``, ``os.rename`` and ``os.replace``
(and so pathlib and shutil, which go through them) look for the path among the open files and
mappings of this user's processes (``/proc/*/fd``, ``/proc/*/maps``) and raise what Windows
would raise.

And helpers as on Windows: a child is not killed with its parent (``PR_SET_PDEATHSIG`` is made
a no-op) and ``os.getppid()`` keeps the parent's id after the parent has died (Windows records
it once; Linux reparents the orphan), so only a check that works on every system notices.

It is a ``sitecustomize`` so that it reaches every Python the tests start: tests/conftest.py
puts this folder first on ``PYTHONPATH`` when the variable is set, and spawned helpers and
server subprocesses load it at start-up. Nothing under ``server/`` or ``desktop/`` knows of it.
"""

from __future__ import annotations

import os
import sys

ENV = "SHEAF_WINDOWS_RULES"
IN_USE = "The process cannot access the file because it is being used by another process"
EXISTS = "Cannot create a file when that file already exists"

_original = {name: getattr(os, name) for name in ("remove", "unlink", "rmdir", "rename", "replace")}


def _full(path: object, dir_fd: int | None) -> str | None:
    """The absolute, resolved path ``path`` names (None for a descriptor)."""
    if isinstance(path, int):
        return None
    path = os.fsdecode(os.fspath(path))
    if dir_fd is not None and not os.path.isabs(path):
        path = os.path.join(os.readlink(f"/proc/self/fd/{dir_fd}"), path)
    return os.path.realpath(os.path.abspath(path))


def _mapped(pid_dir: str, needle: str) -> list[str]:
    """The files a process has mapped whose names hold ``needle`` (one text search first: most
    processes map nothing of the test's folders)."""
    try:
        with open(f"{pid_dir}/maps", encoding="utf-8", errors="replace") as maps:
            text = maps.read()
    except OSError:
        return []
    if needle not in text:
        return []
    return [p[5] for line in text.splitlines() if len(p := line.split(None, 5)) == 6]


def holder(path: str, tree: bool = False) -> int | None:
    """The id of a process of this user that holds ``path`` open or mapped (with ``tree``: or
    any file under it, or has it as working folder); None when none does."""
    uid = os.getuid()
    inside = path.rstrip("/") + "/"

    def matches(link: str) -> bool:
        link = link.removesuffix("\n")
        return link == path or (tree and link.startswith(inside))

    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid_dir = f"/proc/{name}"
        try:
            if os.stat(pid_dir).st_uid != uid:
                continue
            fds = os.listdir(f"{pid_dir}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if matches(os.readlink(f"{pid_dir}/fd/{fd}")):
                    return int(name)
            except OSError:
                continue
        if tree:
            try:
                if matches(os.readlink(f"{pid_dir}/cwd")):
                    return int(name)
            except OSError:
                pass
        if any(matches(mapped) for mapped in _mapped(pid_dir, path)):
            return int(name)
    return None


def _posix_only(path: str) -> bool:
    """What the standard library does only on POSIX (Windows takes another way there): POSIX
    shared memory, and ``tempfile.TemporaryFile``'s unlink of the file it has just opened."""
    if path.startswith("/dev/shm/"):  # noqa: S108 (a prefix compared, nothing made there)
        return True
    frame = sys._getframe(3)  # _refuse_if_held <- wrapper <- the caller
    return frame.f_code.co_name == "TemporaryFile" and frame.f_globals.get("__name__") == "tempfile"


def _refuse_if_held(path: str | None, call: str) -> None:
    if path is None or not os.path.lexists(path) or _posix_only(path):
        return
    pid = holder(path, tree=os.path.isdir(path) and not os.path.islink(path))
    if pid is not None:
        error = PermissionError(13, f"{IN_USE} (process {pid}, os.{call})", path)
        error.winerror = 32  # type: ignore[attr-defined]
        raise error


def _removal(name: str):
    original = _original[name]

    def wrapper(path, *, dir_fd=None):
        _refuse_if_held(_full(path, dir_fd), name)
        return original(path, dir_fd=dir_fd)

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _move(name: str):
    original = _original[name]

    def wrapper(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
        source, target = _full(src, src_dir_fd), _full(dst, dst_dir_fd)
        if name == "rename" and target is not None and os.path.lexists(target):
            error = FileExistsError(17, EXISTS, target)
            error.winerror = 183  # type: ignore[attr-defined]
            raise error
        _refuse_if_held(source, name)
        _refuse_if_held(target, name)
        return original(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)

    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


def _helpers_as_on_windows() -> None:
    """No death signal with the parent, and a parent id that does not change when it dies."""
    parent = os.getppid()
    os.getppid = lambda: parent

    import ctypes

    class CDLL(ctypes.CDLL):
        def __getattr__(self, name: str):
            function = super().__getattr__(name)
            if name != "prctl":
                return function

            def prctl(option, *args):  # PR_SET_PDEATHSIG (1) does nothing on Windows
                return 0 if option == 1 else function(option, *args)

            return prctl

    ctypes.CDLL = CDLL


def install() -> bool:
    """Switch the rules on in this process (once); True when they are on."""
    if not sys.platform.startswith("linux"):
        return False
    if getattr(os, "_sheaf_windows_rules", False):
        return True
    supported = os.supports_dir_fd
    for name in ("remove", "unlink", "rmdir"):
        wrapper = _removal(name)
        if _original[name] in supported:
            supported.add(wrapper)
        setattr(os, name, wrapper)
    for name in ("rename", "replace"):
        wrapper = _move(name)
        if _original[name] in supported:
            supported.add(wrapper)
        setattr(os, name, wrapper)
    _helpers_as_on_windows()
    os._sheaf_windows_rules = True  # type: ignore[attr-defined]
    return True


if os.environ.get(ENV) == "1":
    install()
