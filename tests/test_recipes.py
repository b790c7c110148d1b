"""Each paper recipe trains what its authors trained: the network, value range and loss balance its file states.

The authors ran their networks, losses and discriminators on images in [-1, 1]; our data and outputs stay in
[0, 1]. These tests build the generator, discriminator and pixel loss from each shipped option file and check them
against the authors' functions: their released-code weights give their outputs (``../shared/reference``), and our
pixel loss on [0, 1] equals their ``lambda_pix * nn.L1Loss()`` on the same images in [-1, 1].
"""
import os

import pytest
import torch
from basicsr.archs import build_network
from basicsr.losses import build_loss

from mrr_plugin.utils.option_file import load_option_file
from tests.conftest import PROJECT_ROOT, assert_computes_reference

TRAIN = os.path.join(PROJECT_ROOT, 'options', 'train')
# option file -> the authors' lambda_pix on [-1, 1] (models/*_model.py and their train.sh)
AUTHORS_PIXEL_WEIGHT = {
    'MRRNet/train_MRRNet_x8_CelebA.yml': 1.0,
    'MRRNet/train_MRRNet_x8_demo_CPU.yml': 1.0,
    'MRRGAN/train_MRRGAN_x8_CelebA.yml': 1.0,
    'SPARNet/train_SPARNet_x8_CelebA.yml': 1.0,
    'SPARNetHD/train_SPARNetHD_FFHQ512.yml': 100.0,
    'ablation/train_MRRCBAM_x8_CelebA.yml': 1.0,
    'ablation/train_MRRGAN_woSA_x8_CelebA.yml': 1.0,
    'ablation/train_MRRNet_K13_x8_CelebA.yml': 1.0,
    'ablation/train_MRRNet_K17_x8_CelebA.yml': 1.0,
    'ablation/train_MRRNet_K57_x8_CelebA.yml': 1.0,
    'ablation/train_MRRNet_woSA_x8_CelebA.yml': 1.0,
}
# option files whose generator has the authors' released architecture -> reference vectors
AUTHORS_GENERATOR = {
    'MRRNet/train_MRRNet_x8_CelebA.yml': 'mrrnet_g',
    'MRRNet/train_MRRNet_x8_demo_CPU.yml': 'mrrnet_g',
    'MRRGAN/train_MRRGAN_x8_CelebA.yml': 'mrrnet_g',
    'SPARNet/train_SPARNet_x8_CelebA.yml': 'sparnet_g',
}


def recipe(name):
    return load_option_file(os.path.join(TRAIN, name))


def test_every_recipe_of_an_authors_network_is_listed():
    """A new MRRNet/SPARNet/SPARNetHD option file must state its authors' conventions here too."""
    listed = set()
    for folder, _, files in os.walk(TRAIN):
        for file in files:
            name = os.path.relpath(os.path.join(folder, file), TRAIN)
            if recipe(name).get('network_g', {}).get('type') in ('MRRNet', 'SPARNet'):
                listed.add(name)
    assert listed == set(AUTHORS_PIXEL_WEIGHT)


@pytest.mark.parametrize('name', sorted(AUTHORS_PIXEL_WEIGHT))
def test_range_and_pixel_loss_are_the_authors(name):
    opt = recipe(name)
    assert opt['network_g'].get('range_norm') is True  # stated in the file, not left to a default
    net = build_network(dict(opt['network_g']))
    assert net.range_norm
    if 'network_d' in opt:
        assert build_network(dict(opt['network_d'])).range_norm
    pixel = build_loss(dict(opt['train']['pixel_opt']))
    torch.manual_seed(0)
    sr, hr = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    theirs = AUTHORS_PIXEL_WEIGHT[name] * torch.nn.L1Loss()(sr * 2 - 1, hr * 2 - 1)
    torch.testing.assert_close(pixel(sr, hr), theirs)


@pytest.mark.parametrize('name', sorted(AUTHORS_GENERATOR))
def test_generator_computes_the_authors_function_on_unit_range(name):
    """The recipe's generator with the authors' weights, on [0, 1] input, gives their [-1, 1] output mapped to
    [0, 1] (the reference input is pre-upsampled, so only ``upscale`` is set to 1)."""
    net = build_network({**recipe(name)['network_g'], 'upscale': 1})
    assert_computes_reference(net, AUTHORS_GENERATOR[name], to_input=lambda x: (x + 1) / 2,
                              to_output=lambda y: (y + 1) / 2)


def test_mrrgan_discriminator_computes_the_authors_function_on_unit_range():
    net = build_network(dict(recipe('MRRGAN/train_MRRGAN_x8_CelebA.yml')['network_d']))
    assert_computes_reference(net, 'mrrgan_d', to_input=lambda x: (x + 1) / 2)


def test_adam_betas_and_learning_rates_are_the_authors():
    """train.sh / models/*_model.py: Adam(lr, betas=(beta1, 0.99)); MRRNet 1e-4 at batch 12, SPARNet 2e-4 at 32."""
    for name, lr, batch in (('MRRNet/train_MRRNet_x8_CelebA.yml', 1e-4, 12),
                            ('SPARNet/train_SPARNet_x8_CelebA.yml', 2e-4, 32)):
        opt = recipe(name)
        assert opt['train']['optim_g']['type'] == 'Adam'
        assert float(opt['train']['optim_g']['lr']) == lr and list(opt['train']['optim_g']['betas']) == [0.9, 0.99]
        assert opt['datasets']['train']['batch_size_per_gpu'] == batch
        assert opt['train']['ema_decay'] == 0


# The field's methods: recipe -> (model, lr, betas, batch, the authors' pixel-loss range, reference vectors)
FIELD_RECIPES = {
    'WFEN/train_WFEN_x8_CelebA.yml': ('FaceSRModel', 2e-4, [0.9, 0.99], 32, 'minus_one_one', 'wfen_g'),
    'SFMNet/train_SFMNet_x8_CelebA.yml': ('SFMNetModel', 1e-4, [0.9, 0.99], 8, 'unit', 'sfmnet_g'),
    'DIC/train_DIC_x8_CelebA.yml': ('DICModel', 1e-4, [0.9, 0.999], 8, 'unit', 'dic_g'),
    'DICGAN/train_DICGAN_x8_CelebA.yml': ('DICGANModel', 1e-4, [0.9, 0.999], 8, 'unit', 'dic_g'),
}


def test_every_recipe_of_the_fields_methods_is_listed():
    listed = set()
    for folder, _, files in os.walk(TRAIN):
        for file in files:
            name = os.path.relpath(os.path.join(folder, file), TRAIN)
            if recipe(name).get('network_g', {}).get('type') in ('WFEN', 'SFMNet', 'DIC'):
                listed.add(name)
    assert listed == set(FIELD_RECIPES)


@pytest.mark.parametrize('name', sorted(FIELD_RECIPES))
def test_field_recipe_is_the_authors(name):
    """Optimizer, batch and pixel loss as their code has them, and the recipe's generator computes their network
    (committed vectors of their code: LR face in, SR face out)."""
    from mrr_plugin.archs.reference_checkpoint import drop_authors_constants
    from tests.helpers.authors_reference import load_committed
    model, lr, betas, batch, pixel_range, vectors = FIELD_RECIPES[name]
    opt = recipe(name)
    assert opt['model_type'] == model and opt['datasets']['train']['batch_size_per_gpu'] == batch
    assert float(opt['train']['optim_g']['lr']) == lr and list(opt['train']['optim_g']['betas']) == betas
    pixel = build_loss(dict(opt['train']['pixel_opt']))
    torch.manual_seed(0)
    sr, hr = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    theirs = torch.nn.L1Loss()(sr * 2 - 1, hr * 2 - 1) if pixel_range == 'minus_one_one' else torch.nn.L1Loss()(sr, hr)
    torch.testing.assert_close(pixel(sr, hr), theirs)
    reference = load_committed(vectors)
    arch = opt['network_g']['type']
    net = build_network(dict(opt['network_g'])).double().eval()
    net.load_state_dict(drop_authors_constants(arch, reference['state_dict']), strict=True)
    with torch.no_grad():
        out = net(reference['input'].double())
    assert (out - reference['output']).abs().max() <= 1e-4 * reference['output'].abs().max()


def test_sfmnet_and_dic_extra_terms_are_the_authors():
    sfm = recipe('SFMNet/train_SFMNet_x8_CelebA.yml')['train']
    assert sfm['fourier_opt'] == {'type': 'FourierLoss', 'amplitude_weight': 0.01, 'phase_weight': 0.01}
    dic = recipe('DIC/train_DIC_x8_CelebA.yml')
    assert dic['train']['heatmap_opt']['type'] == 'MSELoss' and dic['train']['heatmap_opt']['loss_weight'] == 0.1
    assert dic['train']['scheduler'] == {'type': 'MultiStepLR', 'milestones': [10000, 20000, 40000, 80000],
                                         'gamma': 0.5}
    assert dic['train']['total_iter'] == 150000 and dic['train']['hourglass_frozen_iters'] == 2000
    assert dic['datasets']['train']['type'] == 'FaceLandmarkDataset'
    assert not dic['datasets']['train']['use_hflip'] and dic['datasets']['train']['heatmap_sigma'] == 1.0
    gan = recipe('DICGAN/train_DICGAN_x8_CelebA.yml')
    assert gan['network_d'] == {'type': 'LightCNNDiscriminator'} and gan['network_g'] == dic['network_g']
    assert gan['train']['pixel_steps'] == 'last' and gan['train']['hourglass_frozen_iters'] > gan['train']['total_iter']
    assert gan['train']['feature_opt']['loss_weight'] == 0.1 and gan['train']['gan_opt']['loss_weight'] == 0.005
    assert gan['train']['gan_opt']['gan_type'] == 'vanilla' and gan['train']['scheduler']['milestones'] == [
        10000, 20000, 40000] and gan['train']['total_iter'] == 80000
