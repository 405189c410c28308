#!/usr/bin/env python3
"""The performance gate on a busy machine (docs/BENCHMARKS.md, "Performance gate under noise").

A service answering in ~10 ms (a simulated query: lognormal, median 10 ms) runs in local
production as version `base`; each candidate version is deployed to staging and checked
`--trials` times with `prodsprint check --gate all`, while a build-like mix runs beside it
(bench/noise.py: a process-spawning loop, a reader of many small files, a disk writer, a CPU
hog per core).
The candidates:
  aa       the same code as base (a comment changed): the A/A calibration
  healthy  a new field in the answer, same speed
  slow200  200 ms slower on /api/orders
  slow50   1.5x slower on /api/orders (median and p95 50% higher)
Goals (issue 15): healthy and aa blocked at most 1 in 20; slow200 blocked 20 of 20; slow50 blocked
at least 19 of 20. Prints one JSON object; --quiet runs without the noise (for comparison).

  bench/perf_gate_noise.py [--trials 20] [--only aa,healthy,slow200,slow50] [--quiet]
  (needs build/release/prodsprint, haproxy, node)
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noise as noise_mod  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PS = os.path.join(ROOT, "build/release/prodsprint")

SERVER = r"""// The orders service (bench/perf_gate_noise.py): /api/orders answers after a
// simulated query of ~10 ms; /healthz at once.
const http = require('node:http');

const port = Number(process.env.PORT || 8080);
const SCALE = __SCALE__;
const EXTRA_MS = __EXTRA__;
// __COMMENT__

function lognormal(median, sigma) {
  const u = 1 - Math.random();
  const v = Math.random();
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
}

function handler(req, res) {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  if (req.url === '/api/orders') {
    const ms = lognormal(10, 0.35) * SCALE + EXTRA_MS;
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ id: 1, total: 1200__FIELD__ }]));
    }, ms);
    return;
  }
  res.writeHead(404);
  res.end();
}

const server = http.createServer(handler).listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
"""

VERSIONS = {
    "base": dict(scale="1.0", extra="0", comment="base", field=""),
    "aa": dict(scale="1.0", extra="0", comment="the same code, another commit", field=""),
    "healthy": dict(scale="1.0", extra="0", comment="base", field=", currency: 'EUR'"),
    "slow200": dict(scale="1.0", extra="200", comment="base", field=""),
    "slow50": dict(scale="1.5", extra="0", comment="base", field=""),
}
GOALS = {"aa": (0, 1), "healthy": (0, 1), "slow200": (20, 20), "slow50": (19, 20)}


def run(args, cwd, check=True):
    p = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       env=dict(os.environ, NO_COLOR="1"))
    if check and p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stdout}\n{p.stderr}")
    return p


def make_repo(work):
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    g = ["git", "-C", repo, "-c", "user.name=b", "-c", "user.email=b@b", "-c", "commit.gpgsign=false"]
    run(g + ["init", "-q", "-b", "main"], work)
    with open(os.path.join(repo, "package.json"), "w") as f:
        json.dump({"name": "orders", "version": "1.0.0", "scripts": {"start": "node server.js"}}, f)
    with open(os.path.join(repo, "prodsprint.yaml"), "w") as f:
        f.write("version: 1\nproject:\n  name: orders\npolicy:\n  tests:\n    required: false\n")
    for tag in ["base", "aa", "healthy", "slow200", "slow50"]:
        v = VERSIONS[tag]
        text = (SERVER.replace("__SCALE__", v["scale"]).replace("__EXTRA__", v["extra"])
                .replace("__COMMENT__", v["comment"]).replace("__FIELD__", v["field"]))
        with open(os.path.join(repo, "server.js"), "w") as f:
            f.write(text)
        run(g + ["add", "-A"], work)
        run(g + ["commit", "-qm", tag, "--allow-empty"], work)
        run(g + ["tag", tag], work)
    return repo


def gate(work, tag):
    p = run([PS, "check", "repo", "--ref", tag, "--gate", "all", "--json"], work, check=False)
    try:
        j = json.loads(p.stdout)
    except ValueError:
        sys.exit(f"check --ref {tag}: no JSON (exit {p.returncode})\n{p.stderr[-2000:]}")
    perf = j.get("performance") or {}
    svc = (perf.get("services") or [{}])[0]
    pmin, routes = 1.0, {}
    for r in svc.get("routes", []):
        c = r.get("compared") or {}
        for q in c.get("quantiles", []):
            pmin = min(pmin, q.get("p_value", 1))
        bl = c.get("baseline_latency_ms") or {}
        routes[r["route"]] = {"p95_ms": round(r["latency_ms"]["p95"], 2),
                              "baseline_p95_ms": round(bl.get("p95", 0), 2)}
    return {"blocked": not perf.get("passed", False), "measured": perf.get("measured", False),
            "paired": (svc.get("baseline") or {}).get("paired", False), "min_p": pmin,
            "looks": svc.get("looks", 1),
            "routes": routes, "blockers": perf.get("blockers", [])}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--only", default="aa,healthy,slow200,slow50")
    ap.add_argument("--quiet", action="store_true", help="no noise mix")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="ps-perf-noise-")
    global PS
    shutil.copy2(PS, os.path.join(work, "prodsprint"))  # a rebuild must not pull it away
    PS = os.path.join(work, "prodsprint")
    noise = []
    out = {"trials": a.trials, "noise": not a.quiet, "cpus": os.cpu_count(), "scenarios": {}}
    try:
        make_repo(work)
        run([PS, "apply", "repo", "--ref", "base", "--env", "production"], work)
        if not a.quiet:
            noise = noise_mod.start(work)
            time.sleep(2)
        for tag in a.only.split(","):
            run([PS, "apply", "repo", "--ref", tag], work)
            results = []
            for i in range(a.trials):
                t0 = time.monotonic()
                r = gate(work, tag)
                r["seconds"] = round(time.monotonic() - t0, 1)
                results.append(r)
                print(f"  {tag} #{i + 1}: {'blocked' if r['blocked'] else 'passed'}"
                      f" paired={r['paired']} min p={r['min_p']:.2g} {r['routes']}",
                      file=sys.stderr)
            blocked = sum(r["blocked"] for r in results)
            lo, hi = GOALS[tag]
            out["scenarios"][tag] = {
                "blocked": blocked, "of": a.trials,
                "goal": f"{lo}..{hi} of 20", "met": lo * a.trials <= 20 * blocked <= hi * a.trials,
                "all_paired": all(r["paired"] for r in results),
                "median_check_s": statistics.median(r["seconds"] for r in results),
                "extended": sum(r["looks"] > 1 for r in results),
                "median_p95_ms": statistics.median(r["routes"].get("/api/orders", {}).get("p95_ms", 0)
                                                   for r in results),
                "median_baseline_p95_ms": statistics.median(
                    r["routes"].get("/api/orders", {}).get("baseline_p95_ms", 0) for r in results),
                "blockers": [b for r in results for b in r["blockers"]][:3],
            }
    finally:
        noise_mod.stop(noise)
        for env in ["staging", "production"]:
            run([PS, "down", "repo", "--env", env], work, check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
