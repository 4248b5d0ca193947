#!/usr/bin/env bash
# Every test: formatting, lints, and the whole workspace's tests (unit, store conformance,
# sandboxes, end-to-end against the sandboxes, the Lambda handlers on moto) and cfn-lint on
# template.yaml. Installs and starts what the tests need by
# itself (the local AWS emulator for the AWS adapters), and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Each step says how long the run has taken so far, so a slow step shows in CI's log.
step() { printf '\n== [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

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

# APC-8's browser test (tests/apc8_browser.rs) drives Debian's headless Chromium through
# chromedriver; a fresh CI machine has neither.
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  step "chromium and chromium-driver (apt-get)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi

step "cargo test --workspace"
cargo test --workspace

# The SAM template (RUN-4), with the tools of the same venv (infra/moto.sh install pins them).
if [ -f template.yaml ]; then
  step "cfn-lint template.yaml"
  .venv-aws/bin/cfn-lint template.yaml

  # cargo-lambda finds zig through `python3 -m ziglang`: the venv's python3 must come first.
  export PATH="$PWD/.venv-aws/bin:$PATH" SAM_CLI_TELEMETRY=0
  step "sam validate --lint"
  sam validate --lint

  # A deploy that does not build never lands. arm64 (the template's default) where that Rust
  # target is installed; CI must not depend on downloading it, so elsewhere x86_64. The
  # build is cargo-lambda's debug profile (SAM_BUILD_MODE=debug): the same code, features
  # and cross-linking as `sam build`'s release build, in a fraction of the time.
  arch=x86_64
  if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
    arch=arm64
  fi
  # This build only proves the deploy builds (`sam build` for a deploy is a release build),
  # so it is unoptimised and not incremental: half the CPU time of the dev profile's
  # opt-level 1 for dependencies (8 min against 15 for one function, measured here).
  step "sam build ($arch, debug profile, unoptimised)"
  CARGO_INCREMENTAL=0 RUSTFLAGS="-C opt-level=0" SAM_BUILD_MODE=debug \
    sam build --parameter-overrides "Architecture=$arch" --build-dir target/sam-build
  for f in WebhookFunction WorkerFunction SchedulerFunction; do
    test -x "target/sam-build/$f/bootstrap" || { echo "sam build left no bootstrap for $f" >&2; exit 1; }
  done
fi

step "all passed"
