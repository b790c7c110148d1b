"""The small command-line layer every command shares: one-line errors, ``key=value`` values, checked option files.

A command's ``main(argv)`` raises :class:`CommandError` (or OSError / ValueError / KeyError from the library) for bad
input; :func:`command` (a decorator of ``main``) prints it as one ``error:`` line and returns exit status 1, so
every command fails the same way.
"""
import functools
import sys

from mrr_plugin.utils.option_file import load_option_file, parse_value

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


def parse_key_values(text, separator=','):
    """``"a=1,b=true"`` -> ``{'a': 1, 'b': True}``."""
    pairs = {}
    for pair in filter(None, text.split(separator)):
        key, equals, value = pair.partition('=')
        if not equals or not key:
            raise CommandError(f'expected key=value, got {pair!r}.')
        pairs[key.strip()] = parse_value(value, f'{key.strip()}={value}')
    return pairs


def load_options(path, what='option file'):
    """An option YAML as a dict through the one option-file reader
    (:func:`~mrr_plugin.utils.option_file.load_option_file`: safe loader, bounded, one sentence on any problem)."""
    return load_option_file(path, what=what)
