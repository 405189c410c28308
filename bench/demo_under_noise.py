#!/usr/bin/env python3
"""The README's first command, again and again, on a busy machine (docs/BENCHMARKS.md).

Runs `scripts/demo` (v1 to production, v4 released as a canary and promoted, v5-prod-errors
rolled back by itself) --runs times in a row while bench/noise.py's build-like mix runs beside
it, as a user would run it again and again in one checkout (the first run from no state: the
checkout's .prodsprint is removed first), and counts the runs that ended as the README says.
Prints one JSON object.

  bench/demo_under_noise.py [--runs 10] [--quiet]
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noise  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--quiet", action="store_true", help="no noise mix")
    a = ap.parse_args()
    # Build once before the noise starts (scripts/demo rebuilds nothing then).
    subprocess.run([os.path.join(ROOT, "scripts/build"), "release", "prodsprint"], check=True,
                   stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="ps-demo-noise-")
    ps = os.path.join(ROOT, "build/release/prodsprint")
    demo_repo = os.path.join(ROOT, ".prodsprint/demo/catalog")
    env = dict(os.environ, NO_COLOR="1")
    if os.path.exists(demo_repo):
        for envname in ["staging", "production"]:
            subprocess.run([ps, "down", demo_repo, "--env", envname], cwd=ROOT, env=env, capture_output=True)
    shutil.rmtree(os.path.join(ROOT, ".prodsprint"), ignore_errors=True)
    procs = [] if a.quiet else noise.start(work)
    results = []
    try:
        for i in range(a.runs):
            t0 = time.monotonic()
            p = subprocess.run([os.path.join(ROOT, "scripts/demo")], cwd=ROOT, env=env,
                               capture_output=True, text=True)
            ok = p.returncode == 0
            why = ""
            if not ok:
                lines = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
                why = " | ".join(lines[-6:])
            results.append({"run": i + 1, "ok": ok, "seconds": round(time.monotonic() - t0, 1), "why": why})
            print(f"  run {i + 1}: {'ok' if ok else 'FAILED'} in {results[-1]['seconds']} s {why}", file=sys.stderr)
    finally:
        noise.stop(procs)
        for envname in ["staging", "production"]:
            subprocess.run([ps, "down", demo_repo, "--env", envname], cwd=ROOT, env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    out = {"runs": a.runs, "noise": not a.quiet, "passed": sum(r["ok"] for r in results),
           "in_a_row": next((i for i, r in enumerate(results) if not r["ok"]), len(results)),
           "median_seconds": sorted(r["seconds"] for r in results)[len(results) // 2],
           "failures": [r for r in results if not r["ok"]]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
