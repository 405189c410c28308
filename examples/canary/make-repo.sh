#!/usr/bin/env bash
# Makes the release example's git repository in DEST: three commits on main,
# tagged v1 (healthy), v2-errors (5% of /api/items fail) and v3-slow
# (/api/items 200 ms slower, built on v1). Releases and benchmarks deploy v1,
# then one of the worse ones as the canary.
#
#   examples/canary/make-repo.sh DEST
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:?usage: make-repo.sh DEST}
[[ ! -e $dest ]] || { echo "$dest exists; give a new folder" >&2; exit 2; }
mkdir -p "$dest"
git=(git -C "$dest" -c user.name=prodsprint -c user.email=examples@prodsprint.dev
     -c commit.gpgsign=false -c tag.gpgsign=false)
"${git[@]}" init -q -b main
cp "$here"/app/* "$dest"/
"${git[@]}" add -A
GIT_AUTHOR_DATE=2026-01-01T00:00:00Z GIT_COMMITTER_DATE=2026-01-01T00:00:00Z \
  "${git[@]}" commit -q -m "catalog v1"
"${git[@]}" tag v1
cp "$here"/versions/v2-errors/server.js "$dest"/server.js
GIT_AUTHOR_DATE=2026-01-02T00:00:00Z GIT_COMMITTER_DATE=2026-01-02T00:00:00Z \
  "${git[@]}" commit -q -am "catalog v2: a bug fails one request in twenty"
"${git[@]}" tag v2-errors
cp "$here"/versions/v3-slow/server.js "$dest"/server.js
GIT_AUTHOR_DATE=2026-01-03T00:00:00Z GIT_COMMITTER_DATE=2026-01-03T00:00:00Z \
  "${git[@]}" commit -q -am "catalog v3: the v2 bug fixed, a slow query added"
"${git[@]}" tag v3-slow
echo "$dest: tags v1, v2-errors, v3-slow"
