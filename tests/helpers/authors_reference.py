"""Reference vectors of the authors' networks that every checkout carries (``tests/data/authors_reference``).

The team's vectors (``../shared/reference``) hold the authors' weights (40 MB); these hold only what cannot be
regenerated: the output of the authors' own network (run from a checkout of their code, in float64) on a seeded
input, with every tensor of its state dict drawn by :func:`seeded_state_dict` from the key list of their network.
The key list (``<name>_state_dict.tsv``) is written from their code as well. Made by

    python -m tests.helpers.authors_reference --mrrnet-code CHECKOUT --sparnet-code CHECKOUT \
        --wfen-code CHECKOUT --sfmnet-code CHECKOUT --dic-code CHECKOUT

with checkouts of github.com/SYLan2019/MRRNet, chaofengc/Face-SPARNet, PRIS-CV/WFEN, wcy-cs/SFMNet and
Maclory/Deep-Iterative-Collaboration (each option may be left out; only those networks are written again).

MRRNet's and SPARNet's vectors hold their network's own input (128x128 in [-1, 1]); WFEN's, SFMNet's and DIC's
hold a seeded 16x16 LR face in [0, 1] (on the 8-bit grid) and the SR face in [0, 1] their network gives for it
with their input convention (:func:`authors_code.authors_input` on :func:`pil_upsample`: ``PIL.Image.resize``
itself, as their datasets upsample, then float64), so the test covers our whole forward, our PIL-exact upsampling
included, and also SFMNet's frequency-branch face and DIC's last heatmaps.
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
# name: the network in scripts/authors_code.py (their class and defaults); these take the LR face
LR_NETWORKS = {'wfen_g': 'WFEN', 'sfmnet_g': 'SFMNet', 'dic_g': 'DIC'}


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
        elif key.endswith('haar_weights'):  # WFEN's fixed filter bank: the Haar filters, not drawn
            from mrr_plugin.archs.wfen_arch import HAAR_FILTERS
            state[key] = HAAR_FILTERS.repeat(shape[0] // 4, 1, 1).unsqueeze(1)
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


def seeded_lr(seed=SEED, batch=1):
    """A seeded 16x16 LR face-sized input in [0, 1] on the 8-bit grid (what an LR PNG gives)."""
    return torch.randint(0, 256, (batch, 3, 16, 16), generator=torch.Generator().manual_seed(seed)).float() / 255


def pil_upsample(lr, scale=8):
    """What the authors' datasets feed their networks: each LR face (N, 3, h, w) in [0, 1] on the 8-bit grid as an
    8-bit PIL image, ``Image.resize(BICUBIC)`` by ``scale``, back in [0, 1] (float64)."""
    import numpy as np
    from PIL import Image
    faces = (lr.detach().double().clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    size = (lr.shape[-1] * scale, lr.shape[-2] * scale)
    up = np.stack([np.asarray(Image.fromarray(face).resize(size, Image.BICUBIC)) for face in faces])
    return torch.from_numpy(up).permute(0, 3, 1, 2).double().div(255).to(lr.device)


def load_committed(name):
    """``{'state_dict', 'input', 'output'}`` as ``../shared/reference/<name>_vectors.pth`` has them; for the LR
    networks also ``'outputs'`` (every output written, in our [0, 1] convention)."""
    state = seeded_state_dict(read_keys(osp.join(FOLDER, f'{name}_state_dict.tsv')))
    output = torch.load(osp.join(FOLDER, f'{name}_output.pt'), weights_only=True)
    if name in LR_NETWORKS:
        return {'state_dict': state, 'input': seeded_lr(), 'output': output['sr'], 'outputs': output}
    if name == 'dicgan_d':
        return {'state_dict': state, 'input': seeded_face(), 'output': output['score']}
    return {'state_dict': state, 'input': seeded_input(), 'output': output}


def authors_code_module():
    """``scripts/authors_code.py`` (it is not part of the package)."""
    scripts = osp.join(osp.dirname(osp.dirname(FOLDER)), os.pardir, 'scripts')
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import authors_code
    return authors_code


def _authors_class(folder, module, cls):
    return getattr(authors_code_module().import_authors_module(folder, module), cls)


def write_key_list(name, net, description):
    state = net.state_dict()
    with open(osp.join(FOLDER, f'{name}_state_dict.tsv'), 'w') as f:
        f.write(f'# Reference {description}; from the authors\' code (tests/helpers/authors_reference.py)\n'
                f'# parameters: {sum(p.numel() for p in net.parameters())}; state_dict entries: {len(state)}\n'
                '# key\tshape\n')
        f.writelines(f'{key}\t{tuple(value.shape)}\n' for key, value in state.items())


def seeded_face(seed=SEED):
    """A seeded 128x128 face-sized input in [0, 1] (a discriminator's input)."""
    return torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(seed))


def write_dicgan_discriminator(folder):
    """Key list and float64 score of DICGAN's Light CNN discriminator (their ``LightCNN_9Layers``) on seeded weights
    and :func:`seeded_face` minus their RGB mean (their faces' convention)."""
    authors_code = authors_code_module()
    net = getattr(authors_code.import_authors_module(folder, 'networks.modules.light_cnn'), 'LightCNN_9Layers')()
    write_key_list('dicgan_d', net, "DICGAN's Light CNN discriminator (LightCNN_9Layers), input: faces minus "
                   "DIC's mean")
    net.load_state_dict(seeded_state_dict({key: tuple(value.shape) for key, value in net.state_dict().items()}))
    mean = torch.tensor(authors_code.DIC_RGB_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    with torch.no_grad():
        score = net.double().eval()(seeded_face().double() - mean)
    torch.save({'score': score.float().clone()}, osp.join(FOLDER, 'dicgan_d_output.pt'))
    print(f'dicgan_d: score {tuple(score.shape)}')


def write_lr_network(name, arch, folder):
    """Key list and float64 outputs of the authors' ``arch`` on seeded weights and :func:`seeded_lr`."""
    authors_code = authors_code_module()
    net = authors_code.authors_network(arch, folder)
    write_key_list(name, net, f'{arch} generator with the authors\' defaults, input: their convention')
    net.load_state_dict(seeded_state_dict({key: tuple(value.shape) for key, value in net.state_dict().items()}))
    their_input = authors_code.authors_input(arch, seeded_lr().double(), pil_upsample)
    with torch.no_grad():
        outputs = authors_code.authors_outputs(arch, net.double().eval(), their_input)
    kept = {'sr': outputs['sr']}
    if 'fre' in outputs:
        kept['fre'] = outputs['fre']
    if 'heatmaps' in outputs:
        kept['heatmap'] = outputs['heatmaps'][-1]
    torch.save({key: value.float().clone() for key, value in kept.items()}, osp.join(FOLDER, f'{name}_output.pt'))
    print(f'{name}: ' + ', '.join(f'{key} {tuple(value.shape)}' for key, value in kept.items()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--mrrnet-code', help='a checkout of github.com/SYLan2019/MRRNet')
    parser.add_argument('--sparnet-code', help='a checkout of github.com/chaofengc/Face-SPARNet')
    parser.add_argument('--wfen-code', help='a checkout of github.com/PRIS-CV/WFEN')
    parser.add_argument('--sfmnet-code', help='a checkout of github.com/wcy-cs/SFMNet')
    parser.add_argument('--dic-code', help='a checkout of github.com/Maclory/Deep-Iterative-Collaboration')
    args = parser.parse_args(argv)
    os.makedirs(FOLDER, exist_ok=True)
    for name, arch in LR_NETWORKS.items():
        folder = getattr(args, f'{arch.lower()}_code')
        if folder:
            write_lr_network(name, arch, folder)
    if args.dic_code:
        write_dicgan_discriminator(args.dic_code)
    for name, (code, module, cls, kwargs, description) in NETWORKS.items():
        if not getattr(args, f'{code}_code'):
            continue
        net = _authors_class(getattr(args, f'{code}_code'), module, cls)(**kwargs)
        state = net.state_dict()
        write_key_list(name, net, description)
        if name not in WITH_OUTPUT:
            continue
        net.load_state_dict(seeded_state_dict({key: tuple(value.shape) for key, value in state.items()}))
        with torch.no_grad():
            output = net.double().eval()(seeded_input().double()).float()
        torch.save(output.clone(), osp.join(FOLDER, f'{name}_output.pt'))
        print(f'{name}: output {tuple(output.shape)}, max |y| {output.abs().max():.4f}')


if __name__ == '__main__':
    main()
