#!/usr/bin/env bash
# Runs the opensearch-py client tests against a tandem node built from this tree: installs the
# client and pytest into a venv under target/ (PyPI only), starts the node on free ports with a
# temporary data folder, runs pytest, and always stops the node and removes the folder.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

venv="$root/target/python-venv"
if [ ! -x "$venv/bin/pytest" ]; then
    if ! python3 -m venv "$venv" || ! "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "opensearch-py==3.2.0" "pytest>=8,<9"; then
        rm -rf "$venv"
        echo "opensearch-py client test: skipped (could not install opensearch-py and pytest from PyPI)"
        exit 0
    fi
fi

cargo build --quiet --locked -p tandem-node
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
http_port="$(free_port)"
transport_port="$(free_port)"
data="$(mktemp -d)"
log="$data.log"
"$root/target/debug/tandem" -E "path.data=$data" -E "http.port=$http_port" \
    -E "transport.port=$transport_port" -E cluster.name=pytest >"$log" 2>&1 &
node_pid=$!
cleanup() { kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; rm -rf "$data" "$log"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$http_port/" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$node_pid" 2>/dev/null; then cat "$log"; exit 1; fi
    sleep 0.1
done

TANDEM_URL="http://127.0.0.1:$http_port" "$venv/bin/pytest" -q "$root/tests/python"
