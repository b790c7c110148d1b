"""Starting the process group for torchrun / SLURM on GPUs (nccl) and on CPU-only machines (gloo)."""
import os
import subprocess

import torch


def default_dist_backend():
    return 'nccl' if torch.cuda.is_available() else 'gloo'


def init_dist(launcher, backend=None, port=None):
    """BasicSR's ``init_dist`` for ``--launcher pytorch|slurm``, also on machines without CUDA.

    Upstream hard-codes nccl and calls ``torch.cuda.set_device`` (a division by zero without GPUs), so the same run
    cannot start on a CPU-only machine. Here: ``backend`` (``dist_params.backend``) if given and usable, else nccl
    with CUDA and gloo without; the CUDA device is ``LOCAL_RANK`` (torchrun) or ``SLURM_LOCALID``; ``launcher: slurm``
    derives the rendezvous from SLURM's variables as BasicSR does (``dist_params.port``, else ``MASTER_PORT``,
    else 29500).
    """
    import torch.distributed as dist
    if dist.is_initialized():
        return
    if backend == 'nccl' and not torch.cuda.is_available():
        print('note: dist_params.backend is nccl but this machine has no CUDA device; using gloo.', flush=True)
        backend = None
    backend = backend or default_dist_backend()
    if launcher == 'slurm':
        node_list = os.environ['SLURM_NODELIST']
        os.environ.setdefault('MASTER_ADDR', subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1'))
        os.environ['MASTER_PORT'] = str(port or os.environ.get('MASTER_PORT', 29500))
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    elif launcher != 'pytorch':
        raise ValueError(f'Invalid launcher type: {launcher}')
    if torch.cuda.is_available() and backend == 'nccl':
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)) % torch.cuda.device_count())
    dist.init_process_group(backend=backend)
