#!/usr/bin/env bash
# `prodsprint serve --tls-cert --tls-key`: HTTPS with a certificate made
# here (openssl), HSTS on answers, plain HTTP refused on the TLS port, and a
# certificate without its key refused at start.
set -euo pipefail
bin=$1
work=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$work/serve.log" 2>/dev/null | tail -5; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$work/key.pem" -out "$work/cert.pem" \
  2>/dev/null
"$bin" serve --listen "127.0.0.1:$port" --state "$work/state" --tls-cert "$work/cert.pem" \
  --tls-key "$work/key.pem" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf --cacert "$work/cert.pem" "https://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf -D "$work/headers" --cacert "$work/cert.pem" "https://127.0.0.1:$port/healthz" \
  -o "$work/body" || fail "no HTTPS answer"
grep -q '"status":"ok"' "$work/body" || fail "unexpected body: $(cat "$work/body")"
grep -qi '^strict-transport-security: max-age=' "$work/headers" || fail "no HSTS header"
grep -q "serving https://" "$work/serve.log" || fail "the server does not say https"
echo "ok: HTTPS with the given certificate, HSTS set"
# Keep-alive over TLS: two requests, one connection.
n=$(curl -sv --cacert "$work/cert.pem" "https://127.0.0.1:$port/healthz" \
  "https://127.0.0.1:$port/readyz" 2>&1 | grep -c "Re-using existing connection" || true)
[[ $n -ge 1 ]] || fail "the TLS connection was not reused"
echo "ok: keep-alive over TLS"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
[[ $code != 200 ]] || fail "plain HTTP answered on the TLS port"
echo "ok: plain HTTP gets no answer on the TLS port"
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
if "$bin" serve --listen "127.0.0.1:$port" --state "$work/state" --tls-cert "$work/cert.pem" \
  >"$work/serve.log" 2>&1; then
  fail "a certificate without its key was accepted"
fi
grep -q "both --tls-cert and --tls-key" "$work/serve.log" || fail "unclear error: $(cat "$work/serve.log")"
echo "ok: a certificate without its key is refused"
