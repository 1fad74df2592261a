#!/usr/bin/python3
"""Training throughput of stopwise against PyTorch (BENCH.md section 1).

For each model (gpt d_model 128 and 256, mlp 784-256-10) and thread count
(1, 2), every repetition runs each contender in a process of its own, one
after the other with nothing else of ours alive, rotating the order each
repetition, so machine noise hits all alike and no idle pool of a neighbour
process steals the cores (the old harness kept three workers alive and
measured PyTorch at a third of its standalone speed):
  ours          build/bench/bench_throughput --serve (BLAS as stopwise sets it
                up, GOMP_SPINCOUNT as the CLI sets it: 10000; --ours-env)
  torch-default bench/ref/torch_*.py --threads N --serve, the environment as it
                is (this machine sets OPENBLAS_CORETYPE=Haswell)
  torch-best    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=N and
                torch.set_num_threads(1): the best setting measured here (one
                torch thread, N OpenBLAS threads), --serve
  torch-alone   the check: torch-best's script and settings invoked plainly
                (no --serve, no harness protocol; it times --steps steps and
                prints one line). torch-best / torch-alone near 1 shows the
                harness does not slow the reference; a row whose check is off
                by more than 10% is flagged and its ratio must not be quoted.
A --serve contender warms up (3 steps), times one window (--seconds, at least
2 steps), and quits. The variables that decide thread pools (OMP_WAIT_POLICY,
GOMP_SPINCOUNT, OMP_NUM_THREADS, OPENBLAS_NUM_THREADS) are cleared from the
calling shell's environment and set per contender as above. Reports the
median tokens/s of each, the ratios, achieved GFLOP/s against the cblas_sgemm
peak measured at the start of the same run, and peak resident memory against
the theoretical need. Prints a table; writes JSON (bench/results/throughput.json).

    bench/throughput.sh [--reps 5] [--seconds 1.5] [--threads 1,2] [--models gpt128,gpt256,mlp]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# the shapes of BENCH.md section 1
GPT = dict(vocab=64, ctx=32, batch=64, layers=4, heads=4)
MLP = dict(inputs=784, hidden=256, classes=10, batch=128)


# thread-pool variables cleared from the calling shell: each contender gets its own
CLEARED = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
           "STOPWISE_WAIT_POLICY_SET")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.update(extra)
    return env


class Contender:
    """One configuration; each sample is a fresh process of its own."""

    def __init__(self, name, cmd, env, serve=True):
        self.name, self.cmd, self.env, self.serve = name, cmd, env, serve
        self.samples, self.maxrss_kb, self.ready = [], 0, None

    def sample(self, seconds, min_steps, steps=None):
        if self.serve:
            p = subprocess.Popen(self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env, text=True)
            try:
                ready = self._read(p)
                if not ready.get("ready"):
                    raise RuntimeError(f"{self.name}: no ready line from {' '.join(self.cmd)}: {ready}")
                p.stdin.write(f"run {seconds} {min_steps}\nquit\n")
                p.stdin.flush()
                r = self._read(p)
            finally:
                p.stdin.close()
                p.wait(timeout=120)
            info = ready
        else:
            out = subprocess.run(self.cmd + ["--steps", str(steps)], env=self.env, stdout=subprocess.PIPE,
                                 text=True, check=True).stdout
            r = info = json.loads(out.strip().splitlines()[-1])
        if self.ready is None:
            self.ready = info
        self.samples.append(r["tokens_per_s"])
        self.maxrss_kb = max(self.maxrss_kb, r["maxrss_kb"], info.get("maxrss_kb", 0))
        return r

    def _read(self, p):
        line = p.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: {' '.join(self.cmd)} exited with {p.wait()}")
        return json.loads(line)


def gemm_peaks(build, threads, quick):
    """bench_gemm_peak's best GFLOP/s per (workload, threads)."""
    out = os.path.join(build, "gemm_peak.json")
    cmd = [os.path.join(build, "bench", "bench_gemm_peak"), "--threads", ",".join(map(str, threads)),
           "--reps", "3", "--json", out]
    if quick:
        cmd.append("--quick")
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    with open(out) as f:
        res = json.load(f)
    return {(r["workload"], r["threads"]): r["gflops"] for r in res["results"]}, res


def flops_per_token(model, params, d):
    """6 x parameters per token (forward 2N, backward 4N), plus attention for
    the gpt: 12 L C T per token (QK^T and AV, forward and backward; PaLM's
    appendix B formula with T the context)."""
    if model == "gpt":
        return 6 * params + 12 * GPT["layers"] * d * GPT["ctx"]
    return 6 * params


def theory_bytes(model, params, d):
    """Parameters, gradients, two AdamW moments, activations of one batch kept
    for backward (llm.c's set), and the random dataset (8 batches)."""
    if model == "gpt":
        B, T, V, L, NH, C = GPT["batch"], GPT["ctx"], GPT["vocab"], GPT["layers"], GPT["heads"], d
        BT = B * T
        per_layer = (BT * C + 2 * BT          # ln1 out, mean, rstd
                     + 3 * BT * C             # qkv
                     + BT * C                 # attention output
                     + B * NH * T * T         # attention probabilities
                     + BT * C + BT * C        # attention projection, residual
                     + BT * C + 2 * BT        # ln2
                     + 4 * BT * C * 2         # fc, gelu
                     + BT * C + BT * C)       # fc projection, residual
        acts = BT * C + L * per_layer + BT * C + 2 * BT + 2 * BT * V
        data = 8 * 2 * BT
    else:
        B = MLP["batch"]
        acts = B * MLP["hidden"] * 2 + B * MLP["classes"] * 2
        data = 8 * B * (MLP["inputs"] + 1)
    return 4 * (4 * params + acts + data), {"params_grads_moments": 16 * params, "activations": 4 * acts,
                                             "dataset": 4 * data}


def bench_one(build, model, d, threads, reps, seconds, ours_env):
    label = f"gpt d{d}" if model == "gpt" else "mlp 784-256-10"
    ours_cmd = [os.path.join(build, "bench", "bench_throughput"), "--model", model, "--threads", str(threads),
                "--serve"]
    ref = os.path.join(HERE, "ref", "torch_gpt.py" if model == "gpt" else "torch_mlp.py")
    py = "/usr/bin/python3"
    torch_args = ["--d", str(d)] if model == "gpt" else []
    if model == "gpt":
        ours_cmd += ["--d", str(d)]
    best_env = clean_env(OPENBLAS_CORETYPE="SkylakeX", OPENBLAS_NUM_THREADS=str(threads))
    cs = [Contender("ours", ours_cmd, clean_env(**ours_env)),
          Contender("torch-default", [py, ref, "--threads", str(threads), "--serve"] + torch_args, clean_env()),
          Contender("torch-best", [py, ref, "--threads", "1", "--serve"] + torch_args, best_env),
          Contender("torch-alone", [py, ref, "--threads", "1"] + torch_args, best_env, serve=False)]
    min_steps = 2
    for r in range(reps):
        # the plain run times a fixed step count: about --seconds at torch-best's last speed
        steps = 10
        if cs[2].samples and cs[2].ready:
            steps = max(min_steps, round(cs[2].samples[-1] * seconds / cs[2].ready["tokens_per_step"]))
        for c in cs[r % len(cs):] + cs[:r % len(cs)]:
            c.sample(seconds, min_steps, steps)
        print(f"  {label} t={threads} rep {r + 1}/{reps}: " +
              ", ".join(f"{c.name} {c.samples[-1]:.0f}" for c in cs), file=sys.stderr)
    return cs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.5, help="timed window per repetition and worker")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--models", default="gpt128,gpt256,mlp")
    ap.add_argument("--quick", action="store_true", help="square GEMMs up to 1024 only")
    ap.add_argument("--ours-env", default="GOMP_SPINCOUNT=100000",
                    help="environment of our worker, VAR=VALUE,...: the CLI's default wait policy")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "throughput.json"))
    a = ap.parse_args()
    if a.reps < 5:
        print("throughput: note: fewer than 5 repetitions; BENCH.md asks for at least 5", file=sys.stderr)
    threads = [int(t) for t in a.threads.split(",")]
    ours_env = dict(kv.split("=", 1) for kv in a.ours_env.split(",") if kv)
    peaks, peak_json = gemm_peaks(a.build, threads, a.quick)
    rows = []
    for spec in a.models.split(","):
        model, d = ("gpt", int(spec[3:])) if spec.startswith("gpt") else ("mlp", 0)
        for t in threads:
            ws = bench_one(a.build, model, d, t, a.reps, a.seconds, ours_env)
            ours, tdef, tbest, talone = ws
            params = ours.ready["params"]
            if tdef.ready["params"] != params:
                raise SystemExit(f"throughput: models differ: ours {params} parameters, torch {tdef.ready['params']}")
            med = {w.name: statistics.median(w.samples) for w in ws}
            fpt = flops_per_token(model, params, d)
            square_peak = max(v for (name, th), v in peaks.items() if th == t and name.startswith("square"))
            step_name = f"gpt d{d} step" if model == "gpt" else "mlp 784-256-10 step"
            step_peak = peaks.get((step_name, t))
            gflops = fpt * med["ours"] / 1e9
            need, parts = theory_bytes(model, params, d)
            rows.append({
                "model": spec, "threads": t, "params": params,
                "tokens_per_s": med, "samples": {w.name: w.samples for w in ws},
                "ratio_vs_torch_default": med["ours"] / med["torch-default"],
                "ratio_vs_torch_best": med["ours"] / med["torch-best"],
                "ratio_vs_torch_alone": med["ours"] / med["torch-alone"],
                "check_torch_best_vs_alone": med["torch-best"] / med["torch-alone"],
                "check_ok": abs(med["torch-best"] / med["torch-alone"] - 1) <= 0.10,
                "ours_env": ours_env,
                "flops_per_token": fpt,
                "gflops": {w.name: fpt * med[w.name] / 1e9 for w in ws},
                "gemm_peak_square": square_peak, "gemm_peak_model_shapes": step_peak,
                "fraction_of_square_peak": gflops / square_peak,
                "fraction_of_model_shape_peak": gflops / step_peak if step_peak else None,
                "maxrss_kb": {w.name: w.maxrss_kb for w in ws},
                "baseline_rss_kb": {w.name: w.ready.get("baseline_rss_kb") for w in ws},
                "theory_bytes": need, "theory_parts": parts,
                "blas": ours.ready.get("blas"),
                "torch_config": {w.name: {k: w.ready.get(k) for k in
                                          ("torch_threads", "OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "threadpools")}
                                 for w in ws[1:]},
                "isolation": "each sample a fresh process, nothing else alive, order rotated",
            })

    print()
    print(f"{'model':8} {'thr':>3} {'ours tok/s':>11} {'torch-def':>10} {'torch-best':>10} {'alone':>8} {'check':>6}"
          f" {'x def':>6} {'x best':>6} {'GF/s':>6} {'%peak':>6} {'%shape':>6} {'RSS MiB':>8} {'need':>6} {'torch':>6}")
    for r in rows:
        m = r["tokens_per_s"]
        shape = r["fraction_of_model_shape_peak"]
        print(f"{r['model']:8} {r['threads']:>3} {m['ours']:>11.0f} {m['torch-default']:>10.0f} {m['torch-best']:>10.0f}"
              f" {m['torch-alone']:>8.0f} {r['check_torch_best_vs_alone']:>5.2f}{' ' if r['check_ok'] else '!'}"
              f" {r['ratio_vs_torch_default']:>6.2f} {r['ratio_vs_torch_best']:>6.2f} {r['gflops']['ours']:>6.1f}"
              f" {100 * r['fraction_of_square_peak']:>5.0f}% {100 * shape if shape else float('nan'):>5.0f}%"
              f" {r['maxrss_kb']['ours'] / 1024:>8.1f} {r['theory_bytes'] / 2**20:>6.1f}"
              f" {r['maxrss_kb']['torch-best'] / 1024:>6.0f}")
    print("\nEvery sample is a process of its own, nothing else alive, order rotated; medians of --reps."
          "\nalone: PyTorch's script run plainly (no harness protocol) with torch-best's settings; check: torch-best /"
          "\nalone, near 1 when the harness does not slow the reference ('!': off by more than 10%: do not quote)."
          "\nx def / x best: our tokens/s over PyTorch's (default; SkylakeX kernel, 1 torch thread, N OpenBLAS threads)."
          "\n%peak: our GFLOP/s (6 N + 12 L C T per token) over the best square cblas_sgemm at that thread count;"
          "\n%shape: over the GEMMs of one training step of this model at that thread count (bench_gemm_peak)."
          "\nRSS: peak resident set (ru_maxrss) of our worker; need: params+grads+2 moments+activations+data.")
    result = {"bench": "throughput", "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "reps": a.reps,
              "isolation": "process per sample", "loadavg": os.getloadavg(),
              "seconds_per_window": a.seconds, "gemm_peak": peak_json, "rows": rows}
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"\nwrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
