# MCP sessions in mcpd: the connect and apps requests, the demo server,
# role-based tool filtering, bad input, live changes to roles and users,
# and the audit records of it all.  Sessions here use mcpsession, a raw
# client that sends whatever the test says; mcp_client.sh and sdk.sh
# drive the same gateway through mcpgate mcp connect.
#
# mcpgate-test: alone
# (tests/run runs it by itself: sessions must end within a second of a
# change, which other tests' load stretches.)
. "$(dirname "$0")/lib.sh"

mg_setup <<'EOF'
limits:
  max_message_size: 1MiB
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
GW=127.0.0.1:$MG_PORT
PW="correct horse battery"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"mcp-test","version":"9.8.7"}}}'

# audit_wait CONDITION: audit_has, giving auditd up to 2 s to write.
audit_wait() {
	local i
	for i in $(seq 1 40); do
		audit_has "$1" && return 0
		sleep 0.05
	done
	return 1
}

# adduser USER ARGS...: create the user and log in as them.
adduser() {
	local user=$1 out inv fpr
	shift
	out=$(ctl --format json users add "$user" "$@") || return 1
	inv=$(echo "$out" | jq -r .invite)
	fpr=$(echo "$out" | jq -r .ca_fingerprint)
	printf '%s\n%s\n' "$inv" "$PW" |
	    MCPGATE_HOME=$MG_DIR/home-$user "$BIN/mcpgate" login \
	    --proxy "$GW" --user "$user" --invite --password-stdin \
	    --ca-fingerprint "$fpr" >/dev/null
}

# session USER [mcpsession args]: one session; JSON-RPC lines on stdin.
session() {
	local user=$1 home=$MG_DIR/home-$1
	shift
	"$HELPERS/mcpsession" -c "$home/ca.pem" -C "$home/cert.pem" \
	    -K "$home/key.pem" -t 20 127.0.0.1 "$MG_PORT" "$@"
}

# rpc ID METHOD [PARAMS]: one request line.
rpc() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"%s"%s}\n' "$1" "$2" \
	    "${3:+,\"params\":$3}"
}
call() {
	rpc "$1" tools/call "{\"name\":\"$2\"}"
}

# answer ID: the answer to that id among the lines on stdin.
answer() {
	jq -c -R "fromjson? | select(.id == $1)"
}

# tools USER: the names tools/list shows the user, sorted, comma-separated.
tools() {
	{ echo "$INIT"; rpc 1 tools/list; } | session "$1" mcpgate-demo |
	    answer 1 | jq -r '[.result.tools[].name] | sort | join(",")'
}

# The roles of the policy checks.
role() {
	# role NAME ALLOW-LABELS ALLOW-TOOLS [DENY-TOOLS]
	printf 'kind: role\nversion: v1\nmetadata: {name: %s}\nspec:\n' "$1"
	printf '  allow:\n    app_labels: %s\n    mcp:\n      tools: %s\n' \
	    "$2" "$3"
	[ -n "${4:-}" ] && printf '  deny:\n    mcp:\n      tools: %s\n' "$4"
	return 0
}
{
	role demo-all "{env: demo}" "['*']"; echo ---
	role demo-glob "{env: demo}" "['mcpgate_*_info']" "['mcpgate_demo_*']"
	echo ---
	role demo-regex "{env: demo}" "['^mcpgate_(user|session)_info\$']"
	echo ---
	role prod-only "{env: prod}" "['*']"; echo ---
	role no-access "{'*': '*'}" "[]" "[mcpgate_access_info]"
} >"$MG_DIR/roles.yaml"
check "roles for the policy checks are created" ctl create -f "$MG_DIR/roles.yaml"
adduser alice --roles demo-all &&
    adduser bob --roles demo-glob &&
    adduser carol --roles demo-regex &&
    adduser dave --roles access --mcp-tools 'mcpgate_user_*,^mcpgate_acc.*$' &&
    adduser erin --roles prod-only &&
    adduser frank --roles demo-all,no-access &&
    adduser gina --roles mcp-user &&
    pass "seven users with different roles log in" ||
    fail "users log in" "see $MG_DIR/log"

# --- apps and connect ------------------------------------------------------
out=$(session alice -r '{"op":"apps"}')
echo "$out" | is '.ok and (.apps | length == 1) and .apps[0].name ==
    "mcpgate-demo" and .apps[0].type == "builtin" and
    .apps[0].labels == {"env":"demo"} and .apps[0].tools.all and
    (.apps[0].description | test("demo MCP server"))' &&
    pass "apps: the demo server, its labels, all tools allowed" ||
    fail "apps for alice" "$out"
out=$(session bob -r '{"op":"apps"}')
echo "$out" | is '(.apps[0].tools.all | not) and
    .apps[0].tools.denied == ["mcpgate_demo_info"]' &&
    pass "apps: the denied tools, by the same decision" ||
    fail "apps for bob" "$out"
out=$(session erin -r '{"op":"apps"}')
[ "$(echo "$out" | jq -c .apps)" = "[]" ] && echo "$out" | is '.offered == true' &&
    pass "a server whose labels no role matches is hidden from apps (offered: true)" ||
    fail "label mismatch hides the server" "$out"
out=$(session erin mcpgate-demo </dev/null)
echo "$out" | is '.ok == false and .error == "unknown_app" and
    (.message | test("mcpgate mcp ls"))' &&
    audit_wait '.event == "mcp.session.start" and .success == false and
        .user == "erin" and .code == "MG2000W" and .app == "mcpgate-demo"' &&
    pass "and connect to it is refused, as to no server, and audited" ||
    fail "connect refused on label mismatch" "$out"
out=$(session alice nosuch </dev/null)
echo "$out" | is '.error == "unknown_app"' &&
    pass "connect to an unknown server is refused" ||
    fail "connect to an unknown server" "$out"
out=$("$HELPERS/mcpsession" -c "$MG_DIR/state/ca.crt" 127.0.0.1 "$MG_PORT" \
    mcpgate-demo </dev/null)
echo "$out" | is '.error == "cert_required" and
    (.message | test("mcpgate login"))' &&
    pass "connect without a client certificate: run mcpgate login" ||
    fail "connect without a certificate" "$out"
out=$(session alice -r '{"op":"connect","app":"mcpgate-demo","x":1}')
echo "$out" | is '.error == "bad_request"' &&
    pass "connect with an unknown member is refused" ||
    fail "connect with an unknown member" "$out"

# --- the policy: what tools/list shows ------------------------------------
for t in "alice mcpgate_access_info,mcpgate_demo_info,mcpgate_session_info,mcpgate_user_info allow '*'" \
    "bob mcpgate_access_info,mcpgate_session_info,mcpgate_user_info a glob, less a denied glob" \
    "carol mcpgate_session_info,mcpgate_user_info a regular expression" \
    "dave mcpgate_access_info,mcpgate_user_info the user's mcp_tools trait (a glob and a regex)" \
    "frank mcpgate_demo_info,mcpgate_session_info,mcpgate_user_info deny in one role winning over allow in another" \
    "gina mcpgate_access_info,mcpgate_demo_info,mcpgate_session_info,mcpgate_user_info the preset role mcp-user"; do
	set -- $t
	user=$1 want=$2
	shift 2
	got=$(tools "$user")
	[ "$got" = "$want" ] && pass "tools/list for $user: $*" ||
	    fail "tools/list for $user ($*)" "got '$got', want '$want'"
done

# --- the policy: tools/call --------------------------------------------------
out=$({ echo "$INIT"; call 1 mcpgate_demo_info; call 2 mcpgate_user_info; } |
    session bob mcpgate-demo)
echo "$out" | answer 1 | is '.error.code == -32602 and
    (.error.message | test("mcpgate_demo_info")) and
    (.error.message | test("do not allow")) and
    (.error.message | test("demo-glob"))' &&
    echo "$out" | answer 2 | is '.result.isError == false' &&
    pass "a denied tools/call: -32602 naming the tool and the rule; the next call runs" ||
    fail "a denied tools/call" "$out"
audit_wait '.event == "mcp.session.request" and .user == "bob" and
    .tool == "mcpgate_demo_info" and .result == "denied" and
    .success == false and .code == "MG2002W" and
    (.rule | test("deny.mcp.tools"))' &&
    audit_wait '.event == "mcp.session.request" and .user == "bob" and
    .tool == "mcpgate_user_info" and .result == "success" and
    (.rule | test("allows it"))' &&
    pass "the audit log records the denial with its rule, and the allowed call" ||
    fail "audit of tools/call" "$(tail -n 3 "$MG_DIR"/audit/*.jsonl)"
out=$({ echo "$INIT"; call 1 no_such_tool; call 2 mcpgate_access_info; } |
    session frank mcpgate-demo)
echo "$out" | answer 1 | is '.error.code == -32602 and
    (.error.message | test("no_such_tool"))' &&
    echo "$out" | answer 2 | is '.error.code == -32602 and
    (.error.message | test("no-access"))' &&
    pass "an unknown tool and a tool denied by one role of two are refused" ||
    fail "unknown and denied tools" "$out"

# --- the demo server ---------------------------------------------------------
out=$({ echo "$INIT"; rpc 1 tools/list; for t in user session demo access; do
	call "\"$t\"" "mcpgate_${t}_info"; done; rpc 2 ping; } |
    session alice mcpgate-demo)
echo "$out" | answer 0 | is '.result.protocolVersion == "2025-11-25" and
    .result.serverInfo.name == "mcpgate-demo" and
    .result.capabilities.tools.listChanged == true' &&
    pass "initialize: protocol 2025-11-25, server mcpgate-demo, tools" ||
    fail "initialize" "$(echo "$out" | answer 0)"
echo "$out" | answer 1 | is 'all(.result.tools[]; .inputSchema.type ==
    "object" and .outputSchema.type == "object" and .annotations.readOnlyHint
    and (.description | length > 20))' &&
    pass "each tool has an input and output schema, a description, hints" ||
    fail "tools/list shapes" "$(echo "$out" | answer 1)"
echo "$out" | answer '"user"' | is '.result.structuredContent | .user ==
    "alice" and .roles == ["demo-all"] and .gateway == "mcpgate" and
    (.certificate.expires | test("Z$")) and .certificate.expires_in_seconds >
    3600' &&
    pass "mcpgate_user_info: user, roles, gateway, certificate expiry" ||
    fail "mcpgate_user_info" "$(echo "$out" | answer '"user"')"
echo "$out" | answer '"session"' | is '.result.structuredContent |
    .server == "mcpgate-demo" and .gateway == "mcpgate" and
    .protocol_version == "2025-11-25" and .client == {"name":"mcp-test",
    "version":"9.8.7"} and (.session_id | test("^[0-9a-f]{32}$")) and
    (.transport | test("TLS 1.3"))' &&
    pass "mcpgate_session_info: session, server, gateway, transport, version, client" ||
    fail "mcpgate_session_info" "$(echo "$out" | answer '"session"')"
echo "$out" | answer '"demo"' | is '.result.structuredContent |
    (.next_steps | map(.command) | index("mcpgate mcp ls -v") != null) and
    (.about | test("audit"))' &&
    pass "mcpgate_demo_info: what the demo is and what to try next" ||
    fail "mcpgate_demo_info" "$(echo "$out" | answer '"demo"')"
echo "$out" | answer '"access"' | is '.result.structuredContent |
    .servers[0].name == "mcpgate-demo" and (.servers[0].tools | length == 4)
    and all(.servers[0].tools[]; .allowed and (.rule | test("demo-all")))' &&
    pass "mcpgate_access_info: servers, tools, and the rule of each" ||
    fail "mcpgate_access_info" "$(echo "$out" | answer '"access"')"
echo "$out" | answer '"access"' | is '.result.content[0].type == "text"
    and (.result.content[1].text | fromjson) == .result.structuredContent' &&
    pass "a tool's result has text and its JSON beside structuredContent" ||
    fail "text content" "$(echo "$out" | answer '"access"')"
echo "$out" | answer 2 | is '.result == {}' &&
    pass "ping" || fail "ping" "$out"
out=$({ echo "$INIT"; call 1 mcpgate_access_info; } | session frank mcpgate-demo)
out2=$({ echo "$INIT"; call 1 mcpgate_access_info; } | session bob mcpgate-demo)
echo "$out2" | answer 1 | is '.result.structuredContent.servers[0].tools |
    map(select(.allowed | not)) | .[0].name == "mcpgate_demo_info" and
    (.[0].rule | test("demo-glob"))' &&
    pass "mcpgate_access_info shows what is denied, and which rule denies it" ||
    fail "access info of denials" "$out2"

# Versions: each answered as asked, an unknown one with the newest.
for v in 2024-11-05 2025-03-26 2025-06-18 2025-11-25 1999-01-01; do
	out=$({ echo "$INIT" | sed "s/2025-11-25/$v/"; rpc 1 tools/list;
	    call 2 mcpgate_user_info; } | session alice mcpgate-demo)
	want=$v
	[ $v = 1999-01-01 ] && want=2025-11-25
	got=$(echo "$out" | answer 0 | jq -r .result.protocolVersion)
	schema=$(echo "$out" | answer 1 | jq '.result.tools[0] | has("outputSchema")')
	sc=$(echo "$out" | answer 2 | jq '.result | has("structuredContent")')
	case $want in
	2024-11-05|2025-03-26) ok=false;;
	*) ok=true;;
	esac
	[ "$got" = "$want" ] && [ "$schema" = $ok ] && [ "$sc" = $ok ] &&
	    pass "protocol $v: answered $want, structured output $ok" ||
	    fail "protocol $v" "got $got, outputSchema $schema, structuredContent $sc"
done

# --- before initialize, and the lifecycle --------------------------------------
out=$({ rpc 1 server/discover; rpc 2 tools/list; rpc 3 ping; echo "$INIT";
    rpc 4 resources/list; rpc 5 prompts/list; rpc 6 resources/templates/list;
    echo "$INIT" | sed 's/"id":0/"id":7/'; rpc 8 logging/setLevel '{"level":"info"}'; } |
    session alice mcpgate-demo)
echo "$out" | answer 1 | is '.error.code == -32601' &&
    echo "$out" | answer 2 | is '.error.code == -32600 and
    (.error.message | test("initialize"))' &&
    echo "$out" | answer 3 | is '.result == {}' &&
    pass "before initialize: server/discover -32601, tools/list -32600, ping answered" ||
    fail "before initialize" "$out"
echo "$out" | answer 4 | is '.result.resources == []' &&
    echo "$out" | answer 5 | is '.result.prompts == []' &&
    echo "$out" | answer 6 | is '.result.resourceTemplates == []' &&
    echo "$out" | answer 7 | is '.error.code == -32600' &&
    echo "$out" | answer 8 | is '.error.code == -32601' &&
    pass "empty resources and prompts, a second initialize refused, unknown methods -32601" ||
    fail "after initialize" "$out"

# --- bad input ----------------------------------------------------------------
# A second user's session lives through all of it.
mkfifo "$MG_DIR/witness.in"
session gina mcpgate-demo <"$MG_DIR/witness.in" >"$MG_DIR/witness.out" 2>&1 &
WPID=$!
exec 7>"$MG_DIR/witness.in"
echo "$INIT" >&7
witness() {
	# witness ID: gina's session answers a call
	local i
	call "$1" mcpgate_user_info >&7
	for i in $(seq 1 100); do
		answer "$1" <"$MG_DIR/witness.out" | is '.result.isError ==
		    false' 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
witness 1 && pass "a second user's session runs alongside" ||
    fail "the witness session" "$(cat "$MG_DIR/witness.out")"

out=$({ echo "$INIT"; echo 'this is not JSON'; rpc 1 ping; echo '[{"jsonrpc":"2.0","id":2,"method":"ping"}]';
    echo '{"id":3,"method":"ping"}'; echo '{"jsonrpc":"2.0","id":null,"method":"ping"}';
    echo '{"jsonrpc":"2.0","id":4.5,"method":"ping"}'; echo '{"jsonrpc":"2.0","id":5,"method":"ping","params":[1]}';
    echo '"just a string"'; echo ''; echo '{"jsonrpc":"2.0","id":6,"result":{}}';
    echo '{"jsonrpc":"2.0","id":7,"method":"ping","method":"ping"}';
    python3 -c 'print("[" * 100000)'; rpc 8 ping; } | session alice mcpgate-demo)
lines() { echo "$out" | jq -c -R "fromjson? | select($1)"; }
[ "$(lines '.error.code == -32700' | wc -l)" = 4 ] &&
    [ "$(lines '.error.code == -32600 and .id == null' | wc -l)" = 3 ] &&
    echo "$out" | answer 3 | is '.error.code == -32600 and
        (.error.message | test("jsonrpc"))' &&
    echo "$out" | answer 5 | is '.error.code == -32600' &&
    echo "$out" | answer 1 | is '.result == {}' &&
    echo "$out" | answer 8 | is '.result == {}' &&
    ! echo "$out" | has '.id == 6' &&
    pass "not JSON, a batch, no jsonrpc, a null or fractional id, bad params, duplicate keys, nesting 100000 deep: each its error, the session goes on" ||
    fail "bad input" "$out"
echo "$out" | has '.id == null and .error.code == -32700 and
    (.error.message | test("depth"))' &&
    pass "nesting 100,000 deep is a parse error, not a crash" ||
    fail "deep nesting" "$out"

out=$({ echo "$INIT"; rpc 1 ping; head -c 1100000 /dev/zero | tr '\0' 'a'; echo;
    rpc 2 ping; } | session alice mcpgate-demo)
echo "$out" | answer 1 | is '.result == {}' &&
    echo "$out" | tail -n 1 | is '.id == null and .error.code == -32000 and
    (.error.message | test("max_message_size"))' &&
    ! echo "$out" | answer 2 | grep -q . &&
    pass "a line over max_message_size ends the session with an error, last" ||
    fail "an over-limit line" "$out"
out=$({ echo "$INIT"; printf '{"jsonrpc":"2.0","id":1,"method":"ping","x":"\xc3\x28"}\n';
    rpc 2 ping; } | session alice mcpgate-demo)
echo "$out" | tail -n 1 | is '.id == null and .error.code == -32000 and
    (.error.message | test("UTF-8"))' &&
    ! echo "$out" | answer 2 | grep -q . &&
    pass "invalid UTF-8 ends the session with an error" ||
    fail "invalid UTF-8" "$out"
out=$({ echo "$INIT"; printf '%s' "$(rpc 1 ping)"; } | session alice mcpgate-demo)
echo "$out" | answer 1 | is '.result == {}' &&
    pass "a last message without its newline is still answered" ||
    fail "a last message without newline" "$out"
audit_wait '.event == "mcp.session.end" and .reason == "message_too_large"' &&
    audit_wait '.event == "mcp.session.end" and .reason == "invalid_utf8"' &&
    audit_wait '.event == "mcp.session.request" and .result == "error" and
        (.error | test("Parse error"))' &&
    pass "bad input is audited, and so is why a session ended" ||
    fail "audit of bad input" "see $MG_DIR/audit"
witness 2 && kill -0 "$(child_pid mcpd)" &&
    pass "through all of it the other session and mcpd live on" ||
    fail "the witness after bad input" "$(tail -n 3 "$MG_DIR/witness.out")"

# --- the audit records --------------------------------------------------------
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
{ echo "$INIT"; echo '{"jsonrpc":"2.0","method":"notifications/initialized"}';
    rpc 1 tools/call "{\"name\":\"mcpgate_user_info\",\"arguments\":{\"x\":\"$big\"}}";
    rpc 2 tools/call '{"name":"mcpgate_user_info","_meta":{"progressToken":"p1"}}'; } |
    session gina mcpgate-demo >/dev/null
rec() {
	# rec FILTER: the last matching record, waiting up to 2 s for it
	local i r
	for i in $(seq 1 40); do
		r=$(cat "$MG_DIR"/audit/audit-*.jsonl | jq -c "select($1)" |
		    tail -n 1)
		[ -n "$r" ] && break
		sleep 0.05
	done
	echo "$r"
}
r=$(rec '.event == "mcp.session.start" and .user == "gina" and .success')
echo "$r" | is '.code == "MG2000I" and .client == {"name":"mcp-test",
    "version":"9.8.7"} and .protocol_version == "2025-11-25" and
    .roles == ["mcp-user"] and .app == "mcpgate-demo" and
    (.session_id | length == 32) and (.remote_addr | test("^127.0.0.1:"))' && pass "mcp.session.start: client, protocol, user, roles, server, session, address" ||
    fail "mcp.session.start" "$r"
r=$(rec '.event == "mcp.session.request" and .user == "gina" and .params_truncated')
echo "$r" | is '.params_bytes > 20000 and (.params | type == "string")
    and (.params | length == 16384) and .method == "tools/call"' &&
    pass "params over 16 KiB are kept to 16 KiB, marked truncated, with their size" ||
    fail "truncated params" "$(echo "$r" | cut -c 1-300)"
r=$(rec '.event == "mcp.session.request" and .user == "gina" and .rpc_id == 2')
echo "$r" | is '.params._meta.progressToken == "p1" and .tool ==
    "mcpgate_user_info"' &&
    pass "a request's params are recorded whole, _meta included" ||
    fail "params recorded" "$r"
r=$(rec '.event == "mcp.session.notification" and .user == "gina"')
echo "$r" | is '.method == "notifications/initialized" and .code ==
    "MG2003I"' && pass "mcp.session.notification" ||
    fail "mcp.session.notification" "$r"
r=$(rec '.event == "mcp.session.end" and .user == "gina"')
echo "$r" | is '.reason == "client_closed" and .requests == 3 and
    .notifications == 1 and .errors == 1 and .denied == 0 and
    .duration_ms >= 0 and .initialized' &&
    pass "mcp.session.end: why, how long, how many requests of each kind" ||
    fail "mcp.session.end" "$r"

# --- live changes ---------------------------------------------------------------
# live NAME USER: a session in the background; send with >&fd, lines in NAME.out
live() {
	mkfifo "$MG_DIR/$1.in"
	session "$2" mcpgate-demo <"$MG_DIR/$1.in" >"$MG_DIR/$1.out" 2>&1 &
	LIVEPID=$!
}
# await FILE FILTER: true once a line of the file matches, within 3 s
await() {
	local i
	for i in $(seq 1 60); do
		has "$2" <"$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
live edit bob
exec 8>"$MG_DIR/edit.in"
{ echo "$INIT"; rpc 1 tools/list; } >&8
await "$MG_DIR/edit.out" '.id == 1'
role demo-glob "{env: demo}" "['mcpgate_*_info']" "['mcpgate_demo_*', mcpgate_user_info]" |
    ctl create --force >/dev/null
await "$MG_DIR/edit.out" '.method == "notifications/tools/list_changed"' &&
    pass "a role edited mid-session: the session hears tools/list_changed" ||
    fail "tools/list_changed" "$(cat "$MG_DIR/edit.out")"
{ call 2 mcpgate_user_info; rpc 3 tools/list; } >&8
await "$MG_DIR/edit.out" '.id == 3' &&
    answer 2 <"$MG_DIR/edit.out" | is '.error.code == -32602' &&
    answer 3 <"$MG_DIR/edit.out" | is '[.result.tools[].name] | sort ==
        ["mcpgate_access_info","mcpgate_session_info"]' &&
    pass "and its next call and list follow the new role" ||
    fail "the next call after a role edit" "$(cat "$MG_DIR/edit.out")"
role demo-glob "{env: prod}" "['*']" | ctl create --force >/dev/null
await "$MG_DIR/edit.out" '.id == null and (.error.message | test("no longer give"))' &&
    wait_gone $LIVEPID 2 &&
    pass "a role change that takes the server away ends the session" ||
    fail "server taken away" "$(cat "$MG_DIR/edit.out")"
exec 8>&-

live gone carol
exec 8>"$MG_DIR/gone.in"
{ echo "$INIT"; rpc 1 ping; } >&8
await "$MG_DIR/gone.out" '.id == 1'
t0=$(date +%s%N)
ctl users rm carol >/dev/null
await "$MG_DIR/gone.out" '.id == null and .error.code == -32000 and
    (.error.message | test("carol no longer exists"))' && wait_gone $LIVEPID 1 &&
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 1000 ] &&
    pass "a user removed mid-session: the session ends within a second, saying why" ||
    fail "user removed mid-session" "$(cat "$MG_DIR/gone.out")"
exec 8>&-
audit_wait '.event == "mcp.session.end" and .user == "carol" and
    .reason == "unknown_user"' &&
    pass "and the audit log records why it ended" ||
    fail "end of carol's session" "not in the audit log"

live locked dave
exec 8>"$MG_DIR/locked.in"
{ echo "$INIT"; rpc 1 ping; } >&8
await "$MG_DIR/locked.out" '.id == 1'
ctl users lock dave >/dev/null
await "$MG_DIR/locked.out" '.id == null and (.error.message | test("locked"))' &&
    wait_gone $LIVEPID 1 && pass "a user locked mid-session: the session ends" ||
    fail "user locked mid-session" "$(cat "$MG_DIR/locked.out")"
exec 8>&-

# A short certificate: the session ends when it expires.
out=$(echo "$PW" | MCPGATE_HOME=$MG_DIR/home-alice "$BIN/mcpgate" login \
    --proxy "$GW" --user alice --password-stdin --ttl 3s 2>&1)
live expiry alice
exec 8>"$MG_DIR/expiry.in"
echo "$INIT" >&8
await "$MG_DIR/expiry.out" '.id == 0'
sleep 2.5
wait_gone $LIVEPID 3 &&
    has '.id == null and (.error.message | test("expired"))' \
        <"$MG_DIR/expiry.out" &&
    pass "a session ends when its certificate expires" ||
    fail "certificate expiry" "$out $(cat "$MG_DIR/expiry.out")"
exec 8>&-

# A reload that disables the demo server ends its sessions.
live off gina
exec 8>"$MG_DIR/off.in"
echo "$INIT" >&8
await "$MG_DIR/off.out" '.id == 0'
sed -i 's/mcp_demo_server: true/mcp_demo_server: false/' "$MG_CONF"
ctl reload >/dev/null
await "$MG_DIR/off.out" '.id == null and (.error.message | test("no longer offered"))' &&
    [ "$(session gina -r '{"op":"apps"}' | jq -c '[.apps, .offered]')" = "[[],false]" ] &&
    pass "mcp_demo_server: false on reload ends its sessions and hides it (offered: false)" ||
    fail "demo server disabled" "$(cat "$MG_DIR/off.out")"
exec 8>&- 7>&-
wait "$WPID"

# Stopping the daemon ends the sessions first, each with its record.
sed -i 's/mcp_demo_server: false/mcp_demo_server: true/' "$MG_CONF"
ctl reload >/dev/null
live stop gina
exec 8>"$MG_DIR/stop.in"
{ echo "$INIT"; rpc 1 tools/list; } >&8
await "$MG_DIR/stop.out" '.id == 1'
mg_stop
[ "$MG_STATUS" -eq 0 ] && pass "the daemon stops cleanly" ||
    fail "daemon stop" "status $MG_STATUS"
has '.id == null and (.error.message | test("gateway is stopping"))' \
    <"$MG_DIR/stop.out" && wait_gone $LIVEPID 2 &&
    pass "a session open at stop hears that the gateway is stopping" ||
    fail "a session at stop" "$(cat "$MG_DIR/stop.out")"
exec 8>&-
cat "$MG_DIR"/audit/audit-*.jsonl | jq -s -e 'map(.event) |
    (index("daemon.stop") > (map(. == "mcp.session.end") | rindex(true)))' \
    >/dev/null && audit_has '.event == "mcp.session.end" and
        .reason == "gateway_stopping" and .user == "gina"' &&
    pass "its mcp.session.end is written before daemon.stop" ||
    fail "session end at stop" "$(tail -n 3 "$MG_DIR"/audit/audit-*.jsonl)"
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && pass "the audit log verifies" || fail "audit verify" "$out"

# --- the demo server is off unless the configuration turns it on --------------
mg_setup <<'EOF'
app_service:
  enabled: true
EOF
mg_start
GW=127.0.0.1:$MG_PORT
adduser ines --roles mcp-user
out=$(session ines -r '{"op":"apps"}' | jq -c .apps)
[ "$out" = "[]" ] &&
    pass "without mcp_demo_server: true the gateway offers no demo server" ||
    fail "the demo server is off by default" "$out"
mg_stop

# --- fail closed: no session and no call without its audit record ---------------
mg_setup </dev/null
mkdir -m 0750 "$MG_DIR/audit"
if ! mount -t tmpfs -o size=256k,mode=0750 tmpfs "$MG_DIR/audit" 2>/dev/null; then
	skip "audit failure" "cannot mount a small tmpfs to fill up"
	exit 0
fi
chown _mcpgate-audit:_mcpgate-audit "$MG_DIR/audit"
mg_start
GW=127.0.0.1:$MG_PORT
adduser hana --roles mcp-user
live full hana
exec 8>"$MG_DIR/full.in"
{ echo "$INIT"; call 1 mcpgate_user_info; } >&8
await "$MG_DIR/full.out" '.id == 1'
dd if=/dev/zero of="$MG_DIR/audit/fill" bs=4k 2>/dev/null
for i in $(seq 1 60); do
	ctl status | grep -q FAILING && break
	rpc 100 ping >&8
	sleep 0.05
done
call 2 mcpgate_user_info >&8
await "$MG_DIR/full.out" '.id == 2' &&
    answer 2 <"$MG_DIR/full.out" | is '.error.code == -32000 and
        (.error.message | test("cannot write its audit log"))' &&
    pass "with the audit log full, a tools/call is refused, saying why" ||
    fail "a call without its audit record" "$(tail -n 2 "$MG_DIR/full.out")"
out=$(echo "$INIT" | session hana mcpgate-demo)
echo "$out" | answer 0 | is '.error.code == -32000 and (.error.message |
    test("refuses new sessions"))' &&
    pass "and a new session is refused at initialize" ||
    fail "a session without its audit record" "$out"
rm "$MG_DIR/audit/fill"
call 3 mcpgate_user_info >&8
await "$MG_DIR/full.out" '.id == 3' &&
    answer 3 <"$MG_DIR/full.out" | is '.result.isError == false' &&
    pass "once the log can be written, calls run again in the same session" ||
    fail "service resumes" "$(tail -n 2 "$MG_DIR/full.out")"
exec 8>&-
mg_stop
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && pass "the audit log verifies after the failures" ||
    fail "audit verify after the failures" "$out"
umount "$MG_DIR/audit"
