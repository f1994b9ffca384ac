# Python's ProcessPoolExecutor on the benchmark's workloads, for the same-run reference.
# Prints one JSON line: no-op tasks/s, sequential round trip (µs), CPU speedup.
import json, statistics, sys, time
from concurrent.futures import ProcessPoolExecutor, wait

def noop(x):
    return x

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

def median_ms(rounds, fn):
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)

if __name__ == '__main__':
    workers, n, seq, cpu_tasks, fib_n = (int(a) for a in sys.argv[1:6])
    with ProcessPoolExecutor(max_workers=workers) as ex:
        wait([ex.submit(noop, i) for i in range(n // 5)])
        flood = median_ms(3, lambda: wait([ex.submit(noop, i) for i in range(n)]))
        sequential = median_ms(3, lambda: [ex.submit(noop, i).result() for i in range(seq)])
        inline = median_ms(1, lambda: [fib(fib_n) for _ in range(cpu_tasks)])
        pooled = median_ms(3, lambda: wait([ex.submit(fib, fib_n) for _ in range(cpu_tasks)]))
    print(json.dumps({'perSecond': n / flood * 1000, 'roundTripUs': sequential / seq * 1000, 'speedup': inline / pooled}))
