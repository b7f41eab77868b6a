#!/usr/bin/env bash
# Property-based check of the running API against its own OpenAPI document (schemathesis):
# no server errors, and every status code, content type, header and response body as documented.
#   scripts/fuzz-api.sh [path to agora binary]   (default: the debug build of `swift test`)
# Needs `pip install schemathesis`. The server listens on 127.0.0.1 and is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/debug/agora}
PORT=${PORT:-18190}
SEED=${SEED:-20261121}

DATA=$(mktemp -d /tmp/agora-fuzz.XXXXXX)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT

export AGORA_BCRYPT_COST=4 AGORA_LOGIN_MAX_FAILURES_PER_EMAIL=1000000 AGORA_LOGIN_MAX_FAILURES_PER_ADDRESS=1000000
"$BIN" seed --data-dir "$DATA" --users 5 --posts 20 --comments 20 >/dev/null
"$BIN" serve --data-dir "$DATA" --port "$PORT" --log-level error &
SERVER=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done

TOKEN=$(curl -sf -X POST "http://127.0.0.1:$PORT/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"email":"user2@example.com","password":"agora-demo-password"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')

# DELETE /api/users/me would delete the account whose token the run uses; it is tested in Swift.
schemathesis run "http://127.0.0.1:$PORT/api/openapi.json" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-path-regex '/api/users/me$' \
  --max-examples 30 --seed "$SEED" --no-color
