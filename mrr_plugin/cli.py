"""The small command-line layer every command shares: one-line errors, ``key=value`` values, checked option files.

A command's ``main(argv)`` raises :class:`CommandError` (or OSError / ValueError / KeyError from the library) for bad
input; :func:`command` (a decorator of ``main``) prints it as one ``error:`` line and returns exit status 1, so
every command fails the same way.
"""
import functools
import sys
from os import path as osp

import yaml

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


def parse_value(text):
    """A ``key=value`` value as a YAML scalar or list (``8``, ``true``, ``[1, 3]``); never a tagged object."""
    return yaml.safe_load(text)


def parse_key_values(text, separator=','):
    """``"a=1,b=true"`` -> ``{'a': 1, 'b': True}``."""
    pairs = {}
    for pair in filter(None, text.split(separator)):
        key, equals, value = pair.partition('=')
        if not equals or not key:
            raise CommandError(f'expected key=value, got {pair!r}.')
        pairs[key.strip()] = parse_value(value)
    return pairs


def load_options(path, what='option file'):
    """An option YAML as a dict, read with the safe loader (no ``!!python`` tags); one sentence when it is missing or
    not a mapping."""
    if not osp.isfile(path):
        raise CommandError(f'{what} {path} does not exist.')
    with open(path) as f:
        try:
            options = yaml.safe_load(f)
        except yaml.YAMLError as error:
            raise CommandError(f'{what} {path} is not valid YAML ({str(error).splitlines()[0]}).') from error
    if not isinstance(options, dict):
        raise CommandError(f'{what} {path} does not hold a mapping of options.')
    return options
