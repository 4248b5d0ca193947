#!/usr/bin/env bash
# Every test: formatting, lints, and the whole workspace's tests (unit, store conformance,
# sandboxes, end-to-end against the sandboxes, the Lambda handlers on moto) and cfn-lint on
# template.yaml. Installs and starts what the tests need by
# itself (the local AWS emulator for the AWS adapters), and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

# The AWS adapters' tests run against moto (a local AWS emulator from PyPI).
if [ -f infra/moto.sh ] && [ -d shared/store-aws ]; then
  step "local AWS emulator (moto)"
  bash infra/moto.sh install
  eval "$(bash infra/moto.sh start)"
  export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-west-1 \
         AWS_DEFAULT_REGION=eu-west-1 AWS_EC2_METADATA_DISABLED=true
  trap 'bash infra/moto.sh stop' EXIT
fi

step "cargo test --workspace"
cargo test --workspace

# The SAM template (RUN-4): cfn-lint from the same venv (infra/moto.sh install pins it).
if [ -f template.yaml ]; then
  step "cfn-lint template.yaml"
  .venv-aws/bin/cfn-lint template.yaml
fi
