#!/usr/bin/env bash
# Every Terraform file the plan writes for the fixtures (the golden files,
# which the plan test holds byte-equal to its output) is already formatted:
# `terraform fmt -check` parses it (a syntax error fails) and finds nothing to
# change. terraform comes with the CI image (see docs/PLAN.md).
set -euo pipefail
root=${1:?source folder}
command -v terraform >/dev/null || { echo "terraform is not installed" >&2; exit 1; }
export TF_CLI_CONFIG_FILE=/dev/null CHECKPOINT_DISABLE=1
dirs=$(find "$root/tests/fixtures/plan" \( -path '*/infra/aws' -o -path '*/infra/kubernetes' \) -type d)
[[ -n $dirs ]] || { echo "no Terraform found" >&2; exit 1; }
for d in $dirs; do
  terraform fmt -check -recursive -diff "$d"
done
echo "$(find $dirs -name '*.tf' -o -name '*.hcl' | wc -l) files formatted"
