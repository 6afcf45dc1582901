#!/usr/bin/env python3
"""Load benchmark of a running Tern (or any OpenAI-compatible) server on 127.0.0.1: N concurrent
streaming clients with realistic prompt/output lengths; prints aggregate output tokens/s,
requests/s, time to first token and inter-token latency (p50/p99), and the prefix-cache hit rate
read from /metrics.

    python3 scripts/bench_serve.py --url http://127.0.0.1:8000 --model tern-demo --clients 16 --requests 64
"""
import argparse
import json
import statistics
import threading
import time

import requests

SYSTEM = "You are a helpful assistant who answers in a few sentences. " * 8


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def metric(url, name):
    for line in requests.get(url + "/metrics", timeout=10).text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--model", default="tern-demo")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--api-key", default="")
    parser.add_argument("--schema", help="a JSON schema file: every request asks for response_format json_schema with it")
    parser.add_argument("--prefix-test", action="store_true",
                        help="instead: time to first token of two requests sharing a ~1000-token prefix")
    args = parser.parse_args()
    assert args.url.startswith(("http://127.", "http://localhost", "http://[::1]")), "only loopback targets"
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    response_format = None
    if args.schema:
        with open(args.schema) as f:
            response_format = {"type": "json_schema", "json_schema": {"name": "bench", "schema": json.load(f)}}
    if args.prefix_test:
        prefix_test(args, headers)
        return
    step0, forward0 = metric(args.url, "tern_engine_step_seconds"), metric(args.url, "tern_engine_forward_seconds")
    queries0, hits0 = metric(args.url, "vllm:prefix_cache_queries_total"), metric(args.url, "vllm:prefix_cache_hits_total")
    lock, next_request = threading.Lock(), [0]
    ttfts, gaps, tokens, failures = [], [], [0], [0]

    def client():
        while True:
            with lock:
                if next_request[0] >= args.requests:
                    return
                i = next_request[0]
                next_request[0] += 1
            body = {"model": args.model, "stream": True, "max_tokens": args.max_tokens, "ignore_eos": True,
                    "stream_options": {"include_usage": True},
                    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Question number {i}: tell me a fortune."}]}
            if response_format:
                body["response_format"] = response_format
            start, last = time.time(), None
            try:
                with requests.post(args.url + "/v1/chat/completions", json=body, headers=headers, stream=True, timeout=600) as r:
                    for line in r.iter_lines():
                        if not line.startswith(b"data: {"):
                            continue
                        chunk = json.loads(line[6:])
                        if chunk.get("usage"):
                            with lock:
                                tokens[0] += chunk["usage"]["completion_tokens"]
                        if not chunk["choices"] or not chunk["choices"][0]["delta"].get("content"):
                            continue
                        now = time.time()
                        with lock:
                            if last is None:
                                ttfts.append(now - start)
                            else:
                                gaps.append(now - last)
                        last = now
            except requests.RequestException:
                with lock:
                    failures[0] += 1

    began = time.time()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - began
    queries = metric(args.url, "vllm:prefix_cache_queries_total") - queries0
    hits = metric(args.url, "vllm:prefix_cache_hits_total") - hits0
    print(f"{args.requests} requests, {args.clients} clients, {elapsed:.1f} s, {failures[0]} failed")
    print(f"output {tokens[0] / elapsed:.1f} tokens/s, {args.requests / elapsed:.2f} requests/s")
    print(f"TTFT p50 {percentile(ttfts, 0.5) * 1000:.0f} ms, p99 {percentile(ttfts, 0.99) * 1000:.0f} ms")
    # Gaps between streamed text chunks (a token whose text is held back arrives with the next).
    print(f"inter-token p50 {percentile(gaps, 0.5) * 1000:.1f} ms, p99 {percentile(gaps, 0.99) * 1000:.1f} ms"
          + (f", mean {statistics.mean(gaps) * 1000:.1f} ms" if gaps else ""))
    print(f"prefix cache hit rate {hits / queries:.2%}" if queries else "prefix cache: no queries")
    step = metric(args.url, "tern_engine_step_seconds") - step0
    forward = metric(args.url, "tern_engine_forward_seconds") - forward0
    if step > 0:
        print(f"scheduler overhead {(step - forward) / step:.2%} of engine step time ({step - forward:.3f} of {step:.1f} s)")


def prefix_test(args, headers):
    """Two requests with the same long start: the second reuses the first's cached KV blocks."""
    words = "river mountain lantern harbor meadow thunder orchard silver compass garden".split()
    shared = " ".join(f"{words[i % 10]}{i}" for i in range(170))
    count = requests.post(args.url + "/tokenize", headers=headers, json={"prompt": shared}, timeout=60).json()["count"]

    def ttft(question):
        body = {"model": args.model, "prompt": shared + " " + question, "max_tokens": 1, "stream": True}
        start = time.time()
        with requests.post(args.url + "/v1/completions", json=body, headers=headers, stream=True, timeout=600) as r:
            for line in r.iter_lines():
                if line.startswith(b"data: {"):
                    return time.time() - start
        return float("nan")

    first, second = ttft("first question"), ttft("second question")
    print(f"shared prefix of {count} tokens: TTFT first {first * 1000:.0f} ms, second {second * 1000:.0f} ms, {first / second:.1f}x faster")


if __name__ == "__main__":
    main()
