# What the parent tells netd of the HTTP and SSE apps: the table of
# origins with each app's CA certificates, at start and again after each
# change of users, apps or the configuration; an app whose CA file
# cannot be read is left out of it, with the reason in the log; stdio
# apps and hidden ones are never in it.  (A session's headers and the
# refusals at its start are unit-tested in test_httpapp.c; apps.sh runs
# one refusal through the whole daemon.)
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
