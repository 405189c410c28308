#!/usr/bin/env bash
# The audit beside GitHub Linguist (Debian's ruby-github-linguist) on the same
# repositories: the fixtures under tests/fixtures/audit, each made a git
# repository, and a generated monorepo of FILES files (default 100,000).
# Prints a Markdown table of medians (warm: one untimed run first).
#
#   bench/audit_vs_linguist.sh [FILES] [RUNS]
# Needs: build/release/prodsprint (scripts/build release prodsprint) and
# `apt-get install ruby-github-linguist`.
set -euo pipefail
cd "$(dirname "$0")/.."
files=${1:-100000}
runs=${2:-5}
ps=build/release/prodsprint
command -v github-linguist >/dev/null || { echo "install ruby-github-linguist first" >&2; exit 1; }
[[ -x $ps ]] || { echo "build prodsprint first: scripts/build release prodsprint" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

commit() {
  git -C "$1" init -q -b main
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@example.com commit -qm bench
}

# Median wall time in milliseconds (0.01 ms resolution) of RUNS runs of a
# command, after one warm-up run. Timed by one Python process around each
# spawn (perf_counter), so both tools pay the same fork/exec and nothing else
# (timing with `date` added a process start of its own to every figure).
median_ms() {
  python3 - "$runs" "$@" <<'PY'
import statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t0) * 1000)
print(f"{statistics.median(times):.2f}")
PY
}

for f in tests/fixtures/audit/*/; do
  name=$(basename "$f")
  [[ $name == hostile ]] && continue  # malformed on purpose; linguist reads it fine, not a speed case
  cp -r "$f/repo" "$work/$name"
  commit "$work/$name"
done

# A generated monorepo: npm workspaces of TypeScript services, with Go and Python.
python3 - "$work/monorepo" "$files" <<'PY'
import os, sys, json
root, total = sys.argv[1], int(sys.argv[2])
packages = max(1, total // 1000)
per = total // packages
os.makedirs(root)
json.dump({"name": "mono", "private": True, "workspaces": ["packages/*"]}, open(f"{root}/package.json", "w"))
open(f"{root}/package-lock.json", "w").write("{}")
for p in range(packages):
    d = f"{root}/packages/svc-{p}"
    os.makedirs(f"{d}/src")
    json.dump({"name": f"svc-{p}", "scripts": {"start": "node dist/index.js", "build": "tsc"},
               "dependencies": {"express": "^4.19.0", "pg": "^8.0.0"},
               "devDependencies": {"typescript": "^5.4.0", "vitest": "^1.6.0"}}, open(f"{d}/package.json", "w"))
    for i in range(per - 1):
        ext, body = (".ts", f"export function f{i}(x: number): number {{\n  return x * {i} + Number(process.env.FACTOR_{i % 7} || '1');\n}}\n")
        if i % 10 == 7:
            ext, body = (".py", f"import os\n\ndef f{i}(x):\n    return x * {i}\n")
        if i % 10 == 9:
            ext, body = (".go", f"package svc\n\nfunc F{i}(x int) int {{\n\treturn x * {i}\n}}\n")
        open(f"{d}/src/m{i}{ext}", "w").write(body)
PY
commit "$work/monorepo"

echo "| repository | files | prodsprint audit (ms) | github-linguist (ms) | linguist / audit |"
echo "|---|---|---|---|---|"
for repo in "$work"/*/; do
  name=$(basename "$repo")
  n=$(git -C "$repo" ls-files | wc -l)
  r=$runs
  a=$(median_ms "$ps" audit "$repo" --json)
  l=$(median_ms github-linguist --json "$repo")
  ratio=$(awk -v a="$a" -v l="$l" 'BEGIN { printf "%.0f", (a > 0 ? l / a : l) }')
  echo "| $name | $n | $a | $l | ${ratio}x |"
done
