# Shared by the interop scripts: the swift-CLI smoke run against $PROXY (sourced; expects
# $PROXY, $WORK, PASSED/FAILED counters set up by the caller). Prints PASS/FAIL lines.
# --- checks -------------------------------------------------------------------------------------
pass() { PASSED=$((PASSED + 1)); printf 'PASS %s\n' "$1"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$1"; [ -z "${2:-}" ] || printf '     %s\n' "$2" | head -n 20; }

# check NAME CMD...: passes when CMD exits 0; output kept in $OUT.
OUT=
check() {
  local name=$1; shift
  if OUT=$("$@" 2>&1); then pass "$name"; else fail "$name" "$OUT"; fi
}
# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected [$2] got [$3]"; fi
}

SW=(swift -A "$PROXY/auth/v1.0" -U test:tester -K testing)
SW2=(swift -A "$PROXY/auth/v1.0" -U test2:tester2 -K testing2)

printf 'hello, swift\n' >"$WORK/data/hello.txt"
head -c $((5 * 1024 * 1024)) /dev/urandom >"$WORK/data/big.bin"

check "container PUT (swift post smoke)" "${SW[@]}" post smoke
cd "$WORK/data"
check "object upload (hello.txt)" "${SW[@]}" upload smoke hello.txt
check "object upload (5 MiB big.bin)" "${SW[@]}" upload smoke big.bin
cd "$ROOT"

check "container listing" "${SW[@]}" list smoke
expect "container listing names" "$(printf 'big.bin\nhello.txt')" "$OUT"

check "account listing" "${SW[@]}" list
expect "account listing names" "smoke" "$OUT"

check "object stat" "${SW[@]}" stat smoke hello.txt
expect "object stat Content Length" "13" "$(sed -nE 's/^ *Content Length: *//p' <<<"$OUT")"
expect "object stat ETag" "$(md5sum "$WORK/data/hello.txt" | cut -d' ' -f1)" "$(sed -nE 's/^ *ETag: *//p' <<<"$OUT")"

check "container stat" "${SW[@]}" stat smoke
expect "container stat Objects" "2" "$(sed -nE 's/^ *Objects: *//p' <<<"$OUT")"
expect "container stat Bytes" "$((5 * 1024 * 1024 + 13))" "$(sed -nE 's/^ *Bytes: *//p' <<<"$OUT")"

check "object download (big.bin)" "${SW[@]}" download smoke big.bin -o "$WORK/dl/big.bin"
check "downloaded bytes match (cmp)" cmp "$WORK/data/big.bin" "$WORK/dl/big.bin"
check "object download (hello.txt)" "${SW[@]}" download smoke hello.txt -o "$WORK/dl/hello.txt"
check "downloaded hello.txt matches (cmp)" cmp "$WORK/data/hello.txt" "$WORK/dl/hello.txt"

# TempAuth token for curl.
AUTH_HEADERS=$(curl -s -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "$PROXY/auth/v1.0" | tr -d '\r')
TOKEN=$(sed -nE 's/^[Xx]-[Aa]uth-[Tt]oken: *//p' <<<"$AUTH_HEADERS")
STORAGE_URL=$(sed -nE 's/^[Xx]-[Ss]torage-[Uu]rl: *//p' <<<"$AUTH_HEADERS")
expect "TempAuth storage URL" "$PROXY/v1/AUTH_test" "$STORAGE_URL"

# Swift's account object counts only move when a container server reports to the account: on
# container PUT/DELETE (and by the container-updater daemon, not run here). A container PUT now
# must report both objects and all their bytes.
expect "container PUT on existing container is 202" "202" \
  "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "X-Auth-Token: $TOKEN" "$STORAGE_URL/smoke")"
check "account stat after container report" "${SW[@]}" stat
expect "account stat Objects" "2" "$(sed -nE 's/^ *Objects: *//p' <<<"$OUT")"
expect "account stat Bytes" "$((5 * 1024 * 1024 + 13))" "$(sed -nE 's/^ *Bytes: *//p' <<<"$OUT")"

check "account metadata set (swift post -m)" "${SW[@]}" post -m Color:blue -m 'Motto:café ☃'
check "account stat" "${SW[@]}" stat
expect "account stat Meta Color" "blue" "$(sed -nE 's/^ *Meta Color: *//p' <<<"$OUT")"
expect "account stat Meta Motto (UTF-8)" "café ☃" "$(sed -nE 's/^ *Meta Motto: *//p' <<<"$OUT")"
expect "account stat Containers" "1" "$(sed -nE 's/^ *Containers: *//p' <<<"$OUT")"

check "container metadata and read ACL (swift post -r -m)" "${SW[@]}" post -r '.r:*,.rlistings' -m Kind:smoke smoke
check "container stat after post" "${SW[@]}" stat smoke
expect "container stat Read ACL" ".r:*,.rlistings" "$(sed -nE 's/^ *Read ACL: *//p' <<<"$OUT")"
expect "container stat Meta Kind" "smoke" "$(sed -nE 's/^ *Meta Kind: *//p' <<<"$OUT")"


expect "anonymous GET through .r:* container ACL" "200" \
  "$(curl -s -o "$WORK/dl/anon.txt" -w '%{http_code}' "$STORAGE_URL/smoke/hello.txt")"

# Sent with whitespace and unsorted keys; stored in the account server's sysmeta and given back
# to the owner in canonical form (sorted keys, no whitespace), as Swift's format_acl_v2 does.
check "X-Account-Access-Control set (swift post -H)" "${SW[@]}" post -H 'X-Account-Access-Control: { "read-only": ["test2"], "admin": ["nobody:none"] }'
ACL=$(curl -s -I -H "X-Auth-Token: $TOKEN" "$STORAGE_URL" | tr -d '\r' | sed -nE 's/^[Xx]-[Aa]ccount-[Aa]ccess-[Cc]ontrol: *//p')
expect "X-Account-Access-Control read back canonical (HEAD with token)" '{"admin":["nobody:none"],"read-only":["test2"]}' "$ACL"
check "account stat shows the ACL to the owner" "${SW[@]}" stat
expect "account stat Account-Access-Control" '{"admin":["nobody:none"],"read-only":["test2"]}' \
  "$(sed -nE 's/^ *X-Account-Access-Control: *//p' <<<"$OUT")"
ACL2=$(curl -s -I -H "X-Auth-Token: $(curl -s -o /dev/null -w '%header{x-auth-token}' -H 'X-Auth-User: test2:tester2' -H 'X-Auth-Key: testing2' "$PROXY/auth/v1.0")" "$STORAGE_URL" | tr -d '\r' | grep -ci '^x-account-access-control:' || true)
expect "ACL header hidden from the read-only grantee" "0" "$ACL2"

check "ACL grantee test2 lists the granted account" "${SW2[@]}" --os-storage-url "$STORAGE_URL" list smoke
expect "ACL grantee listing names" "$(printf 'big.bin\nhello.txt')" "$OUT"
if OUT=$("${SW2[@]}" --os-storage-url "$STORAGE_URL" upload smoke "$WORK/data/hello.txt" --object-name denied.txt 2>&1); then
  fail "ACL grantee (read-only) cannot upload" "upload succeeded: $OUT"
else
  pass "ACL grantee (read-only) cannot upload"
fi

check "object delete (hello.txt)" "${SW[@]}" delete smoke hello.txt
check "container listing after delete" "${SW[@]}" list smoke
expect "container listing after delete" "big.bin" "$OUT"
expect "deleted object GET is 404" "404" "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $TOKEN" "$STORAGE_URL/smoke/hello.txt")"

check "container delete with contents (swift delete smoke)" "${SW[@]}" delete smoke
check "account listing after delete" "${SW[@]}" list
expect "account listing after delete" "" "$OUT"
check "account stat after delete" "${SW[@]}" stat
expect "account stat Containers after delete" "0" "$(sed -nE 's/^ *Containers: *//p' <<<"$OUT")"
expect "account stat Objects after delete" "0" "$(sed -nE 's/^ *Objects: *//p' <<<"$OUT")"

printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
