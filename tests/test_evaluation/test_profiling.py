import time

from mrr_plugin.evaluation.profiling import paired_seconds


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
