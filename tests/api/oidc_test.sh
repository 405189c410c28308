#!/usr/bin/env bash
# `prodsprint serve` against a real OpenID provider on loopback
# (oauth2-mock-server, tests/api/oidc_provider.mjs): discovery gives the
# JWKS URL, the provider's token endpoint issues RS256 tokens, and the server
# verifies them (issuer, audience, expiry, signature) and maps the subject
# to the org's members and roles. Both servers are started and stopped here.
set -euo pipefail
src=$1
bin=$2
tools=$src/build/tools
[[ -f $tools/node_modules/oauth2-mock-server/package.json ]] ||
  { echo "oauth2-mock-server is not installed (scripts/install-deps)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
fail() { echo "FAIL: $*"; exit 1; }

idp_port=$(free_port)
node "$src/tests/api/oidc_provider.mjs" "$idp_port" "$tools" >"$work/idp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$idp_port/.well-known/openid-configuration" >"$work/discovery.json" && break
  sleep 0.2
done
issuer=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["issuer"])' "$work/discovery.json")
jwks=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["jwks_uri"])' "$work/discovery.json")

state=$work/state
"$bin" orgs create acme --owner alice --state "$state" >/dev/null
api_port=$(free_port)
PRODSPRINT_SERVER_OIDC_ISSUER=$issuer PRODSPRINT_SERVER_OIDC_AUDIENCE=prodsprint \
  PRODSPRINT_SERVER_OIDC_JWKS_URL=$jwks PRODSPRINT_SERVER_OIDC_CLIENT_ID=prodsprint \
  "$bin" serve --listen "127.0.0.1:$api_port" --state "$state" --workers 1 >"$work/serve.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$api_port
for _ in $(seq 100); do curl -sf "$api/healthz" >/dev/null && break; sleep 0.1; done

token() { curl -sf -d grant_type=client_credentials "$@" "$issuer/token" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'; }
status() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }

alice=$(token -d sub=alice)
[[ $(status -H "Authorization: Bearer $alice" "$api/v1/me") == 200 ]] || fail "alice /v1/me: $(cat "$work/body")"
grep -q '"sub":"alice"' "$work/body" || fail "alice is not alice: $(cat "$work/body")"
grep -q '"role":"owner"' "$work/body" || fail "alice is not acme's owner: $(cat "$work/body")"
echo "ok: a token from the provider is verified and its subject is acme's owner"

mallory=$(token -d sub=mallory)
[[ $(status -H "Authorization: Bearer $mallory" "$api/v1/orgs/acme") == 404 ]] || fail "mallory saw acme"
echo "ok: a valid token of someone who is not a member sees no org (404)"

# alice makes mallory a viewer through the API: reads pass, changes do not.
[[ $(status -H "Authorization: Bearer $alice" -d '{"sub":"mallory","role":"viewer"}' \
  "$api/v1/orgs/acme/members") == 201 ]] || fail "alice could not add mallory: $(cat "$work/body")"
[[ $(status -H "Authorization: Bearer $mallory" "$api/v1/orgs/acme") == 200 ]] || fail "viewer read"
[[ $(status -H "Authorization: Bearer $mallory" -d '{"name":"x"}' "$api/v1/orgs/acme/workspaces") == 403 ]] ||
  fail "a viewer created a workspace"
echo "ok: roles live in ProdSprint: a viewer reads (200) and may not change (403)"

wrong_aud=$(token -d sub=alice -d aud=someone-else)
[[ $(status -H "Authorization: Bearer $wrong_aud" "$api/v1/me") == 401 ]] || fail "wrong audience accepted"
expired=$(token -d sub=alice -d expired=1)
[[ $(status -H "Authorization: Bearer $expired" "$api/v1/me") == 401 ]] || fail "expired token accepted"
tampered=$(python3 - "$alice" <<'PY'
import base64, json, sys
h, p, s = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
claims["sub"] = "mallory-as-alice"
p2 = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
print(".".join([h, p2, s]))
PY
)
code=$(curl -s -o "$work/body" -D "$work/headers" -w '%{http_code}' -H "Authorization: Bearer $tampered" "$api/v1/me")
[[ $code == 401 ]] || fail "tampered token accepted"
grep -qi 'www-authenticate: Bearer.*invalid_token' "$work/headers" || fail "no WWW-Authenticate challenge"
grep -q 'application/problem+json' "$work/headers" || fail "401 is not a problem+json"
echo "ok: wrong audience, expired and tampered tokens get 401 with a Bearer challenge"

# The dashboard's sign-in: authorization code with PKCE, through the
# provider's pages, ending in the session cookie.
authorize=$(curl -s -o /dev/null -w '%{redirect_url}' "$api/v1/auth/login?return_to=/projects")
[[ $authorize == "$issuer"/authorize\?* ]] || fail "login does not go to the provider: $authorize"
[[ $authorize == *code_challenge_method=S256* && $authorize == *nonce=* && $authorize == *state=* ]] ||
  fail "no PKCE, nonce or state: $authorize"
callback=$(curl -s -o /dev/null -w '%{redirect_url}' "$authorize")
[[ $callback == "$api/v1/auth/callback?"* ]] || fail "the provider did not come back: $callback"
curl -s -o /dev/null -D "$work/login.headers" "$callback"
grep -qi '^location: /projects' "$work/login.headers" || fail "not back to return_to: $(cat "$work/login.headers")"
cookie=$(grep -i '^set-cookie: ps_session=' "$work/login.headers" | sed 's/^[Ss]et-[Cc]ookie: //; s/;.*//' | tr -d '\r')
[[ -n $cookie ]] || fail "no session cookie: $(cat "$work/login.headers")"
grep -i '^set-cookie:' "$work/login.headers" | grep -q 'HttpOnly; SameSite=Strict' || fail "cookie flags"
[[ $(status -H "Cookie: $cookie" "$api/v1/me") == 200 ]] || fail "the session does not work"
grep -q '"sub":"alice"' "$work/body" || fail "signed in as someone else: $(cat "$work/body")"
[[ $(status "$callback") == 401 ]] || fail "a used sign-in was accepted again"
[[ $(status "$api/v1/auth/callback?code=x&state=forged") == 401 ]] || fail "a forged state was accepted"
evil=$(curl -s -o /dev/null -w '%{redirect_url}' "$api/v1/auth/login?return_to=//evil.example/")
cb=$(curl -s -o /dev/null -w '%{redirect_url}' "$evil")
curl -s -o /dev/null -D "$work/evil.headers" "$cb"
grep -qi '^location: /\s*$' "$work/evil.headers" || fail "an open redirect: $(cat "$work/evil.headers")"
echo "ok: the dashboard's sign-in: code + PKCE + nonce through the provider, a session cookie, no replay, no open redirect"

# The denials are in the audit log (the server's own chain) and the chain holds.
kill "${pids[1]}"; wait "${pids[1]}" 2>/dev/null || true
"$bin" audit verify --state "$state" --json >"$work/verify.json" || fail "audit verify: $(cat "$work/verify.json")"
echo "ok: audit verify holds after the session"
