import time

import torch

from mrr_plugin.evaluation.profiling import paired_seconds, peak_memory_mb


def test_paired_seconds_alternates_the_two_calls_and_reports_the_speedup():
    calls = []

    def fast():
        calls.append('fast')
        time.sleep(0.002)

    def slow():
        calls.append('slow')
        time.sleep(0.010)

    fast_seconds, slow_seconds, speedup = paired_seconds(fast, slow, runs=5, warmup=1)
    assert calls == ['fast', 'slow'] * 6  # warm-up pair, then five timed pairs, one call after the other
    assert fast_seconds < slow_seconds
    assert 2 < speedup < 10  # sleeps of 2 ms and 10 ms: about 5x, with room for a loaded machine


def test_cpu_peak_memory_counts_live_tensor_bytes_during_the_call():
    held = [torch.ones(2**22)]  # 16 MiB allocated before: not counted, and freed by the call

    def step():
        held.pop()  # like zero_grad(set_to_none=True) freeing last step's gradients
        first = torch.ones(2**24)  # 64 MiB of float32
        second = torch.ones(2**23)  # + 32 MiB: 96 MiB live
        del first
        held.append(torch.ones(2**22))  # kept for the next call
        return second.sum()

    for _ in range(2):  # the heap grown by earlier calls is reused: the peak is the same
        assert 79 < peak_memory_mb(step, torch.device('cpu')) < 82  # 96 MiB - the 16 MiB freed at the start
    assert peak_memory_mb(lambda: held[0].sum(), torch.device('cpu')) < 1


def test_cpu_peak_memory_leaves_no_profiler_noise_on_stderr(capfd):
    peak_memory_mb(lambda: torch.ones(2**20).sum(), torch.device('cpu'))
    assert capfd.readouterr().err == ''
