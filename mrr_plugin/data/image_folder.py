"""The one scanner of face folders: which entries are image files that can be read, checked before anything runs.

A folder may hold more than images: links that go nowhere or in circles, FIFOs, sockets or device files named like
images (opening a FIFO blocks forever), folders called ``x.png``. :func:`scan_images` looks at every entry whose
name has an image extension with ``stat`` only (no entry is opened): a symbolic link is followed to its target (the
kernel's ELOOP detects loops), and only regular files are images; everything else is listed with its reason, so the
data checks, the LMDB builder and the commands report it as one line before a face is read.
"""
import errno
import os
import stat
from dataclasses import dataclass, field
from os import path as osp

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')


class ImageFolderError(ValueError):
    """A folder of images that cannot be used as given; the message names the folder and the entries."""


@dataclass
class FolderScan:
    """``names``: sorted image file names (regular files, links resolved); ``bad``: {name: reason} of the entries
    named like images that are not readable regular files."""
    names: list = field(default_factory=list)
    bad: dict = field(default_factory=dict)


def entry_problem(path):
    """None when ``path`` is (or links to) a regular file; else why not, as a few words."""
    try:
        mode = os.stat(path).st_mode  # follows symbolic links
    except OSError as error:
        if error.errno == errno.ELOOP:
            return 'a symbolic link loop'
        if error.errno == errno.ENOENT and osp.islink(path):
            return f'a symbolic link to {os.readlink(path)}, which does not exist'
        return f'cannot be read ({error.strerror})'
    if stat.S_ISREG(mode):
        return None
    kind = ('a folder' if stat.S_ISDIR(mode) else 'a FIFO' if stat.S_ISFIFO(mode) else 'a socket'
            if stat.S_ISSOCK(mode) else 'a device file' if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            'a special file')
    return f'{kind}, not a regular file'


def scan_images(folder):
    """:class:`FolderScan` of the entries directly inside ``folder`` whose names end with an image extension;
    ImageFolderError when ``folder`` is not a readable folder."""
    if not osp.isdir(folder):
        raise ImageFolderError(f'{folder} is not a folder.')
    try:
        entries = sorted(os.listdir(folder))
    except OSError as error:
        raise ImageFolderError(f'{folder}: cannot be listed ({error.strerror}).') from None
    scan = FolderScan()
    for name in entries:
        if not name.lower().endswith(IMAGE_EXTENSIONS):
            continue
        problem = entry_problem(osp.join(folder, name))
        if problem is None:
            scan.names.append(name)
        else:
            scan.bad[name] = f'{name}: {problem}'
    return scan


def listed(items, limit=5):
    """``'a, b, c and 4 more'`` of sorted ``items``."""
    items = sorted(items)
    return ', '.join(items[:limit]) + (f' and {len(items) - limit} more' if len(items) > limit else '')


def list_images(folder):
    """Sorted image file names (not paths) directly inside ``folder``; ImageFolderError naming the folder and its
    entries that are named like images but are not readable regular files (see :func:`scan_images`)."""
    scan = scan_images(folder)
    if scan.bad:
        raise ImageFolderError(f'{folder}: {len(scan.bad)} entr{"y is" if len(scan.bad) == 1 else "ies are"} named '
                               f'like images but not readable files: {listed(scan.bad.values())}.')
    return scan.names
