#!/usr/bin/env python3
"""Releases on the local target, end to end, with the release example.

Measures (docs/BENCHMARKS.md):
  A. time from the canary's first request to canary weight 0, 5% of canary
     requests failing (tag v2-errors), at 100 requests/s in total and the
     first step at 10% (the example's prodsprint.yaml);
  B. the same for a canary 200 ms slower (v3-slow);
  C. false rollbacks: healthy canaries released back and forth (v1 <-> v1.1);
  D. requests failed for a client during blue/green switches and switch-backs
     (rollback), with `prodsprint load` sending 200 requests/s throughout;
  G. the same during canary rollbacks (abort with the candidate at 50%);
  E. repository to healthy staging (`prodsprint apply`, fresh state);
  F. the load generator beside hey (same target, same fixed rate).

  bench/release_bench.py [--trials N]     (needs build/release/prodsprint,
                                           haproxy, node; hey for F)
"""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PS = os.path.join(ROOT, "build/release/prodsprint")


def run(args, cwd, check=True, env=None):
    e = dict(os.environ, NO_COLOR="1")
    e.update(env or {})
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    return p


def ps_json(work, *args, ok=(0,)):
    p = run([PS, *args, "--json"], work, check=False)
    if p.returncode not in ok:
        sys.exit(f"prodsprint {' '.join(args)} exited {p.returncode}\n{p.stdout}\n{p.stderr}")
    return json.loads(p.stdout)


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q * len(v) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--only", default="ABCDGEF", help="which parts to run, e.g. DEF")
    a = ap.parse_args()
    n = a.trials
    work = tempfile.mkdtemp(prefix="ps-release-bench-")
    global PS
    # A copy: the environment's supervisor runs this binary for the whole
    # bench, and a rebuild must not pull it away.
    shutil.copy2(PS, os.path.join(work, "prodsprint"))
    PS = os.path.join(work, "prodsprint")
    try:
        run([os.path.join(ROOT, "examples/canary/make-repo.sh"), "repo"], work)
        repo = os.path.join(work, "repo")
        g = ["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b"]
        run(g + ["checkout", "-q", "-b", "healthy", "v1"], work)
        run(["sed", "-i", "s/version: 1 }/version: 11 }/", os.path.join(repo, "server.js")], work)
        run(g + ["commit", "-qam", "v1.1"], work)
        run(g + ["tag", "v1.1"], work)
        run(g + ["checkout", "-q", "main"], work)
        ps_json(work, "apply", "repo", "--ref", "v1")
        port = ps_json(work, "status", "repo")["environments"][0]["services"]["catalog"]["frontend_port"]
        out = {}

        def detect(tag):
            ms, statuses = [], []
            for i in range(n):
                r = ps_json(work, "release", "repo", "--ref", tag, ok=(0, 1))
                statuses.append(r["status"])
                if "detection_ms" in r:
                    ms.append(r["detection_ms"])
                print(f"  {tag} #{i+1}: {r['status']} {r.get('detection_ms')} ms", file=sys.stderr)
            return {"trials": n, "rolled_back": statuses.count("rolledback"),
                    "median_ms": statistics.median(ms), "p95_ms": pct(ms, 0.95),
                    "min_ms": min(ms), "max_ms": max(ms)}

        if "A" in a.only:
            print("A. 5% errors", file=sys.stderr)
            out["errors_5pct"] = detect("v2-errors")
        if "B" in a.only:
            print("B. 200 ms slower", file=sys.stderr)
            out["slower_200ms"] = detect("v3-slow")

        promoted, durations = 0, []
        if "C" in a.only:
          print("C. healthy canaries", file=sys.stderr)
          for i in range(n):
              tag = "v1.1" if i % 2 == 0 else "v1"
              t0 = time.perf_counter()
              r = ps_json(work, "release", "repo", "--ref", tag, ok=(0, 1))
              durations.append(time.perf_counter() - t0)
              promoted += r["status"] == "promoted"
              print(f"  {tag} #{i+1}: {r['status']} {r.get('reason', '')}", file=sys.stderr)
          if n % 2 == 1:
              ps_json(work, "release", "repo", "--ref", "v1", ok=(0, 1))
          out["healthy"] = {"trials": n, "false_rollbacks": n - promoted,
                            "median_release_s": round(statistics.median(durations), 1)}

        if "D" in a.only:
          print("D. blue/green switches and switch-backs under load", file=sys.stderr)
          m = n
          load = subprocess.Popen([PS, "load", f"http://127.0.0.1:{port}/api/items", "--rate", "200",
                                   "--duration", "600", "--json"], cwd=work, stdout=subprocess.PIPE,
                                  text=True)
          time.sleep(1)
          switched = 0
          for i in range(m):
              r = ps_json(work, "release", "repo", "--ref", "v1.1", "--strategy", "bluegreen", ok=(0, 1))
              print(f"  switch #{i+1}: {r['status']} {r.get('reason', '')}", file=sys.stderr)
              if r["status"] == "promoted":
                  switched += 1
                  ps_json(work, "rollback", "repo")
          time.sleep(1)
          load.send_signal(2)
          summary = json.loads(load.communicate()[0])
          out["bluegreen_under_load"] = {"releases": m, "switches_and_switch_backs": switched,
                                         "requests": summary["completed"],
                                         "failed": summary["failed"], "p99_ms": summary["latency_ms"]["p99"]}

        if "G" in a.only:
          print("G. canary rollbacks (abort at 50%) under load", file=sys.stderr)
          cfg = os.path.join(work, "pause.yaml")
          with open(cfg, "w") as f:
              f.write("release:\n  steps:\n    - setWeight: 50\n    - pause: {}\n"
                      "  traffic:\n    rate: 0\n")
          load = subprocess.Popen([PS, "load", f"http://127.0.0.1:{port}/api/items", "--rate", "200",
                                   "--duration", "600", "--json"], cwd=work, stdout=subprocess.PIPE,
                                  text=True)
          time.sleep(1)
          m = n
          for i in range(m):
              rel = subprocess.Popen([PS, "--config", cfg, "release", "repo", "--ref", "v1.1", "--json"],
                                     cwd=work, stdout=subprocess.PIPE, text=True)
              while True:  # until the candidate takes half the traffic
                  time.sleep(0.2)
                  svc = ps_json(work, "status", "repo")["environments"][0]["services"]["catalog"]
                  c = svc.get("candidate")
                  if c and svc["colours"][c]["weight"] == 50:
                      break
              time.sleep(1)
              ps_json(work, "abort", "repo")
              r = json.loads(rel.communicate()[0])
              print(f"  abort #{i+1}: {r['status']}", file=sys.stderr)
          time.sleep(1)
          load.send_signal(2)
          summary = json.loads(load.communicate()[0])
          out["canary_rollbacks_under_load"] = {"rollbacks": m, "requests": summary["completed"],
                                                "failed": summary["failed"]}

        if "E" in a.only:
          print("E. repository to healthy staging", file=sys.stderr)
          ps_json(work, "down", "repo")
          times = []
          for i in range(n):
              state = os.path.join(work, f"state{i}")
              t0 = time.perf_counter()
              ps_json(work, "--state", state, "apply", "repo", "--ref", "v1")
              times.append(time.perf_counter() - t0)
              ps_json(work, "--state", state, "down", "repo")
          out["repo_to_staging"] = {"trials": n, "median_s": round(statistics.median(times), 3),
                                    "max_s": round(max(times), 3)}

        if "F" in a.only and shutil.which("hey"):
            print("F. load generators at 1,000 requests/s for 10 s", file=sys.stderr)
            ps_json(work, "apply", "repo", "--ref", "v1")
            url = f"http://127.0.0.1:{port}/api/items"
            def timed(args):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                p = run(args, work)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
                return p, [str(cpu), "0", str(after.ru_maxrss)]
            p, cpu_ours = timed([PS, "load", url, "--rate", "1000", "--duration", "10",
                                 "--connections", "20", "--json"])
            ours = json.loads(p.stdout)
            p, cpu_hey = timed(["hey", "-z", "10s", "-c", "20", "-q", "50", url])
            hey_rate = [l for l in p.stdout.splitlines() if "Requests/sec" in l]
            hey_p99 = [l for l in p.stdout.splitlines() if "99% in" in l]
            out["load_generators"] = {
                "prodsprint": {"rate": round(ours["achieved_rate"], 1), "p50_ms": round(ours["latency_ms"]["p50"], 2),
                               "p99_ms": round(ours["latency_ms"]["p99"], 2), "cpu_s": round(float(cpu_ours[0]) + float(cpu_ours[1]), 2),
                               "rss_kb": int(cpu_ours[2])},
                "hey": {"rate": hey_rate[0].split()[-1] if hey_rate else "?",
                        "p99": hey_p99[0].strip() if hey_p99 else "?",
                        "cpu_s": round(float(cpu_hey[0]) + float(cpu_hey[1]), 2), "rss_kb": int(cpu_hey[2])}}
        print(json.dumps(out, indent=2))
    finally:
        run([PS, "down", "repo"], work, check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
