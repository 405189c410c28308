#!/usr/bin/env bash
# The audit scored against the labelled corpora (docs/BENCHMARKS.md, "Audit on
# real repositories"): tests/fixtures/audit-corpus (the repositories the audit
# was improved on) and, when present, tests/fixtures/audit-holdout (written
# after, scored as they are). Prints each field's score and what was missed.
#
#   bench/audit_corpus_score.sh            (needs build/release/tests/audit_test)
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for corpus in audit-corpus audit-holdout; do
  [[ -d tests/fixtures/$corpus ]] || continue
  echo "== tests/fixtures/$corpus"
  PS_CORPUS_DIR="tests/fixtures/$corpus" PS_CORPUS_SCORE="$out" \
    build/release/tests/audit_test --gtest_filter='AuditCorpus*' >/dev/null 2>&1 || true
  python3 - "$out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("repositories:", j["repositories"])
for field, t in sorted(j["total"].items()):
    print(f"  {field:22} {t['right']:>3}/{t['of']:<3} {t['score']:.3f}")
for m in j["misses"]:
    print("  miss:", m)
PY
done
