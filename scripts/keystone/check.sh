#!/usr/bin/env bash
# End-to-end check of scripts/keystone/keystone.sh against the real Keystone it runs, with curl:
# a cold start, a token for every fixture user, validation by the service user, the catalog,
# an application credential, keystonemiddleware's real auth_token configured from the fixtures
# (when python3-keystonemiddleware is installed), a parallel burst, stop, a restart that keeps every id and secret
# (and the tokens issued before it), an idempotent start, and the failure paths (start-up
# timeout, port busy) leaving nothing running. Each step is timed.
#
#   bash scripts/keystone/check.sh
#
# It uses its own data dir and ports, so a Keystone started for the tests is left alone:
#   KEYSTONE_CHECK_DATA  default <repo>/tmp/keystone-check (wiped at the start: it is this script's)
#   KEYSTONE_CHECK_PORT  default 5001; KEYSTONE_CHECK_PORT+1 is used for the port-busy case
# Tokens and passwords never reach the output or a command line (curl reads them from files).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP VIRTUAL_ENV PYENV_VERSION 2>/dev/null || true
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
PY=/usr/bin/python3
KS="$HERE/keystone.sh"

export KEYSTONE_DATA=${KEYSTONE_CHECK_DATA:-$REPO/tmp/keystone-check}
export KEYSTONE_PORT=${KEYSTONE_CHECK_PORT:-5001}
BUSY_PORT=$((KEYSTONE_PORT + 1))
BUSY_DATA="$KEYSTONE_DATA-busy"
unset KEYSTONE_START_TIMEOUT KEYSTONE_NO_INSTALL KEYSTONE_SWIFT_URL KEYSTONE_REGION KEYSTONE_TOKEN_EXPIRATION

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-keystone-check.XXXXXX")
chmod 700 "$WORK"
LISTENER_PID=
PASSED=0
FAILED=0
TIMINGS=()

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
fmt_ms() { printf '%d.%03ds' $(($1 / 1000)) $(($1 % 1000)); }
say() { printf '%s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); say "ok    $*"; }
fail() {
  FAILED=$((FAILED + 1)); say "FAIL  $*"
  say "keystone-check: $PASSED passed, $FAILED failed"
  exit 1
}
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
timed() {   # timed LABEL CMD...: run, record and print the time
  local label=$1 t rc=0; shift
  t=$(now_ms)
  "$@" || rc=$?
  t=$(( $(now_ms) - t ))
  TIMINGS+=("$(printf '%-48s %9s' "$label" "$(fmt_ms "$t")")")
  [ $rc -eq 0 ] && ok "$label ($(fmt_ms "$t"))" || fail "$label (exit $rc after $(fmt_ms "$t"))"
}

cleanup() {
  local rc=$?
  [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null || true
  "$KS" stop >/dev/null 2>&1 || true
  KEYSTONE_DATA="$BUSY_DATA" KEYSTONE_PORT="$BUSY_PORT" "$KS" stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

wipe_ours() {  # only a directory keystone.sh made (or an empty one)
  local d=$1
  [ -e "$d" ] || return 0
  if [ -e "$d/.sluice-keystone" ] || [ -z "$(ls -A "$d")" ]; then rm -rf "$d"
  else fail "$d exists and was not made by keystone.sh; refusing to wipe it"; fi
}

fx() {  # fx PY-EXPR: evaluate against fixtures.json (bound to `f`), print the result
  "$PY" -c 'import json,sys; f=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$FIXTURES" "$1"
}

# ------------------------------------------------------------------------------------ HTTP ---
# Every request writes WORK/status, WORK/headers and WORK/body. Secrets go through files.
http() {  # http METHOD PATH [BODY-FILE] [HEADER-FILE...]
  local method=$1 path=$2 body=${3:-} args=()
  shift 3 || shift $#
  for h in "$@"; do args+=(-H "@$h"); done
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "@$body")
  if [ "$method" = HEAD ]; then args+=(-I); else args+=(-X "$method"); fi
  curl -sS -m 30 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code} %{time_total}' \
    "${args[@]}" "$KEYSTONE_URL$path" >"$WORK/status"
  printf '%s %s %s\n' "$method" "${path%%\?*}" "$(cut -d' ' -f2 "$WORK/status")" >>"$WORK/curl-times"
}
status() { cut -d' ' -f1 "$WORK/status"; }
curl_times() {  # curl_times METHOD PATH: "n=N min/median/max ms" of curl's own time_total
  awk -v m="$1" -v p="$2" '$1==m && $2==p {print $3 * 1000}' "$WORK/curl-times" | sort -n |
    awk '{v[NR]=$1} END {if (NR) printf "n=%d  min %.0f / median %.0f / max %.0f ms", NR, v[1], v[int((NR+1)/2)], v[NR]}'
}
subject_token() { tr -d '\r' <"$WORK/headers" | awk 'tolower($1)=="x-subject-token:"{print $2}'; }
body() { "$PY" -c 'import json,sys; b=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1"; }
header_file() {  # header_file NAME TOKEN-FILE -> a 0600 file holding "NAME: <token>"
  local out="$WORK/h.$1.$(basename "$2")"
  ( umask 077; printf '%s: %s\n' "$1" "$(cat "$2")" >"$out" )
  echo "$out"
}
password_body() {  # password_body USER [by-name] -> a 0600 JSON file (project-scoped)
  local out="$WORK/auth.$1.json"
  ( umask 077; "$PY" - "$FIXTURES" "$1" "${2:-}" >"$out" <<'PY'
import json, sys
f = json.load(open(sys.argv[1])); u = f["users"][sys.argv[2]]
if sys.argv[3] == "by-name":
    user = {"name": u["name"], "domain": {"name": u["domain_name"]}, "password": u["password"]}
    scope = {"project": {"name": u["project"], "domain": {"name": u["project_domain_name"]}}}
else:
    user = {"id": u["id"], "password": u["password"]}
    scope = {"project": {"id": u["project_id"]}}
print(json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": user}}, "scope": scope}}))
PY
  )
  echo "$out"
}
issue() {  # issue USER [by-name]: token -> WORK/tok.USER
  http POST /auth/tokens "$(password_body "$1" "${2:-}")"
  [ "$(status)" = 201 ] || { say "      POST /v3/auth/tokens for $1 -> $(status)"; return 1; }
  ( umask 077; subject_token >"$WORK/tok.$1" )
  [ -s "$WORK/tok.$1" ]
}
validate() {  # validate SUBJECT-USER [query]: GET /v3/auth/tokens as the service user
  http GET "/auth/tokens${2:-}" "" "$(header_file X-Auth-Token "$WORK/tok.sluice")" \
    "$(header_file X-Subject-Token "$WORK/tok.$1")"
}

# ---------------------------------------------------------------------------------- checks ---
say "keystone check: data $KEYSTONE_DATA, port $KEYSTONE_PORT"
wipe_ours "$KEYSTONE_DATA"
wipe_ours "$BUSY_DATA"
(exec 3<>"/dev/tcp/127.0.0.1/$KEYSTONE_PORT") 2>/dev/null && fail "port $KEYSTONE_PORT is already in use; set KEYSTONE_CHECK_PORT"

timed "start, first (install if missing, bootstrap)" "$KS" start
eval "$("$KS" env)"
FIXTURES=$KEYSTONE_FIXTURES
check "env: KEYSTONE_URL is $KEYSTONE_URL" test "$KEYSTONE_URL" = "http://127.0.0.1:$KEYSTONE_PORT/v3"
check "fixtures.json and secrets.json are mode 0600" \
  test "$(stat -c %a "$FIXTURES") $(stat -c %a "$KEYSTONE_DATA/secrets.json")" = "600 600"
check "status says running" bash -c "'$KS' status >/dev/null"
if grep -rqF "$(fx 'f["users"]["sluice"]["password"]')" "$KEYSTONE_DATA/log" "$KEYSTONE_DATA"/*.ini "$KEYSTONE_DATA"/*.conf; then
  fail "a password appears in a log or config file"
else ok "no password in logs or config"; fi

USERS=$(fx '" ".join(f["users"])')
for u in $USERS; do
  timed "token for $u ($(fx "f['users']['$u']['project']"), $(fx "f['users']['$u']['domain_name']"))" issue "$u"
done
timed "token for user-d2 by names (domain-2)" issue user-d2 by-name

timed "validate member-a's token as sluice" validate member-a
check "  -> 200" test "$(status)" = 200
check "  -> user and project are member-a's, proj-a" test \
  "$(body 'b["token"]["user"]["id"], b["token"]["project"]["id"]')" = \
  "$(fx '(f["users"]["member-a"]["id"], f["projects"]["proj-a"]["id"])')"
check "  -> roles member + implied reader, no operator role" test \
  "$(body 'sorted(r["name"] for r in b["token"]["roles"])')" = "['member', 'reader']"
check "  -> is_admin_project false" test "$(body 'b["token"].get("is_admin_project")')" = False
check "  -> catalog has object-store (public, internal, admin) for proj-a" test \
  "$(body 'sorted((e["interface"], e["url"]) for s in b["token"]["catalog"] if s["type"] == "object-store" for e in s["endpoints"])')" = \
  "$(fx 'sorted((i, e["url"] % {"project_id": f["projects"]["proj-a"]["id"]}) for i, e in f["object_store"]["endpoints"].items())')"
validate operator-a "?nocatalog"
check "validate operator-a's token (nocatalog) -> 200, swiftoperator, no catalog" test \
  "$(status) $(body '[r["name"] for r in b["token"]["roles"]], "catalog" in b["token"]')" = "200 (['swiftoperator'], False)"
validate admin
check "validate admin's token -> is_admin_project true, admin implies member, reader" test \
  "$(status) $(body 'b["token"]["is_admin_project"], sorted(r["name"] for r in b["token"]["roles"])')" = \
  "200 (True, ['admin', 'member', 'reader'])"
validate user-d2
check "validate user-d2's token -> user and project in domain-2" test \
  "$(body 'b["token"]["user"]["domain"]["name"], b["token"]["project"]["domain"]["name"]')" = "('domain-2', 'domain-2')"
http HEAD /auth/tokens "" "$(header_file X-Auth-Token "$WORK/tok.sluice")" "$(header_file X-Subject-Token "$WORK/tok.member-a")"
check "HEAD /v3/auth/tokens -> 200" test "$(status)" = 200
echo bogus >"$WORK/tok.bogus"
validate bogus
check "validate a garbage token -> 404" test "$(status)" = 404
http GET /auth/tokens "" "$(header_file X-Auth-Token "$WORK/tok.bogus")" "$(header_file X-Subject-Token "$WORK/tok.member-a")"
check "validate with a garbage X-Auth-Token -> 401 + WWW-Authenticate" \
  grep -qi "^WWW-Authenticate: Keystone uri=\"http://127.0.0.1:$KEYSTONE_PORT" "$WORK/headers"
http GET /auth/catalog "" "$(header_file X-Auth-Token "$WORK/tok.operator-b")"
check "GET /v3/auth/catalog for operator-b -> object-store URL with proj-b's id" test \
  "$(body '[e["url"] for s in b["catalog"] if s["type"] == "object-store" for e in s["endpoints"] if e["interface"] == "public"]')" = \
  "['http://127.0.0.1:8080/v1/AUTH_$(fx 'f["projects"]["proj-b"]["id"]')']"

( umask 077; "$PY" -c 'import json,sys; a=json.load(open(sys.argv[1]))["application_credentials"]["operator-a"]
print(json.dumps({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": a["id"], "secret": a["secret"]}}}}))' \
  "$FIXTURES" >"$WORK/auth.appcred.json" )
timed "token from application credential (operator-a)" http POST /auth/tokens "$WORK/auth.appcred.json"
check "  -> 201, proj-a, swiftoperator, method application_credential" test \
  "$(status) $(body 'b["token"]["project"]["name"], [r["name"] for r in b["token"]["roles"]], b["token"]["methods"]')" = \
  "201 ('proj-a', ['swiftoperator'], ['application_credential'])"

real_authtoken() {  # keystonemiddleware's own auth_token, configured from fixtures.json "authtoken"
  "$PY" - "$FIXTURES" "$KEYSTONE_URL" 2>"$WORK/authtoken.err" <<'PY'
import json, sys, urllib.request
import webob
from keystonemiddleware import auth_token
f = json.load(open(sys.argv[1])); seen = {}
def app(environ, start_response):
    seen.update({k[7:]: v for k, v in environ.items() if k.startswith("HTTP_X_")})
    start_response("200 OK", [("Content-Length", "0")]); return [b""]
mw = auth_token.filter_factory({}, delay_auth_decision="false", **f["authtoken"])(app)
u = f["users"]["member-a"]
body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": u["id"], "password": u["password"]}}},
                            "scope": {"project": {"id": u["project_id"]}}}}).encode()
tok = urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/auth/tokens", data=body,
      headers={"Content-Type": "application/json"})).headers["X-Subject-Token"]
r = webob.Request.blank("/v1/x", headers={"X-Auth-Token": tok, "X-Roles": "admin", "X-Is-Admin-Project": "True"}).get_response(mw)
got = (r.status_int, seen.get("IDENTITY_STATUS"), seen.get("USER_ID") == u["id"], seen.get("PROJECT_ID") == u["project_id"],
       sorted(seen.get("ROLES", "").split(",")), seen.get("IS_ADMIN_PROJECT"))
want = (200, "Confirmed", True, True, ["member", "reader"], "False")
bad = webob.Request.blank("/v1/x", headers={"X-Auth-Token": "bogus"}).get_response(mw)
print("      auth_token: %s; bogus token -> %s" % (got, bad.status_int))
sys.exit(0 if got == want and bad.status_int == 401 else 1)
PY
}
if "$PY" -c 'import keystonemiddleware, webob' 2>/dev/null; then
  timed "keystonemiddleware auth_token with fixtures' authtoken options" real_authtoken
else
  say "skip  keystonemiddleware auth_token (python3-keystonemiddleware not installed; .ci/run's swift-proxy brings it)"
fi

burst() {  # 48 issue+validate pairs, 8 at a time, over keep-alive connections
  "$PY" - "$FIXTURES" "$KEYSTONE_URL" <<'PY'
import http.client, json, sys, concurrent.futures as cf
f = json.load(open(sys.argv[1])); host, port = "127.0.0.1", int(sys.argv[2].split(":")[2].split("/")[0])
def call(c, method, path, body=None, headers={}):
    c.request(method, "/v3" + path, body=json.dumps(body) if body else None,
              headers=dict({"Content-Type": "application/json"}, **headers))
    r = c.getresponse(); r.read(); return r.status, r.getheader("X-Subject-Token")
def tok(c, u):
    return call(c, "POST", "/auth/tokens?nocatalog", {"auth": {"identity": {"methods": ["password"],
        "password": {"user": {"id": u["id"], "password": u["password"]}}}, "scope": {"project": {"id": u["project_id"]}}}})
c0 = http.client.HTTPConnection(host, port, timeout=30); svc = tok(c0, f["users"]["sluice"])[1]
names = [n for n in f["users"]]
def pair(i):
    c = http.client.HTTPConnection(host, port, timeout=30)
    out = []
    for j in range(6):
        s1, t = tok(c, f["users"][names[(i + j) % len(names)]])
        s2, _ = call(c, "GET", "/auth/tokens?nocatalog", headers={"X-Auth-Token": svc, "X-Subject-Token": t or "x"})
        out += [s1, s2]
    c.close(); return out
with cf.ThreadPoolExecutor(8) as ex:
    res = [s for r in ex.map(pair, range(8)) for s in r]
bad = [s for s in res if s not in (200, 201)]
print("      %d requests, %d not 2xx" % (len(res), len(bad)))
sys.exit(1 if bad else 0)
PY
}
timed "burst: 48 issue+validate pairs, 8 in parallel" burst

before=$(sha256sum <"$FIXTURES")
ids_before=$(fx 'sorted((k, v["id"]) for s in ("users","projects","roles","domains","application_credentials") for k, v in f[s].items())')
timed "stop" "$KS" stop
check "  -> nothing answers on port $KEYSTONE_PORT" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$KEYSTONE_PORT) 2>/dev/null"
check "  -> status exits 3 (stopped)" bash -c "'$KS' status >/dev/null; test \$? = 3"

timed "start again (restart, data kept)" "$KS" start
check "  -> fixtures.json unchanged (ids, names, passwords, secret)" test "$(sha256sum <"$FIXTURES")" = "$before"
check "  -> ids unchanged" test "$(fx 'sorted((k, v["id"]) for s in ("users","projects","roles","domains","application_credentials") for k, v in f[s].items())')" = "$ids_before"
timed "token for sluice after the restart" issue sluice
validate operator-b
check "  -> operator-b's token from before the restart still validates" test "$(status)" = 200
timed "start while running (idempotent)" "$KS" start

timed "stop before the failure cases" "$KS" stop
set +e
out=$(KEYSTONE_START_TIMEOUT=1 "$KS" start 2>&1 >/dev/null); rc=$?
set -e
check "start that times out -> non-zero, last line: ${out##*$'\n'}" test "$rc" != 0 -a -n "$out"
check "  -> its error is one line naming the timeout" bash -c "printf '%s\n' \"\$1\" | grep -c 'error:' | grep -qx 1 && printf '%s' \"\$1\" | grep -q 'did not answer'" _ "$out"
check "  -> nothing left running or listening" bash -c "! '$KS' status >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/$KEYSTONE_PORT) 2>/dev/null"

"$PY" -c 'import socket,sys,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$BUSY_PORT" &
LISTENER_PID=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$BUSY_PORT") 2>/dev/null && break; sleep 0.1; done
set +e
out=$(KEYSTONE_DATA="$BUSY_DATA" KEYSTONE_PORT="$BUSY_PORT" "$KS" start 2>&1 >/dev/null); rc=$?
set -e
check "start on a busy port -> non-zero, last line: ${out##*$'\n'}" test "$rc" != 0
check "  -> its error is one line naming the busy port" bash -c "printf '%s\n' \"\$1\" | grep -c 'error:' | grep -qx 1 && printf '%s' \"\$1\" | grep -q 'port $BUSY_PORT .* busy'" _ "$out"
check "  -> no uWSGI left for that data dir" bash -c "! KEYSTONE_DATA='$BUSY_DATA' KEYSTONE_PORT='$BUSY_PORT' '$KS' status >/dev/null"
kill "$LISTENER_PID" 2>/dev/null || true; wait "$LISTENER_PID" 2>/dev/null || true; LISTENER_PID=
rm -rf "$BUSY_DATA"

timed "start after the failures" "$KS" start
timed "final stop" "$KS" stop

say ""
say "timings (Keystone $(dpkg-query -W -f='${Version}' python3-keystone), $(nproc) cores):"
printf '  %s\n' "${TIMINGS[@]}"
say "curl time_total (keystone's own latency, no process start-up):"
say "  POST /v3/auth/tokens   $(curl_times POST /auth/tokens)"
say "  GET  /v3/auth/tokens   $(curl_times GET /auth/tokens)"
say "keystone-check: $PASSED passed, $FAILED failed"
