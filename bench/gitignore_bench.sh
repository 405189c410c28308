#!/usr/bin/env bash
# .gitignore matching on hostile patterns: 100 patterns "*a*a…*a bN" (60
# stars each) over 1,000 files named with 200 a's — a backtracking matcher's
# worst case. Times `prodsprint audit` (median of 3) against the peer, git
# (`git status --ignored`, whose wildmatch backtracks), measured in the same
# run; git is cut at GIT_LIMIT seconds (default 120).
#   bench/gitignore_bench.sh [build/release/prodsprint]
set -euo pipefail
ps_bin=${1:-build/release/prodsprint}
limit=${GIT_LIMIT:-120}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
mkdir -p "$repo"
git -C "$repo" init -q
for i in $(seq 0 99); do printf '%s b%d\n' "$(printf '*a%.0s' $(seq 60))" "$i"; done >"$repo/.gitignore"
long=$(printf 'a%.0s' $(seq 200))
for i in $(seq 0 999); do : >"$repo/$long$i"; done
printf 'print(1)\n' >"$repo/app.py"
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
runs=()
for _ in 1 2 3; do runs+=("$(secs "$ps_bin" audit "$repo" --json)"); done
median=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
git_s=$(secs timeout "$limit" git -C "$repo" status --ignored --porcelain)
echo "prodsprint audit: median ${median}s of ${runs[*]}"
if awk -v g="$git_s" -v l="$limit" 'BEGIN { exit !(g >= l - 0.5) }'; then
  echo "git status --ignored: did not finish in ${limit}s (cut)"
  echo "ratio: git/prodsprint > $(awk -v l="$limit" -v m="$median" 'BEGIN { printf "%.0f", l / m }')x"
else
  echo "git status --ignored: ${git_s}s"
  echo "ratio: git/prodsprint = $(awk -v g="$git_s" -v m="$median" 'BEGIN { printf "%.1f", g / m }')x"
fi
