"""Run a command and SIGKILL it at an exact point: the ``nth`` audit event ``event`` whose arguments mention
``match`` at their end (e.g. the ``os.rename`` that moves a finished LMDB or checkpoint into place), before the
call happens.

    python tests/helpers/kill_at.py EVENT MATCH NTH -m module args...
    python tests/helpers/kill_at.py EVENT MATCH NTH script.py args...

A real SIGKILL of the real process (no cleanup runs), placed where a timer would almost never land.
"""
import os
import runpy
import signal
import sys


def main():
    event, match, nth, *command = sys.argv[1:]
    seen = [0]

    def hook(name, args):
        if name == event and any(str(a).endswith(match) for a in args):
            seen[0] += 1
            if seen[0] == int(nth):
                os.kill(os.getpid(), signal.SIGKILL)

    sys.addaudithook(hook)
    if command[0] == '-m':
        sys.argv = [command[1], *command[2:]]
        runpy.run_module(command[1], run_name='__main__', alter_sys=True)
    else:
        sys.argv = command
        runpy.run_path(command[0], run_name='__main__')


if __name__ == '__main__':
    main()
