"""Runs own their folders: a lock per experiment, results or benchmark folder, taken before anything is archived.

BasicSR archives an existing ``experiments/<name>`` (renames it ``<name>_archived_<time>``) when a new run of the
same name starts; a run still writing there then puts its later checkpoints into the new run's folder. A
:class:`FolderLock` is held by the run that uses a folder, from before the folder is created or archived until the
process ends:

- the lock is ``.<name>.lock`` beside the folder (never inside it, so archiving cannot move it), taken with the
  ``filelock`` package: an OS lock (``fcntl`` on POSIX, ``msvcrt`` on Windows) that the system releases when the
  process dies, even by SIGKILL; where neither exists, a lock file whose owner is checked by pid (below);
- ``.<name>.lock.owner`` says who holds it (pid, host, start time, command), written atomically, so a refused run
  can name the running process in its one line;
- an owner file left by a process that no longer runs (a crash, SIGKILL) is stale: the next run takes the folder
  over and says so in one ``note:`` line.
"""
import atexit
import json
import os
import socket
import sys
import time
import warnings
from os import path as osp

with warnings.catch_warnings():  # without fcntl filelock warns that it falls back to a lock file; handled here
    warnings.simplefilter('ignore', UserWarning)
    import filelock


def file_lock(path, timeout=-1):
    """``filelock.FileLock`` of ``path``: the OS lock where there is one, else a lock file (this module's import
    keeps filelock's warning about that fallback quiet)."""
    return filelock.FileLock(path, timeout=timeout)


class FolderInUse(ValueError):
    """Another live process holds the folder; the message names it."""


def _alive(pid):
    """Whether process ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # Windows: os.kill(pid, 0) is not a probe; assume the owner lives
        return True
    return True


def _describe(owner):
    started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(owner.get('started', 0)))
    return f'process {owner.get("pid")} on {owner.get("host")} (started {started}: {owner.get("command", "?")[:120]})'


class FolderLock:
    """Exclusive use of ``folder`` by this process (``what`` names the folder in messages, e.g. ``experiment``)."""

    def __init__(self, folder, what='folder'):
        self.folder = osp.abspath(folder).rstrip(os.sep)
        self.what = what
        parent, base = osp.split(self.folder)
        self.lock_path = osp.join(parent, f'.{base}.lock')
        self.owner_path = f'{self.lock_path}.owner'
        self.note = None  # set when a stale owner was taken over
        self._lock = None

    def owner(self):
        """The recorded owner ({pid, host, started, command}) or None."""
        try:
            with open(self.owner_path) as f:
                owner = json.load(f)
            return owner if isinstance(owner, dict) else None
        except (OSError, ValueError):
            return None

    def _stale(self, owner):
        return owner is not None and owner.get('host') == socket.gethostname() and \
            isinstance(owner.get('pid'), int) and owner['pid'] != os.getpid() and not _alive(owner['pid'])

    def acquire(self):
        """Take the folder, or raise :class:`FolderInUse` naming the process that holds it. Returns ``self``."""
        os.makedirs(osp.dirname(self.lock_path), exist_ok=True)
        lock = file_lock(self.lock_path, timeout=0)
        try:
            lock.acquire()
        except filelock.Timeout:
            owner = self.owner()
            if not (isinstance(lock, filelock.SoftFileLock) and self._stale(owner)):
                holder = _describe(owner) if owner else 'another process'
                raise FolderInUse(f'{self.what} {self.folder} is in use by {holder}; wait for it to end, stop it, or '
                                  'give this run another name.') from None
            os.remove(self.lock_path)  # a lock file without an OS lock, left by a process that is gone
            lock.acquire()
        previous = self.owner()
        if self._stale(previous):
            self.note = (f'{self.what} {self.folder} was held by {_describe(previous)}, which is no longer running; '
                         'taken over.')
        self._lock = lock
        owner = {'pid': os.getpid(), 'host': socket.gethostname(), 'started': time.time(),
                 'command': ' '.join(sys.argv)}
        tmp = f'{self.owner_path}.tmp{os.getpid()}'
        with open(tmp, 'w') as f:
            json.dump(owner, f)
        os.replace(tmp, self.owner_path)
        atexit.register(self.release)
        return self

    def release(self):
        """Give the folder up (also run at exit; the OS releases the lock of a killed process itself)."""
        if self._lock is None:
            return
        owner = self.owner()
        if owner is not None and owner.get('pid') == os.getpid():
            try:
                os.remove(self.owner_path)
            except OSError:
                pass
        self._lock.release()
        self._lock = None

    def __enter__(self):
        return self if self._lock is not None else self.acquire()

    def __exit__(self, *exc):
        self.release()
