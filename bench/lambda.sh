#!/usr/bin/env bash
# The Lambda artifacts (issue "AWS path"): builds the three functions with cargo-lambda,
# prints each bootstrap's size, then runs them under `cargo lambda watch` against moto and
# prints each function's init time (its own `init_ms` log line: environment, SDK config,
# clients) and its first and second invoke round trips.
#
#   bash bench/lambda.sh            # arm64 if the target is installed, else x86_64
#   bash bench/lambda.sh --x86-64   # or --arm64
#
# Needs the tools of `bash infra/moto.sh install` (moto, cargo-lambda + zig). Not part of
# the test command: a release build of three functions takes minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VENV="$ROOT/.venv-aws"
export PATH="$VENV/bin:$PATH"   # cargo-lambda finds zig through this venv's python3
export CARGO_TERM_COLOR=never

arch="${1:-}"
if [[ -z "$arch" ]]; then
  if rustup target list --installed 2>/dev/null | grep -q '^aarch64-unknown-linux-gnu$'; then
    arch=--arm64
  else
    arch=--x86-64
  fi
fi
out="$ROOT/target/lambda-bench"
bash infra/moto.sh install >&2

echo "== cargo lambda build --release $arch"
start=$SECONDS
cargo lambda build --release "$arch" --bin webhook --bin worker --bin scheduler --lambda-dir "$out" >&2
echo "built in $((SECONDS - start)) s"
printf '%-10s %12s  %s\n' function bytes file
for f in webhook worker scheduler; do
  printf '%-10s %12s  %s\n' "$f" "$(stat -c %s "$out/$f/bootstrap")" "$(file -b "$out/$f/bootstrap" | cut -d, -f1-2)"
done

echo "== init under cargo lambda watch (moto for AWS)"
eval "$(bash infra/moto.sh start)"
work="$(mktemp -d)"
watch_pid=""
cleanup() {
  [[ -n "$watch_pid" ]] && kill -- "-$watch_pid" 2>/dev/null || true
  bash infra/moto.sh stop >&2 || true
  rm -rf "$work"
}
trap cleanup EXIT
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1 \
       AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL
name="bench-$$"
"$VENV/bin/python" - "$name" >"$work/env" <<'EOF'
import sys, boto3
name = sys.argv[1]
ddb = boto3.client("dynamodb")
# The layout of puente_store_aws::DynamoStore::create_table.
ddb.create_table(
    TableName=name, BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"},
        "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
sqs = boto3.client("sqs")
dlq = sqs.create_queue(QueueName=name + "-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
q = sqs.create_queue(QueueName=name + ".fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
import os
for k in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_EC2_METADATA_DISABLED"):
    print(f"{k}={os.environ[k]}")
print(f"TABLE_NAME={name}\nQUEUE_URL={q}\nDLQ_URL={dlq}\nRUST_LOG=info")
EOF
port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
setsid cargo lambda watch -A 127.0.0.1 -P "$port" --env-file "$work/env" >"$out/watch.log" 2>&1 &
watch_pid=$!
for _ in $(seq 600); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.2
done

fx="shared/lambda/tests/fixtures"
# Events each function answers without a tenant: an unknown tenant's webhook (401), an
# empty SQS batch, a Modified schedule over no tenants.
sed 's#"body": *"[^"]*"#"body": "{}"#' "$fx/apigw-v2-webhook.json" >"$work/webhook.json"
echo '{"Records": []}' >"$work/worker.json"
echo '{"detail-type": "Scheduled Event", "detail": {"mode": "modified"}}' >"$work/scheduler.json"

printf '%-10s %10s %14s %14s\n' function init_ms "1st invoke ms" "2nd invoke ms"
for f in webhook worker scheduler; do
  t() {
    local s e
    s=$(date +%s%N)
    cargo lambda invoke "$f" -A 127.0.0.1 -P "$port" --data-file "$work/$f.json" >"$work/$f.out" 2>&1 || { cat "$work/$f.out" >&2; exit 1; }
    e=$(date +%s%N)
    echo $(((e - s) / 1000000))
  }
  first=$(t)    # includes watch's debug build of the function on first use
  second=$(t)
  # The function's own log line (text or JSON): the last `init_ms` watch printed.
  init=$(sed 's/\x1b\[[0-9;]*m//g' "$out/watch.log" | grep -a "init_ms" | tail -1 | grep -o 'init_ms[=": ]*[0-9.]*' | grep -o '[0-9.]*$' || true)
  printf '%-10s %10s %14s %14s\n' "$f" "$init" "$first" "$second"
done
