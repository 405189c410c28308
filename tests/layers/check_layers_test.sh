#!/usr/bin/env bash
# scripts/check-layers fails on an include across the allowed arrows, on a
# backend named outside its registration, and on an exception no longer
# needed; passes on a tree that keeps to them.
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree() {  # a fresh tree: the script, an empty exception list, src/
  rm -rf "$tmp/t" && mkdir -p "$tmp/t/scripts" "$tmp/t/src/core" "$tmp/t/src/engine" \
    "$tmp/t/src/service" "$tmp/t/src/cli" "$tmp/t/src/targets/local"
  cp "$src/scripts/check-layers" "$tmp/t/scripts/"
  : >"$tmp/t/scripts/layers-exceptions.txt"
  echo '#include "core/json.h"' >"$tmp/t/src/engine/engine.h"
  echo '#include "engine/engine.h"' >"$tmp/t/src/service/runs.h"
  echo '#include "targets/local/environment.h"' >"$tmp/t/src/cli/backends.cc"
}
expect() {  # exit code, text the output must hold
  local rc=0 out
  out=$(python3 "$tmp/t/scripts/check-layers" 2>&1) || rc=$?
  if [[ $rc != "$1" || $out != *"$2"* ]]; then
    echo "expected exit $1 and '$2', got exit $rc: $out" >&2
    exit 1
  fi
}
tree
expect 0 "layering check: ok"
# A lower layer including a higher one.
echo '#include "service/runs.h"' >"$tmp/t/src/engine/bad.cc"
expect 1 "src/engine/bad.cc:1: engine/ may not include service/runs.h"
# A backend named by anything but its registration.
tree
echo '#include "targets/local/environment.h"' >"$tmp/t/src/cli/status.cc"
expect 1 "src/cli/status.cc:1"
# An exception that is no longer needed.
tree
echo 'src/cli/app.cc targets/local/environment.h' >"$tmp/t/scripts/layers-exceptions.txt"
expect 1 "no longer needed"
echo "check-layers: 4 cases as expected"
