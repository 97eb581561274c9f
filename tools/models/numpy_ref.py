#!/usr/bin/env python3
"""Independent F32 forward pass (numpy) checked against the committed oracle data.

Usage:
    numpy_ref.py --model smollm2|gemma3|MODEL.gguf --oracle tests/data/llm/MODEL.json [--json OUT]

A second, deliberately simple implementation of the two architectures (llama and
gemma3): every weight is dequantized to F32 with the `gguf` package's reference
dequantizers, activations stay in F32 (llama.cpp instead rounds activations to
8 bits for its quantized dot products and uses an F16 table for GELU), and the
whole sequence prompt + generated[:-1] is run teacher-forced in one causal pass.
It reports, per prompt, how far its logits are from llama.cpp's:

  prompt top-20   max |logit - oracle| over the oracle's top-20 ids at the last
                  prompt position
  steps top-5     the same over every generated step's recorded top-5
  argmax agree    steps where its argmax equals the oracle's greedy token, and the
                  smallest oracle margin (top1 - top2) among the steps that differ

That is the error budget an exact, unfused F32 implementation lands in, and so a
realistic tolerance for weft's comparison.  Needs numpy and gguf (PyPI).
"""

import argparse
import json
import math
import sys

import os

import numpy as np
import gguf

sys.dont_write_bytecode = True  # no __pycache__ inside the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch  # noqa: E402  (tools/models/fetch.py)


class Model:
    def __init__(self, path):
        r = gguf.GGUFReader(path)
        self.kv = {}
        for f in r.fields.values():
            if not f.types or f.types[0] == gguf.GGUFValueType.ARRAY:
                continue
            v = f.parts[f.data[0]]
            if f.types[0] == gguf.GGUFValueType.STRING:
                v = bytes(v).decode("utf-8")
            else:
                v = v.tolist()[0]
            self.kv[f.name] = v
        self.arch = self.kv["general.architecture"]
        self.t = {}
        for t in r.tensors:
            self.t[t.name] = t
        self._cache = {}

    def mm(self, x, name):
        """x @ W^T for weight `name`, optionally with llama.cpp's activation rounding."""
        if EMULATE_Q8:
            blk = VEC_DOT_BLOCK.get(self.t[name].tensor_type.name)
            if blk:
                x = q8_round(x, blk)
        return x @ self.w(name).T

    def w(self, name):
        if name not in self._cache:
            t = self.t[name]
            self._cache[name] = np.ascontiguousarray(
                gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)
        return self._cache[name]

    def hp(self, key, default=None):
        return self.kv.get("%s.%s" % (self.arch, key), default)


# ggml's vec_dot_type per weight type: llama.cpp rounds the activation row to
# this format (blocks of 32 or 256, one scale per block, int8 values) before a
# quantized dot product.  --emulate-q8 reproduces that here.
VEC_DOT_BLOCK = {"Q4_0": 32, "Q4_1": 32, "Q5_0": 32, "Q5_1": 32, "Q8_0": 32,
                 "Q2_K": 256, "Q3_K": 256, "Q4_K": 256, "Q5_K": 256, "Q6_K": 256}
EMULATE_Q8 = False


def q8_round(x, block):
    shp = x.shape
    xb = x.reshape(-1, block).astype(np.float32)
    amax = np.max(np.abs(xb), axis=1, keepdims=True)
    d = amax / 127.0
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(d > 0, np.round(xb / np.where(d > 0, d, 1)), 0)
    return (q * d).astype(np.float32).reshape(shp)


def rms_norm(x, w, eps):
    x64 = x.astype(np.float32)
    ms = np.mean(x64 * x64, axis=-1, keepdims=True)
    return (x64 / np.sqrt(ms + eps)) * w


def rope(x, pos, base, neox):
    """x: (T, H, D); rotate all D dims (n_rot == head_dim for both models)."""
    T, H, D = x.shape
    inv = base ** (-np.arange(0, D, 2, dtype=np.float64) / D)
    ang = pos[:, None].astype(np.float64) * inv[None, :]
    c = np.cos(ang).astype(np.float32)[:, None, :]
    s = np.sin(ang).astype(np.float32)[:, None, :]
    if neox:
        a, b = x[..., :D // 2], x[..., D // 2:]
        return np.concatenate([a * c - b * s, a * s + b * c], axis=-1)
    a, b = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = a * c - b * s
    out[..., 1::2] = a * s + b * c
    return out


def attention(q, k, v, scale, window=None):
    """q: (T, H, D), k/v: (T, Hkv, D); causal, optional sliding window."""
    T, H, D = q.shape
    Hkv = k.shape[1]
    g = H // Hkv
    out = np.empty((T, H, v.shape[2]), dtype=np.float32)
    i = np.arange(T)[:, None]
    j = np.arange(T)[None, :]
    mask = j > i
    if window:
        mask |= (i - j) >= window
    for h in range(H):
        kh = k[:, h // g, :]
        vh = v[:, h // g, :]
        s = (q[:, h, :] @ kh.T) * scale
        s = np.where(mask, -np.inf, s)
        s = s - s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        out[:, h, :] = p @ vh
    return out


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def silu(x):
    return x / (1.0 + np.exp(-x))


def forward(m, tokens):
    tokens = np.asarray(tokens)
    pos = np.arange(len(tokens))
    n_embd = m.hp("embedding_length")
    n_head = m.hp("attention.head_count")
    n_kv = m.hp("attention.head_count_kv")
    n_layer = m.hp("block_count")
    eps = m.hp("attention.layer_norm_rms_epsilon")
    base = m.hp("rope.freq_base")
    emb = m.w("token_embd.weight")
    x = emb[tokens].astype(np.float32)
    gemma = m.arch == "gemma3"
    if gemma:
        x = x * np.float32(math.sqrt(n_embd))
        hd = m.hp("attention.key_length")
        window = m.hp("attention.sliding_window")
        base_swa = m.hp("rope.freq_base_swa", 10000.0)
        pattern = 6  # llama.cpp's default for gemma3 when the GGUF has no pattern key
    else:
        hd = n_embd // n_head
    T = len(tokens)
    for il in range(n_layer):
        p = "blk.%d." % il
        h = rms_norm(x, m.w(p + "attn_norm.weight"), eps)
        q = m.mm(h, p + "attn_q.weight").reshape(T, n_head, hd)
        k = m.mm(h, p + "attn_k.weight").reshape(T, n_kv, hd)
        v = m.mm(h, p + "attn_v.weight").reshape(T, n_kv, hd)
        if gemma:
            swa = (il % pattern) < pattern - 1
            q = rms_norm(q, m.w(p + "attn_q_norm.weight"), eps)
            k = rms_norm(k, m.w(p + "attn_k_norm.weight"), eps)
            b = base_swa if swa else base
            q = rope(q, pos, b, neox=True)
            k = rope(k, pos, b, neox=True)
            a = attention(q, k, v, 1.0 / math.sqrt(hd), window if swa else None)
        else:
            q = rope(q, pos, base, neox=False)
            k = rope(k, pos, base, neox=False)
            a = attention(q, k, v, 1.0 / math.sqrt(hd))
        a = m.mm(a.reshape(T, n_head * hd), p + "attn_output.weight")
        if gemma:
            a = rms_norm(a, m.w(p + "post_attention_norm.weight"), eps)
        x = x + a
        h = rms_norm(x, m.w(p + "ffn_norm.weight"), eps)
        gate = m.mm(h, p + "ffn_gate.weight")
        up = m.mm(h, p + "ffn_up.weight")
        act = gelu_tanh(gate) if gemma else silu(gate)
        f = m.mm(act * up, p + "ffn_down.weight")
        if gemma:
            f = rms_norm(f, m.w(p + "post_ffw_norm.weight"), eps)
        x = x + f
    x = rms_norm(x, m.w("output_norm.weight"), eps)
    out_name = "output.weight" if "output.weight" in m.t else "token_embd.weight"
    return x, out_name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--oracle", required=True)
    ap.add_argument("--json")
    ap.add_argument("--emulate-q8", action="store_true",
                    help="round activations to 8 bits before quantized dot products, as ggml does")
    a = ap.parse_args()
    global EMULATE_Q8
    EMULATE_Q8 = a.emulate_q8
    if a.model in fetch.MODELS:
        try:
            a.model = fetch.fetch(a.model, fetch.default_cache())
        except fetch.FetchError as e:
            sys.exit("numpy_ref: %s" % e)
    m = Model(a.model)
    with open(a.oracle, encoding="utf-8") as f:
        oracle = json.load(f)
    report = []
    for p in oracle["prompts"]:
        pt, gen = p["prompt_tokens"], p["generated"]
        seq = pt + gen[:-1]
        x, out_name = forward(m, seq)
        start = len(pt) - 1
        logits = m.mm(x[start:], out_name)  # (n_gen, n_vocab): row i predicts generated[i]
        top_ids = [i for i, _ in p["top_logits"]]
        top_ref = np.array([l for _, l in p["top_logits"]])
        d_prompt = float(np.max(np.abs(logits[0, top_ids] - top_ref)))
        # The same after log-softmax: a shift common to all logits cancels.
        lse_ref = p["prompt_logits_stats"]["logsumexp"]
        l0 = logits[0].astype(np.float64)
        lse = l0.max() + np.log(np.sum(np.exp(l0 - l0.max())))
        d_prompt_lp = float(np.max(np.abs((l0[top_ids] - lse) - (top_ref - lse_ref))))
        d_steps = 0.0
        disagree = []
        for i, st in enumerate(p["steps"]):
            ids = [t for t, _ in st["top"]]
            ref = np.array([l for _, l in st["top"]])
            d_steps = max(d_steps, float(np.max(np.abs(logits[i, ids] - ref))))
            if int(np.argmax(logits[i])) != gen[i]:
                disagree.append((i, st["margin"]))
        r = dict(id=p["id"], prompt_top20_max_abs_diff=round(d_prompt, 5),
                 prompt_top20_logprob_max_abs_diff=round(d_prompt_lp, 5),
                 steps_top5_max_abs_diff=round(d_steps, 5),
                 argmax_agree=len(gen) - len(disagree), n=len(gen),
                 disagreements=[[i, round(mg, 4)] for i, mg in disagree])
        report.append(r)
        print("%-11s prompt top-20 %.4f (log-softmax %.4f)  steps top-5 %.4f  argmax agree %d/%d %s"
              % (p["id"], d_prompt, d_prompt_lp, d_steps, r["argmax_agree"], r["n"],
                 ("disagree at (step, oracle margin) %s" % r["disagreements"]) if disagree else ""))
        sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
