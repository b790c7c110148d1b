"""Cost of a network: parameters, GMACs per image (torch.utils.flop_counter) and measured speed."""
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time

import torch
from torch.utils.flop_counter import FlopCounterMode


def count_parameters(network):
    return sum(p.numel() for p in network.parameters())


def gmacs_per_image(network, lr_size=16, device='cpu'):
    """Multiply-accumulates (1e9) of one forward on a ``lr_size`` face (FLOPs / 2, as counted by torch)."""
    x = torch.rand(1, 3, lr_size, lr_size, device=device)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        network(x)
    return counter.get_total_flops() / 2 / 1e9


def synchronized_clock():
    """``time.perf_counter()`` after the accelerator's queued work is done (``torch.utils.benchmark``'s timer)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter()


def median_seconds(function, runs=5, warmup=2):
    """Median wall time of ``function()`` over ``runs`` single calls after ``warmup`` calls, each timed between two
    synchronisations of the accelerator, as ``torch.utils.benchmark.Timer`` does; its ``timeit`` is not used
    because it adds two warm-up calls to every measurement, which would break the call-by-call pairing of
    :func:`paired_seconds`."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(runs):
        start = synchronized_clock()
        function()
        times.append(synchronized_clock() - start)
    return statistics.median(times)


def paired_seconds(function, reference, runs=5, warmup=2):
    """Time ``function`` and ``reference`` alternately, call by call (a noisy machine slows both alike).

    Returns ``(median seconds of function, median seconds of reference, median of the per-pair ratios
    reference / function)``: the last is the speed-up of ``function`` over ``reference``.
    """
    for _ in range(warmup):
        function()
        reference()
    pairs = [(median_seconds(function, 1, 0), median_seconds(reference, 1, 0)) for _ in range(runs)]
    ours, theirs = zip(*pairs)
    return statistics.median(ours), statistics.median(theirs), statistics.median(b / a for a, b in pairs)


def measure_speed(super_resolve, lr_size=16, batch=8, runs=5, device='cpu'):
    """``{'latency_ms': batch-1 median, 'throughput': images/s at ``batch``}`` of ``super_resolve(lr)``."""
    one = torch.rand(1, 3, lr_size, lr_size, device=device)
    many = torch.rand(batch, 3, lr_size, lr_size, device=device)
    latency = median_seconds(lambda: super_resolve(one), runs)
    batch_time = median_seconds(lambda: super_resolve(many), runs)
    return {'latency_ms': latency * 1000, 'throughput': batch / batch_time}


@contextlib.contextmanager
def native_stderr_silenced():
    """Hide what native code writes to file descriptor 2 meanwhile: the profiler's start/stop lines and, on a
    machine without GPUs, its failed GPU probe, which would otherwise interleave with a benchmark's table."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, 'w') as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def peak_memory_mb(function, device):
    """Peak memory a call of ``function`` adds to what was allocated when it started (MiB): the CUDA allocator's
    peak, or on CPU the peak of live tensor bytes from the profiler's allocation events (the process RSS would not
    show memory the allocator reuses). On CPU ``function`` runs twice and the second call is measured, so that the
    blocks it frees (e.g. last step's gradients) were allocated under the profiler and are subtracted."""
    if device.type == 'cuda':
        before = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        function()
        return (torch.cuda.max_memory_allocated() - before) / 2**20
    from torch.profiler import ProfilerActivity, profile, record_function
    with native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as profiler:
        function()
        with record_function('measured call'):
            function()
    # torch has no public CPU allocator statistics; the profiler's exported trace (a public format) records every
    # allocation and free with the allocator's running total
    with tempfile.TemporaryDirectory() as folder:
        trace_file = os.path.join(folder, 'trace.json')
        profiler.export_chrome_trace(trace_file)
        with open(trace_file) as f:
            events = json.load(f)['traceEvents']
    measured = next(event for event in events if event.get('name') == 'measured call' and event.get('ph') == 'X')
    begin, end = measured['ts'], measured['ts'] + measured['dur']
    allocations = sorted((event['ts'], event['args']['Bytes']) for event in events
                         if event.get('name') == '[memory]' and event['args'].get('Device Type') == 0)
    live = start = peak = 0
    for time_us, change in allocations:  # bytes allocated (> 0) or freed (< 0), in time order
        if time_us > end:
            break
        live += change
        if time_us < begin:
            start = peak = live
        else:
            peak = max(peak, live)
    return (peak - start) / 2**20


def restore_throughput(restorer, images, batch_size, runs):
    """Faces per second of ``restorer.restore_many`` (detect, crop, super-resolve, paste back; no file I/O) over
    ``images`` in groups of ``batch_size`` photos, ``runs`` times after one warm-up photo."""
    restorer.restore_many(images[:1])
    faces, seconds = 0, 0.0
    for _ in range(runs):
        started = synchronized_clock()
        for start in range(0, len(images), batch_size):
            faces += sum(len(result.faces) for result in restorer.restore_many(images[start:start + batch_size]))
        seconds += synchronized_clock() - started
    return faces / seconds
