"""The one opener of LMDB environments: the file is validated against LMDB's own header before it is mapped.

LMDB maps ``data.mdb`` into memory; reading a page beyond the end of a file that was cut short (an interrupted copy)
kills the process with SIGBUS, before Python can say a word. :func:`lmdb_file_problem` reads the two meta pages at
the start of the file (LMDB's on-disk format, ``mdb.c``: page header, then ``MDB_meta``: magic ``0xBEEFC0DE``,
data version 1, two ``MDB_db`` records whose first holds the page size, the last page number and the transaction
id) and requires the file to hold every page the newest valid meta page says is in use. :func:`open_lmdb` refuses
such a file with one sentence naming it, and shares one environment per (process, path) among its readers.
"""
import contextlib
import os
import struct
from os import path as osp

MDB_MAGIC = 0xBEEFC0DE
MDB_DATA_VERSION = 1
_PAGE_HEADER = 16  # mp_pgno (8), mp_pad (2), mp_flags (2), mp_lower (2), mp_upper (2) on 64-bit builds
_META = struct.Struct('<II8xQ48s48sQQ')  # magic, version, address, mapsize, dbs[FREE_DBI], dbs[MAIN_DBI], last, txnid
_P_META = 0x08


class DamagedLmdbError(ValueError):
    """An LMDB whose files are missing, cut short or not LMDB; nothing of it was mapped."""


def _meta(data, offset):
    """``(page size, last page number, txnid)`` of the meta page at ``offset`` of ``data``, or None if invalid."""
    if len(data) < offset + _PAGE_HEADER + _META.size:
        return None
    flags = struct.unpack_from('<H', data, offset + 10)[0]
    magic, version, _, free_db, _, last_page, txnid = _META.unpack_from(data, offset + _PAGE_HEADER)
    if magic != MDB_MAGIC or version != MDB_DATA_VERSION or not flags & _P_META:
        return None
    page_size = struct.unpack_from('<I', free_db, 0)[0]  # md_pad of FREE_DBI holds the page size
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        return None
    return page_size, last_page, txnid


def lmdb_file_problem(root):
    """None when ``root/data.mdb`` is an LMDB data file that holds every page its header says is in use; else one
    sentence naming the file and what is wrong (read with plain file reads, never mapped)."""
    data_file = osp.join(root, 'data.mdb')
    if not osp.isdir(root) or not osp.isfile(data_file):
        return f'{root} is not an LMDB folder (no data.mdb inside); build it with scripts/create_face_lmdb.py.'
    size = osp.getsize(data_file)
    with open(data_file, 'rb') as f:
        head = f.read(_PAGE_HEADER + _META.size)
        first = _meta(head, 0)
        metas = [first]
        if first is not None:
            f.seek(first[0])
            metas.append(_meta(f.read(_PAGE_HEADER + _META.size), 0))
    metas = [m for m in metas if m is not None]
    if not metas:
        return f'{data_file} is not an LMDB data file (no valid LMDB meta page at its start; {size:,} bytes).'
    page_size, last_page, _ = max(metas, key=lambda m: m[2])
    needed = (last_page + 1) * page_size
    if size < needed:
        return (f'{data_file} is cut short: {size:,} bytes, but its LMDB header says {needed:,} bytes ({last_page + 1} '
                f'pages of {page_size}) are in use (an interrupted copy?); copy or build it again.')
    return None


_LMDB_ENVS = {}


def open_lmdb(path, readonly=True, lock=False, readahead=False, **kwargs):
    """Open an LMDB environment read-only after :func:`lmdb_file_problem` found nothing wrong (DamagedLmdbError
    otherwise; checked at every call), sharing it with every other reader of the same path in this process.

    lmdb >= 2.0 raises "The environment ... is already open in this process" when a path is opened twice, which
    basicsr 1.4.2 does whenever train and val datasets (or two tests) read one LMDB. The key includes the process
    id, so dataloader workers forked after the parent opened an environment open their own.
    """
    key = (os.getpid(), osp.realpath(path))
    if key not in _LMDB_ENVS:
        _LMDB_ENVS[key] = _checked_open(path, readonly=readonly, lock=lock, readahead=readahead, **kwargs)
    else:
        _raise_problem(path)  # every time: two small reads, and a file replaced since is caught
    return _LMDB_ENVS[key]


def _raise_problem(path):
    problem = lmdb_file_problem(path)
    if problem is not None:
        missing = not osp.isfile(osp.join(path, 'data.mdb'))
        raise (FileNotFoundError if missing else DamagedLmdbError)(problem)


def _checked_open(path, **kwargs):
    """``lmdb.open(path, **kwargs)`` after :func:`lmdb_file_problem` found nothing; every failure one sentence."""
    import lmdb
    _raise_problem(path)
    try:
        return lmdb.open(path, **kwargs)
    except lmdb.Error as error:
        raise DamagedLmdbError(f'{path}: cannot be opened as an LMDB ({error}).') from None


@contextlib.contextmanager
def lmdb_environment(path):
    """A validated read-only environment of ``path`` for one look (the data checks): the shared one if this process
    has it open, else one opened here and closed afterwards, so that processes forked later (DataLoader workers)
    do not inherit an open environment, which lmdb >= 2 would refuse to open again in them."""
    if (os.getpid(), osp.realpath(path)) in _LMDB_ENVS:
        yield open_lmdb(path)
        return
    env = _checked_open(path, readonly=True, lock=False, readahead=False)
    try:
        yield env
    finally:
        env.close()
