#!/usr/bin/env python3
"""Writes tests/tokenizer/reference.txt: llama.cpp's tokenization of fixed
texts with the two supported models, the reference that tokenizer_test.c
compares weft's tokenizer with.

    python3 tests/tokenizer/make_reference.py \
        --smollm2 SmolLM2-135M-Instruct.Q4_1.gguf \
        --gemma3 gemma-3-270m-q4_k_m.gguf > tests/tokenizer/reference.txt

It needs llama-cpp-python (it was run with 0.3.36). The output is line based
so that C reads it without a JSON parser; every byte string is hex:
    model <name>               starts the cases of one model
    case <name> <flags>        flags: 1 add special tokens, 2 parse special
    text <hex>                 the input bytes
    ids <id> ...               llama_tokenize's result
    pieces <hex>               llama_token_to_piece of every id, special=false
    pieces_special <hex>       the same with special=true
    roundtrip <0|1>            1 when the pieces of the ids (after the BOS the
                               tokenizer added), special tokens rendered when
                               parsed, give the input back
    end
"""
import argparse
import ctypes
import json
import os
import sys

import llama_cpp

TEXTS = [
    ("empty", b""),
    ("hello", b"Hello world"),
    ("punctuation", b"Hello, world! How are you? (Fine.) [ok]; {yes}: \"quoted\" 'single'"),
    ("leading_space", b" leading space"),
    ("trailing_space", b"trailing space "),
    ("multiple_spaces", b"multiple   spaces    here     and  there"),
    ("only_spaces", b"    "),
    ("newlines", b"tabs\tand\nnewlines\n\n\nend\n"),
    ("crlf", b"\r\n windows line\r\nnext\r\n"),
    ("digits", b"1234567890"),
    ("numbers", b"3.14159 and 2,718 and -42 and 1e10 and 100000 and 2024-11-21"),
    ("digits_words", b"word123word 12ab 1.2.3 v2 x86_64"),
    ("contractions", b"I'm sure they've said we'll do it, don't you think? It's John's. I'D SAY"),
    ("case", b"UPPER CASE and MiXeD cAsE and lower"),
    ("code_python", b"def foo(x):\n    if x > 0:\n        return x * 2\n    return None\n"),
    ("code_c", b"int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n"),
    ("indent", b"    indented four\n        eight\n\t\ttwo tabs"),
    ("json", b'{"key": "value", "list": [1, 2, 3], "nested": {"a": null}}'),
    ("url", b"https://example.com/path/to?query=1&b=2#frag"),
    ("symbols", b"email@example.com, @user #hashtag $100 50% 3+4=7 a<b>c ~^|\\`"),
    ("punct_runs", b"!!! ??? ... --- *** ### ==="),
    ("accents", "café naïve résumé über façade Ångström".encode()),
    ("combining", "e\u0301 a\u0308 n\u0303".encode()),
    ("greek_cyrillic", "Ελληνικά και русский текст".encode()),
    ("cjk", "日本語のテキストと中文字符，还有标点。".encode()),
    ("korean", "한국어 텍스트입니다".encode()),
    ("arabic", "مرحبا بالعالم".encode()),
    ("devanagari", "हिन्दी पाठ".encode()),
    ("emoji", "emoji 😀🎉👍🏽 and ❤️ and 👨‍👩‍👧".encode()),
    ("unicode_space", "zero\u200bwidth and non\u00a0breaking and ideographic\u3000space".encode()),
    ("unicode_numbers", "²³ ½ ① Ⅳ ٣٤ ๓".encode()),
    ("letters_odd", "ŉ ǅ ﬁ ß ẞ ı".encode()),
    ("long_word", b"a" * 70 + b" " + b"ab" * 30),
    ("sentence", b"The quick brown fox jumps over the lazy dog."),
    ("single_char", b"x"),
    ("newline_only", b"\n"),
    ("invalid_utf8", b"bad \xff\xfe bytes \xc3( end \xe2\x82"),
    ("chatml_text", b"<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"),
    ("gemma_text", b"<start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n"),
    ("special_mix", b"<|endoftext|> text <eos> more <bos><pad> <unk> end"),
    ("user_defined", b"<s>x</s> [multimodal] <reponame> <file_sep>\n\n\n"),
]


def pieces(llm, ids, special):
    vocab = llm._model.vocab
    out = b""
    for t in ids:
        size = 256
        while True:
            buf = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(vocab, t, buf, size, 0, special)
            if n < 0:
                size = -n
                continue
            out += buf.raw[:n]
            break
    return out


def emit(llm, name, text, flags):
    add = bool(flags & 1)
    parse = bool(flags & 2)
    ids = llm.tokenize(text, add_bos=add, special=parse) if text else (
        llm.tokenize(b"", add_bos=add, special=parse))
    body = ids
    adds_bos = llama_cpp.llama_vocab_get_add_bos(llm._model.vocab)
    if add and adds_bos and body and body[0] == llm.token_bos():
        body = body[1:]
    rt = pieces(llm, body, parse) == text
    print(f"case {name} {flags}")
    print(f"text {text.hex()}")
    print("ids " + " ".join(str(i) for i in ids))
    print(f"pieces {pieces(llm, ids, False).hex()}")
    print(f"pieces_special {pieces(llm, ids, True).hex()}")
    print(f"roundtrip {1 if rt else 0}")
    print("end")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smollm2", required=True)
    ap.add_argument("--gemma3", required=True)
    ap.add_argument("--prompts", default=os.path.join(
        os.path.dirname(__file__), "..", "data", "llm", "prompts.json"))
    a = ap.parse_args()
    prompts = json.load(open(a.prompts))["models"]
    print("# llama.cpp reference tokenizations (llama-cpp-python %s), made with" %
          llama_cpp.__version__)
    print("#   python3 tests/tokenizer/make_reference.py --smollm2 "
          "SmolLM2-135M-Instruct.Q4_1.gguf --gemma3 gemma-3-270m-q4_k_m.gguf")
    print("# Format: see tests/tokenizer/make_reference.py.")
    for model, path in (("smollm2", a.smollm2), ("gemma3", a.gemma3)):
        llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
        print(f"model {model} {os.path.basename(path)}")
        for name, text in TEXTS:
            for flags in (3, 0):
                emit(llm, name, text, flags)
        for p in prompts[model]:
            emit(llm, "prompt_" + p["id"], p["text"].encode(), 3)
        del llm


if __name__ == "__main__":
    main()
