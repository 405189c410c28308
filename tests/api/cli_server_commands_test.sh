#!/usr/bin/env bash
# The server's commands from the command line: `orgs create` (slugs,
# duplicates), `serve --dev` refused off loopback, and `audit verify`
# finding a changed and a deleted row (exit 1, naming the entry).
set -euo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
rc() { set +e; "$@" >"$work/out" 2>&1; local r=$?; set -e; echo $r; }
s=(--state "$work/state")

[[ $(rc "$bin" orgs create acme --owner alice "${s[@]}") == 0 ]] || fail "orgs create: $(cat "$work/out")"
[[ $(rc "$bin" orgs create acme --owner bob "${s[@]}") == 5 ]] || fail "a duplicate org: $(cat "$work/out")"
[[ $(rc "$bin" orgs create "Not A Slug" --owner bob "${s[@]}") == 2 ]] || fail "a bad slug: $(cat "$work/out")"
"$bin" orgs create beta --owner bob --json "${s[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["name"]=="beta" and d["owner"]=="bob", d'
echo "ok: orgs create (duplicate: exit 5, bad slug: exit 2, --json)"

[[ $(rc "$bin" serve --dev --listen 0.0.0.0:0 "${s[@]}") == 2 ]] || fail "--dev off loopback: $(cat "$work/out")"
grep -q "loopback" "$work/out" || fail "unclear --dev refusal: $(cat "$work/out")"
echo "ok: serve --dev refuses a non-loopback address"

[[ $(rc "$bin" audit verify "${s[@]}") == 0 ]] || fail "audit verify on a sound log: $(cat "$work/out")"
"$bin" audit verify --json "${s[@]}" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ok"] and d["chains"], d'
db=$work/state/state.db
first=$(sqlite3 "$db" "SELECT MIN(id) FROM audit_log")
sqlite3 "$db" "UPDATE audit_log SET target = 'forged' WHERE id = $first"
[[ $(rc "$bin" audit verify "${s[@]}") == 1 ]] || fail "a changed row passed: $(cat "$work/out")"
grep -q "at entry $first" "$work/out" || fail "the changed entry is not named: $(cat "$work/out")"
echo "ok: audit verify finds a changed row (exit 1)"
