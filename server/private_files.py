"""Files and folders only their owner may open, on every system, and where the data folder lives.

On Linux and macOS modes 0700/0600 do it. On Windows modes mean nothing (anyone with an account
on the PC can read a file in another person's profile if its ACL allows, and folders created
elsewhere, such as ``D:\\Sheaf``, inherit "Users: read"), so the folder, the secret key and the
instance file get an ACL that names their owner and SYSTEM only, with inheritance cut, through
Windows' own ``icacls``.

SQLite's WAL mode needs shared memory that network file systems do not provide: a data folder
on a share can be corrupted by two computers at once, so :func:`network_share` lets the start
warn.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

SYSTEM_SID = "S-1-5-18"
CREATE_NO_WINDOW = 0x08000000  # no console flashing up from the windowed app
NETWORK_FILE_SYSTEMS = {"nfs", "nfs4", "cifs", "smb3", "smbfs", "fuse.sshfs", "afpfs", "9p"}


def _system_tool(name: str) -> str:
    """A Windows tool by its full path: never one found first on a PATH someone changed."""
    return str(Path(os.environ.get("SYSTEMROOT", r"C:\Windows"), "System32", name))


@functools.cache
def _user_sid() -> str:
    """The signed-in account's SID, from Windows' ``whoami`` (no extra dependency)."""
    out = subprocess.run(  # noqa: S603 - fixed arguments, the system's own tool
        [_system_tool("whoami.exe"), "/user", "/fo", "csv", "/nh"],
        capture_output=True,
        text=True,
        check=True,
        creationflags=CREATE_NO_WINDOW,
    ).stdout
    return out.strip().rsplit(",", 1)[-1].strip('"')


def windows_acl_command(path: Path, user_sid: str, folder: bool) -> list[str]:
    """``icacls`` arguments that leave ``path`` to its owner and SYSTEM: inheritance removed,
    every other entry replaced; a folder's entries passed on to what is made in it."""
    rights = "(OI)(CI)F" if folder else "F"
    return [
        _system_tool("icacls.exe"),
        str(path),
        "/inheritance:r",
        "/grant:r",
        f"*{user_sid}:{rights}",
        f"*{SYSTEM_SID}:{rights}",
    ]


def make_private(path: Path, folder: bool = False) -> None:
    """Owner-only access to ``path`` (already created). Raises OSError when it cannot be set."""
    if sys.platform != "win32":
        os.chmod(path, 0o700 if folder else 0o600)
        return
    try:
        command = windows_acl_command(path, _user_sid(), folder)
        subprocess.run(  # noqa: S603 - fixed tool, our own path
            command, capture_output=True, check=True, creationflags=CREATE_NO_WINDOW
        )
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        raise OSError(f"cannot limit {path} to its owner: {exc}") from None


def network_share(path: Path) -> str | None:
    """What kind of network share ``path`` is on ("SMB share", "nfs"…), or None for a local
    disk (or when the system does not say)."""
    path = Path(path)
    if sys.platform == "win32":
        text = str(path)
        if text.startswith("\\\\"):
            return "network share"
        import ctypes

        drive = os.path.splitdrive(text)[0] + "\\"
        drive_remote = 4
        if ctypes.windll.kernel32.GetDriveTypeW(drive) == drive_remote:
            return "network drive"
        return None
    return _mounted_on_network(path, _mounts())


def _mounts() -> list[tuple[str, str]]:
    """(mount point, file system type) pairs, Linux's /proc/mounts; empty elsewhere."""
    try:
        lines = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3:
            found.append((parts[1].replace("\\040", " "), parts[2]))
    return found


def _mounted_on_network(path: Path, mounts: list[tuple[str, str]]) -> str | None:
    """The file system type of the deepest mount holding ``path``, if it is a network one."""
    resolved = str(path.resolve())
    best, kind = "", ""
    for point, fs_type in mounts:
        inside = resolved == point or resolved.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs_type
    return kind if kind in NETWORK_FILE_SYSTEMS else None
