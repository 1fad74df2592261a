#!/usr/bin/python3
"""A plain PyTorch training loop stopped by stopwise.

The task: add two 3-digit numbers ("123456" -> "0579"), an MLP with one
softmax head per answer digit; an answer counts for exact match (EM) only if
all four digits are right. Tokens are counted the way stopwise counts a
sequence example: every input and target symbol, 6 + 4 = 10 per example.

The loop reports validation EM and losses to a stopwise Controller every
--every tokens, keeps the best checkpoint (decision.is_best), saves the
controller with the model and optimizer midway and resumes from that
checkpoint, stops when the policy says, restores the best weights, and logs
the run to a stopwise store. Then it runs the same loop (same seed) to the
full budget and prints the tokens saved and the EM kept.

Exit status 0 only if: the policy stopped before the budget; the stopped
run's curve is the full run's up to the stop (so the comparison is fair);
stopwise.replay of the full run's curve stops at the same evaluation as the
live controller; the restored weights score the best checkpoint's EM; and
the store holds both runs with their curves.

    /usr/bin/python3 python/examples/torch_loop.py [--store runs.db] [--budget 6000000]
"""

import argparse
import copy
import io
import os
import sys
import tempfile
import time

# Debian's torch multiplies through OpenBLAS, whose worker threads spin while
# they wait; torch.set_num_threads (below) does not reach them. Beside other
# busy processes two spinning threads made this 6M-token loop take over 300 s
# instead of 18; one thread is also the faster choice for so small a model.
# It must be set before torch loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import torch  # noqa: E402  (after OPENBLAS_NUM_THREADS)
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import stopwise  # noqa: E402  (after the path: this checkout's package)

DIGITS_IN, DIGITS_OUT = 6, 4
TOKENS_PER_EXAMPLE = DIGITS_IN + DIGITS_OUT


def make_split(gen, n):
    """n random additions a + b (0 <= a, b < 1000): inputs (n, 60) one-hot,
    targets (n, 4) digits."""
    a = torch.randint(0, 1000, (n,), generator=gen)
    b = torch.randint(0, 1000, (n,), generator=gen)
    def digits(x, k):
        return torch.stack([(x // 10 ** (k - 1 - i)) % 10 for i in range(k)], dim=1)
    x = torch.cat([digits(a, 3), digits(b, 3)], dim=1)
    return F.one_hot(x, 10).float().reshape(n, DIGITS_IN * 10), digits(a + b, DIGITS_OUT)


class Adder(torch.nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(DIGITS_IN * 10, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                                        torch.nn.Linear(hidden, DIGITS_OUT * 10))

    def forward(self, x):
        return self.body(x).reshape(-1, DIGITS_OUT, 10)  # (B, 4, 10) logits per answer digit


def loss_of(logits, y):
    return F.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))


@torch.no_grad()
def evaluate(model, x, y):
    """(EM in percent, mean loss): EM counts an answer right only if all its digits are."""
    logits = model(x)
    em = (logits.argmax(-1) == y).all(dim=1).float().mean().item() * 100
    return em, loss_of(logits, y).item()


def train(args, policy, data, store, resume_at=None):
    """One run of the loop under `policy` ("none": to the full budget).
    Returns a dict: the curve, the last decision, tokens used, the restored
    best's EMs, the store's run id."""
    (xtr, ytr), (xva, yva), (xte, yte) = data
    torch.manual_seed(args.seed)
    model = Adder(args.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    order = torch.Generator().manual_seed(args.seed)  # the batches' order
    ctl = stopwise.Controller(policy, budget=args.budget)
    run = store.start_run("torch adder seed %d" % args.seed, "example:torch-adder",
                          config={"hidden": args.hidden, "lr": args.lr, "batch": args.batch, "budget": args.budget},
                          policy=ctl.policy)
    tokens, step, next_eval, curve = 0, 0, args.every, []
    best_state, train_sum, train_n, d = None, 0.0, 0, None
    perm, pos = torch.randperm(len(xtr), generator=order), 0
    while tokens < args.budget:
        if pos + args.batch > len(perm):
            perm, pos = torch.randperm(len(xtr), generator=order), 0
        idx = perm[pos: pos + args.batch]
        pos += args.batch
        loss = loss_of(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        tokens += len(idx) * TOKENS_PER_EXAMPLE
        train_sum, train_n = train_sum + loss.item(), train_n + 1
        if tokens < next_eval and tokens < args.budget:
            continue
        next_eval += args.every
        em, val_loss = evaluate(model, xva, yva)
        row = {"tokens": tokens, "step": step, "em": em, "loss": val_loss, "train_loss": train_sum / train_n}
        train_sum, train_n = 0.0, 0
        curve.append(row)
        run.log(**row)
        d = ctl.report(**row)
        if d.is_best:
            best_state = copy.deepcopy(model.state_dict())
        if d.stop:
            break
        if resume_at is not None and len(curve) == resume_at:
            # what a preemptible job does: the controller travels in the
            # checkpoint with the weights; the restored one decides on exactly
            # as this one would have
            buf = io.BytesIO()
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "controller": ctl,
                        "order": order.get_state(), "perm": perm, "pos": pos, "tokens": tokens, "step": step,
                        "next_eval": next_eval, "best": best_state}, buf)
            buf.seek(0)
            ck = torch.load(buf)
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            ctl = ck["controller"]
            order.set_state(ck["order"])
            perm, pos, tokens, step, next_eval = ck["perm"], ck["pos"], ck["tokens"], ck["step"], ck["next_eval"]
            best_state = ck["best"]
    model.load_state_dict(best_state)  # restore the best checkpoint
    val_em, _ = evaluate(model, xva, yva)
    test_em, _ = evaluate(model, xte, yte)
    run.finish(decision=d, tokens=tokens, val_em=val_em, test_em=test_em)
    return {"curve": curve, "decision": d, "tokens": tokens, "val_em": val_em, "test_em": test_em, "run": run.id}


def millions(t):
    return "%.2fM" % (t / 1e6)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", default="patience=6:min_delta=0.2,diverge,warmup=600k",
                    help="the stopping policy (default: %(default)s)")
    ap.add_argument("--budget", type=int, default=6_000_000, help="tokens per run (default: %(default)s)")
    ap.add_argument("--every", type=int, default=100_000, help="tokens between evaluations (default: %(default)s)")
    ap.add_argument("--train", type=int, default=10_000, help="training examples (default: %(default)s)")
    ap.add_argument("--hidden", type=int, default=256, help="hidden width (default: %(default)s)")
    ap.add_argument("--batch", type=int, default=250, help="examples per step (default: %(default)s)")
    ap.add_argument("--lr", type=float, default=3e-3, help="Adam's learning rate (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the data and the weights (default: %(default)s)")
    ap.add_argument("--store", help="store path or postgresql:// URL (default: a temporary SQLite file)")
    args = ap.parse_args()
    torch.set_num_threads(1)  # deterministic, and polite on a shared machine

    gen = torch.Generator().manual_seed(1000 + args.seed)
    data = (make_split(gen, args.train), make_split(gen, 2000), make_split(gen, 2000))
    tmp = None
    if args.store is None:
        tmp = tempfile.TemporaryDirectory(prefix="stopwise-torch-")
        args.store = os.path.join(tmp.name, "runs.db")

    t0 = time.monotonic()
    with stopwise.Store(args.store) as store:
        stopped = train(args, args.policy, data, store, resume_at=5)
        t1 = time.monotonic()
        full = train(args, "none", data, store)
        t2 = time.monotonic()
        runs = {r.id: r for r in store.runs(ids=[stopped["run"], full["run"]])}
        lengths = {i: len(store.curve(i)) for i in runs}

    d = stopped["decision"]
    saved = args.budget - stopped["tokens"]
    print("policy: %s" % args.policy)
    print("stopped run: %s tokens of %s (%.1f s): %s" % (millions(stopped["tokens"]), millions(args.budget), t1 - t0,
                                                        d.reason if d.stop else "ran to the budget"))
    print("  best checkpoint at %s tokens, restored: val EM %.2f, test EM %.2f"
          % (millions(d.best.tokens), stopped["val_em"], stopped["test_em"]))
    print("full budget: %s tokens (%.1f s); best checkpoint at %s tokens, restored: val EM %.2f, test EM %.2f"
          % (millions(full["tokens"]), t2 - t1, millions(full["decision"].best.tokens), full["val_em"],
             full["test_em"]))
    print("tokens saved: %s (%.0f%%)" % (millions(saved), 100 * saved / args.budget))
    print("EM kept: test %.2f of %.2f (%+.2f points), val %.2f of %.2f (%+.2f points)"
          % (stopped["test_em"], full["test_em"], stopped["test_em"] - full["test_em"], stopped["val_em"],
             full["val_em"], stopped["val_em"] - full["val_em"]))
    print("store %s: run %d %s, run %d %s" % (args.store, stopped["run"], runs[stopped["run"]].status, full["run"],
                                             runs[full["run"]].status))

    # the checks that make this example a test (exit status)
    n = len(stopped["curve"])
    replayed = stopwise.replay(args.policy, full["curve"]) if d.stop else None
    checks = {
        "the policy stopped before the budget": d.stop and stopped["tokens"] < args.budget,
        "the stopped run's curve is the full run's up to the stop": stopped["curve"] == full["curve"][:n],
        "replay of the full curve stops where the live controller did":
            replayed is not None and replayed.stopped and replayed.stop_index == d.index
            and replayed.reason == d.reason,
        "the restored weights score the best checkpoint's EM": stopped["val_em"] == d.best.value,
        "the store holds both runs with their curves":
            runs[stopped["run"]].status == "stopped" and runs[full["run"]].status == "completed"
            and lengths == {stopped["run"]: n, full["run"]: len(full["curve"])},
    }
    for what, ok in checks.items():
        if not ok:
            print("FAILED: %s" % what, file=sys.stderr)
    if tmp is not None:
        tmp.cleanup()
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
