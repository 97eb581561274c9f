#!/usr/bin/env python3
"""Record llama.cpp's greedy continuations and logits for fixed prompts (the test oracle).

Usage:
    oracle.py --model smollm2|gemma3|MODEL.gguf [--key smollm2|gemma3]
              --prompts tests/data/llm/prompts.json
              [--out FILE] [--threads 2] [--n-ctx 512] [--n-gen 48] [--top 20]
              [--step-top 5] [--variation]

--model smollm2 or gemma3 takes the model from the weft model cache, fetching it
first if needed (tools/models/fetch.py); --key then defaults to the same name.

Runs llama.cpp through the Python package llama_cpp (llama-cpp-python, built from
its PyPI sdist; see docs/models.md for the exact install).  For every prompt of
the model KEY in the prompts file it records:

  prompt_tokens   the ids actually fed: the prompt text tokenized as llama.cpp
                  does by default (BOS only if the GGUF asks for it,
                  special-token text parsed as special tokens)
  top_logits      the TOP highest (id, logit) of the last prompt position, raw
                  logits as the model's output layer produced them (read with
                  llama_get_logits_ith before any sampler runs)
  generated       N_GEN token ids chosen greedily (argmax of the raw logits, no
                  penalties; end-of-generation tokens do not stop the run: the
                  index of the first one is given in first_eog_index), with each
                  step's STEP_TOP best (id, logit) and the top1 - top2 margin
  text            the continuation detokenized, and each token's piece

The greedy ids are cross-checked against llama.cpp's own sampler chain
(Llama.generate with top_k=1, temp=0, repeat_penalty=1); a disagreement is an
error.

Run configuration (recorded in the header): n_ctx, one prompt batch (n_batch =
n_ubatch = n_ctx), F32 K/V cache and flash attention off, so that llama.cpp
computes attention in F32 the way a straightforward implementation does.

--variation additionally reruns every prompt under other configurations (the same
again, 1 thread, token-by-token prompt evaluation, llama.cpp's default F16 K/V
cache with flash attention on) and records how far their logits move from the
main run: this is llama.cpp's own spread, the floor for any tolerance.

Needs numpy and llama_cpp (both come with llama-cpp-python).
"""

import argparse
import ctypes
import datetime
import hashlib
import json
import os
import platform
import shlex
import sys
from collections import OrderedDict

import numpy as np
import llama_cpp
from llama_cpp import Llama

sys.dont_write_bytecode = True  # no __pycache__ inside the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch  # noqa: E402  (tools/models/fetch.py)

# llama.cpp commit vendored by each llama-cpp-python release we have used
# (from the sdist's vendor/llama.cpp submodule and its CHANGELOG).
LLAMA_CPP_COMMITS = {
    "0.3.36": "0c1e57098bba43ac29e6e3b677cdceebdd22334f",
}


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Runner:
    """One llama.cpp model + context in a fixed configuration."""

    def __init__(self, model, threads, n_ctx, n_batch, kv_f16, flash_attn):
        kw = dict(model_path=model, n_ctx=n_ctx, n_batch=n_batch, n_ubatch=n_batch,
                  n_threads=threads, n_threads_batch=threads, logits_all=False,
                  seed=0, verbose=False, use_mmap=True)
        if not kv_f16:
            kw["type_k"] = llama_cpp.GGML_TYPE_F32
            kw["type_v"] = llama_cpp.GGML_TYPE_F32
        kw["flash_attn"] = flash_attn
        self.llm = Llama(**kw)
        self.n_vocab = self.llm.n_vocab()
        self.config = OrderedDict(threads=threads, n_ctx=n_ctx, n_batch=n_batch,
                                  n_ubatch=n_batch,
                                  kv_cache="f16" if kv_f16 else "f32",
                                  flash_attn=bool(flash_attn))

    def tokenize(self, text):
        # add_bos=True means "add the special tokens the vocabulary asks for",
        # special=True parses "<|im_start|>" etc. as control tokens: llama.cpp's
        # default for prompts.
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def last_logits(self):
        ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        if not ptr:
            raise RuntimeError("llama_get_logits_ith returned NULL")
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float32).copy()

    def run(self, tokens, n_gen):
        """Prompt in batches of n_batch, then n_gen greedy steps; returns (prompt
        logits, list of step logits, generated ids)."""
        self.llm.reset()
        self.llm.eval(tokens)
        prompt_logits = self.last_logits()
        cur = prompt_logits
        gen, steps = [], []
        for i in range(n_gen):
            tok = int(np.argmax(cur))
            gen.append(tok)
            steps.append(cur)
            if i + 1 < n_gen:
                self.llm.eval([tok])
                cur = self.last_logits()
        return prompt_logits, steps, gen

    def sampler_greedy(self, tokens, n_gen):
        # Without the reset, generate() would reuse the cached prompt prefix and
        # re-evaluate only its tail one token at a time, which is a different
        # kernel path with logits that differ by up to a few tenths.
        self.llm.reset()
        out = []
        for tok in self.llm.generate(tokens, top_k=1, top_p=1.0, min_p=0.0, temp=0.0,
                                     repeat_penalty=1.0, reset=True):
            out.append(int(tok))
            if len(out) == n_gen:
                break
        return out

    def piece(self, tok):
        buf = ctypes.create_string_buffer(256)
        n = llama_cpp.llama_token_to_piece(self.llm._model.vocab, tok, buf, len(buf), 0, True)
        return buf.raw[:max(n, 0)]

    def is_eog(self, tok):
        return bool(llama_cpp.llama_vocab_is_eog(self.llm._model.vocab, tok))


def dumps(obj, indent=0):
    """JSON with one line per list of scalars (or of short scalar lists), so that
    token lists and (id, logit) tables stay readable and diffable."""
    inner = " " * (indent + 1)
    close = " " * indent

    def flat(x):
        return not isinstance(x, (list, dict)) or (
            isinstance(x, list) and all(not isinstance(y, (list, dict)) for y in x))

    if isinstance(obj, dict) and obj:
        items = ["%s%s: %s" % (inner, json.dumps(k), dumps(v, indent + 1)) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + close + "}"
    if isinstance(obj, list) and obj and not all(flat(x) for x in obj):
        items = [inner + dumps(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + close + "]"
    return json.dumps(obj, ensure_ascii=False)


def log_softmax(logits):
    x = logits.astype(np.float64)
    m = x.max()
    return x - (m + np.log(np.sum(np.exp(x - m))))


def logsumexp(logits):
    x = logits.astype(np.float64)
    m = x.max()
    return float(m + np.log(np.sum(np.exp(x - m))))


def top_k(logits, k):
    idx = np.argsort(-logits, kind="stable")[:k]
    return [[int(i), round(float(logits[i]), 6)] for i in idx]


def text_of(b):
    return b.decode("utf-8", errors="backslashreplace")


def compare(base, other, top):
    """Spread of one configuration's run against the main run."""
    bp, bsteps, bgen = base
    op, osteps, ogen = other
    ids = np.argsort(-bp, kind="stable")[:top]
    div = next((i for i, (a, b) in enumerate(zip(bgen, ogen)) if a != b), None)
    n_same = div if div is not None else len(bgen)
    step_top1 = [abs(float(bs[t]) - float(os_[t])) for bs, os_, t in
                 zip(bsteps[:n_same], osteps[:n_same], bgen[:n_same])]
    step_full = [float(np.max(np.abs(bs - os_))) for bs, os_ in
                 zip(bsteps[:n_same], osteps[:n_same])]
    blp, olp = log_softmax(bp), log_softmax(op)
    return OrderedDict(
        prompt_max_abs_diff_top=round(float(np.max(np.abs(bp[ids] - op[ids]))), 7),
        prompt_max_abs_diff_top_logprob=round(float(np.max(np.abs(blp[ids] - olp[ids]))), 7),
        prompt_max_abs_diff_all=round(float(np.max(np.abs(bp - op))), 7),
        generated_identical=bgen == ogen,
        first_divergence=div,
        steps_max_abs_diff_top1=round(max(step_top1), 7) if step_top1 else None,
        steps_max_abs_diff_all=round(max(step_full), 7) if step_full else None,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True,
                    help="smollm2, gemma3 (from the weft model cache) or a GGUF path")
    ap.add_argument("--key", help="model key in the prompts file (default: --model's name)")
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-ctx", type=int, default=512)
    ap.add_argument("--n-gen", type=int, default=48)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--step-top", type=int, default=5)
    ap.add_argument("--variation", action="store_true")
    a = ap.parse_args()
    if a.model in fetch.MODELS:
        a.key = a.key or a.model
        try:
            a.model = fetch.fetch(a.model, fetch.default_cache())
        except fetch.FetchError as e:
            sys.exit("oracle: %s" % e)
    if not a.key:
        sys.exit("oracle: --key is needed when --model is a path")

    with open(a.prompts, encoding="utf-8") as f:
        prompts = json.load(f)["models"][a.key]

    main_run = Runner(a.model, a.threads, a.n_ctx, a.n_ctx, kv_f16=False, flash_attn=False)
    meta = main_run.llm.metadata
    header = OrderedDict()
    header["command"] = " ".join(shlex.quote(x) for x in
                                 ["python3", "tools/models/oracle.py"] + sys.argv[1:])
    header["model_file"] = os.path.basename(a.model)
    header["model_sha256"] = sha256_file(a.model)
    header["architecture"] = meta.get("general.architecture")
    header["llama_cpp_python_version"] = llama_cpp.__version__
    header["numpy_version"] = np.__version__
    header["llama_cpp_commit"] = LLAMA_CPP_COMMITS.get(llama_cpp.__version__, "unknown")
    header["llama_cpp_system_info"] = llama_cpp.llama_print_system_info().decode().strip()
    header["cpu"] = cpu_model()
    header["date_utc"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    header["config"] = main_run.config
    header["n_vocab"] = main_run.n_vocab
    header["decoding"] = ("greedy: argmax of the raw logits (first index on ties), no penalties; "
                          "cross-checked against llama.cpp's sampler with top_k=1, temp=0, "
                          "repeat_penalty=1; end-of-generation tokens do not stop the run")
    header["tokenization"] = ("prompt text tokenized by llama.cpp with add_special=true "
                              "(BOS only if tokenizer.ggml.add_bos_token) and parse_special=true")
    header["add_bos_token"] = meta.get("tokenizer.ggml.add_bos_token") == "true"
    header["logits"] = ("raw output-layer logits (llama_get_logits_ith) before any sampler; "
                        "top_logits is at the last prompt position, steps[i] is the position "
                        "that produced generated[i] (steps[0] is the last prompt position)")

    results = []
    runs = {}
    for p in prompts:
        toks = main_run.tokenize(p["text"])
        if len(toks) + a.n_gen > a.n_ctx:
            sys.exit("prompt %s: %d tokens + %d generated exceed n_ctx %d"
                     % (p["id"], len(toks), a.n_gen, a.n_ctx))
        pl, steps, gen = main_run.run(toks, a.n_gen)
        sampled = main_run.sampler_greedy(toks, a.n_gen)
        if sampled != gen:
            sys.exit("prompt %s: argmax ids %s differ from llama.cpp's greedy sampler %s"
                     % (p["id"], gen, sampled))
        runs[p["id"]] = (pl, steps, gen)
        pieces = [main_run.piece(t) for t in gen]
        first_eog = next((i for i, t in enumerate(gen) if main_run.is_eog(t)), None)
        step_info = []
        margins = []
        for s, t in zip(steps, gen):
            tk = top_k(s, a.step_top)
            margin = float(tk[0][1] - tk[1][1])
            margins.append(margin)
            step_info.append(OrderedDict(top=tk, margin=round(margin, 6)))
        r = OrderedDict()
        r["id"] = p["id"]
        r["text"] = p["text"]
        r["prompt_tokens"] = toks
        r["prompt_pieces"] = [text_of(main_run.piece(t)) for t in toks]
        r["top_logits"] = top_k(pl, a.top)
        r["prompt_logits_stats"] = OrderedDict(
            mean=round(float(pl.mean()), 6), std=round(float(pl.std()), 6),
            min=round(float(pl.min()), 6), max=round(float(pl.max()), 6),
            logsumexp=round(logsumexp(pl), 6))
        r["generated"] = gen
        r["generated_pieces"] = [text_of(b) for b in pieces]
        r["generated_text"] = text_of(b"".join(pieces))
        r["first_eog_index"] = first_eog
        r["min_margin_first_32"] = round(min(margins[:32]), 6)
        r["min_margin_all"] = round(min(margins), 6)
        r["steps"] = step_info
        results.append(r)
        sys.stderr.write("%s: %d prompt tokens, min margin %.4f, %r\n"
                         % (p["id"], len(toks), r["min_margin_first_32"], r["generated_text"][:60]))

    doc = OrderedDict(header=header)
    if a.variation:
        configs = [
            ("repeat", dict(threads=a.threads, n_batch=a.n_ctx, kv_f16=False, flash_attn=False)),
            ("threads_1", dict(threads=1, n_batch=a.n_ctx, kv_f16=False, flash_attn=False)),
            ("token_by_token_prompt", dict(threads=a.threads, n_batch=1, kv_f16=False,
                                           flash_attn=False)),
            ("default_f16_kv_flash_attn", dict(threads=a.threads, n_batch=a.n_ctx, kv_f16=True,
                                               flash_attn=True)),
        ]
        var = OrderedDict()
        for name, c in configs:
            if name == "repeat":
                rr = main_run
            else:
                rr = Runner(a.model, c["threads"], a.n_ctx, c["n_batch"], c["kv_f16"],
                            c["flash_attn"])
            per = OrderedDict()
            for p in prompts:
                toks = rr.tokenize(p["text"])
                per[p["id"]] = compare(runs[p["id"]], rr.run(toks, a.n_gen), a.top)
            agg = OrderedDict(
                config=rr.config,
                prompt_max_abs_diff_top=max(v["prompt_max_abs_diff_top"] for v in per.values()),
                prompt_max_abs_diff_top_logprob=max(v["prompt_max_abs_diff_top_logprob"]
                                                    for v in per.values()),
                prompt_max_abs_diff_all=max(v["prompt_max_abs_diff_all"] for v in per.values()),
                steps_max_abs_diff_top1=max((v["steps_max_abs_diff_top1"] or 0)
                                            for v in per.values()),
                all_generated_identical=all(v["generated_identical"] for v in per.values()),
                per_prompt=per)
            var[name] = agg
            sys.stderr.write("variation %s: top %.3g logprob %.3g all %.3g steps %.3g identical=%s\n"
                             % (name, agg["prompt_max_abs_diff_top"],
                                agg["prompt_max_abs_diff_top_logprob"],
                                agg["prompt_max_abs_diff_all"], agg["steps_max_abs_diff_top1"],
                                agg["all_generated_identical"]))
            if rr is not main_run:
                rr.llm.close()
        doc["variation"] = var
    doc["prompts"] = results

    text = dumps(doc)
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
