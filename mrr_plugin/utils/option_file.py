"""The one reader of option files (YAML): plain data only, bounded, numbers as users write them.

Every entry point reads option files here (``train``/``test``, the benchmark's and restore's test-option specs,
the degradation scripts, the demo, ``--force_yml`` values):

- :class:`SafeOrderedLoader`: plain YAML (``!!float`` and the other standard tags; a ``!!python/...`` tag, which
  BasicSR's own loader would construct, i.e. run, is refused), mappings as OrderedDict like BasicSR's loader, and
  ``2e-4`` read as a number (YAML 1.1 reads it as text);
- bounded: a file larger than :data:`MAX_FILE_BYTES`, or whose aliases would expand it beyond
  :data:`MAX_EXPANDED_NODES` values (the "billion laughs" file: a few lines that every later walk over the options
  would visit billions of times), or an alias that contains itself, is refused before a value is constructed;
- every refusal is an :class:`OptionError` of one sentence naming the file (and line); values quoted in messages
  go through :func:`excerpt`, so a hostile value cannot flood the terminal.
"""
import re
from collections import OrderedDict
from os import path as osp

import yaml

MAX_FILE_BYTES = 1 << 20  # option files are a few KB; BasicSR's largest is under 10 KB
MAX_EXPANDED_NODES = 100_000  # values after alias expansion (our largest recipe: about 300)
EXCERPT_CHARS = 80


class OptionError(ValueError):
    """An option file (or ``--force_yml`` value) that cannot be used as written; the message says why."""


def excerpt(value, limit=EXCERPT_CHARS):
    """``repr(value)`` cut to about ``limit`` characters (with the full length), for messages quoting user values."""
    text = repr(value)
    return text if len(text) <= limit else f'{text[:limit]}... ({len(text)} characters)'


# YAML 1.2 reads these as numbers; PyYAML (YAML 1.1) reads them as text: 2e-4, 1e5, 1.0e5 (no dot or no sign)
EXPONENT_NUMBER = re.compile(r'^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$')


class SafeOrderedLoader(getattr(yaml, 'CSafeLoader', yaml.SafeLoader)):
    """Plain YAML only (``!!float`` and the other standard tags; no ``!!python/...``), mappings as OrderedDict
    like BasicSR's ``ordered_yaml`` loader, which would construct (and so run) any Python object a file names.

    A number written with an exponent but no dot (``lr: 2e-4``, as users write it) is read as the number, not as
    the string YAML 1.1 makes of it; each such value is listed in ``numeric_notes`` (line, text, number).
    """

    def __init__(self, stream):
        super().__init__(stream)
        self.numeric_notes = []

    def construct_exponent_number(self, node):
        value = float(node.value)
        self.numeric_notes.append((node.start_mark.line + 1, node.value, value))
        return value


SafeOrderedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                  lambda loader, node: OrderedDict(loader.construct_pairs(node)))
SafeOrderedLoader.add_implicit_resolver('!exponent_number', EXPONENT_NUMBER, list('-+0123456789.'))
SafeOrderedLoader.add_constructor('!exponent_number', SafeOrderedLoader.construct_exponent_number)


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return ()


def expanded_size(root, budget=MAX_EXPANDED_NODES):
    """Number of values the composed YAML ``root`` holds once its aliases are expanded (a node reached through
    several aliases counts each time), or None when that exceeds ``budget`` or an alias contains itself (a cycle).

    Iterative and memoised per node, so the count itself costs one visit of each distinct node."""
    sizes, on_path = {}, set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > budget:
                return None
            continue
        if key in sizes:
            continue
        if key in on_path:
            return None  # an anchor that contains an alias of itself
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def read_yaml(stream, source):
    """``(data, numeric notes)`` of YAML text or a file object read with :class:`SafeOrderedLoader`; OptionError
    naming ``source`` (and the line) for a syntax error, a tag that would construct a Python object, or aliases
    that expand beyond :data:`MAX_EXPANDED_NODES` values (checked on the composed document, before anything is
    constructed)."""
    loader = SafeOrderedLoader(stream)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, []
        if expanded_size(node) is None:
            raise OptionError(f'{source}: its aliases (*name) expand to more than {MAX_EXPANDED_NODES:,} values or '
                              'refer to themselves; option files are small plain data, so it is refused unread.')
        return loader.construct_document(node), loader.numeric_notes
    except yaml.YAMLError as error:
        mark = getattr(error, 'problem_mark', None)
        where = f' line {mark.line + 1}, column {mark.column + 1}' if mark is not None else ''
        problem = getattr(error, 'problem', None) or str(error)
        tag = re.search(r"tag '(?:tag:yaml\.org,2002:)?([^']+)'", problem)
        if isinstance(error, yaml.constructor.ConstructorError) and tag:
            raise OptionError(f'{source}{where}: the tag !!{excerpt(tag.group(1))[1:-1]} is not allowed: option '
                              'files are plain YAML, read with a safe loader; nothing from the file was run.') from None
        raise OptionError(f'{source}{where}: not valid YAML ({excerpt(problem)[1:-1]}).') from None
    finally:
        loader.dispose()


def load_option_file(opt_path, notes=None, what='option file'):
    """The options (a mapping) of a YAML file, read with :func:`read_yaml`; OptionError of one sentence naming the
    file for a missing or oversized file, a syntax error, a tag that would construct a Python object (nothing from
    the file is run), alias expansion beyond the budget, or a document that is not a mapping. With a ``notes`` list,
    one line per exponent number read as a number (YAML 1.1 would have read it as text) is appended to it."""
    if not osp.isfile(opt_path):
        raise OptionError(f'{what} {opt_path} does not exist.')
    size = osp.getsize(opt_path)
    if size > MAX_FILE_BYTES:
        raise OptionError(f'{what} {opt_path}: {size:,} bytes; option files are at most {MAX_FILE_BYTES:,} bytes.')
    try:
        with open(opt_path, mode='r', encoding='utf-8') as f:
            opt, numeric = read_yaml(f, f'{what} {opt_path}')
    except UnicodeDecodeError as error:
        raise OptionError(f'{what} {opt_path}: not UTF-8 text ({error.reason} at byte {error.start}).') from None
    if not isinstance(opt, dict):
        raise OptionError(f'{what} {opt_path}: expected a mapping of options, got {type(opt).__name__}.')
    if notes is not None:
        notes += [f'{opt_path} line {line}: {text} read as the number {value!r} (YAML 1.1 and BasicSR\'s own loader '
                  'read it as text).' for line, text, value in numeric]
    return opt


def parse_value(text, source='value'):
    """A command-line value (``key=value``, ``--force_yml``) as a YAML scalar or list (``8``, ``true``,
    ``[1, 3]``, ``2e-4``); never a tagged object."""
    return read_yaml(text.strip(), source)[0]


def parse_key_values(text, separator=','):
    """``"a=1,b=true"`` -> ``{'a': 1, 'b': True}`` (the options of a ``checkpoint.pth@ARCH:a=1,b=true`` spec); a list
    (``['a=1', 'b=[1, 3]']``, as argparse gives ``--set KEY=VALUE ...``) is taken as the pairs themselves."""
    pairs = {}
    for pair in filter(None, text if isinstance(text, (list, tuple)) else text.split(separator)):
        key, equals, value = pair.partition('=')
        if not equals or not key:
            raise OptionError(f'expected key=value, got {excerpt(pair)}.')
        pairs[key.strip()] = parse_value(value, f'{key.strip()}={excerpt(value)}')
    return pairs


def apply_force_yml(opt, entries):
    """Apply ``--force_yml key:sub=value`` entries (BasicSR's syntax) to ``opt`` in place. Each value is read by
    :func:`parse_value` (``none`` is None, as in BasicSR); BasicSR's own parser ``exec``-s the key path and
    ``eval``-s list values instead."""
    for entry in entries:
        keys, sep, value = entry.partition('=')
        path = [key.strip() for key in keys.split(':')]
        if not sep or not all(path):
            raise OptionError(f'--force_yml {excerpt(entry)}: expected key:subkey=value.')
        source = f'--force_yml {excerpt(entry)}'
        value = None if value.strip().lower() == 'none' else parse_value(value, source)
        section = opt
        for key in path[:-1]:
            if not isinstance(section.get(key), dict):
                section[key] = OrderedDict()
            section = section[key]
        section[path[-1]] = value
    return opt
