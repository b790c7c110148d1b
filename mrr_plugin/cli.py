"""The small command-line layer every command shares: one-line errors, ``key=value`` values, checked option files.

A command's ``main(argv)`` raises :class:`CommandError` (or OSError / ValueError / KeyError from the library) for bad
input; :func:`command` (a decorator of ``main``) prints it as one ``error:`` line and returns exit status 1, so
every command fails the same way.
"""
import functools
import sys

USER_ERRORS = (OSError, ValueError, KeyError)


class CommandError(ValueError):
    """Bad input to a command: its message is printed as one line and the command exits ``code``."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def command(main):
    """Decorate a command's ``main(argv=None)``: a user error becomes one ``error: ...`` line on stderr and the
    returned exit status (1, or the CommandError's code); the decorated function is the console script."""

    @functools.wraps(main)
    def checked_main(argv=None):
        try:
            return main(argv)
        except CommandError as error:
            print(f'error: {error}', file=sys.stderr)
            return error.code
        except USER_ERRORS as error:
            print(f'error: {error}', file=sys.stderr)
            return 1

    return checked_main


def run(main, argv=None):
    """``sys.exit`` with the status of the checked ``main(argv)``."""
    sys.exit(command(main)(argv))
