#!/usr/bin/env python3
"""The API's authenticated read beside FastAPI + uvicorn (issue 18).

  bench/api_bench.py [--trials 3] [--seconds 10] [--connections 64]

One state: `prodsprint serve --dev` makes it (an org, an API token made through the API, one
imported project). Two servers read it at the same time:
  - ProdSprint: `prodsprint serve` (2 I/O threads, 8 handler threads);
  - the peer: bench/api_peer_fastapi.py, the same route (token hash lookup, revocation and
    expiry, the project in the token's org) with FastAPI 0.92 + uvicorn 0.17 from Debian,
    `--workers 2` (one per core), on the same SQLite file.
wrk (`-t2 -cC -dS --latency`, with the token) loads GET /v1/projects/{id} on each in turn,
alternated, `--trials` times; both answers are checked to be 200 with the same project first.
Medians of requests/s and of p99, and their ratios. Prints a table and, last, one JSON line.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "release", "prodsprint")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_http(url, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError("no answer from " + url)


def request(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def dev_login(base, serve_log):
    """Logs in with `serve --dev`'s link: an opener holding the session cookie."""
    serve_log.seek(0)
    code = re.search(r"code=([A-Za-z0-9_-]+)", serve_log.read()).group(1)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    try:
        opener.open(base + "/v1/auth/dev?code=" + code).read()
    except urllib.error.HTTPError as e:
        if e.code != 404:  # the redirect to the dashboard, which this build does not serve
            raise
    return opener


def wrk(url, token, seconds, connections):
    out = subprocess.run(
        ["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--latency",
         "-H", "Authorization: Bearer " + token, url],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(p99.group(1)) * scale, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp(prefix="api_bench.")
    procs = []
    try:
        repos = os.path.join(tmp, "repos")
        os.makedirs(os.path.join(repos, "shop"))
        with open(os.path.join(repos, "shop", "package.json"), "w") as f:
            f.write('{"name":"shop","scripts":{"start":"node server.js"}}')
        state = os.path.join(tmp, "state")
        ps_port = free_port()
        env = dict(os.environ, PRODSPRINT_SERVER_REPOS_ROOT=repos,
                   PRODSPRINT_SERVER_RATE_LIMIT_TOKEN="100000",
                   PRODSPRINT_SERVER_RATE_LIMIT_ORG="1000000")
        log = open(os.path.join(tmp, "serve.log"), "w+")
        procs.append(subprocess.Popen(
            [BIN, "serve", "--dev", "--listen", "127.0.0.1:%d" % ps_port, "--state", state,
             "--workers", "1"], stdout=log, stderr=log, env=env))
        ps = "http://127.0.0.1:%d" % ps_port
        wait_http(ps + "/healthz")
        time.sleep(0.3)
        # Log in with the link, make a token, import the project.
        opener = dev_login(ps, log)
        req = urllib.request.Request(
            ps + "/v1/orgs/default/tokens", data=b'{"name":"bench","role":"viewer"}',
            headers={"X-Requested-With": "bench", "Content-Type": "application/json"})
        token = json.loads(opener.open(req).read())["token"]
        req = urllib.request.Request(
            ps + "/v1/projects/import",
            data=json.dumps({"repo_url": os.path.join(repos, "shop"),
                             "workspace": "default/default"}).encode(),
            headers={"X-Requested-With": "bench"})
        project = json.loads(opener.open(req).read())["project_id"]

        peer_port = free_port()
        procs.append(subprocess.Popen(
            ["/usr/bin/python3",
             "-m", "uvicorn", "api_peer_fastapi:app", "--port", str(peer_port), "--workers", "2",
             "--log-level", "warning", "--no-access-log"],
            cwd=os.path.join(ROOT, "bench"), env=dict(os.environ, PS_STATE_DB=os.path.join(
                state, "state.db")), stdout=log, stderr=log))
        peer = "http://127.0.0.1:%d" % peer_port
        auth = {"Authorization": "Bearer " + token}
        for base in (ps, peer):
            for _ in range(100):
                try:
                    status, _, body = request(base + "/v1/projects/" + project, headers=auth)
                    break
                except Exception:
                    time.sleep(0.2)
            assert status == 200 and json.loads(body)["id"] == project, (base, status, body)
        # A wrong token is refused by both.
        for base in (ps, peer):
            try:
                request(base + "/v1/projects/" + project, headers={"Authorization": "Bearer pst_x"})
                raise AssertionError(base + " accepted a wrong token")
            except urllib.error.HTTPError as e:
                assert e.code == 401, (base, e.code)

        results = {"prodsprint": [], "fastapi": []}
        for name, base in (("prodsprint", ps), ("fastapi", peer)):  # warm-up
            wrk(base + "/v1/projects/" + project, token, 2, args.connections)
        for t in range(args.trials):
            for name, base in (("prodsprint", ps), ("fastapi", peer)):
                rps, p99, bad = wrk(base + "/v1/projects/" + project, token, args.seconds,
                                    args.connections)
                results[name].append((rps, p99, bad))
                print("trial %d %-10s %10.0f req/s  p99 %8.2f ms  non-2xx %d" % (
                    t + 1, name, rps, p99, bad), flush=True)
        med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v),
                   sum(r[2] for r in v)) for k, v in results.items()}
        ratio = med["prodsprint"][0] / med["fastapi"][0]
        print()
        print("| | requests/s (median) | p99 ms (median) | non-2xx |")
        print("|---|---|---|---|")
        for k in ("prodsprint", "fastapi"):
            print("| %s | %.0f | %.2f | %d |" % (k, med[k][0], med[k][1], med[k][2]))
        print("ratio of requests/s: %.1fx; p99 %.2f ms vs %.2f ms" % (
            ratio, med["prodsprint"][1], med["fastapi"][1]))
        print(json.dumps({"bench": "api_read", "connections": args.connections,
                          "seconds": args.seconds, "trials": args.trials,
                          "prodsprint": {"rps": med["prodsprint"][0], "p99_ms": med["prodsprint"][1]},
                          "fastapi": {"rps": med["fastapi"][0], "p99_ms": med["fastapi"][1]},
                          "ratio": ratio}))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
