#!/usr/bin/env bash
# Smoke: the real python-swiftclient CLI (Debian's python3-swiftclient, `swift`) and curl against
# sluice started the way a newcomer starts it (`npm start`, i.e. `node bin/sluice.js start`), on
# a temporary data directory and free ports.
#
#   bash scripts/swiftclient-smoke.sh                   (npm run smoke:swiftclient)
#   bash scripts/swiftclient-smoke.sh --auth keystone   (npm run smoke:swiftclient:keystone)
#
# Covers upload of a directory tree (nested dirs, an empty file and directory, 5 MiB of random
# bytes, names with spaces, é, 日本, an emoji, + % & ? # ; quotes), list, stat, download with a
# byte-for-byte diff, --changed/--skip-identical, copy (-d, --destination, -m, --fresh-metadata),
# tempurl (every digest the CLI offers, --iso8601, --prefix-based, container keys, PUT, and the
# 401s), metadata POSTs, container ACLs used by a second identity, segmented uploads (DLO with
# --segment-size, SLO with --use-slo: byte-for-byte downloads, a range across a segment boundary
# with curl, delete with and without --leave-segments), and delete --all.
#
# Auth: TempAuth's development users by default (owner test:tester, ACL grantee test2:tester2, a
# user of the account without a grant test:tester3). With --auth keystone, sluice runs
# `start --auth keystone` against the real Keystone of scripts/keystone-dev.sh (KEYSTONE_URL and
# KEYSTONE_FIXTURES from the environment, or from `scripts/keystone-dev.sh env`), and the CLI
# authenticates with Keystone v3: owner operator-a (swiftoperator on proj-a), grantee operator-b
# (proj-b), no grant member-a. The CLI takes the storage URL from the Keystone catalog: this run
# adds a region of its own whose object-store endpoint is its sluice, selected with
# --os-region-name and removed at exit (scripts/lib/keystone-smoke-region.py), so the shared
# RegionOne endpoints other users of that Keystone read never change. The checks are the same.
#
# Installs python3-swiftclient and curl with apt-get when missing (needs root or sudo).
# KEEP=1 keeps the work directory. Prints PASS/FAIL per check and "N passed, N failed"; exits
# non-zero if any check fails or sluice does not start, printing the end of sluice's log.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(python3-swiftclient curl)
AUTH=tempauth
while [ $# -gt 0 ]; do
  case "$1" in
    --auth) AUTH=${2:-}; shift 2 || { echo "smoke: --auth needs a value" >&2; exit 2; } ;;
    --auth=*) AUTH=${1#--auth=}; shift ;;
    *) echo "smoke: unknown argument '$1' (usage: $0 [--auth tempauth|keystone])" >&2; exit 2 ;;
  esac
done
case "$AUTH" in
  tempauth) ;;
  # swift's v3 auth needs keystoneclient
  keystone) PACKAGES+=(python3-keystoneclient) ;;
  *) echo "smoke: --auth must be tempauth or keystone, not '$AUTH'" >&2; exit 2 ;;
esac

SCRIPT_NAME=smoke
# Keystone's variables survive setup.sh (it clears the OS_* and ST_* of the caller only).
KS_URL=${KEYSTONE_URL:-}
KS_FIXTURES=${KEYSTONE_FIXTURES:-}
# shellcheck source=lib/setup.sh
source "$ROOT/scripts/lib/setup.sh"
# The generated names are UTF-8; the CLI must print them as such whatever the caller's locale.
export LC_ALL=C.UTF-8 PYTHONIOENCODING=utf-8


# --- packages --------------------------------------------------------------------------------
install_prerequisites

if [ "$AUTH" = keystone ]; then
  if [ -z "$KS_URL" ] || [ -z "$KS_FIXTURES" ]; then
    KS_ENV=$("$ROOT/scripts/keystone-dev.sh" env 2>&1) \
      || die "--auth keystone needs a running Keystone (scripts/keystone-dev.sh start): $KS_ENV"
    KS_URL=$(sed -nE "s/^export KEYSTONE_URL=//p" <<<"$KS_ENV")
    KS_FIXTURES=$(sed -nE "s/^export KEYSTONE_FIXTURES=//p" <<<"$KS_ENV")
  fi
  [ -r "$KS_FIXTURES" ] || die "cannot read KEYSTONE_FIXTURES ($KS_FIXTURES)"
  curl -sf -o /dev/null "$KS_URL" || die "Keystone does not answer at $KS_URL"
  # One value of the fixtures (for passwords too: they stay in shell variables, never in argv).
  fx() { python3 -c 'import json, sys; f = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"f": f}))' "$KS_FIXTURES" "$1"; }
  KS_SERVICE_PASSWORD=$(fx 'f["authtoken"]["password"]')
  PW_OWNER=$(fx 'f["users"]["operator-a"]["password"]')
  PW_GRANTEE=$(fx 'f["users"]["operator-b"]["password"]')
  PW_NOROLE=$(fx 'f["users"]["member-a"]["password"]')
  PROJECT_ID=$(fx 'f["projects"]["proj-a"]["id"]')
fi

WORK=$(mktemp -d /tmp/sluice-swiftclient-smoke.XXXXXX)
LOG=$WORK/sluice.log
SLUICE_PID=
SLUICE_PGID=
REGION=
FAILED=0
PASSED=0

cleanup() {
  local rc=$?
  set +e
  if [ -n "$SLUICE_PID" ]; then
    # SIGTERM lets `sluice start` stop its workers and storage servers; SIGKILL the group if not.
    kill -TERM "$SLUICE_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
    wait "$SLUICE_PID" 2>/dev/null
  fi
  [ -z "$SLUICE_PGID" ] || kill -KILL -- "-$SLUICE_PGID" 2>/dev/null
  if [ -n "$REGION" ]; then
    python3 "$ROOT/scripts/lib/keystone-smoke-region.py" remove "$KS_FIXTURES" "$REGION" \
      || log "smoke: could not remove Keystone region $REGION (the next --auth keystone run removes it)"
  fi
  if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
    log "----- last lines of sluice's log ($LOG) -----"
    tail -n 40 "$LOG" | cut -c1-600 >&2
  fi
  if [ "${KEEP:-0}" = 1 ]; then log "smoke: kept $WORK"; else rm -rf "$WORK"; fi
  [ "$rc" -eq 0 ] && [ "$FAILED" -ne 0 ] && rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- sluice, as `npm start` runs it ------------------------------------------------------------
# --port 0 and --storage-ports 0,0,0: the kernel picks free ports (no race with other runs or a
# developer's own `npm start` on 8080/6200-6202); sluice prints the proxy URL once it listens.
# setsid: its own process group, so cleanup can reach the proxy workers too.
mkdir -p "$WORK/data"
: >"$LOG"
START_ARGS=(--data-dir "$WORK/data" --port 0 --storage-ports 0,0,0)
if [ "$AUTH" = keystone ]; then
  # The service password through the environment, as `sluice help start` says: never argv.
  SLUICE_KEYSTONE_PASSWORD=$KS_SERVICE_PASSWORD setsid node "$ROOT/bin/sluice.js" start "${START_ARGS[@]}" \
    --auth keystone --keystone-url "$KS_URL" >"$LOG" 2>&1 &
else
  setsid node "$ROOT/bin/sluice.js" start "${START_ARGS[@]}" >"$LOG" 2>&1 &
fi
SLUICE_PID=$!
SLUICE_PGID=$SLUICE_PID
PROXY=
for _ in $(seq 600); do
  PROXY=$(sed -nE 's#^sluice is running: proxy (http://127\.0\.0\.1:[0-9]+).*#\1#p' "$LOG" | head -n1)
  [ -n "$PROXY" ] && break
  kill -0 "$SLUICE_PID" 2>/dev/null || die "sluice start exited before it was ready"
  sleep 0.1
done
[ -n "$PROXY" ] || die "sluice start did not report its proxy URL within 60 s"
for _ in $(seq 300); do
  curl -sf "$PROXY/healthcheck" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf "$PROXY/healthcheck" >/dev/null || die "no 200 from $PROXY/healthcheck"
log "smoke: sluice on $PROXY (pid $SLUICE_PID, $AUTH), work dir $WORK"
if [ "$AUTH" = keystone ]; then
  REGION=$(python3 "$ROOT/scripts/lib/keystone-smoke-region.py" add "$KS_FIXTURES" "$PROXY/v1/AUTH_%(project_id)s" $$) \
    || die "could not add this run's region to the Keystone catalog"
  log "smoke: Keystone $KS_URL, catalog region $REGION -> $PROXY"
fi

# --- helpers -----------------------------------------------------------------------------------
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 20 | sed 's/^/     /'; }

# check NAME CMD...: passes when CMD exits 0; its output is kept in $OUT.
OUT=
check() {
  local name=$1; shift
  if OUT=$("$@" 2>&1 </dev/null); then pass "$name"; else fail "$name" "exit $?: $OUT"; fi
}
# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2] got [$3]"; fi
}
# field NAME: the value of `NAME: value` in $OUT (swift stat's layout).
field() { sed -nE "s/^ *$1: *//p" <<<"$OUT" | head -n1; }
# An object path for curl: the CLI prints tempurl paths unquoted (the signature covers the raw
# path), so percent-encode the path and keep the query as it is.
quote_url() {
  python3 -c 'import sys, urllib.parse as u; p, s, q = sys.argv[1].partition("?"); print(u.quote(p, safe="/:") + s + q)' "$1"
}
# http_code [curl args...]: the status only; fetch FILE [curl args...]: the status, body to FILE.
http_code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
fetch() { local file=$1; shift; curl -s -o "$file" -w '%{http_code}' "$@"; }

# The account's owner, a user the container ACLs below grant, and a user of the account with
# neither an owner's role nor a grant. Functions, so that Keystone passwords reach `swift`
# through its environment (OS_PASSWORD), not its argv.
if [ "$AUTH" = keystone ]; then
  KS_ARGS=(--auth-version 3 --os-auth-url "$KS_URL" --os-user-domain-id default --os-project-domain-id default --os-region-name "$REGION")
  sw_owner() { OS_PASSWORD=$PW_OWNER swift "${KS_ARGS[@]}" --os-username operator-a --os-project-name proj-a "$@"; }
  sw_grantee() { OS_PASSWORD=$PW_GRANTEE swift "${KS_ARGS[@]}" --os-username operator-b --os-project-name proj-b "$@"; }
  sw_norole() { OS_PASSWORD=$PW_NOROLE swift "${KS_ARGS[@]}" --os-username member-a --os-project-name proj-a "$@"; }
  ACCOUNT_PATH=/v1/AUTH_$PROJECT_ID
  # keystoneauth's <project>:<user> (names: both are in the default domain)
  GRANTEE_ACL=proj-b:operator-b
else
  sw_owner() { swift -A "$PROXY/auth/v1.0" -U test:tester -K testing "$@"; }
  sw_grantee() { swift -A "$PROXY/auth/v1.0" -U test2:tester2 -K testing2 "$@"; }
  sw_norole() { swift -A "$PROXY/auth/v1.0" -U test:tester3 -K testing3 "$@"; }
  ACCOUNT_PATH=/v1/AUTH_test
  GRANTEE_ACL=test2:tester2
fi
SW=(sw_owner)

# --- the tree to upload ------------------------------------------------------------------------
TREE=$WORK/tree
mkdir -p "$TREE/a/b/c" "$TREE/with space/日本" "$TREE/empty dir" "$TREE/sub dir"
: >"$TREE/empty.txt"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$TREE/big.bin"
printf 'café\n' >"$TREE/with space/file é.txt"
printf 'party\n' >"$TREE/with space/日本/🎉 party.txt"
printf 'plus\n' >"$TREE/a/b/c/plus+percent%%25&amp.txt"
printf 'hundred\n' >"$TREE/a/100%.txt"
printf 'xyz\n' >"$TREE/a/b/x+y&z.txt"
printf 'query\n' >"$TREE/a/q?x=1&y"
printf 'hash\n' >"$TREE/a/hash#frag"
printf 'semi\n' >"$TREE/sub dir/semi;colon'quote\"dq"
printf 'odd\n' >"$TREE/sub dir/~tilde@at\$dollar!(paren)[br]{cb}"
head -c 70000 /dev/urandom >"$TREE/a/b/c/日本語 ファイル.dat"
# More than 2 x 10 objects in a container: `swift delete` then uses bulk delete (its body is a
# list of URL-quoted names) instead of one DELETE per object.
mkdir -p "$TREE/many"
for i in $(seq -w 1 25); do printf '%s\n' "$i" >"$TREE/many/n$i +%&é?#;.txt"; done
# Object names as the CLI makes them (paths under the tree, "empty dir" as a directory marker),
# in Swift's listing order (UTF-8 bytes).
EXPECTED_NAMES=$(cd "$TREE" && { find . -type f; find . -type d -empty; } | sed 's#^\./##' | LC_ALL=C sort)
NOBJECTS=$(wc -l <<<"$EXPECTED_NAMES")
NBYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
BIG_MD5=$(md5sum "$TREE/big.bin" | cut -d' ' -f1)
EMOJI='with space/日本/🎉 party.txt'

# --- upload, list, stat ------------------------------------------------------------------------
cd "$TREE"
check "swift upload of the directory tree" "${SW[@]}" upload smoke .
cd "$ROOT"
check "swift list smoke" "${SW[@]}" list smoke
expect "swift list names are the tree's files and empty dir, in byte order" "$EXPECTED_NAMES" "$OUT"
check "swift list (account)" "${SW[@]}" list
expect "swift list (account) names" "smoke" "$OUT"
check "swift list --lh smoke" "${SW[@]}" list --lh smoke
expect "swift list --lh shows the directory marker" "application/directory empty dir" "$(grep -oE 'application/directory empty dir$' <<<"$OUT")"
check "swift list -d / (pseudo-directories)" "${SW[@]}" list -d / smoke
expect "swift list -d / names" "$(printf 'a/\nbig.bin\nempty dir\nempty.txt\nmany/\nsub dir/\nwith space/')" "$OUT"
check "swift list -p 'with space/' -d /" "${SW[@]}" list -p 'with space/' -d / smoke
expect "swift list prefix+delimiter names" "$(printf 'with space/file é.txt\nwith space/日本/')" "$OUT"

check "swift list --json smoke" "${SW[@]}" list --json smoke
expect "swift list --json: big.bin's bytes and hash" "$((5 * 1024 * 1024)) $(md5sum "$TREE/big.bin" | cut -d' ' -f1)" \
  "$(python3 -c 'import json, sys; print(*[str(o["bytes"]) + " " + o["hash"] for o in json.load(sys.stdin) if o["name"] == "big.bin"])' <<<"$OUT")"

check "swift stat smoke (container)" "${SW[@]}" stat smoke
expect "container Objects" "$NOBJECTS" "$(field Objects)"
expect "container Bytes" "$NBYTES" "$(field Bytes)"
expect "container stat Accept-Ranges" "bytes" "$(field Accept-Ranges)"
check "swift stat smoke big.bin" "${SW[@]}" stat smoke big.bin
expect "big.bin Content Length" "$((5 * 1024 * 1024))" "$(field 'Content Length')"
expect "big.bin ETag is the file's MD5" "$BIG_MD5" "$(field ETag)"
expect "big.bin Content Type (guessed by the CLI)" "application/octet-stream" "$(field 'Content Type')"
expect "object stat Accept-Ranges (as Swift's proxy sends it)" "bytes" "$(field Accept-Ranges)"
check "swift stat of the emoji object" "${SW[@]}" stat smoke "$EMOJI"
expect "emoji object Object name" "$EMOJI" "$(field Object)"
expect "emoji object ETag" "$(md5sum "$TREE/$EMOJI" | cut -d' ' -f1)" "$(field ETag)"
expect "emoji object Content Length" "$(stat -c %s "$TREE/$EMOJI")" "$(field 'Content Length')"
check "swift stat of the empty file" "${SW[@]}" stat smoke empty.txt
expect "empty file ETag" "d41d8cd98f00b204e9800998ecf8427e" "$(field ETag)"
expect "empty file Content Length" "0" "$(field 'Content Length')"
check "swift stat of 'a/q?x=1&y'" "${SW[@]}" stat smoke 'a/q?x=1&y'
expect "'a/q?x=1&y' Content Length" "6" "$(field 'Content Length')"
check "swift stat (account)" "${SW[@]}" stat
expect "account Containers" "1" "$(field Containers)"
expect "account Objects" "$NOBJECTS" "$(field Objects)"
expect "account Bytes" "$NBYTES" "$(field Bytes)"

# --- download ------------------------------------------------------------------------------------
check "swift download smoke -D dl" "${SW[@]}" download smoke -D "$WORK/dl"
check "downloaded tree equals the uploaded one (diff -r)" diff -r "$TREE" "$WORK/dl"
check "swift download one object -o" "${SW[@]}" download smoke "$EMOJI" -o "$WORK/one.txt"
check "downloaded emoji object bytes (cmp)" cmp "$TREE/$EMOJI" "$WORK/one.txt"
check "swift download with a Range header" "${SW[@]}" download smoke big.bin -H 'Range: bytes=1000-1999' -o "$WORK/range.bin"
check "ranged download is bytes 1000-1999 (cmp)" cmp "$WORK/range.bin" <(tail -c +1001 "$TREE/big.bin" | head -c 1000)

check "swift download -p 'with space/'" "${SW[@]}" download -p 'with space/' smoke -D "$WORK/dl-prefix"
check "prefix download equals that subtree (diff -r)" diff -r "$TREE/with space" "$WORK/dl-prefix/with space"
expect "prefix download fetched nothing else" "with space" "$(ls "$WORK/dl-prefix")"
check "swift upload --object-name (a directory under a new name)" "${SW[@]}" upload --object-name 'renamed dir é' smoke "$TREE/with space"
check "swift download of the renamed directory" "${SW[@]}" download -p 'renamed dir é/' smoke -D "$WORK/dl-renamed"
check "renamed directory bytes (diff -r)" diff -r "$TREE/with space" "$WORK/dl-renamed/renamed dir é"
check "swift delete -p 'renamed dir é/'" "${SW[@]}" delete -p 'renamed dir é/' smoke
check "swift list -p 'renamed dir é/' after delete" "${SW[@]}" list -p 'renamed dir é/' smoke
expect "renamed directory deleted" "" "$OUT"

check "swift download --all" "${SW[@]}" download --all -D "$WORK/dl-all"
check "download --all holds the container's tree (diff -r)" diff -r "$TREE" "$WORK/dl-all/smoke"

# --changed and --skip-identical HEAD each object and skip the unchanged ones; a skipped object
# keeps its X-Timestamp.
check "swift stat big.bin before re-upload" "${SW[@]}" stat smoke big.bin
TS_BEFORE=$(field X-Timestamp)
cd "$TREE"
check "swift upload --changed (nothing changed)" "${SW[@]}" upload --changed smoke .
check "swift upload --skip-identical (nothing changed)" "${SW[@]}" upload --skip-identical smoke .
cd "$ROOT"
check "swift stat big.bin after re-upload" "${SW[@]}" stat smoke big.bin
expect "--changed/--skip-identical left big.bin alone (X-Timestamp)" "$TS_BEFORE" "$(field X-Timestamp)"
check "swift download --skip-identical" "${SW[@]}" download --skip-identical smoke -D "$WORK/dl"
expect "download --skip-identical skipped every file" "$((NOBJECTS - 1))" "$(grep -c '^Skipped identical file' <<<"$OUT")"

# --- copy ----------------------------------------------------------------------------------------
check "swift copy -d /copies (two objects)" "${SW[@]}" copy -d /copies smoke big.bin "$EMOJI"
check "swift list copies" "${SW[@]}" list copies
expect "copies listing" "$(printf 'big.bin\n%s' "$EMOJI")" "$OUT"
check "swift download copies -D" "${SW[@]}" download copies -D "$WORK/copies"
check "copied big.bin bytes (cmp)" cmp "$TREE/big.bin" "$WORK/copies/big.bin"
check "copied emoji object bytes (cmp)" cmp "$TREE/$EMOJI" "$WORK/copies/$EMOJI"

RENAMED='renamed é+%&?.bin'
check "swift copy --destination -m (new name, added metadata)" \
  "${SW[@]}" copy --destination "/copies/$RENAMED" -m Color:blue -m 'Motto:café ☃' smoke big.bin
check "swift stat of the renamed copy" "${SW[@]}" stat copies "$RENAMED"
expect "renamed copy ETag" "$BIG_MD5" "$(field ETag)"
expect "renamed copy Meta Color" "blue" "$(field 'Meta Color')"
expect "renamed copy Meta Motto (UTF-8)" "café ☃" "$(field 'Meta Motto')"
expect "renamed copy keeps the source's Meta Mtime" "yes" "$([ -n "$(field 'Meta Mtime')" ] && echo yes || echo no)"
check "swift download of the renamed copy" "${SW[@]}" download copies "$RENAMED" -o "$WORK/renamed.bin"
check "renamed copy bytes (cmp)" cmp "$TREE/big.bin" "$WORK/renamed.bin"

check "swift copy --fresh-metadata -m" "${SW[@]}" copy --fresh-metadata --destination /copies/fresh.bin -m Only:this smoke big.bin
check "swift stat of the fresh-metadata copy" "${SW[@]}" stat copies fresh.bin
expect "fresh copy Meta Only" "this" "$(field 'Meta Only')"
expect "fresh copy dropped the source's Meta Mtime" "" "$(field 'Meta Mtime')"
expect "fresh copy ETag" "$BIG_MD5" "$(field ETag)"

check "swift copy within the container" "${SW[@]}" copy --destination "/smoke/a/copy of 日本語.dat" smoke "a/b/c/日本語 ファイル.dat"
check "swift download of the in-container copy" "${SW[@]}" download smoke "a/copy of 日本語.dat" -o "$WORK/incontainer.dat"
check "in-container copy bytes (cmp)" cmp "$TREE/a/b/c/日本語 ファイル.dat" "$WORK/incontainer.dat"

# --- tempurl -------------------------------------------------------------------------------------
KEY=smoke-key-$RANDOM$RANDOM
check "swift post -m Temp-URL-Key (account)" "${SW[@]}" post -m "Temp-URL-Key:$KEY"

for digest in default sha1 sha256 sha512; do
  args=()
  [ "$digest" = default ] || args=(--digest "$digest")
  if U=$("${SW[@]}" tempurl "${args[@]}" GET 300 "$ACCOUNT_PATH/smoke/$EMOJI" "$KEY" 2>&1); then
    code=$(curl -s -o "$WORK/tu.$digest" -w '%{http_code}' "$PROXY$(quote_url "$U")")
    expect "tempurl GET ($digest digest) status" "200" "$code"
    check "tempurl GET ($digest digest) bytes (cmp)" cmp "$TREE/$EMOJI" "$WORK/tu.$digest"
  else
    fail "swift tempurl ($digest digest)" "$U"
  fi
done
[[ "$(
  "${SW[@]}" tempurl --digest sha512 GET 60 "$ACCOUNT_PATH/smoke/big.bin" "$KEY"
)" == *temp_url_sig=sha512:* ]] && pass "sha512 signature is in the prefixed base64 form" || fail "sha512 signature is in the prefixed base64 form"

U=$("${SW[@]}" tempurl GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "tempurl GET of 5 MiB status" "200" "$(fetch "$WORK/tu.big" "$PROXY$U")"
check "tempurl GET of 5 MiB bytes (cmp)" cmp "$TREE/big.bin" "$WORK/tu.big"
expect "tempurl GET signature allows HEAD" "200" "$(http_code -I "$PROXY$U")"
BAD_SIG=$(sed -E 's/temp_url_sig=[0-9a-f]/temp_url_sig=x/' <<<"$U")
expect "tempurl with a wrong signature is 401" "401" "$(http_code "$PROXY$BAD_SIG")"
expect "tempurl GET signature used for PUT is 401" "401" "$(http_code -X PUT --data-binary nope "$PROXY$U")"
expect "tempurl for another object is 401" "401" "$(http_code "$PROXY${U/big.bin/empty.txt}")"
U=$("${SW[@]}" tempurl --absolute GET 1000000000 "$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "expired tempurl is 401" "401" "$(http_code "$PROXY$U")"
U=$("${SW[@]}" tempurl --iso8601 GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "tempurl --iso8601 GET status" "200" "$(fetch "$WORK/tu.iso" "$PROXY$U")"
check "tempurl --iso8601 bytes (cmp)" cmp "$TREE/big.bin" "$WORK/tu.iso"
U=$("${SW[@]}" tempurl --prefix-based GET 300 "$ACCOUNT_PATH/smoke/a/b/" "$KEY")
expect "prefix-based tempurl GET under the prefix" "200" \
  "$(fetch "$WORK/tu.prefix" "$PROXY$(quote_url "${U%%\?*}c/日本語 ファイル.dat")?${U#*\?}")"
check "prefix-based tempurl bytes (cmp)" cmp "$TREE/a/b/c/日本語 ファイル.dat" "$WORK/tu.prefix"
expect "prefix-based tempurl outside the prefix is 401" "401" "$(http_code "$PROXY$(quote_url "$ACCOUNT_PATH/smoke/a/100%.txt")?${U#*\?}")"
U=$("${SW[@]}" tempurl GET 300 "$PROXY$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "tempurl from a full storage URL" "200" "$(http_code "$U")"
U=$("${SW[@]}" tempurl --ip-range 127.0.0.0/8 GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "tempurl --ip-range containing the client" "200" "$(http_code "$PROXY$U")"
U=$("${SW[@]}" tempurl --ip-range 192.0.2.1 GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$KEY")
expect "tempurl --ip-range excluding the client is 401" "401" "$(http_code "$PROXY$U")"

PUT_NAME='uploaded via tempurl é+%&.txt'
printf 'written with a temp URL\n' >"$WORK/tu-put.txt"
U=$("${SW[@]}" tempurl PUT 300 "$ACCOUNT_PATH/smoke/$PUT_NAME" "$KEY")
expect "tempurl PUT status" "201" "$(http_code -X PUT --data-binary @"$WORK/tu-put.txt" "$PROXY$(quote_url "$U")")"
check "swift download of the tempurl PUT" "${SW[@]}" download smoke "$PUT_NAME" -o "$WORK/tu-put.dl"
check "tempurl PUT bytes (cmp)" cmp "$WORK/tu-put.txt" "$WORK/tu-put.dl"
expect "tempurl PUT signature does not allow GET" "401" "$(http_code "$PROXY$(quote_url "$U")")"

# Container keys: a key in the container's metadata signs URLs for its objects only.
CKEY=container-key-$RANDOM$RANDOM
check "swift post -m Temp-URL-Key (container copies)" "${SW[@]}" post -m "Temp-URL-Key:$CKEY" copies
U=$("${SW[@]}" tempurl GET 300 "$ACCOUNT_PATH/copies/big.bin" "$CKEY")
expect "container-key tempurl GET" "200" "$(fetch "$WORK/tu.ckey" "$PROXY$U")"
check "container-key tempurl bytes (cmp)" cmp "$TREE/big.bin" "$WORK/tu.ckey"
U=$("${SW[@]}" tempurl GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$CKEY")
expect "container key does not sign another container's objects" "401" "$(http_code "$PROXY$U")"
# Key rotation: Temp-URL-Key-2 works beside the first key.
check "swift post -m Temp-URL-Key-2 (account)" "${SW[@]}" post -m "Temp-URL-Key-2:$KEY-2"
U=$("${SW[@]}" tempurl GET 300 "$ACCOUNT_PATH/smoke/big.bin" "$KEY-2")
expect "tempurl signed with Temp-URL-Key-2" "200" "$(http_code "$PROXY$U")"

# --- middleware seen through the CLI: container quotas, versioned writes ---------------------------
check "swift post -H X-Container-Meta-Quota-Count: 1" "${SW[@]}" post -H 'X-Container-Meta-Quota-Count: 1' quota
check "swift upload within the quota" "${SW[@]}" upload --object-name first quota "$TREE/empty.txt"
if OUT=$("${SW[@]}" upload --object-name second quota "$TREE/empty.txt" 2>&1); then
  fail "swift upload over the quota fails" "upload succeeded: $OUT"
else
  expect "swift upload over the quota fails with 413" "yes" "$(grep -q '413' <<<"$OUT" && echo yes || echo "no: $OUT")"
fi

check "swift post -H X-Versions-Location" "${SW[@]}" post -H 'X-Versions-Location: doc-versions' docs
check "swift post doc-versions" "${SW[@]}" post doc-versions
printf 'version one\n' >"$WORK/v1.txt"
printf 'version two, longer\n' >"$WORK/v2.txt"
check "swift upload version one" "${SW[@]}" upload --object-name 'doc é.txt' docs "$WORK/v1.txt"
check "swift upload version two" "${SW[@]}" upload --object-name 'doc é.txt' docs "$WORK/v2.txt"
check "swift list doc-versions" "${SW[@]}" list doc-versions
expect "one archived version" "1" "$(grep -c . <<<"$OUT")"
check "swift download of the current version" "${SW[@]}" download docs 'doc é.txt' -o "$WORK/v.dl"
check "current version is version two (cmp)" cmp "$WORK/v2.txt" "$WORK/v.dl"
check "swift delete of the current version" "${SW[@]}" delete docs 'doc é.txt'
check "swift download after delete (restored)" "${SW[@]}" download docs 'doc é.txt' -o "$WORK/v.dl2"
check "version one restored (cmp)" cmp "$WORK/v1.txt" "$WORK/v.dl2"

# --- metadata POSTs --------------------------------------------------------------------------------
check "swift post -m on the container" "${SW[@]}" post -m 'Kind:smoke é' -m Gone:soon smoke
check "swift stat smoke after post" "${SW[@]}" stat smoke
expect "container Meta Kind (UTF-8)" "smoke é" "$(field 'Meta Kind')"
expect "container Meta Gone" "soon" "$(field 'Meta Gone')"
check "swift post -m Gone: (removes it)" "${SW[@]}" post -m Gone: smoke
check "swift stat smoke after removal" "${SW[@]}" stat smoke
expect "container Meta Gone removed" "" "$(field 'Meta Gone')"
expect "container Meta Kind kept" "smoke é" "$(field 'Meta Kind')"
check "swift post -r/-w ACLs on the container" "${SW[@]}" post -r "$GRANTEE_ACL" -w "$GRANTEE_ACL" smoke
check "swift stat smoke after ACL post" "${SW[@]}" stat smoke
expect "container Read ACL" "$GRANTEE_ACL" "$(field 'Read ACL')"
expect "container Write ACL" "$GRANTEE_ACL" "$(field 'Write ACL')"
# The grantee, another account's user, reaches this container through the ACLs only.
GRANTED=(sw_grantee --os-storage-url "$PROXY$ACCOUNT_PATH")
check "ACL grantee lists the container (read ACL)" "${GRANTED[@]}" list smoke
expect "ACL grantee's listing holds big.bin" "big.bin" "$(grep -x big.bin <<<"$OUT")"
check "ACL grantee downloads an object (read ACL)" "${GRANTED[@]}" download smoke "$EMOJI" -o "$WORK/grantee.txt"
check "ACL grantee's download bytes (cmp)" cmp "$TREE/$EMOJI" "$WORK/grantee.txt"
printf 'from the grantee\n' >"$WORK/grantee-up.txt"
check "ACL grantee uploads an object (write ACL)" "${GRANTED[@]}" upload --object-name 'from grantee.txt' smoke "$WORK/grantee-up.txt"
check "owner downloads the grantee's object" "${SW[@]}" download smoke 'from grantee.txt' -o "$WORK/grantee-up.dl"
check "grantee's object bytes (cmp)" cmp "$WORK/grantee-up.txt" "$WORK/grantee-up.dl"
check "ACL grantee deletes its object (write ACL)" "${GRANTED[@]}" delete smoke 'from grantee.txt'
if OUT=$("${GRANTED[@]}" list 2>&1); then
  fail "ACL grantee cannot list the account (no account ACL)" "listing succeeded: $OUT"
else
  expect "ACL grantee cannot list the account (no account ACL): 403" "yes" "$(grep -q 403 <<<"$OUT" && echo yes || echo "no: $OUT")"
fi
if OUT=$(sw_norole --os-storage-url "$PROXY$ACCOUNT_PATH" list smoke 2>&1); then
  fail "a user of the account without an owner's role or a grant is refused" "listing succeeded: $OUT"
else
  expect "a user of the account without an owner's role or a grant is refused: 403" "yes" "$(grep -q 403 <<<"$OUT" && echo yes || echo "no: $OUT")"
fi

check "swift post -m -H Content-Type on the emoji object" \
  "${SW[@]}" post -m 'Colour:红' -m Y:2 -H 'Content-Type: text/x-smoke' smoke "$EMOJI"
check "swift stat of the emoji object after post" "${SW[@]}" stat smoke "$EMOJI"
expect "object Meta Colour (UTF-8)" "红" "$(field 'Meta Colour')"
expect "object Meta Y" "2" "$(field 'Meta Y')"
expect "object Content Type from the POST" "text/x-smoke" "$(field 'Content Type')"
expect "object POST replaced the old metadata (Meta Mtime gone)" "" "$(field 'Meta Mtime')"
expect "object POST kept the ETag" "$(md5sum "$TREE/$EMOJI" | cut -d' ' -f1)" "$(field ETag)"
check "swift download after the object POST" "${SW[@]}" download smoke "$EMOJI" -o "$WORK/after-post.txt"
check "object bytes unchanged by the POST (cmp)" cmp "$TREE/$EMOJI" "$WORK/after-post.txt"

check "swift post -m on the account" "${SW[@]}" post -m 'Owner:Zoë'
check "swift stat (account) after post" "${SW[@]}" stat
expect "account Meta Owner (UTF-8)" "Zoë" "$(field 'Meta Owner')"

# --- segmented uploads (DLO, SLO), when the proxy has the large-object middleware --------------
if curl -s "$PROXY/info" | python3 -c 'import json, sys; i = json.load(sys.stdin); sys.exit(0 if "slo" in i else 1)'; then
  SEG=$((1024 * 1024))
  head -c $((3 * SEG + 12345)) /dev/urandom >"$WORK/dlo.bin"
  head -c $((2 * SEG + 777)) /dev/urandom >"$WORK/slo.bin"
  cd "$WORK"
  check "swift upload --segment-size 1048576 (DLO)" "${SW[@]}" upload --segment-size $SEG smoke dlo.bin
  check "swift upload --segment-size 1048576 --use-slo (SLO)" "${SW[@]}" upload --segment-size $SEG --use-slo smoke slo.bin
  cd "$ROOT"
  check "swift list smoke_segments" "${SW[@]}" list smoke_segments
  expect "segments of both uploads (4 DLO + 3 SLO)" "7" "$(grep -c . <<<"$OUT")"
  for kind in dlo slo; do
    check "swift download of the $kind object" "${SW[@]}" download smoke $kind.bin -o "$WORK/$kind.dl"
    check "$kind object bytes (cmp)" cmp "$WORK/$kind.bin" "$WORK/$kind.dl"
  done
  check "swift stat of the DLO" "${SW[@]}" stat smoke dlo.bin
  expect "DLO Content Length" "$(stat -c %s "$WORK/dlo.bin")" "$(field 'Content Length')"
  expect "DLO Manifest header" "yes" "$(field Manifest | grep -q '^smoke_segments/dlo.bin/' && echo yes || echo "no: $(field Manifest)")"
  check "swift stat of the SLO" "${SW[@]}" stat smoke slo.bin
  expect "SLO Content Length" "$(stat -c %s "$WORK/slo.bin")" "$(field 'Content Length')"
  # A range across a segment boundary, with curl and the owner's token.
  check "swift auth" "${SW[@]}" auth
  LO_URL=$(sed -nE 's/^export OS_STORAGE_URL=//p' <<<"$OUT" | tr -d "'\"")
  LO_TOKEN=$(sed -nE 's/^export OS_AUTH_TOKEN=//p' <<<"$OUT" | tr -d "'\"")
  for kind in dlo slo; do
    FIRST=$((SEG - 10)); LAST=$((SEG + 9))
    expect "$kind range across a segment boundary: 206" "206" "$(fetch "$WORK/$kind.range" -H "X-Auth-Token: $LO_TOKEN" -H "Range: bytes=$FIRST-$LAST" "$LO_URL/smoke/$kind.bin")"
    expect "$kind range bytes" "$(tail -c +$((FIRST + 1)) "$WORK/$kind.bin" | head -c 20 | md5sum)" "$(md5sum <"$WORK/$kind.range")"
  done
  check "swift delete --leave-segments of the DLO" "${SW[@]}" delete --leave-segments smoke dlo.bin
  check "swift list smoke_segments after --leave-segments" "${SW[@]}" list smoke_segments
  expect "DLO segments left in place" "7" "$(grep -c . <<<"$OUT")"
  check "swift delete of the SLO (segments too)" "${SW[@]}" delete smoke slo.bin
  check "swift list smoke_segments after deleting the SLO" "${SW[@]}" list smoke_segments
  expect "only the DLO's segments remain" "4" "$(grep -c . <<<"$OUT")"
  if "${SW[@]}" stat smoke slo.bin >/dev/null 2>&1; then fail "the SLO manifest is gone"; else pass "the SLO manifest is gone"; fi
  # The DLO once more (its segments get the same names), deleted with its segments this time.
  cd "$WORK"
  check "swift upload --segment-size 1048576 (DLO again)" "${SW[@]}" upload --segment-size $SEG smoke dlo.bin
  cd "$ROOT"
  check "swift delete of the DLO (segments too)" "${SW[@]}" delete smoke dlo.bin
  check "swift list smoke_segments after deleting the DLO" "${SW[@]}" list smoke_segments
  expect "no segments remain" "0" "$(grep -c . <<<"$OUT" || true)"
else
  fail "the proxy offers slo in /info (the development pipeline has slo and dlo)"
fi

# --- delete --all --------------------------------------------------------------------------------
check "swift delete --all" "${SW[@]}" delete --all
check "swift list after delete --all" "${SW[@]}" list
expect "account listing empty after delete --all" "" "$OUT"
check "swift stat (account) after delete --all" "${SW[@]}" stat
expect "account Containers after delete --all" "0" "$(field Containers)"
expect "account Objects after delete --all" "0" "$(field Objects)"
expect "account Bytes after delete --all" "0" "$(field Bytes)"
if OUT=$("${SW[@]}" list smoke 2>&1); then fail "swift list of a deleted container fails" "$OUT"; else pass "swift list of a deleted container fails"; fi

expect "no error-level lines in sluice's log" "" "$(grep -E '"level":(50|60)' "$LOG" | head -n 5)"
expect "no 5xx in sluice's access log" "" "$(grep '"proxy-access"' "$LOG" | grep -E '"status":5[0-9][0-9]' | head -n 5)"

# --- Ctrl-C, as a newcomer stops `npm start`: SIGINT to the whole process group ------------------
kill -INT -- "-$SLUICE_PGID"
for _ in $(seq 150); do kill -0 "$SLUICE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SLUICE_PID" 2>/dev/null; then
  fail "sluice start exits within 15 s of Ctrl-C (SIGINT)"
else
  set +e; wait "$SLUICE_PID"; STATUS=$?; set -e
  SLUICE_PID=
  expect "sluice start exits with status 0 on Ctrl-C" "0" "$STATUS"
  sleep 0.5
  # Signal 0 to the group: does any member (a proxy worker, say) outlive the primary?
  expect "no process of sluice's group is left" "none" "$(kill -0 -- "-$SLUICE_PGID" 2>/dev/null && echo some || echo none)"
fi

printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
[ "$FAILED" -eq 0 ]
