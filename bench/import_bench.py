#!/usr/bin/env python3
"""Importing a 1,000-file repository through the API beside the CLI (issue 18).

  bench/import_bench.py [--trials 5] [--files 1000]

A git repository of FILES files (a Node service: package.json, sources in nested folders, a
few tests, sizes from 200 B to 20 KiB, seeded) under the server's repos_root. Alternated,
TRIALS times each:
  - CLI: `prodsprint audit REPO --json` (a fresh process: what a user runs to read a repo);
  - API: `POST /v1/projects/import` on a running `prodsprint serve`, then its event stream until
    `event: end` (the import run: source + audit stages on the server's worker), timed from the
    POST to the end event, as a client sees it.
Medians and the ratio API / CLI (goal: < 1.10). Prints a table and, last, one JSON line.
"""
import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_bench import BIN, dev_login, free_port, wait_http  # noqa: E402


def make_repo(path, files, seed=18):
    rng = random.Random(seed)
    os.makedirs(path)
    with open(os.path.join(path, "package.json"), "w") as f:
        json.dump({"name": "big", "version": "1.0.0",
                   "scripts": {"start": "node src/index.js", "test": "node --test"},
                   "dependencies": {"express": "^4.18.2"}}, f)
    for i in range(files - 1):
        d = os.path.join(path, "src", "m%02d" % (i % 37), "s%d" % (i % 5))
        os.makedirs(d, exist_ok=True)
        name = "f%04d.test.js" % i if i % 50 == 0 else "f%04d.js" % i
        size = rng.randint(200, 20 * 1024)
        line = "export const v%d = %d; // %s\n" % (i, i, "x" * 40)
        with open(os.path.join(d, name), "w") as f:
            f.write((line * (size // len(line) + 1))[:size])
    subprocess.run(["git", "init", "-q", path], check=True)
    subprocess.run(["git", "-C", path, "add", "-A"], check=True)
    subprocess.run(["git", "-C", path, "-c", "user.name=b", "-c", "user.email=b@e", "commit",
                    "-qm", "big"], check=True)


def stream_until_end(port, token, run_id):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", "/v1/runs/%s/stream" % run_id,
                 headers={"Authorization": "Bearer " + token})
    resp = conn.getresponse()
    while True:
        line = resp.readline()
        if not line or line.startswith(b"event: end"):
            break
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--files", type=int, default=1000)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="import_bench.")
    server = None
    try:
        repos = os.path.join(tmp, "repos")
        repo = os.path.join(repos, "big")
        make_repo(repo, args.files)
        state = os.path.join(tmp, "state")
        port = free_port()
        env = dict(os.environ, PRODSPRINT_SERVER_REPOS_ROOT=repos)
        log = open(os.path.join(tmp, "serve.log"), "w+")
        server = subprocess.Popen(
            [BIN, "serve", "--dev", "--listen", "127.0.0.1:%d" % port, "--state", state],
            stdout=log, stderr=log, env=env)
        base = "http://127.0.0.1:%d" % port
        wait_http(base + "/healthz")
        time.sleep(0.3)
        opener = dev_login(base, log)
        req = urllib.request.Request(base + "/v1/orgs/default/tokens",
                                     data=b'{"name":"bench","role":"developer"}',
                                     headers={"X-Requested-With": "bench"})
        token = json.loads(opener.open(req).read())["token"]
        body = json.dumps({"repo_url": repo, "workspace": "default/default"}).encode()

        def api_import():
            t = time.perf_counter()
            req = urllib.request.Request(base + "/v1/projects/import", data=body,
                                         headers={"Authorization": "Bearer " + token})
            run_id = json.loads(urllib.request.urlopen(req).read())["run_id"]
            stream_until_end(port, token, run_id)
            elapsed = time.perf_counter() - t
            req = urllib.request.Request(base + "/v1/runs/" + run_id,
                                         headers={"Authorization": "Bearer " + token})
            status = json.loads(urllib.request.urlopen(req).read())["run"]["status"]
            assert status == "done", status
            return elapsed

        def cli_audit():
            t = time.perf_counter()
            subprocess.run([BIN, "audit", repo, "--json"], check=True,
                           stdout=subprocess.DEVNULL)
            return time.perf_counter() - t

        api_import()
        cli_audit()  # warm-up: page cache, first run
        times = {"cli": [], "api": []}
        for t in range(args.trials):
            times["cli"].append(cli_audit())
            times["api"].append(api_import())
            print("trial %d: CLI %.3f s, API %.3f s" % (t + 1, times["cli"][-1],
                                                       times["api"][-1]), flush=True)
        cli = statistics.median(times["cli"])
        api = statistics.median(times["api"])
        print()
        print("| | seconds (median of %d) |" % args.trials)
        print("|---|---|")
        print("| CLI: `prodsprint audit REPO --json` | %.3f |" % cli)
        print("| API: POST /v1/projects/import to `event: end` | %.3f |" % api)
        print("ratio API / CLI: %.2f" % (api / cli))
        print(json.dumps({"bench": "api_import", "files": args.files, "trials": args.trials,
                          "cli_s": cli, "api_s": api, "ratio": api / cli}))
    finally:
        if server and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
