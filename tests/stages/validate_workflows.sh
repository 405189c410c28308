#!/usr/bin/env bash
# Every workflow the plan writes for the fixtures (the golden files, which the
# plan test holds byte-equal to its output) passes GitHub's workflow schema,
# checked by action-validator (scripts/install-deps installs it).
set -euo pipefail
root=${1:?source folder}
validator=$root/build/tools/node_modules/.bin/action-validator
[[ -x $validator ]] || { echo "action-validator missing: run scripts/install-deps" >&2; exit 1; }
n=0
while IFS= read -r -d '' wf; do
  "$validator" "$wf" || { echo "invalid workflow: $wf" >&2; exit 1; }
  n=$((n + 1))
done < <(find "$root/tests/fixtures/plan" -path '*/.github/workflows/*.yml' -print0)
((n > 0)) || { echo "no workflows found" >&2; exit 1; }
echo "$n workflows valid"
