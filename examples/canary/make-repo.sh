#!/usr/bin/env bash
# Makes the release example's git repository in DEST: five commits on main,
# tagged v1 (healthy), v2-errors (5% of /api/items fail), v3-slow
# (/api/items 200 ms slower, built on v1), v4 (healthy: v1 with a new field)
# and v5-prod-errors (v4 with a flag on only in production that fails one
# /api/items request in ten there: staging and the tests never see it).
# Releases and benchmarks deploy v1, then one of the others as the canary;
# `scripts/demo` runs `prodsprint up` on v1, v4 and v5-prod-errors.
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
cp "$here"/versions/v4/server.js "$dest"/server.js
GIT_AUTHOR_DATE=2026-01-04T00:00:00Z GIT_COMMITTER_DATE=2026-01-04T00:00:00Z \
  "${git[@]}" commit -q -am "catalog v4: the slow query gone, stock shown with each item"
"${git[@]}" tag v4
cp "$here"/versions/v5-prod-errors/server.js "$dest"/server.js
GIT_AUTHOR_DATE=2026-01-05T00:00:00Z GIT_COMMITTER_DATE=2026-01-05T00:00:00Z \
  "${git[@]}" commit -q -am "catalog v5: new pricing behind a flag, on in production"
"${git[@]}" tag v5-prod-errors
echo "$dest: tags v1, v2-errors, v3-slow, v4, v5-prod-errors"
