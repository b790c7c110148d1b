"""Reference vectors of the authors' networks that every checkout carries (``tests/data/authors_reference``).

The team's vectors (``../shared/reference``) hold the authors' weights (40 MB); these hold only what cannot be
regenerated: the output of the authors' own network (run from a checkout of their code, in float64) on a seeded
input, with every tensor of its state dict drawn by :func:`seeded_state_dict` from the key list of their network.
The key list (``<name>_state_dict.tsv``) is written from their code as well. Made by

    python -m tests.helpers.authors_reference --mrrnet-code CHECKOUT --sparnet-code CHECKOUT

with checkouts of github.com/SYLan2019/MRRNet and github.com/chaofengc/Face-SPARNet.
"""
import argparse
import math
import os
import sys
from os import path as osp

import torch

FOLDER = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'data', 'authors_reference')
SEED = 2022
# name: (checkout option, module, class, constructor arguments, description of the tsv header)
NETWORKS = {
    'mrrnet_g': ('mrrnet', 'models.MRRNet', 'MRRNet', {},
                 'MRRNet generator (min_ch=32, max_ch=128, res_depth=10, norm=in, att=mrr), input [-1,1] 128x128'),
    'mrrgan_d': ('mrrnet', 'models.blocks', 'Discriminator',
                 dict(conv_dim=32, norm_fun='none', act_fun='LeakyReLU', use_sn=True, adv_loss_type='rahinge'),
                 'MRRGAN patch discriminator (conv_dim=32, spectral norm), input [-1,1] 128x128, output 1x8x8'),
    'sparnet_g': ('sparnet', 'models.sparnet', 'SPARNet', {},
                  'SPARNet generator (res_depth=10, norm=bn, att=spar), input [-1,1] 128x128'),
    'sparnet_light_g': ('sparnet', 'models.sparnet', 'SPARNet', dict(res_depth=1, att_name='spar3d'),
                        'SPARNet-Light generator (res_depth=1, norm=bn, att=spar3d)'),
}
WITH_OUTPUT = ('mrrnet_g', 'mrrgan_d', 'sparnet_g')


def read_keys(path):
    """``{key: shape}`` of a key list (``key<TAB>(shape)`` rows after ``#`` comments)."""
    with open(path) as f:
        rows = [line.rstrip('\n').split('\t') for line in f if not line.startswith('#')]
    return {key: tuple(int(d) for d in shape.strip('()').split(',') if d.strip()) for key, shape in rows}


def seeded_state_dict(shapes, seed=SEED):
    """A state dict of ``{key: shape}`` drawn from a seeded generator (bit-identical on every machine): weights of
    variance 1 / fan-in, norms near identity, BatchNorm statistics non-trivial, spectral-norm ``u``/``v`` settled by
    power iteration on their weight."""
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in shapes.items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(3)
        elif key.endswith('running_var'):
            state[key] = 0.5 + torch.rand(shape, generator=generator)
        elif key.endswith(('running_mean', 'bias')) or (key.endswith('weight') and len(shape) == 1):
            base = 1.0 if key.endswith('weight') else 0.0
            state[key] = base + 0.1 * torch.randn(shape, generator=generator)
        elif key.endswith(('weight_u', 'weight_v')):
            continue
        else:
            fan_in = math.prod(shape[1:]) if len(shape) > 1 else 1
            state[key] = torch.randn(shape, generator=generator) / math.sqrt(fan_in)
    for key in [k for k in shapes if k.endswith('weight_u')]:
        matrix = state[key[:-len('weight_u')] + 'weight_orig'].flatten(1)
        v = torch.ones(matrix.shape[1]) / math.sqrt(matrix.shape[1])
        for _ in range(30):
            u = torch.nn.functional.normalize(matrix @ v, dim=0)
            v = torch.nn.functional.normalize(matrix.t() @ u, dim=0)
        state[key], state[key[:-1] + 'v'] = u, v
    return {key: state[key] for key in shapes}


def seeded_input(seed=SEED):
    """The authors' input convention: a 128x128 face-sized tensor in [-1, 1]."""
    return torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def load_committed(name):
    """``{'state_dict', 'input', 'output'}`` as ``../shared/reference/<name>_vectors.pth`` has them."""
    state = seeded_state_dict(read_keys(osp.join(FOLDER, f'{name}_state_dict.tsv')))
    output = torch.load(osp.join(FOLDER, f'{name}_output.pt'), weights_only=True)
    return {'state_dict': state, 'input': seeded_input(), 'output': output}


def _authors_class(folder, module, cls):
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(FOLDER)), os.pardir, 'scripts'))
    from authors_code import import_authors_module
    return getattr(import_authors_module(folder, module), cls)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--mrrnet-code', required=True, help='a checkout of github.com/SYLan2019/MRRNet')
    parser.add_argument('--sparnet-code', required=True, help='a checkout of github.com/chaofengc/Face-SPARNet')
    args = parser.parse_args(argv)
    os.makedirs(FOLDER, exist_ok=True)
    for name, (code, module, cls, kwargs, description) in NETWORKS.items():
        net = _authors_class(getattr(args, f'{code}_code'), module, cls)(**kwargs)
        state = net.state_dict()
        with open(osp.join(FOLDER, f'{name}_state_dict.tsv'), 'w') as f:
            f.write(f'# Reference {description}; from the authors\' code (tests/helpers/authors_reference.py)\n'
                    f'# parameters: {sum(p.numel() for p in net.parameters())}; state_dict entries: {len(state)}\n'
                    '# key\tshape\n')
            f.writelines(f'{key}\t{tuple(value.shape)}\n' for key, value in state.items())
        if name not in WITH_OUTPUT:
            continue
        net.load_state_dict(seeded_state_dict({key: tuple(value.shape) for key, value in state.items()}))
        with torch.no_grad():
            output = net.double().eval()(seeded_input().double()).float()
        torch.save(output.clone(), osp.join(FOLDER, f'{name}_output.pt'))
        print(f'{name}: output {tuple(output.shape)}, max |y| {output.abs().max():.4f}')


if __name__ == '__main__':
    main()
