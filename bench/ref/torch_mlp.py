"""The `mlp` model of stopwise in PyTorch: 784-256-10, ReLU, no dropout,
AdamW, batch 128, softmax cross-entropy; one example is one token.

    /usr/bin/python3 bench/ref/torch_mlp.py --threads 2 [--serve]
"""
import argparse
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402


class MLP(nn.Module):
    """inputs -> hidden[0] -> ... -> classes, each hidden layer Linear + act.
    Parameter names are ours with .w/.b spelled .weight/.bias: fc.{i}."""

    def __init__(self, inputs=784, hidden=(256,), classes=10, act="relu"):
        super().__init__()
        hidden = tuple(hidden)
        sizes = [inputs, *hidden, classes]
        self.fc = nn.ModuleList([nn.Linear(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1)])
        self.act = act

    def forward(self, x, targets=None):
        for i, layer in enumerate(self.fc):
            x = layer(x)
            if i + 1 < len(self.fc):
                x = F.relu(x) if self.act == "relu" else F.gelu(x, approximate="tanh")
        if targets is None:
            return x, None
        return x, F.cross_entropy(x, targets.long())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=784)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--serve", action="store_true")
    a = ap.parse_args()
    info = torch_common.setup_threads(torch, a.threads)
    torch.manual_seed(a.seed)
    base = torch_common.rss_kb()
    model = MLP(a.inputs, (a.hidden,), a.classes)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    g = torch.Generator().manual_seed(a.seed)
    batches = [(torch.rand(a.batch, a.inputs, generator=g), torch.randint(0, a.classes, (a.batch,), generator=g))
               for _ in range(8)]
    state = {"i": 0}

    def step():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        opt.zero_grad()
        _, loss = model(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    info.update(model="mlp", params=sum(p.numel() for p in model.parameters()), baseline_rss_kb=base)
    if a.serve:
        torch_common.serve(step, a.batch, info)
    else:
        torch_common.standalone(step, a.batch, info, steps=a.steps)


if __name__ == "__main__":
    main()
