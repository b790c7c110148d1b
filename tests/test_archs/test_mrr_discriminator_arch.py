import torch
from basicsr.archs import build_network

from mrr_plugin.archs.mrr_discriminator_arch import MRRPatchDiscriminator
from tests.conftest import assert_computes_reference, reference_keys, state_shapes


def test_registered_shape_and_parameter_count():
    net = build_network({'type': 'MRRPatchDiscriminator'})
    assert sum(p.numel() for p in net.parameters()) == 390_720
    with torch.no_grad():
        assert net(torch.rand(2, 3, 128, 128)).shape == (2, 1, 8, 8)


def test_keys_and_function_match_the_authors():
    assert state_shapes(MRRPatchDiscriminator()) == reference_keys('mrrgan_d')
    assert_computes_reference(MRRPatchDiscriminator(range_norm=False), 'mrrgan_d')  # their [-1, 1] input


def _eval(net, x):
    net.eval()
    with torch.no_grad():
        return net(x)


def test_fresh_discriminator_is_usable_in_eval_mode():
    """Spectral-norm u/v are settled at construction: eval output equals that after many train-mode forwards."""
    torch.manual_seed(0)
    x = torch.rand(2, 3, 128, 128)
    net = MRRPatchDiscriminator()
    fresh = _eval(net, x)
    net.train()
    with torch.no_grad():
        for _ in range(40):
            net(x)
    settled = _eval(net, x)
    assert (fresh - settled).abs().max() < 0.05 * settled.abs().max()
    # what an unsettled net (random u/v, torch's default) would output instead
    for name, buffer in net.named_buffers():
        if name.endswith('weight_u') or name.endswith('weight_v'):
            buffer.copy_(torch.nn.functional.normalize(torch.randn_like(buffer), dim=0))
    assert (_eval(net, x) - settled).abs().max() > 0.2 * settled.abs().max()


def test_spectral_norm_state_survives_save_and_load(tmp_path):
    torch.manual_seed(1)
    x = torch.rand(1, 3, 128, 128)
    net = MRRPatchDiscriminator().train()
    with torch.no_grad():
        for _ in range(3):
            net(x * 2)
    torch.save({'params': net.state_dict()}, tmp_path / 'd.pth')
    torch.manual_seed(2)
    loaded = MRRPatchDiscriminator()
    loaded.load_state_dict(torch.load(tmp_path / 'd.pth')['params'], strict=True)
    torch.testing.assert_close(_eval(loaded, x), _eval(net, x))


def test_range_norm_maps_unit_inputs_to_the_authors_range():
    assert_computes_reference(MRRPatchDiscriminator(), 'mrrgan_d', to_input=lambda x: (x + 1) / 2)  # default
