#!/usr/bin/env bash
# The OpenAPI document the server serves (`prodsprint serve --openapi`, the
# same function as /v1/openapi.json) passes @redocly/cli's recommended rules.
set -euo pipefail
src=$1
bin=$2
redocly=$src/build/tools/node_modules/.bin/redocly
[[ -x $redocly ]] || { echo "@redocly/cli is not installed (scripts/install-deps)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" serve --openapi >"$work/openapi.json"
cd "$work"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$redocly" lint --format=stylish \
  openapi.json
