"""Process-group start-up on machines with and without CUDA."""
import torch

from mrr_plugin.utils import distributed


def test_backend_defaults_to_gloo_without_cuda_and_nccl_without_cuda_falls_back(monkeypatch, capsys):
    assert distributed.default_dist_backend() == ('nccl' if torch.cuda.is_available() else 'gloo')
    if torch.cuda.is_available():
        return
    chosen = []
    monkeypatch.setattr(torch.distributed, 'is_initialized', lambda: False)
    monkeypatch.setattr(torch.distributed, 'init_process_group', lambda backend: chosen.append(backend))
    distributed.init_dist('pytorch', backend='nccl')
    distributed.init_dist('pytorch', backend='mpi')
    assert chosen == ['gloo', 'mpi'] and 'no CUDA device; using gloo' in capsys.readouterr().out
