"""The `gpt` model of stopwise in PyTorch, for the throughput and parity benches.

Matches src/nn (llm.c's GPT-2 layout): token + position embeddings; pre-LayerNorm
blocks (eps 1e-5) with causal multi-head attention (one fused qkv linear, q|k|v
each C wide, heads as consecutive hs-slices) and a GELU-tanh MLP (C -> 4C -> C),
every linear with a bias; a final LayerNorm; the output head tied to the token
embedding (no bias). Loss: masked mean cross-entropy over all positions.

    /usr/bin/python3 bench/ref/torch_gpt.py --d 128 --threads 2 [--serve]
"""
import argparse
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_common  # noqa: E402


class Attention(nn.Module):
    """Causal multi-head self-attention: qkv (3C, C) with q|k|v each C wide."""

    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        B, T, C = x.shape
        hs = C // self.heads
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.heads, hs).transpose(1, 2)  # (B, NH, T, hs)
        k = k.view(B, T, self.heads, hs).transpose(1, 2)
        v = v.view(B, T, self.heads, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))  # (B, NH, T, T)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, 4 * d)
        self.proj = nn.Linear(4 * d, d)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.ln1 = nn.LayerNorm(d, eps=1e-5)
        self.attn = Attention(d, heads)
        self.ln2 = nn.LayerNorm(d, eps=1e-5)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Parameter names are ours with .w/.b spelled .weight/.bias: wte, wpe,
    h.{l}.ln1, h.{l}.attn.qkv, h.{l}.attn.proj, h.{l}.ln2, h.{l}.mlp.fc,
    h.{l}.mlp.proj, lnf, and head when untied."""

    def __init__(self, vocab=64, ctx=32, d=128, layers=4, heads=4, tied=True):
        super().__init__()
        self.wte = nn.Embedding(vocab, d)
        self.wpe = nn.Embedding(ctx, d)
        self.h = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.lnf = nn.LayerNorm(d, eps=1e-5)
        self.head = None if tied else nn.Linear(d, vocab, bias=False)
        # GPT-2 style init (the parity check overwrites it with ours)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif "ln" in name:
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx, targets=None, mask=None):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        for block in self.h:
            x = block(x)
        head = self.wte.weight if self.head is None else self.head.weight
        logits = self.lnf(x) @ head.t()  # (B, T, V)
        if targets is None:
            return logits, None
        ce = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1).long(), reduction="none")
        if mask is None:
            return logits, ce.mean()
        m = mask.view(-1)
        return logits, (ce * m).sum() / m.sum()


def make_step(model, opt, batches, clip):
    state = {"i": 0}

    def step():
        x, y = batches[state["i"] % len(batches)]
        state["i"] += 1
        opt.zero_grad()
        _, loss = model(x, y)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ctx", type=int, default=32)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--serve", action="store_true", help="answer run/quit lines on stdin (see torch_common.py)")
    a = ap.parse_args()
    info = torch_common.setup_threads(torch, a.threads)
    torch.manual_seed(a.seed)
    base = torch_common.rss_kb()
    model = GPT(a.vocab, a.ctx, a.d, a.layers, a.heads)
    # the same optimizer as ours: AdamW(0.9, 0.95, eps 1e-8, wd 0.1 on every
    # parameter), clip the global norm to 1
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    g = torch.Generator().manual_seed(a.seed)
    batches = [(torch.randint(0, a.vocab, (a.batch, a.ctx), generator=g),
                torch.randint(0, a.vocab, (a.batch, a.ctx), generator=g)) for _ in range(8)]
    step = make_step(model, opt, batches, clip=1.0)
    info.update(model="gpt", d=a.d, params=sum(p.numel() for p in model.parameters()), baseline_rss_kb=base)
    tokens = a.batch * a.ctx
    if a.serve:
        torch_common.serve(step, tokens, info)
    else:
        torch_common.standalone(step, tokens, info, steps=a.steps)


if __name__ == "__main__":
    main()
