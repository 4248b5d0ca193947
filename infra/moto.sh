#!/usr/bin/env bash
# A local AWS emulator (moto_server: DynamoDB, SQS, EventBridge, Scheduler, Logs) for the
# tests of the AWS store adapter (shared/store-aws) and the Lambda handlers (shared/lambda),
# plus cfn-lint for template.yaml. No Docker, no AWS account needed.
#
#   bash infra/moto.sh install   # .venv-aws/ at the repo root, pinned moto + cfn-lint (idempotent)
#   eval "$(bash infra/moto.sh start)"   # exports AWS_ENDPOINT_URL=http://127.0.0.1:PORT
#   AWS_ENDPOINT_URL=... cargo test -p puente-store-aws
#   bash infra/moto.sh stop
#
# `start` writes target/moto.port and target/moto.pid (and logs to target/moto.log);
# `stop` kills that pid. State is in memory only: a restart starts empty.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-aws"
PY="$VENV/bin/python"
STATE="$ROOT/target"
PORT_FILE="$STATE/moto.port"
PID_FILE="$STATE/moto.pid"
LOG_FILE="$STATE/moto.log"
# Lean install: the `server` extra pulls every service's deps (317 MB); Flask and
# flask-cors are all moto_server needs on top of the services' own extras.
# cfn-lint checks template.yaml (infra/test.sh runs `.venv-aws/bin/cfn-lint template.yaml`).
# aws-sam-cli (`sam validate --lint`, `sam build`) and cargo-lambda (with zig from PyPI, which
# cargo-lambda finds through `python3 -m ziglang`: this venv's bin must be first on PATH).
PACKAGES=('moto[dynamodb,sqs,events,scheduler,logs,secretsmanager]==5.2.5' 'flask==3.1.3' 'flask-cors==6.0.5'
          'cfn-lint==1.58.0' 'aws-sam-cli==1.170.0' 'cargo-lambda==1.9.2')

log() { echo "moto.sh: $*" >&2; }

installed() {
    [[ -x "$PY" ]] && "$PY" -c 'import moto, flask, flask_cors, ziglang; assert moto.__version__ == "5.2.5"' 2>/dev/null \
        && "$PY" -c 'import moto.secretsmanager' 2>/dev/null \
        && [[ "$("$VENV/bin/cfn-lint" --version 2>/dev/null)" == *" 1.58.0"* ]] \
        && [[ "$("$VENV/bin/sam" --version 2>/dev/null)" == *" 1.170.0"* ]] \
        && [[ "$("$VENV/bin/cargo-lambda" lambda --version 2>/dev/null)" == *"1.9.2"* ]]
}

cmd_install() {
    if installed; then
        log "moto 5.2.5, cfn-lint 1.58.0, aws-sam-cli 1.170.0 and cargo-lambda 1.9.2 already installed in $VENV"
        return 0
    fi
    if [[ ! -x "$PY" ]]; then
        log "creating $VENV"
        python3 -m venv "$VENV"
    fi
    log "installing ${PACKAGES[*]}"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
    installed || { log "install finished but a pinned tool does not import or run at its version"; exit 1; }
    log "installed"
}

# The pid from the file, if that process is alive and still our moto_server (a stale file's
# pid may have been reused by an unrelated process, which must not be killed).
running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid cmd
    pid="$(cat "$PID_FILE")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmd" == *moto_server* ]] || return 1
    # Ours: started from this checkout's venv (a target/ copied from another checkout must
    # not make this one reuse, fill or stop that checkout's emulator).
    [[ "$cmd" == "$VENV/"* || "$cmd" == *" $VENV/"* ]] || return 1
    echo "$pid"
}

answers() {
    "$PY" - "$1" <<'EOF' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1).read()
EOF
}

cmd_start() {
    installed || { log "moto/cfn-lint not installed: run 'bash infra/moto.sh install' first"; exit 1; }
    mkdir -p "$STATE"
    local pid port
    if pid="$(running_pid)" && [[ -f "$PORT_FILE" ]] && answers "$(cat "$PORT_FILE")"; then
        port="$(cat "$PORT_FILE")"
        log "already running (pid $pid, port $port)"
        echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port"
        return 0
    fi
    port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
    # setsid: the server must not die with the shell that started it (eval "$(... start)").
    setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$LOG_FILE" 2>&1 < /dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    local deadline=$((SECONDS + 20))
    until answers "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "moto_server exited; see $LOG_FILE:"
            tail -n 20 "$LOG_FILE" >&2 || true
            rm -f "$PID_FILE"
            exit 1
        fi
        if ((SECONDS >= deadline)); then
            log "moto_server did not answer on port $port within 20 s; see $LOG_FILE"
            kill "$pid" 2>/dev/null || true
            rm -f "$PID_FILE"
            exit 1
        fi
        sleep 0.1
    done
    echo "$port" >"$PORT_FILE"
    log "started (pid $pid, port $port, log $LOG_FILE)"
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$port"
}

cmd_stop() {
    local pid
    if pid="$(running_pid)"; then
        kill "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        log "stopped (pid $pid)"
    else
        log "not running"
    fi
    rm -f "$PID_FILE" "$PORT_FILE"
}

case "${1:-}" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    *)
        echo "usage: $0 install|start|stop" >&2
        exit 2
        ;;
esac
