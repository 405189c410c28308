#!/usr/bin/env python3
"""Thousands of live event streams on one run while the server answers reads (issue 18).

  bench/sse_bench.py [--clients 5000] [--events 100] [--rate 10] [--connections 32]

`prodsprint serve --dev` on a fresh state (a token made through the API, one imported
project). build/release/bench/sse_bench opens CLIENTS streams (GET /v1/runs/{id}/stream) on a
run it makes in the server's store, then appends EVENTS events at RATE per second to it from
its own process, each carrying its wall-clock time; each stream measures when each event
arrived. Meanwhile wrk loads GET /v1/projects/{id} (authenticated) flat out on the same server.
Reported: streams open, events delivered/expected, fan-out latency percentiles, the reads/s wrk
got at the same time and the server's peak RSS (VmHWM). Goal: p99 < 100 ms and RSS < 500 MB with
5,000 streams while serving >= 5,000 reads/s. Prints a table and, last, one JSON line.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_bench import BIN, ROOT, dev_login, free_port, wait_http  # noqa: E402

CLIENT = os.path.join(ROOT, "build", "release", "bench", "sse_bench")


def raise_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, 65536), max(hard, 65536)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    for tool in ("wrk", CLIENT, BIN):
        if not shutil.which(tool) and not os.path.exists(tool):
            sys.exit("missing: " + tool + " (build the release preset; apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="sse_bench.")
    procs = []
    try:
        repos = os.path.join(tmp, "repos")
        os.makedirs(os.path.join(repos, "shop"))
        with open(os.path.join(repos, "shop", "package.json"), "w") as f:
            f.write('{"name":"shop"}')
        state = os.path.join(tmp, "state")
        port = free_port()
        env = dict(os.environ, PRODSPRINT_SERVER_REPOS_ROOT=repos,
                   PRODSPRINT_SERVER_RATE_LIMIT_TOKEN="100000",
                   PRODSPRINT_SERVER_RATE_LIMIT_ORG="1000000")
        log = open(os.path.join(tmp, "serve.log"), "w+")
        server = subprocess.Popen(
            [BIN, "serve", "--dev", "--listen", "127.0.0.1:%d" % port, "--state", state,
             "--workers", "1"], stdout=log, stderr=log, env=env, preexec_fn=raise_files)
        procs.append(server)
        base = "http://127.0.0.1:%d" % port
        wait_http(base + "/healthz")
        time.sleep(0.3)
        opener = dev_login(base, log)
        req = urllib.request.Request(base + "/v1/orgs/default/tokens",
                                     data=b'{"name":"bench","role":"viewer"}',
                                     headers={"X-Requested-With": "bench"})
        token = json.loads(opener.open(req).read())["token"]
        req = urllib.request.Request(
            base + "/v1/projects/import",
            data=json.dumps({"repo_url": os.path.join(repos, "shop"),
                             "workspace": "default/default"}).encode(),
            headers={"X-Requested-With": "bench"})
        project = json.loads(opener.open(req).read())["project_id"]
        base_rss = rss_mb(server.pid, "VmRSS")

        client = subprocess.Popen(
            [CLIENT, "--port", str(port), "--token", token, "--db",
             os.path.join(state, "state.db"), "--project", project, "--clients",
             str(args.clients), "--events", str(args.events), "--rate", str(args.rate)],
            stdout=subprocess.PIPE, text=True, preexec_fn=raise_files)
        procs.append(client)
        opened = json.loads(client.stdout.readline())
        open_rss = rss_mb(server.pid, "VmRSS")
        seconds = max(2, int(args.events / args.rate))
        wrk = subprocess.run(
            ["wrk", "-t1", "-c%d" % args.connections, "-d%ds" % seconds, "--latency",
             "-H", "Authorization: Bearer " + token, base + "/v1/projects/" + project],
            capture_output=True, text=True)
        done = json.loads(client.stdout.readline())
        client.wait(timeout=120)
        reads = float(re.search(r"Requests/sec:\s+([\d.]+)", wrk.stdout).group(1))
        read_p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)", wrk.stdout, re.M)
        read_p99_ms = float(read_p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[read_p99.group(2)]
        peak = rss_mb(server.pid, "VmHWM")
        threads = len(os.listdir("/proc/%d/task" % server.pid))
        print("| | |")
        print("|---|---|")
        print("| streams open | %d of %d (in %.1f s) |" % (done["streams"], args.clients,
                                                         done["connect_s"]))
        print("| events delivered | %d of %d |" % (done["delivered"], done["expected"]))
        print("| fan-out latency p50 / p90 / p99 / max | %.1f / %.1f / %.1f / %.1f ms |" % (
            done["p50_ms"], done["p90_ms"], done["p99_ms"], done["max_ms"]))
        print("| reads meanwhile (wrk, %d connections) | %.0f/s, p99 %.2f ms |" % (
            args.connections, reads, read_p99_ms))
        print("| server RSS: idle / streams open / peak | %.0f / %.0f / %.0f MB |" % (
            base_rss, open_rss, peak))
        print("| server threads | %d |" % threads)
        print(json.dumps({"bench": "sse_fanout", "clients": args.clients, "events": args.events,
                          "rate": args.rate, **done, "reads_per_s": reads,
                          "read_p99_ms": read_p99_ms, "rss_idle_mb": base_rss,
                          "rss_open_mb": open_rss, "rss_peak_mb": peak, "threads": threads}))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
