#!/usr/bin/env python3
"""ProdSprint's load generator beside wrk, against the same local server (issue 7).

  bench/load_bench.py [--trials 5] [--seconds 5] [--connections 64]

The server is HAProxy answering 200 "ok" from its own frontend (`http-request return`: no
backend, about the fastest HTTP/1.1 server on the machine), one thread pinned to core 0. The
load generators are pinned to core 1, one thread each, so "requests per second" is per core.

1. Throughput, closed loop: `wrk -t1 -cC -dS` and `prodsprint load --closed --threads 1
   --connections C --duration S`, alternated, `--trials` times each; medians and their ratio.
2. Coordinated omission: an open-loop run at 1,000 requests/s for 10 s while the server is
   stopped (SIGSTOP) for 1 s from t = 4 s. The requests due during the stall wait, on average,
   half of it: with latency counted from when each request was due, the share of requests slower
   than x (x < 1 s) is (1 s - x) / 10 s, so the corrected reference is p95 = 500 ms, p99 =
   900 ms, p99.9 = 990 ms (plus the server's sub-millisecond time), while p90 and below stay at
   the server's normal latency. ProdSprint's open loop is compared with that reference; wrk
   (closed loop: the stall holds back its own requests, so it measures only the few in flight)
   is shown in the same scenario for contrast.

Prints a table and, last, one JSON line.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_haproxy(tmp):
    port = free_port()
    cfg = os.path.join(tmp, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(f"""global
    nbthread 1
    maxconn 4000
defaults
    mode http
    timeout client 30s
    timeout connect 5s
    timeout server 30s
frontend bench
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string ok
""")
    proc = subprocess.Popen(["taskset", "-c", "0", "haproxy", "-db", "-f", cfg],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("haproxy did not start")


def cpu_of(cmd):
    """Runs cmd; its stdout and the CPU seconds (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return out, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def run_wrk(port, seconds, connections, latency=False):
    out, cpu = cpu_of(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                       "--latency", f"http://127.0.0.1:{port}/"])
    run_wrk.cpu = cpu
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {}
    for q, v, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        pct[q] = float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, pct, out


def run_ours(binary, port, seconds, connections, closed=True, rate=None):
    cmd = ["taskset", "-c", "1", binary, "load", f"http://127.0.0.1:{port}/", "--threads", "1",
           "--connections", str(connections), "--duration", str(seconds), "--json"]
    cmd += ["--closed"] if closed else ["--rate", str(rate)]
    out, cpu = cpu_of(cmd)
    j = json.loads(out)
    j["cpu_s"] = cpu
    return j


def stall_later(proc, at_s, for_s):
    def go():
        time.sleep(at_s)
        proc.send_signal(signal.SIGSTOP)
        time.sleep(for_s)
        proc.send_signal(signal.SIGCONT)
    t = threading.Thread(target=go)
    t.start()
    return t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "release", "prodsprint"))
    args = ap.parse_args()
    for tool in ("wrk", "haproxy", "taskset"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (apt-get install wrk haproxy util-linux)")
    if (os.cpu_count() or 1) < 2:
        sys.exit("needs two cores (server on one, load generator on the other)")
    tmp = tempfile.mkdtemp(prefix="ps-load-bench-")
    proc, port = start_haproxy(tmp)
    result = {"server": "haproxy 1 thread (core 0)", "generators": "1 thread (core 1)",
              "connections": args.connections, "seconds": args.seconds}
    try:
        # 1. Throughput.
        # Requests per second, and requests per CPU-second of the generator
        # (the server is the bottleneck when it has one core like the
        # generator, so the second says what the generator costs).
        wrk_rps, ours_rps, wrk_eff, ours_eff = [], [], [], []
        for i in range(args.trials):
            rps = run_wrk(port, args.seconds, args.connections)[0]
            wrk_rps.append(rps)
            wrk_eff.append(rps * args.seconds / run_wrk.cpu)
            o = run_ours(args.binary, port, args.seconds, args.connections)
            ours_rps.append(o["achieved_rate"])
            ours_eff.append(o["completed"] / o["cpu_s"])
            print(f"  trial {i + 1}: wrk {wrk_rps[-1]:,.0f}/s ({wrk_eff[-1]:,.0f} per CPU-s)  "
                  f"prodsprint {ours_rps[-1]:,.0f}/s ({ours_eff[-1]:,.0f} per CPU-s)", file=sys.stderr)
        w, o = statistics.median(wrk_rps), statistics.median(ours_rps)
        we, oe = statistics.median(wrk_eff), statistics.median(ours_eff)
        result["throughput"] = {"wrk": wrk_rps, "prodsprint": ours_rps, "wrk_median": w,
                                "prodsprint_median": o, "ratio": o / w,
                                "wrk_per_cpu_s": wrk_eff, "prodsprint_per_cpu_s": ours_eff,
                                "wrk_per_cpu_s_median": we, "prodsprint_per_cpu_s_median": oe,
                                "per_cpu_ratio": oe / we}

        # 2. Coordinated omission: a 1 s stall at t = 4 s of a 10 s run at 1,000/s.
        t = stall_later(proc, 4.0, 1.0)
        ours = run_ours(args.binary, port, 10, 16, closed=False, rate=1000)
        t.join()
        time.sleep(0.5)
        t = stall_later(proc, 4.0, 1.0)
        _, wrk_pct, _ = run_wrk(port, 10, 16)
        t.join()
        ref = {"p50": 0.0, "p90": 0.0, "p95": 500.0, "p99": 900.0, "p99_9": 990.0}
        l = ours["latency_ms"]
        result["coordinated_omission"] = {
            "reference_ms": ref,
            "prodsprint_open_loop_ms": {k: l[k] for k in ("p50", "p90", "p95", "p99", "p99_9", "max")},
            "prodsprint_requests": ours["completed"],
            "wrk_closed_loop_ms": wrk_pct,
        }
    finally:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    th = result["throughput"]
    print(f"\nThroughput, closed loop, {args.connections} connections, one core each, "
          f"median of {args.trials} x {args.seconds} s:")
    print(f"  wrk         {th['wrk_median']:>10,.0f} requests/s   {th['wrk_per_cpu_s_median']:>10,.0f} "
          f"requests per CPU-second of the generator")
    print(f"  prodsprint  {th['prodsprint_median']:>10,.0f} requests/s   "
          f"{th['prodsprint_per_cpu_s_median']:>10,.0f} requests per CPU-second   "
          f"({th['ratio']:.2f}x wrk's rate, {th['per_cpu_ratio']:.2f}x its rate per core)")
    co = result["coordinated_omission"]
    print("\nA 1 s stall in 10 s at 1,000 requests/s (ms):      p50      p90      p95      p99    p99.9")
    r = co["reference_ms"]
    print(f"  corrected reference                        {r['p50']:>8.1f} {r['p90']:>8.1f} "
          f"{r['p95']:>8.1f} {r['p99']:>8.1f} {r['p99_9']:>8.1f}")
    p = co["prodsprint_open_loop_ms"]
    print(f"  prodsprint load (open loop)                {p['p50']:>8.2f} {p['p90']:>8.2f} "
          f"{p['p95']:>8.1f} {p['p99']:>8.1f} {p['p99_9']:>8.1f}")
    wp = co["wrk_closed_loop_ms"]
    print(f"  wrk (closed loop)                          {wp.get('50', 0):>8.2f} {wp.get('90', 0):>8.2f} "
          f"{'':>8} {wp.get('99', 0):>8.1f} {'':>8}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
