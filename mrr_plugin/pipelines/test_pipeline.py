"""BasicSR's test pipeline on safely read options (``basicsr.test.test_pipeline`` reads the option file with a
loader that constructs any Python object the file names); a face that cannot be read names its dataset and file."""
import logging
from os import path as osp

import torch
from basicsr.data import build_dataloader, build_dataset
from basicsr.models import build_model
from basicsr.utils import get_env_info, get_root_logger, get_time_str, make_exp_dirs
from basicsr.utils.options import dict2str

from mrr_plugin.data.checked_samples import CheckedSamples
from mrr_plugin.pipelines.options import hold_run_folder, parse_options


def test_pipeline(root_path, argv=None):
    opt, _ = parse_options(root_path, is_train=False, argv=argv)
    torch.backends.cudnn.benchmark = True
    with hold_run_folder(opt, opt['path']['results_root'], 'results folder'):
        run_tests(opt)


def run_tests(opt):
    """BasicSR's test loop on parsed options, in a results folder this process holds."""
    make_exp_dirs(opt)
    log_file = osp.join(opt['path']['log'], f"test_{opt['name']}_{get_time_str()}.log")
    logger = get_root_logger(logger_name='basicsr', log_level=logging.INFO, log_file=log_file)
    logger.info(get_env_info())
    logger.info(dict2str(opt))

    test_loaders = []
    for phase, dataset_opt in sorted(opt['datasets'].items()):
        test_set = CheckedSamples(build_dataset(dataset_opt), f'datasets.{phase}')
        test_loaders.append(build_dataloader(test_set, dataset_opt, num_gpu=opt['num_gpu'], dist=opt['dist'],
                                             sampler=None, seed=opt['manual_seed']))
        logger.info(f"Number of test images in {dataset_opt['name']}: {len(test_set)}")

    model = build_model(opt)
    for test_loader in test_loaders:
        logger.info(f"Testing {test_loader.dataset.opt['name']}...")
        model.validation(test_loader, current_iter=opt['name'], tb_logger=None, save_img=opt['val']['save_img'])
