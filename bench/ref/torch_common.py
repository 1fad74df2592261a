"""Shared by the PyTorch references: thread set-up, the timing worker protocol.

A worker trains one model and answers lines on stdin, so the driver
(bench/throughput.py) can alternate it with our C worker without paying
PyTorch's start-up each repetition:

    ready   -> printed once after warm-up: {"ready": true, "params": N, ...}
    run S M -> train at least M steps and S seconds; prints one JSON line
               {"tokens_per_s": ..., "steps": ..., "seconds": ..., "maxrss_kb": ...}
    quit    -> exits

Run with /usr/bin/python3 (Debian's python3-torch).
"""
import json
import os
import resource
import sys
import time


def rss_kb():
    """Current resident set in KiB (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def maxrss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def setup_threads(torch, threads):
    """torch.set_num_threads(threads); reports what the process really uses."""
    torch.set_num_threads(threads)
    info = {"torch_threads": torch.get_num_threads(),
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "torch_version": torch.__version__}
    try:
        import threadpoolctl
        pools = threadpoolctl.threadpool_info()
        info["threadpools"] = [{k: p.get(k) for k in ("internal_api", "num_threads", "architecture",
                                                       "threading_layer", "filepath")} for p in pools]
    except ImportError:  # threadpoolctl is optional
        info["threadpools"] = None
    return info


def serve(step, tokens_per_step, info, warmup_steps=3, out=sys.stdout):
    """Warm up, print the ready line, then answer run/quit commands."""
    for _ in range(warmup_steps):
        step()
    info = dict(info, ready=True, tokens_per_step=tokens_per_step, maxrss_kb=maxrss_kb())
    print(json.dumps(info), file=out, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        if parts[0] != "run" or len(parts) != 3:
            print(json.dumps({"error": "expected 'run SECONDS MINSTEPS' or 'quit'"}), file=out, flush=True)
            continue
        seconds, min_steps = float(parts[1]), int(parts[2])
        steps, t0 = 0, time.perf_counter()
        while True:
            step()
            steps += 1
            t = time.perf_counter() - t0
            if steps >= min_steps and t >= seconds:
                break
        print(json.dumps({"tokens_per_s": steps * tokens_per_step / t, "steps": steps, "seconds": t,
                          "maxrss_kb": maxrss_kb()}), file=out, flush=True)


def standalone(step, tokens_per_step, info, steps=10, warmup_steps=3):
    """Without --serve: warm up, time `steps` steps, print one JSON line."""
    for _ in range(warmup_steps):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    t = time.perf_counter() - t0
    print(json.dumps(dict(info, tokens_per_s=steps * tokens_per_step / t, steps=steps, seconds=t,
                          maxrss_kb=maxrss_kb())), flush=True)


def torch_name(ours):
    """Our tensor names are the reference models' with .weight/.bias spelled .w/.b."""
    if ours in ("wte", "wpe"):
        return ours + ".weight"
    if ours.endswith(".w"):
        return ours[:-2] + ".weight"
    if ours.endswith(".b"):
        return ours[:-2] + ".bias"
    return ours
