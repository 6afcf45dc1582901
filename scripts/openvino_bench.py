#!/usr/bin/env python3
"""OpenVINO GenAI on a random-weight checkpoint (scripts/make_shape_models.py), fed random token
ids (no tokenizer in the loop): prefill of a PROMPT-token prompt, one-stream decode and the
aggregate decode of STREAMS streams through ContinuousBatchingPipeline, 2 inference threads.
Exports the checkpoint first (optimum-cli, int8 or int4 group 128 symmetric) unless already done.
Prints one JSON line. Runs in its own venv outside the repository (openvino-genai,
openvino-tokenizers, optimum-intel, nncf); never needed by Tern.

    python scripts/openvino_bench.py MODEL_DIR EXPORT_DIR {int8,int4} [--prompt 512] [--gen 128] [--streams 16]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import openvino as ov
import openvino_genai as genai

THREADS = {"INFERENCE_NUM_THREADS": 2}


def export(model, out, weights):
    if os.path.exists(os.path.join(out, "openvino_model.xml")):
        return
    extra = ["--weight-format", "int8"] if weights == "int8" else ["--weight-format", "int4", "--group-size", "128", "--sym", "--ratio", "1.0"]
    cli = os.path.join(os.path.dirname(sys.executable), "optimum-cli")
    subprocess.run([cli, "export", "openvino", "--model", model, "--task", "text-generation-with-past",
                    "--disable-convert-tokenizer", *extra, out], check=True)


def ids(rng, count, vocab):
    return rng.integers(100, vocab - 100, size=(1, count), dtype=np.int64)


def config(tokens):
    c = genai.GenerationConfig()
    c.max_new_tokens = tokens
    c.min_new_tokens = tokens  # random weights may pick an end token; decode the full count
    c.ignore_eos = True
    return c


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("export_dir")
    parser.add_argument("weights", choices=["int8", "int4"])
    parser.add_argument("--prompt", type=int, default=512)
    parser.add_argument("--gen", type=int, default=128)
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    export(args.model, args.export_dir, args.weights)
    vocab = json.load(open(os.path.join(args.model, "config.json")))["vocab_size"]
    rng = np.random.default_rng(1)

    pipe = genai.LLMPipeline(args.export_dir, "CPU", **THREADS)
    pipe.generate(ov.Tensor(ids(rng, 16, vocab)), config(2))  # warm-up
    prefill, decode = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        pipe.generate(ov.Tensor(ids(rng, args.prompt, vocab)), config(1))
        prefill.append(args.prompt / (time.perf_counter() - start))
        result = pipe.generate(ov.Tensor(ids(rng, 8, vocab)), config(args.gen))
        decode.append(1000.0 / result.perf_metrics.get_tpot().mean)
    del pipe

    batch = genai.ContinuousBatchingPipeline(args.export_dir, genai.SchedulerConfig(), "CPU", THREADS)
    prompts = [ov.Tensor(ids(rng, 8, vocab)) for _ in range(args.streams)]
    batch.generate(prompts[:2], [config(2)] * 2)  # warm-up
    aggregate = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        batch.generate(prompts, [config(args.gen)] * args.streams)
        aggregate.append(args.streams * args.gen / (time.perf_counter() - start))
    print(json.dumps({"engine": "openvino-genai", "weights": args.weights, "prompt": args.prompt,
                      "prefill_tokens_per_s": round(statistics.median(prefill), 2),
                      "decode_tokens_per_s": round(statistics.median(decode), 2),
                      "streams": args.streams, "batch_decode_tokens_per_s": round(statistics.median(aggregate), 2)}))


if __name__ == "__main__":
    sys.exit(main())
