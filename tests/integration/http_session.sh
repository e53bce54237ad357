# What the parent tells netd of the HTTP and SSE apps: the table of
# origins with each app's CA certificates, at start and again after each
# change of users, apps or the configuration; an app whose CA file
# cannot be read is left out of it, with the reason in the log; stdio
# apps and hidden ones are never in it.  Then a session with a server
# that records what it gets: the rendered headers on every request, a
# JWT with the right claims that verifies with mcpgatectl jwks.  (The
# refusals at a session's start are unit-tested in test_httpapp.c;
# apps.sh runs one through the whole daemon.)
. "$(dirname "$0")/lib.sh"
need_root "CA files are read by the root parent in its sandbox"

T=$(mktemp -d /tmp/mghttpsess.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
openssl req -x509 -newkey ed25519 -nodes -keyout "$T/ca.key" \
    -out "$T/ca.pem" -subj /CN=http-session-test-ca -days 1 2>/dev/null ||
    fail "setup: a test CA" "openssl req failed"
cp "$T/ca.pem" "$T/other.pem"

# tables: how many tables of origins the log shows, the last one's size.
tables() {
	grep -c "netd's table of HTTP origins: " "$MG_DIR/log"
}
last_table() {
	sed -n "s/.*netd's table of HTTP origins: \([0-9]*\).*/\1/p" \
	    "$MG_DIR/log" | tail -n 1
}
# wait_tables N: until the log shows N tables (2 s at most).
wait_tables() {
	local i
	for i in $(seq 1 20); do
		[ "$(tables)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

MG_LOG_LEVEL=debug mg_setup <<EOF
app_service:
  apps:
  - name: stdio-one
    mcp: {command: /bin/cat, run_as_host_user: nobody}
  - name: own-ca
    uri: mcp+https://127.0.0.1:8443/mcp
    tls: {ca_file: $T/ca.pem}
    rewrite: {headers: ["Authorization: Bearer {{internal.jwt}}"]}
  - name: system-ca
    uri: mcp+https://localhost/mcp
  - name: plain-sse
    uri: mcp+sse+http://127.0.0.1:9/sse
    timeout: 5s
  - name: doomed-ca
    uri: mcp+https://127.0.0.1:8444/mcp
    tls: {ca_file: $T/other.pem}
EOF
mg_start || exit 1

wait_tables 1
[ "$(tables)" = 1 ] && [ "$(last_table)" = 4 ] &&
    grep -q "app own-ca: origin https://127.0.0.1:8443 for netd, its own CA" "$MG_DIR/log" &&
    grep -q "app system-ca: origin https://localhost:443 for netd$" "$MG_DIR/log" &&
    grep -q "app plain-sse: origin http://127.0.0.1:9 for netd$" "$MG_DIR/log" &&
    grep -q "app doomed-ca: origin https://127.0.0.1:8444 for netd, its own CA" "$MG_DIR/log" &&
    ! grep -q "app stdio-one: origin" "$MG_DIR/log" &&
    pass "start: netd gets one origin per HTTP and SSE app, none for stdio" ||
    fail "start: netd gets one origin per HTTP and SSE app" "$(grep -i origin "$MG_DIR/log")"
! grep -q "not served" "$MG_DIR/log" &&
    ! grep -q "system's CA bundle" "$MG_DIR/log" &&
    pass "start: no app is said to be unserved, the system's CAs are read" ||
    fail "start: no app is said to be unserved" "$(grep -E "served|CA bundle" "$MG_DIR/log")"
kill -0 "$MG_PID" 2>/dev/null &&
    pass "netd took the table (it refuses what it cannot take, and stops)" ||
    fail "netd took the table" "$(tail -n 20 "$MG_DIR/log")"

# A CA file gone: at the next change its app is left out, with why.
rm -f "$T/other.pem"
ctl users add dora --roles access >/dev/null ||
    fail "setup: users add" "$(tail -n 5 "$MG_DIR/log")"
wait_tables 2
[ "$(tables)" = 2 ] && [ "$(last_table)" = 3 ] &&
    grep -q "app doomed-ca: tls.ca_file $T/other.pem: No such file or directory; its sessions cannot reach the server" "$MG_DIR/log" &&
    pass "users add: the table again, the app whose CA file is gone left out, said why" ||
    fail "users add: the table again, the app whose CA file is gone left out" \
    "$(tables) $(last_table): $(grep -E "origin|doomed" "$MG_DIR/log" | tail -n 8)"

# A CA file over 1 MiB is refused as at -n.
head -c 1100000 /dev/zero >"$T/other.pem"
ctl users rm dora >/dev/null
wait_tables 3
[ "$(last_table)" = 3 ] &&
    grep -q "app doomed-ca: tls.ca_file $T/other.pem is larger than 1 MiB" "$MG_DIR/log" &&
    pass "users rm: a CA file over 1 MiB is not read, its app left out" ||
    fail "users rm: a CA file over 1 MiB is not read" "$(grep doomed "$MG_DIR/log" | tail -n 3)"

# An app created with mcpgatectl joins the table; removed, it leaves.
cat >"$T/app.yaml" <<EOF
kind: app
version: v1
metadata: {name: created}
spec:
  uri: mcp+http://127.0.0.1:8080/mcp
EOF
ctl create -f "$T/app.yaml" >/dev/null
wait_tables 4
[ "$(last_table)" = 4 ] &&
    grep -q "app created: origin http://127.0.0.1:8080 for netd" "$MG_DIR/log" &&
    pass "create app: the table has it" ||
    fail "create app: the table has it" "$(last_table)"
ctl rm app/created >/dev/null
wait_tables 5
[ "$(last_table)" = 3 ] &&
    pass "rm app: the table loses it" ||
    fail "rm app: the table loses it" "$(last_table)"

# A CA file in a directory the sandboxed parent was not given at start.
# (Not under $T: a rule for a directory holds for all beneath it.)
L=$(mktemp -d /tmp/mghttpsess-later.XXXXXX)
MG_TMPS+=("$L")
chmod 0755 "$L"
cp "$T/ca.pem" "$L/ca.pem"
cat >"$T/app.yaml" <<EOF
kind: app
version: v1
metadata: {name: later-ca}
spec:
  uri: mcp+https://127.0.0.1:8445/mcp
  tls: {ca_file: $L/ca.pem}
EOF
ctl create -f "$T/app.yaml" >/dev/null
wait_tables 6
if grep -q "sandboxed (Landlock ABI [1-9]" "$MG_DIR/log"; then
	[ "$(last_table)" = 3 ] &&
	    grep -q "app later-ca: tls.ca_file $L/ca.pem: Permission denied (the daemon reads CA files only in the directories it had them in at start: restart it)" "$MG_DIR/log" &&
	    pass "Landlock: a CA file elsewhere is refused, and the log says to restart" ||
	    fail "Landlock: a CA file elsewhere is refused" "$(grep later-ca "$MG_DIR/log")"
else
	skip "Landlock: a CA file elsewhere" "no Landlock in this kernel"
fi

# A reload sends the table again, the CA file back in it.
cp "$T/ca.pem" "$T/other.pem"
kill -HUP "$MG_PID"
wait_tables 7
[ "$(last_table)" -ge 4 ] &&
    [ "$(grep -c "app doomed-ca: origin https://127.0.0.1:8444 for netd, its own CA" "$MG_DIR/log")" = 2 ] &&
    pass "reload: the table again, the CA file back in it" ||
    fail "reload: the table again" "$(last_table): $(grep doomed "$MG_DIR/log")"

# A restart reads the directory of a CA file of an app created since.
mg_stop
mg_start || exit 1
wait_tables 1
[ "$(last_table)" = 5 ] &&
    grep -q "app later-ca: origin https://127.0.0.1:8445 for netd, its own CA" "$MG_DIR/log" &&
    pass "restart: the CA file of an app created since is read" ||
    fail "restart: the CA file of an app created since is read" "$(grep -E "origin|later" "$MG_DIR/log")"
mg_stop
[ "$MG_STATUS" = 0 ] &&
    pass "the daemon stops cleanly" || fail "the daemon stops cleanly" "$MG_STATUS"

# --- a session, end to end ---------------------------------------------------
# A server that records what it gets: the rendered headers on every
# request (the DELETE at the end too), a JWT whose claims say who the
# user is, that verifies with the key mcpgatectl jwks publishes, and
# whose jti is the one the log names, the token itself never logged.
python3 "$TOP/tests/integration/mcprecord.py" "$T/rec" >"$T/port" 2>&1 &
SRV=$!
disown
trap 'kill "$SRV" 2>/dev/null; cleanup' EXIT
for i in $(seq 1 50); do
	[ -s "$T/port" ] && break
	sleep 0.1
done
SPORT=$(cat "$T/port")
mg_setup <<EOF2
app_service:
  apps:
  - name: rec
    uri: mcp+http://127.0.0.1:$SPORT/mcp
    rewrite:
      headers:
      - "Authorization: Bearer {{internal.jwt}}"
      - "X-Tools: {{external.mcp_tools}}"
      - "X-User: {{ internal.user }}"
      - "X-Session: {{internal.session}}"
EOF2
sed -i 's/^proxy_service:$/&\n  name: gw-test/' "$MG_CONF"
mg_start || exit 1
PW="correct horse battery"
out=$(ctl --format json users add ann --roles mcp-user --mcp-tools echo)
printf '%s\n%s\n' "$(echo "$out" | jq -r .invite)" "$PW" |
    MCPGATE_HOME=$MG_DIR/home-ann "$BIN/mcpgate" login \
    --proxy "127.0.0.1:$MG_PORT" --user ann --invite --password-stdin \
    --ca-fingerprint "$(echo "$out" | jq -r .ca_fingerprint)" >/dev/null ||
    fail "setup: ann's login" "$(tail -n 5 "$MG_DIR/log")"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"http_session.sh","version":"1"}}}'
out=$({
	printf '%s\n' "$INIT"
	sleep 0.5
	printf '%s\n' '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
	    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
	sleep 1.5
} | user_session ann 10 rec 2>&1)
sid=$(echo "$out" | head -n 1 | jq -r .session)
echo "$out" | has '.id == 1 and .result.serverInfo.name == "mcprecord"' &&
    echo "$out" | has '.id == 2 and .result.tools[0].name == "echo"' &&
    pass "session: initialize and tools/list answered by the HTTP server" ||
    fail "session: initialize and tools/list answered" "$out"
for i in $(seq 1 30); do
	grep -q '"DELETE"' "$T/rec" 2>/dev/null && break
	sleep 0.1
done
jq -s -e --arg sid "$sid" 'length >= 3 and all(.[]; .headers as $h |
    ($h.Authorization | startswith("Bearer ey")) and $h["X-Tools"] == "echo"
    and $h["X-User"] == "ann" and $h["X-Session"] == $sid) and
    (map(.headers.Authorization) | unique | length) == 1 and
    any(.[]; .method == "DELETE")' "$T/rec" >/dev/null &&
    pass "every request, the DELETE too, carries the rendered headers and one token" ||
    fail "every request carries the rendered headers" "$(cat "$T/rec")"
tok=$(jq -r -s '.[0].headers.Authorization | ltrimstr("Bearer ")' "$T/rec")
# b64url PART: base64url to bytes.
b64url() {
	python3 -c 'import base64, sys
s = sys.argv[1]; sys.stdout.buffer.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))' "$1"
}
claims=$(b64url "$(echo "$tok" | cut -d. -f2)")
now=$(date +%s)
# exp: the certificate's end (issued at the login, a moment before).
na=$(date -d "$(openssl x509 -enddate -noout -in \
    "$MG_DIR/home-ann/cert.pem" | cut -d= -f2)" +%s)
echo "$claims" | is '.iss == "gw-test" and .sub == "ann" and
    .aud == "http://127.0.0.1:'"$SPORT"'/mcp" and .iat == .nbf and
    (.iat - '"$now"' | fabs) < 30 and .exp == '"$na"' and
    .exp - .iat <= 43200 and
    (.jti | test("^[0-9a-f]{32}$")) and .roles == ["mcp-user"] and
    .traits == {"mcp_tools": ["echo"]}' &&
    pass "the JWT's claims: iss, sub, aud, times capped by cert_ttl, jti, roles, traits" ||
    fail "the JWT's claims" "$claims"
jti=$(echo "$claims" | jq -r .jti)
grep -q "app rec session $sid of ann: HTTP headers sent (4), jwt jti=$jti" "$MG_DIR/log" &&
    ! grep -qF "$(echo "$tok" | cut -d. -f3)" "$MG_DIR/log" &&
    pass "the log names the session's jti, never the token" ||
    fail "the log names the session's jti" "$(grep "app rec" "$MG_DIR/log")"
# The signature, with the JWKS key the header's kid names.
jwks=$(ctl jwks)
kid=$(b64url "$(echo "$tok" | cut -d. -f1)" | jq -r .kid)
x=$(echo "$jwks" | jq -r --arg k "$kid" '.keys[] | select(.kid == $k) | .x')
{
	echo "-----BEGIN PUBLIC KEY-----"
	{ printf '\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00'; b64url "$x"; } |
	    base64
	echo "-----END PUBLIC KEY-----"
} >"$T/jwt.pub"
printf '%s' "$(echo "$tok" | cut -d. -f1-2)" >"$T/jwt.data"
b64url "$(echo "$tok" | cut -d. -f3)" >"$T/jwt.sig"
openssl pkeyutl -verify -pubin -inkey "$T/jwt.pub" -rawin \
    -in "$T/jwt.data" -sigfile "$T/jwt.sig" >/dev/null 2>&1 &&
    pass "the JWT's signature verifies with mcpgatectl jwks" ||
    fail "the JWT's signature verifies" "kid $kid x $x"
printf 'x' >>"$T/jwt.data"
! openssl pkeyutl -verify -pubin -inkey "$T/jwt.pub" -rawin \
    -in "$T/jwt.data" -sigfile "$T/jwt.sig" >/dev/null 2>&1 &&
    pass "and not once a byte is added" ||
    fail "a changed token still verifies" ""
mg_stop
