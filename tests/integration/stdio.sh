# stdio MCP servers behind the gateway, end to end: the npm reference
# servers (server-everything, server-filesystem, server-memory) driven by
# the official SDK client through mcpgate mcp connect, with roots,
# sampling and elicitation; a denied tool hidden, refused and never
# forwarded; the relay transparent (what the server wrote is what the
# client read, byte for byte, but for the filtered tools/list); server
# requests the client did not declare refused by the gateway; servers
# that fail (exit mid-call, never answer initialize, write garbage, a
# 10 MB line, a flood, answers to ids nobody sent) and other sessions
# served meanwhile; the server's user and namespaces in /proc; its
# processes gone when the session ends and when the parent is killed.
#
# mcpgate-test: alone
# (tests/run runs it by itself: it starts a dozen servers, node among
# them, at once, each of which must answer within its init_timeout.)
. "$(dirname "$0")/lib.sh"
need_root "servers run as another user in namespaces of their own"
PEERS=$TOP/tests/peers
if ! command -v node >/dev/null; then
	skip "every check" "node is not installed (make deps installs it)"
	exit 0
fi
for s in sdk server-everything server-filesystem server-memory; do
	if [ ! -f "$PEERS/node_modules/@modelcontextprotocol/$s/package.json" ]
	then
		skip "every check" "@modelcontextprotocol/$s is not installed \
(make peers installs it)"
		exit 0
	fi
done

# The servers run as nobody, who may not reach the checkout (a clone
# under /root is 0700): they run from a copy.
T=$(mktemp -d /tmp/mgstdio.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
cp -a "$PEERS/node_modules" "$T/node_modules"
install -m 0755 "$HELPERS/stdioserver" "$T/stdioserver"
mkdir -m 0777 "$T/srv" "$T/fs"
NODE=$(command -v node)
M=$T/node_modules/@modelcontextprotocol
SB="{network: none, read_only_paths: [/usr, /etc, $T/node_modules],
        writable_paths: [$T/srv]}"

# stdioserver APP ARGS...: an app of the test server.
stdioserver() {
	local name=$1 a args=
	shift
	for a in "$@"; do
		args="$args${args:+, }\"$a\""
	done
	cat <<EOF
  - name: $name
    labels: {env: dev}
    mcp:
      command: $T/stdioserver
      args: [$args]
      run_as_host_user: nobody
      cwd: $T/srv
      env: {ASAN_OPTIONS: detect_leaks=0}
      init_timeout: 2s
EOF
}

{
	cat <<EOF
app_service:
  mcp_demo_server: true
  apps:
  - name: everything
    description: "The reference test server, its standard streams copied"
    labels: {env: dev}
    mcp:
      command: /bin/sh
      args: ["-c", "tee -a $T/srv/in.jsonl | $NODE $M/server-everything/dist/index.js stdio | tee -a $T/srv/out.jsonl"]
      run_as_host_user: nobody
      cwd: $T/srv
      sandbox: $SB
  - name: filesystem
    labels: {env: dev}
    mcp:
      command: $NODE
      args: ["$M/server-filesystem/dist/index.js"]
      run_as_host_user: nobody
      cwd: $T/srv
      sandbox: {network: none, read_only_paths: [/usr, /etc, $T/node_modules],
        writable_paths: [$T/fs]}
  - name: memory
    labels: {env: dev}
    mcp:
      command: $NODE
      args: ["$M/server-memory/dist/index.js"]
      run_as_host_user: nobody
      cwd: $T/srv
      env: {MEMORY_FILE_PATH: $T/srv/memory.jsonl}
      sandbox: $SB
EOF
	stdioserver no-init no-init
	stdioserver exit-mid-call exit-mid-call
	stdioserver garbage garbage
	stdioserver bigline bigline
	stdioserver flood flood
	stdioserver unknown-ids unknown-ids
	stdioserver asks-roots ask=roots/list
	stdioserver asks-sampling ask=sampling/createMessage
	stdioserver hang grandchild=stdio-mark-end-$$ ignore-term ignore-eof
	stdioserver hang2 grandchild=stdio-mark-kill-$$ ignore-term ignore-eof
} >"$T/apps.yaml"
mg_setup <"$T/apps.yaml"
mg_start || { fail "daemon starts" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
PW="correct horse battery"

cat >"$MG_DIR/role.yaml" <<'EOF'
kind: role
version: v1
metadata: {name: dev-no-env}
spec:
  allow:
    app_labels: {env: dev}
    mcp:
      tools: ['*']
  deny:
    mcp:
      tools: [get-env]
EOF
ctl create -f "$MG_DIR/role.yaml" >/dev/null &&
    invite_login ann "$(ctl --format json users add ann \
    --roles dev-no-env,mcp-user)" ||
    { fail "ann logs in" "see $MG_DIR/log"; exit 1; }

# client NAME ARGS...: the SDK client's lines through the gateway, as ann.
client() {
	local name=$1
	shift
	MCPGATE_HOME=$MG_DIR/home-ann node "$PEERS/stdio_client.mjs" \
	    --name "$SUITE: $name" --env "MCPGATE_HOME=$MG_DIR/home-ann" "$@" \
	    2>>"$T/client.err"
}

client everything --suite everything --root "$T/srv" \
    --expect-denied get-env --transcript "$T/everything.jsonl" -- \
    "$BIN/mcpgate" mcp connect everything
client filesystem --suite filesystem --root "$T/fs" -- \
    "$BIN/mcpgate" mcp connect filesystem
client memory --suite memory -- "$BIN/mcpgate" mcp connect memory

# --- the relay is transparent ------------------------------------------------
# What the server wrote (tee) and what the client read (the transcript),
# the tools/list answers and the gateway's own refusal of get-env aside:
# the same lines, byte for byte, in the same order.  The server may have
# written a little more after the client closed.
S=$T/srv/out.jsonl
C=$T/everything.jsonl
grep -v '"tools":\[' "$S" >"$T/s.rest"
grep -v '"tools":\[' "$C" | grep -v '"code":-32602,' >"$T/c.rest"
n=$(wc -l <"$T/c.rest")
if [ "$n" -gt 20 ] && head -n "$n" "$T/s.rest" | cmp -s - "$T/c.rest"; then
	pass "what the server wrote is what the client read ($n lines)"
else
	fail "what the server wrote is what the client read" \
	    "$(head -n "$n" "$T/s.rest" | diff - "$T/c.rest" | head -n 4 |
	    cut -c1-200 | tr '\n' ' ')"
fi
a=$(grep '"tools":\[' "$S" | jq -c -S \
    '.result.tools |= map(select(.name != "get-env"))')
b=$(grep '"tools":\[' "$C" | jq -c -S .)
[ -n "$a" ] && [ "$a" = "$b" ] &&
    pass "tools/list: the server's answer without get-env, nothing else changed" ||
    fail "tools/list filtered" "server: $(echo "$a" | cut -c1-150) client: $(echo "$b" | cut -c1-150)"
grep '"tools":\[' "$S" | grep -q '"get-env"' &&
    pass "and the server did offer get-env" ||
    fail "the server offers get-env" "not in its tools/list"
# What the client sent reached the server: _meta, progressToken included.
jq -e -s 'any(.[]; .method == "tools/call" and
    .params.name == "trigger-long-running-operation" and
    .params._meta.progressToken != null)' "$T/srv/in.jsonl" >/dev/null &&
    pass "tools/call reached the server with its _meta.progressToken" ||
    fail "tools/call's _meta" "not in what the server read"
if jq -e -s 'any(.[]; .method == "tools/call" and .params.name == "get-env")' \
    "$T/srv/in.jsonl" >/dev/null; then
	fail "the denied call" "reached the server"
else
	pass "the denied call never reached the server"
fi
audit_has '.event == "mcp.session.request" and .user == "ann" and
    .app == "everything" and .result == "denied" and .tool == "get-env"' &&
    pass "the denial is in the audit log" ||
    fail "the denial is in the audit log" "no record"
audit_has '.event == "mcp.session.server_request" and .app == "everything"
    and .method == "sampling/createMessage" and .result == "success"' &&
    pass "the server's sampling request is in the audit log" ||
    fail "the server's sampling request is in the audit log" "no record"
audit_has '.event == "mcp.session.end" and .app == "everything" and
    .reason == "client_closed" and .server.exit_status == 0' &&
    pass "the session's end record has the server's exit status" ||
    fail "the session's end record has the server's exit status" \
    "$(cat "$MG_DIR"/audit/*.jsonl | jq -c 'select(.event ==
    "mcp.session.end" and .app == "everything")' | tail -n 1)"

# --- raw sessions -----------------------------------------------------------
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
INIT_ROOTS='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{"roots":{}},"clientInfo":{"name":"raw","version":"1"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}'

# raw APP SECONDS LINES...: the lines, 0.3 s apart, to a session with APP,
# then what the gateway answered; stdin stays open SECONDS.
raw() {
	local app=$1 secs=$2 l
	shift 2
	{
		for l in "$@"; do
			printf '%s\n' "$l"
			sleep 0.3
		done
		sleep "$secs"
	} | user_session ann $((secs + 10)) "$app"
}

# demo_ok: another user's session is served: the demo answers ping.
demo_ok() {
	raw mcpgate-demo 0 "$INIT" '{"jsonrpc":"2.0","id":9,"method":"ping"}' |
	    has '.id == 9 and .result != null'
}

# Every faulty server at once, a session each; the checks follow.
bg=()
raw no-init 3 "$INIT" >"$T/no-init.out" &
bg+=($!)
raw exit-mid-call 1 "$INIT" "$INITED" "$CALL" >"$T/exit-mid-call.out" &
bg+=($!)
raw garbage 1 "$INIT" "$INITED" "$CALL" >"$T/garbage.out" &
bg+=($!)
raw bigline 1 "$INIT" "$INITED" "$CALL" >"$T/bigline.out" &
bg+=($!)
raw unknown-ids 3 "$INIT" >"$T/unknown-ids.out" &
bg+=($!)
raw asks-sampling 1 "$INIT" "$INITED" >"$T/asks-sampling.out" &
bg+=($!)
raw asks-roots 1 "$INIT_ROOTS" "$INITED" >"$T/asks-roots.out" &
bg+=($!)
# A server whose grandchild calls setsid and ignores SIGTERM, and which
# itself ignores SIGTERM and EOF.
raw hang 1 "$INIT" >/dev/null &
bg+=($!)
# A flood the client does not read: the gateway stops reading the
# server, its memory stays bounded, and others are served meanwhile.
{
	printf '%s\n' "$INIT"
	sleep 6
} | user_session ann 15 flood | { sleep 4; cat >/dev/null; } &
bg+=($!)
sleep 2.5
demo_ok && pass "a flooding server: another session is served meanwhile" ||
    fail "flood: another session" "not served"
# What mcpd holds for its sessions, by its own count, and (but under the
# sanitizers, whose quarantine keeps freed memory) its peak resident size.
held=$(ctl status --format json | jq '.sessions.buffered')
[ -n "$held" ] && [ "$held" -gt 0 ] && [ "$held" -lt $((4 * 1024 * 1024)) ] &&
    pass "and mcpd holds less than 4 MiB for it ($held bytes)" ||
    fail "flood: mcpd's buffers" "${held:-?} bytes"
if ! grep -q __asan_init "$BIN/mcpgated"; then
	hwm=$(awk '/VmHWM/ {print $2}' "/proc/$(child_pid mcpd)/status")
	[ -n "$hwm" ] && [ "$hwm" -lt 65536 ] &&
	    pass "and mcpd's peak resident size stays small (${hwm} kB)" ||
	    fail "flood: mcpd's memory" "VmHWM ${hwm:-?} kB"
fi
wait "${bg[@]}"

out=$(cat "$T/no-init.out")
echo "$out" | has '.id == 1 and .error.code == -32000 and
    (.error.message | test("did not answer initialize within 2s"))' &&
    pass "a server that never answers initialize: the client hears so" ||
    fail "no-init" "$(echo "$out" | head -n 2)"
audit_has '.event == "mcp.session.end" and .app == "no-init" and
    .reason == "server_init_timeout"' &&
    pass "and the session ends with server_init_timeout" ||
    fail "no-init's end" "no record"

out=$(cat "$T/exit-mid-call.out")
echo "$out" | has '.id == 2 and .error.code == -32000 and
    .error.message == "the MCP server exited (status 3)"' &&
    pass "a server that exits mid-call: the call gets -32000 with its status" ||
    fail "exit-mid-call" "$(echo "$out" | tail -n 2)"
audit_has '.event == "mcp.session.end" and .app == "exit-mid-call" and
    .reason == "server_exited" and .server.exit_status == 3' &&
    pass "and the session ends with server_exited, status 3" ||
    fail "exit-mid-call's end" "no record"

out=$(cat "$T/garbage.out")
echo "$out" | has '.id == 2 and .result.content[0].text == "hi"' &&
    ! echo "$out" | grep -q 'this is not JSON' &&
    grep -q "the MCP server garbage wrote what is not JSON-RPC" \
    "$MG_DIR/log" &&
    pass "garbage from a server is logged and dropped; the call is answered" ||
    fail "garbage" "$(echo "$out" | tail -n 2)"

out=$(cat "$T/bigline.out")
echo "$out" | has '.id == null and (.error.message |
    test("larger than the gateway.s max_message_size"))' &&
    pass "a 10 MB line from a server ends the session, saying why" ||
    fail "bigline" "$(echo "$out" | tail -n 2 | cut -c1-200)"
audit_has '.event == "mcp.session.end" and .app == "bigline" and
    .reason == "server_message_too_large"' &&
    pass "and the record says server_message_too_large" ||
    fail "bigline's end" "no record"

out=$(cat "$T/unknown-ids.out")
grep -q "the MCP server unknown-ids answered a request that was not made" \
    "$MG_DIR/log" && echo "$out" | has '.id == 1 and .error.code == -32000' &&
    pass "answers to ids nobody sent are logged and dropped" ||
    fail "unknown-ids" "$(echo "$out" | tail -n 2)"

# A server's request for a capability the client did not declare is
# answered -32601 by the gateway; one it declared reaches the client.
out=$(cat "$T/asks-sampling.out")
! echo "$out" | grep -q '"srv-1"' &&
    grep -q 'answer .*"srv-1".*-32601.*did not declare' "$MG_DIR/log" &&
    pass "sampling the client did not declare: -32601 from the gateway" ||
    fail "asks-sampling" "$(echo "$out" | tail -n 2)"
audit_has '.event == "mcp.session.server_request" and .app == "asks-sampling"
    and .result == "refused"' &&
    pass "and the refusal is in the audit log" ||
    fail "asks-sampling's record" "none"
out=$(cat "$T/asks-roots.out")
echo "$out" | has '.id == "srv-1" and .method == "roots/list"' &&
    pass "roots/list the client declared reaches it, id verbatim" ||
    fail "asks-roots" "$(echo "$out" | tail -n 2)"

# --- the server's process ----------------------------------------------------
# While a session lives: its user, its own PID and network namespaces,
# no_new_privs and a seccomp filter.
{
	printf '%s\n' "$INIT"
	sleep 4
} | user_session ann 15 everything >/dev/null &
rs=$!
pid=
for i in $(seq 1 60); do
	pid=$(sed -n 's/.*everything runs as pid \([0-9]*\).*/\1/p' \
	    "$MG_DIR/log" | tail -n 1)
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && break
	sleep 0.1
done
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
	st=/proc/$pid/status
	[ "$(awk '/^Uid:/ {print $2}' "$st")" = "$(id -u nobody)" ] &&
	    pass "the server runs as run_as_host_user (nobody)" ||
	    fail "the server's user" "$(grep '^Uid:' "$st")"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
	    [ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
	    pass "with no_new_privs and a seccomp filter" ||
	    fail "the server's no_new_privs and seccomp" \
	    "$(grep -E '^(NoNewPrivs|Seccomp):' "$st" | tr '\n' ' ')"
	[ "$(readlink "/proc/$pid/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] &&
	    [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
	    pass "in PID and network namespaces of its own" ||
	    fail "the server's namespaces" "shares the host's"
else
	fail "the server's process" "no pid in the log"
fi
wait "$rs"

# The hanging server: all gone once its session ended.
gone=0
for i in $(seq 1 200); do
	pgrep -f "stdioserver hang stdio-mark-end-$$$" >/dev/null || { gone=1; break; }
	sleep 0.05
done
[ "$gone" = 1 ] &&
    pass "the session ends: the server and its setsid grandchild are gone" ||
    fail "the hanging server's end" "$(pgrep -af stdio-mark-end-$$)"
for i in $(seq 1 100); do
	audit_has '.event == "mcp.session.end" and .app == "hang"' && break
	sleep 0.1
done
audit_has '.event == "mcp.session.end" and .app == "hang" and
    .server.exit_signal == 9' &&
    pass "the record says it was killed (signal 9) after ignoring SIGTERM" ||
    fail "the hanging server's record" "$(cat "$MG_DIR"/audit/*.jsonl |
    jq -c 'select(.event == "mcp.session.end" and .app == "hang") | .server')"

demo_ok && pass "after every fault, the gateway still serves" ||
    fail "the gateway after the faults" "the demo does not answer"

# An app created at run time serves new sessions at once; removing it
# ends its live session with app_removed, and the record still has the
# server's exit status.
cat >"$T/app.yaml" <<EOF
kind: app
version: v1
metadata: {name: made-live, labels: {env: dev}}
spec:
  mcp:
    command: $T/stdioserver
    run_as_host_user: nobody
    cwd: $T/srv
    env: {ASAN_OPTIONS: detect_leaks=0}
EOF
ctl create -f "$T/app.yaml" >/dev/null ||
    fail "create app/made-live" "refused"
{
	printf '%s\n' "$INIT" "$INITED" "$CALL"
	sleep 3
} | user_session ann 10 made-live >"$T/made-live.out" &
rs=$!
for i in $(seq 1 60); do
	has '.id == 2' <"$T/made-live.out" && break
	sleep 0.1
done
has '.id == 2 and .result.content[0].text == "hi"' <"$T/made-live.out" &&
    pass "an app created with mcpgatectl serves a session at once" ||
    fail "the created app" "$(tail -n 2 "$T/made-live.out")"
ctl rm app/made-live >/dev/null
wait "$rs"
has '.id == null and .error.data.reason == "app_removed"' \
    <"$T/made-live.out" &&
    pass "rm app/NAME ends its live session, saying why" ||
    fail "rm app/NAME" "$(tail -n 1 "$T/made-live.out")"
for i in $(seq 1 100); do
	audit_has '.event == "mcp.session.end" and .app == "made-live"' && break
	sleep 0.1
done
audit_has '.event == "mcp.session.end" and .app == "made-live" and
    .reason == "app_removed" and .server.exit_status == 0' &&
    pass "and its record has the server's exit status" ||
    fail "the removed app's record" "$(cat "$MG_DIR"/audit/*.jsonl |
    jq -c 'select(.event == "mcp.session.end" and .app == "made-live")')"

# A client that half-closes right after initialize gets the answer, and
# the session ends with it, not at the client's timeout.
t0=$(ms_now)
printf '%s\n' "$INIT" | user_session ann 20 everything >"$T/half.out" 2>&1
t1=$(ms_now)
has '.id == 1 and .result.serverInfo' <"$T/half.out" &&
    [ $((t1 - t0)) -lt 10000 ] &&
    pass "initialize, then end of input: answered, and the session ends ($((t1 - t0)) ms)" ||
    fail "initialize, then end of input: answered, and the session ends" \
    "$((t1 - t0)) ms: $(head -c 300 "$T/half.out")"

# kill -9 of the parent mid-session leaves no server process.
{
	printf '%s\n' "$INIT"
	sleep 5
} | user_session ann 10 hang2 >/dev/null 2>&1 &
rs=$!
for i in $(seq 1 60); do
	pgrep -f "stdioserver hang stdio-mark-kill-$$$" >/dev/null && break
	sleep 0.1
done
spid=$(sed -n 's/.*hang2 runs as pid \([0-9]*\).*/\1/p' "$MG_DIR/log" |
    tail -n 1)
disown "$MG_PID"
kill -9 "$MG_PID"
gone=0
for i in $(seq 1 100); do
	if ! pgrep -f "stdioserver hang stdio-mark-kill-$$$" >/dev/null &&
	    ! { [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; }; then
		gone=1
		break
	fi
	sleep 0.05
done
[ -n "$spid" ] && [ "$gone" = 1 ] &&
    pass "kill -9 of the parent: no server process is left" ||
    fail "kill -9 of the parent" "left: $(pgrep -af 'stdioserver' | head -n 3)"

