"""The authors' code itself, run beside ours on fresh random weights: from checkouts in ``$MRR_AUTHORS_CODE``
(default ``../authors`` beside the project), each under its GitHub name (``WFEN``, ``SFMNet``,
``Deep-Iterative-Collaboration``, ``MRRNet``, ``Face-SPARNet``). A test that needs one skips with the reason when
it is absent; the committed vectors of :mod:`tests.helpers.authors_reference` cover every run."""
import os
from os import path as osp

import pytest
import torch

from tests.helpers.authors_reference import authors_code_module, pil_upsample, seeded_state_dict

PROJECT_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
AUTHORS_FOLDER = os.environ.get('MRR_AUTHORS_CODE', osp.join(osp.dirname(PROJECT_ROOT), 'authors'))


def authors_checkout(arch):
    """The checkout folder of the authors of ``arch`` (e.g. 'WFEN'), or a skip naming what to put where."""
    repository = authors_code_module().AUTHORS_REPOSITORIES[arch]
    folder = osp.join(AUTHORS_FOLDER, repository.split('/')[1])
    if not osp.isdir(folder):
        pytest.skip(f"needs a checkout of github.com/{repository} at {folder} (or MRR_AUTHORS_CODE=<folder of "
                    'checkouts>) to run the authors\' code; the committed vectors test the same function')
    return folder


def compare_with_authors(arch, ours, seed, batch=2):
    """Our ``ours`` and the authors' ``arch`` on the same fresh random weights (seeded, drawn from their key list)
    and LR faces, in float64: ``(our outputs, their outputs)`` as ``authors_code.authors_outputs`` names them. Their
    input is made as their datasets make it (PIL's own bicubic, :func:`pil_upsample`); ours from the LR faces."""
    from mrr_plugin.archs.reference_checkpoint import drop_authors_constants
    authors_code = authors_code_module()
    theirs = authors_code.authors_network(arch, authors_checkout(arch))
    state = seeded_state_dict({key: tuple(value.shape) for key, value in theirs.state_dict().items()}, seed=seed)
    theirs.load_state_dict(state)
    ours.load_state_dict(drop_authors_constants(arch, state), strict=True)
    lr = torch.randint(0, 256, (batch, 3, 16, 16), generator=torch.Generator().manual_seed(seed)).double() / 255
    theirs, ours = theirs.double().eval(), ours.double().eval()
    with torch.no_grad():
        expected = authors_code.authors_outputs(arch, theirs, authors_code.authors_input(arch, lr, pil_upsample))
        got = ours(lr, all_outputs=True) if arch in ('SFMNet', 'DIC') else ours(lr)
    return got, expected


def assert_close_to(got, expected):
    """max |got - expected| <= 1e-4 of max |expected| (the issue's bound, in float64)."""
    assert got.shape == expected.shape
    assert (got - expected).abs().max() <= 1e-4 * expected.abs().max()
