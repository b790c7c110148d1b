"""BasicSR's training pipeline, owned here so that a resumed run is the run it continues.

The same steps, logs, checkpoints and TensorBoard events as ``basicsr.train.train_pipeline``, with these
differences:

- options are read safely (:mod:`mrr_plugin.pipelines.options`), the resume state with ``weights_only=True``
  (:mod:`mrr_plugin.utils.resume`);
- training samples are a function of (seed, epoch, index) (:mod:`mrr_plugin.data.seeded_sampling`), and each
  training state also stores the position in the epoch and every process's generator states, so that a run killed
  at any moment and resumed with ``--auto_resume`` logs the same losses and ends with the same weights as the run
  that was never stopped (upstream restarts the epoch at its first batch with fresh generators);
- validation runs without touching the generators (a validation at a checkpoint iteration would otherwise make
  the uninterrupted and the resumed run draw different numbers afterwards);
- a non-finite step stops the run, or is skipped with ``train.nonfinite: skip``
  (:mod:`mrr_plugin.models.nonfinite_guard`);
- the experiment folder is locked by the run before it is archived or resumed (:mod:`mrr_plugin.utils.run_lock`):
  a second run of the same name is refused while the first lives;
- a face that cannot be read names its dataset and file (:mod:`mrr_plugin.data.checked_samples`; ``skip_bad``);
- the log also shows ``data_wait``: the share of each step spent waiting for data.
"""
import datetime
import logging
import math
import time
from os import path as osp

import torch
from basicsr.data import build_dataloader, build_dataset
from basicsr.data.prefetch_dataloader import CPUPrefetcher, CUDAPrefetcher
from basicsr.models import build_model
from basicsr.train import init_tb_loggers
from basicsr.utils import (AvgTimer, MessageLogger, get_env_info, get_root_logger, get_time_str, make_exp_dirs,
                           mkdir_and_rename)
from basicsr.utils.options import copy_opt_file, dict2str

from mrr_plugin.data.checked_samples import CheckedSamples
from mrr_plugin.data.seeded_sampling import ResumableSampler, SeededSamples
from mrr_plugin.models.nonfinite_guard import NonFiniteTraining
from mrr_plugin.pipelines.options import hold_run_folder, parse_options
from mrr_plugin.utils.resume import capture_rng_states, load_resume_state, preserved_rng_states, restore_rng_states


class TrainingData:
    """The training loader over :class:`SeededSamples` with a :class:`ResumableSampler`, and its epoch size."""

    def __init__(self, opt, logger):
        dataset_opt = opt['datasets']['train']
        ratio = dataset_opt.get('dataset_enlarge_ratio', 1)
        dataset = build_dataset(dataset_opt)
        self.sampler = ResumableSampler(dataset, opt['world_size'], opt['rank'], ratio)
        samples = SeededSamples(CheckedSamples(dataset, 'datasets.train'), opt['manual_seed'])
        self.loader = build_dataloader(samples, dataset_opt, num_gpu=opt['num_gpu'], dist=opt['dist'],
                                       sampler=self.sampler, seed=opt['manual_seed'])
        # the loader's own generator: starting an epoch then never draws from the global one
        self.loader.generator = torch.Generator().manual_seed(opt['manual_seed'])
        self.batch_size = dataset_opt['batch_size_per_gpu']
        self.iters_per_epoch = self.sampler.num_samples // self.batch_size  # the loader drops the last partial batch
        if self.iters_per_epoch == 0:
            raise ValueError(f'datasets.train: {len(dataset)} face(s) x dataset_enlarge_ratio {ratio} / '
                             f'{opt["world_size"]} process(es) is less than one batch of batch_size_per_gpu '
                             f'{self.batch_size}.')
        total_iters = int(opt['train']['total_iter'])
        logger.info('Training statistics:'
                    f'\n\tNumber of train images: {len(dataset)}'
                    f'\n\tDataset enlarge ratio: {ratio}'
                    f'\n\tBatch size per gpu: {self.batch_size}'
                    f'\n\tWorld size (gpu number): {opt["world_size"]}'
                    f'\n\tRequire iter number per epoch: {self.iters_per_epoch}'
                    f'\n\tTotal epochs: {math.ceil(total_iters / self.iters_per_epoch)}; iters: {total_iters}.')

    def prefetcher(self, opt):
        mode = opt['datasets']['train'].get('prefetch_mode')
        if mode is None or mode == 'cpu':
            return CPUPrefetcher(self.loader)
        if mode == 'cuda':
            if opt['datasets']['train'].get('pin_memory') is not True:
                raise ValueError('Please set pin_memory=True for CUDAPrefetcher.')
            return CUDAPrefetcher(self.loader, opt)
        raise ValueError(f"Wrong prefetch_mode {mode}. Supported ones are: None, 'cuda', 'cpu'.")


def validation_loaders(opt, logger):
    loaders = []
    for phase, dataset_opt in opt['datasets'].items():
        if phase.split('_')[0] == 'val':
            dataset = CheckedSamples(build_dataset(dataset_opt), f'datasets.{phase}')
            loaders.append(build_dataloader(dataset, dataset_opt, num_gpu=opt['num_gpu'], dist=opt['dist'],
                                            sampler=None, seed=opt['manual_seed']))
            logger.info(f'Number of val images/folders in {dataset_opt["name"]}: {len(dataset)}')
        elif phase != 'train':
            raise ValueError(f'Dataset phase {phase} is not recognized.')
    return loaders


def generator_states(opt):
    """Every process's generator states, gathered (rank order) so rank 0 can store them all."""
    states = capture_rng_states()
    if not opt['dist']:
        return [states]
    import torch.distributed as dist
    gathered = [None] * opt['world_size']
    dist.all_gather_object(gathered, states)
    return gathered


def resume_position(resume_state, data, opt, logger):
    """``(epoch, batches already trained in it)`` to continue from, and the generator states are restored; a state
    without them (written by BasicSR or an older version) restarts its epoch with a warning."""
    position = resume_state.get('position')
    states = resume_state.get('rng_states')
    same_layout = position is not None and position.get('batch_size') == data.batch_size and \
        position.get('world_size') == opt['world_size']
    if same_layout and states is not None and len(states) == opt['world_size']:
        restore_rng_states(states[opt['rank']])
        return position['epoch'], position['batches']
    logger.warning('The resume state has no data position and generator states for this batch size and number of '
                   f'processes: epoch {resume_state["epoch"]} restarts at its first batch (not the exact '
                   'continuation of the interrupted run).')
    return resume_state['epoch'], 0


def train_pipeline(root_path, argv=None):
    opt, args = parse_options(root_path, is_train=True, argv=argv)
    torch.backends.cudnn.benchmark = True
    with hold_run_folder(opt, opt['path']['experiments_root'], 'experiment'):
        train(opt, args)


def train(opt, args):
    """BasicSR's training loop on parsed options, in a run folder this process holds."""
    resume_state = load_resume_state(opt)
    if resume_state is None:
        make_exp_dirs(opt)
        if opt['logger'].get('use_tb_logger') and 'debug' not in opt['name'] and opt['rank'] == 0:
            mkdir_and_rename(osp.join(opt['root_path'], 'tb_logger', opt['name']))
    copy_opt_file(args.opt, opt['path']['experiments_root'])

    # get_root_logger must not be called before this point (it would set up the logger without its file)
    log_file = osp.join(opt['path']['log'], f"train_{opt['name']}_{get_time_str()}.log")
    logger = get_root_logger(logger_name='basicsr', log_level=logging.INFO, log_file=log_file)
    logger.info(get_env_info())
    logger.info(dict2str(opt))
    tb_logger = init_tb_loggers(opt)

    data = TrainingData(opt, logger)
    val_loaders = validation_loaders(opt, logger)
    model = build_model(opt)
    epoch, batches = 0, 0
    current_iter = 0
    if resume_state:
        model.resume_training(resume_state)  # optimizers and schedulers
        current_iter = resume_state['iter']
        epoch, batches = resume_position(resume_state, data, opt, logger)  # the last thing that sets a generator
        logger.info(f'Resuming training from epoch: {epoch}, iter: {current_iter}.')
        if batches:
            logger.info(f'Epoch {epoch} continues after its first {batches} batch(es), with the random generators '
                        'of the interrupted run.')

    msg_logger = MessageLogger(opt, current_iter, tb_logger)
    prefetcher = data.prefetcher(opt)
    total_iters = int(opt['train']['total_iter'])
    logger.info(f'Start training from epoch: {epoch}, iter: {current_iter}')
    data_timer, iter_timer = AvgTimer(), AvgTimer()
    start_time = time.time()

    while current_iter < total_iters:
        data.sampler.set_epoch(epoch, skip=batches * data.batch_size)
        prefetcher.reset()
        train_data = prefetcher.next()
        while train_data is not None and current_iter < total_iters:
            data_timer.record()
            current_iter += 1
            batches += 1
            model.update_learning_rate(current_iter, warmup_iter=opt['train'].get('warmup_iter', -1))
            model.feed_data(train_data)
            optimize(model, current_iter, logger)
            iter_timer.record()
            if current_iter == 1:
                msg_logger.reset_start_time()  # the ETA leaves out the set-up
            if current_iter % opt['logger']['print_freq'] == 0:
                step_time, data_time = iter_timer.get_avg_time(), data_timer.get_avg_time()
                log_vars = {'epoch': epoch, 'iter': current_iter, 'lrs': model.get_current_learning_rate(),
                            'time': step_time, 'data_time': data_time, **model.get_current_log()}
                if step_time:
                    log_vars['data_wait'] = data_time / step_time
                msg_logger(log_vars)
            if current_iter % opt['logger']['save_checkpoint_freq'] == 0:
                logger.info('Saving models and training states.')
                model.training_state_extras = {
                    'position': {'epoch': epoch, 'batches': batches, 'batch_size': data.batch_size,
                                 'world_size': opt['world_size']},
                    'rng_states': generator_states(opt)}
                model.save(epoch, current_iter)
            if opt.get('val') is not None and current_iter % opt['val']['val_freq'] == 0:
                validate(model, val_loaders, current_iter, tb_logger, opt, logger)
            data_timer.start()
            iter_timer.start()
            train_data = prefetcher.next()
        if current_iter < total_iters:
            epoch, batches = epoch + 1, 0

    logger.info(f'End of training. Time consumed: {datetime.timedelta(seconds=int(time.time() - start_time))}')
    logger.info('Save the latest model.')
    model.save(epoch=-1, current_iter=-1)  # -1 stands for the latest
    if opt.get('val') is not None:
        validate(model, val_loaders, current_iter, tb_logger, opt, logger)
    if tb_logger:
        tb_logger.close()


def optimize(model, current_iter, logger):
    """One training step; a non-finite one stops the run, or is skipped with ``train.nonfinite: skip``."""
    guard = getattr(model, 'nonfinite_guard', None)
    try:
        model.optimize_parameters(current_iter)
    except NonFiniteTraining as error:
        if guard is None:
            raise
        guard.skip(error, logger)
        return
    if guard is not None:
        guard.step_taken()


def validate(model, val_loaders, current_iter, tb_logger, opt, logger):
    if len(val_loaders) > 1:
        logger.warning('Multiple validation datasets are *only* supported by SRModel.')
    with preserved_rng_states():
        for val_loader in val_loaders:
            model.validation(val_loader, current_iter, tb_logger, opt['val']['save_img'])
