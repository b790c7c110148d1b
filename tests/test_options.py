"""Every shipped option file parses and names registered classes whose constructors accept its options."""
import glob
import os

import pytest
import yaml
from basicsr.archs import build_network
from basicsr.utils.options import ordered_yaml
from basicsr.utils.registry import DATASET_REGISTRY, LOSS_REGISTRY, METRIC_REGISTRY, MODEL_REGISTRY

from mrr_plugin.pipelines.option_check import option_problems
from tests.conftest import PROJECT_ROOT

OPTION_FILES = sorted(glob.glob(os.path.join(PROJECT_ROOT, 'options', '**', '*.yml'), recursive=True))


def test_option_files_exist():
    assert len(OPTION_FILES) >= 10


@pytest.mark.parametrize('path', OPTION_FILES, ids=lambda p: os.path.relpath(p, PROJECT_ROOT))
def test_option_file_is_consistent(path):
    with open(path) as f:
        opt = yaml.load(f, Loader=ordered_yaml()[0])
    assert MODEL_REGISTRY.get(opt['model_type'])
    for dataset in opt['datasets'].values():
        assert DATASET_REGISTRY.get(dataset['type'])
    for key in opt:
        if key.startswith('network_'):
            build_network(opt[key])
    for name, loss in opt.get('train', {}).items():
        if name.endswith('_opt'):
            assert LOSS_REGISTRY.get(loss['type'])
    for metric in opt.get('val', {}).get('metrics', {}).values():
        assert METRIC_REGISTRY.get(metric['type'])
    assert os.path.basename(path).startswith(('train_', 'test_'))
    assert option_problems(opt, for_training=os.path.basename(path).startswith('train_')) == []
