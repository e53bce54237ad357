# The keys of the JWTs for HTTP MCP servers: made on first start, kept
# 0600 in the state directory, published by mcpgatectl jwks with kids that
# are RFC 7638 thumbprints, rotated by mcpgatectl jwt rotate (audited,
# the previous key still listed), and the same after a restart.
. "$(dirname "$0")/lib.sh"
need_root "the state directory's keys are owned by root"

# thumbprints: "x kid" of each key of the JWKS on stdin, the kid computed
# here from x as RFC 7638 says, for comparison with the gateway's.
thumbprints() {
	python3 -c '
import base64, hashlib, json, sys
for k in json.load(sys.stdin)["keys"]:
    c = json.dumps({"crv": k["crv"], "kty": k["kty"], "x": k["x"]},
        separators=(",", ":"), sort_keys=True)
    t = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest())
    print(k["kid"], t.decode().rstrip("="))'
}

mg_setup </dev/null
if ! mg_start; then
	fail "daemon starts" "see the log"
	exit 1
fi
key=$MG_DIR/state/jwt.key
[ "$(stat -c '%a %u' "$key" 2>/dev/null)" = "600 0" ] &&
    grep -q "BEGIN PRIVATE KEY" "$key" &&
    pass "first start: jwt.key made, mode 0600, root's" ||
    fail "first start: jwt.key" "$(ls -l "$MG_DIR/state")"
grep -q "created the JWT signing key" "$MG_DIR/log" &&
    pass "first start: the log says the key was made" ||
    fail "first start: the log" "$(cat "$MG_DIR/log")"

jwks=$(ctl jwks)
echo "$jwks" | is '(.keys | length) == 1 and (.keys[0] | .kty == "OKP" and
    .crv == "Ed25519" and .alg == "EdDSA" and .use == "sig" and
    (.x | length) == 43 and (.kid | length) == 43 and has("d") == false)' &&
    pass "jwks: one Ed25519 public key, no private part" ||
    fail "jwks: one Ed25519 public key" "$jwks"
kid1=$(echo "$jwks" | jget '.keys[0].kid')
echo "$jwks" | thumbprints | awk '$1 != $2 { bad = 1 } END { exit bad }' &&
    pass "jwks: the kid is the key's RFC 7638 thumbprint" ||
    fail "jwks: the kid is the thumbprint" "$(echo "$jwks" | thumbprints)"

out=$(ctl jwt rotate)
jwks=$(ctl jwks)
kid2=$(echo "$jwks" | jget '.keys[0].kid')
echo "$out" | grep -q "kid $kid2" && [ "$kid2" != "$kid1" ] &&
    echo "$jwks" | is "(.keys | length) == 2 and .keys[1].kid == \"$kid1\"" &&
    pass "jwt rotate: a new current key, the previous one listed second" ||
    fail "jwt rotate" "$out $jwks"
echo "$jwks" | thumbprints | awk '$1 != $2 { bad = 1 } END { exit bad }' &&
    pass "jwt rotate: both kids are thumbprints" ||
    fail "jwt rotate: kids" "$(echo "$jwks" | thumbprints)"
audit_has ".event == \"jwt.rotate\" and .code == \"MG1040I\" and
    .kid == \"$kid2\" and .previous_kid == \"$kid1\" and .admin_uid == 0" &&
    pass "jwt rotate: audited with both kids and who" ||
    fail "jwt rotate: audited" "$(tail -n 3 "$MG_DIR"/audit/audit-*.jsonl)"
[ -f "$MG_DIR/state/jwt-previous.pub" ] &&
    ! grep -q PRIVATE "$MG_DIR/state/jwt-previous.pub" &&
    pass "jwt rotate: only the previous key's public half is kept" ||
    fail "jwt rotate: previous key file" "$(ls -l "$MG_DIR/state")"

ctl jwt rotate >/dev/null
jwks=$(ctl jwks)
kid3=$(echo "$jwks" | jget '.keys[0].kid')
echo "$jwks" | is "(.keys | length) == 2 and .keys[1].kid == \"$kid2\" and
    all(.keys[]; .kid != \"$kid1\")" &&
    pass "a second rotation: the oldest key leaves the JWKS" ||
    fail "a second rotation" "$jwks"

# The same keys after a restart.
mg_stop
mg_start || fail "restart" "see the log"
[ "$(ctl jwks | jget '[.keys[].kid] | join(" ")')" = "$kid3 $kid2" ] &&
    pass "restart: the same current and previous keys" ||
    fail "restart: the same keys" "$(ctl jwks)"

# A key file others can read is refused, as the CA key is.
mg_stop
chmod 0644 "$key"
if mg_start 2>/dev/null; then
	fail "a jwt.key of mode 0644 is refused" "the daemon started"
	mg_stop
else
	grep -q "jwt.key must be owned by uid 0 and mode 0600" "$MG_DIR/log" &&
	    pass "a jwt.key of mode 0644 is refused, saying why" ||
	    fail "a jwt.key of mode 0644: the reason" "$(cat "$MG_DIR/log")"
fi
