# mcpgate mcp connect when the connection to the gateway drops: it
# connects again with backoff and replays initialize, answers the requests
# in flight -32000 "retry", does not come back after an end the gateway
# meant (user locked or removed), takes a new login without a restart, and
# gives up after --reconnect-for.
. "$(dirname "$0")/lib.sh"

MG=$BIN/mcpgate
PW="correct horse battery"
T=$(mktemp -d /tmp/mgbridge.XXXXXX)
MG_TMPS+=("$T")
unset XDG_CONFIG_HOME MCPGATE_HOME

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bridge-test","version":"1.0"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'

# call ID: a tools/call of the demo's user info, with that id.
call() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"mcpgate_user_info","arguments":{}}}' "$1"
}

mg_setup
mg_start || { fail "the daemon starts" "see the log"; exit 1; }
# From now on the same port at every start, as a restarted gateway has.
sed -i "s/^  listen_addr: .*/  listen_addr: 127.0.0.1:$MG_PORT/" "$MG_CONF"

for u in alice bob bob2 carol dave erin fred gina; do
	ans=$(ctl --format json users add "$u" --roles access \
	    --mcp-tools '*') && invite_login "$u" "$ans" ||
	    fail "set-up" "user $u"
done

# open USER [OPTIONS]: a bridge for USER as a coprocess BR, its stderr in
# $T/USER.err, initialized; true when initialize was answered.
open() {
	local u=$1 l=""
	shift
	coproc BR { MCPGATE_HOME=$MG_DIR/home-$u exec "$MG" mcp connect \
	    mcpgate-demo "$@" 2>"$T/$u.err"; }
	BP=$BR_PID
	echo "$INIT" >&"${BR[1]}"
	read -t 10 -r l <&"${BR[0]}"
	echo "$INITED" >&"${BR[1]}"
	echo "$l" | is '.id == 1 and (.result.serverInfo.name | length > 0)'
}

# say LINE: to the bridge.  hear [SECONDS]: its next line into L, all of
# them kept in $T/out.
say() {
	echo "$1" >&"${BR[1]}"
}
hear() {
	L=""
	read -t "${1:-10}" -r L <&"${BR[0]}"
	echo "$L" >>"$T/out"
}

# close: end the bridge's stdin and wait; its status in RC.
close() {
	eval "exec ${BR[1]}>&-"
	wait "$BP"
	RC=$?
}

# opened USER: how many sessions USER opened since the daemon's start.
opened() {
	grep -c ": $1 opened session " "$MG_DIR/log"
}

# --- a graceful restart: the gateway says it stops, the bridge comes back ---
: >"$T/out"
open alice || fail "set-up" "alice's session: $(cat "$T/alice.err")"
say "$(call 2)"
hear
l2=$L
mg_stop
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
start=$(ms_now)
# The bridge comes back within a few seconds: a call then works.
ok=""
for i in $(seq 1 40); do
	say "$(call $((100 + i)))"
	hear
	if echo "$L" | is '.result.content'; then
		ok=$((100 + i))
		break
	fi
	echo "$L" | is '.error.code == -32000 and
	    (.error.message | contains("lost; retry"))' || break
	sleep 0.25
done
ms=$(($(ms_now) - start))
echo "$l2" | is '.id == 2 and .result' && [ -n "$ok" ] &&
    [ "$(opened alice)" -eq 1 ] &&
    audit_has '.event == "mcp.session.end" and .reason == "gateway_stopping"' &&
    grep -q "^mcpgate: the connection to the gateway was lost (the gateway is stopping" "$T/alice.err" &&
    grep -q "^mcpgate: connected to the gateway again (session " "$T/alice.err" &&
    pass "gateway restarted: the bridge connects again and call $ok works (${ms} ms after the start)" ||
    fail "gateway restarted" "[$l2] [$L] $(opened alice) $(cat "$T/alice.err")"
# The replayed initialize was the gateway's to answer, not the client's:
# the new session is initialized (it took a tools/call) and the client
# saw one answer with id 1, the first.
[ "$(jq -c 'select(.id == 1)' "$T/out" | wc -l)" -eq 0 ] &&
    [ "$(cat "$MG_DIR"/audit/audit-*.jsonl | jq -c 'select(.event == "mcp.session.start" and .user == "alice")' | wc -l)" -eq 2 ] &&
    pass "the replayed initialize is answered to the bridge alone, and audited as a new session" ||
    fail "replayed initialize" "$(cat "$T/out")"
close
[ $RC -eq 0 ] && jq -e -s 'all(.[]; .jsonrpc == "2.0" and .id != null)' "$T/out" >/dev/null &&
    pass "after the reconnection stdin's end ends the bridge with 0; stdout held JSON-RPC answers only" ||
    fail "end after reconnection" "rc $RC $(cat "$T/out")"

# --- the same with the official SDK as the client ----------------------------
PEERS=$TOP/tests/peers
if ! command -v node >/dev/null; then
	skip "the SDK across a restart" "node is not installed (make deps installs it)"
elif [ ! -d "$PEERS/node_modules/@modelcontextprotocol/sdk" ]; then
	skip "the SDK across a restart" "the MCP SDK is not installed (make peers installs it)"
else
	coproc SDK { MCPGATE_HOME=$MG_DIR/home-gina exec node \
	    "$PEERS/sdk_reconnect.mjs" --mcpgate "$MG" --server mcpgate-demo \
	    2>"$T/sdk.err"; }
	sp=$SDK_PID
	r1=""
	read -t 20 -r r1 <&"${SDK[0]}"
	mg_stop
	mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
	echo go >&"${SDK[1]}"
	r2=""
	read -t 40 -r r2 <&"${SDK[0]}"
	wait "$sp"
	st=$?
	echo "$r1" | grep -q "^READY [0-9a-f]" &&
	    echo "$r2" | is '(.second | type == "string") and
	        .second != .first and .closed == false' && [ $st -eq 0 ] &&
	    pass "the SDK client across a restart: the next call works in a new session, the transport never closed ($(echo "$r2" | jget .retries) retries)" ||
	    fail "the SDK across a restart" "st $st [$r1] [$r2] $(cat "$T/sdk.err")"
fi

# --- the gateway dies with a request in flight ---------------------------------
: >"$T/out"
open bob || fail "set-up" "bob's session"
MCPD=$(child_pid mcpd)
kill -STOP "$MCPD"
say "$(call 7)"
sleep 0.3
kill -KILL "$MG_PID" "$(child_pid netd)" "$MCPD" 2>/dev/null
wait "$MG_PID" 2>/dev/null
hear
l7=$L
# While the gateway is down, a request is answered at once.
start=$(ms_now)
say "$(call 8)"
hear
l8=$L
ms8=$(($(ms_now) - start))
sleep 1
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
ok=""
for i in $(seq 1 60); do
	say "$(call $((200 + i)))"
	hear
	if echo "$L" | is '.result.content'; then
		ok=$((200 + i))
		break
	fi
	sleep 0.25
done
close
echo "$l7" | is '.id == 7 and .error.code == -32000 and
    .error.message == "mcpgate: the connection to the gateway was lost; retry"' &&
    echo "$l8" | is '.id == 8 and .error.code == -32000' && [ "$ms8" -lt 1000 ] &&
    [ -n "$ok" ] && [ $RC -eq 0 ] &&
    pass "the gateway killed: the request in flight gets -32000 retry, one sent meanwhile at once (${ms8} ms), and call $ok works after the start" ||
    fail "gateway killed mid-request" "rc $RC [$l7] [$l8] [$L] $(cat "$T/bob.err")"

# --- the gateway ends the session on purpose: no reconnection -----------------
for how in lock rm; do
	case $how in
	lock) u=carol ;;
	rm) u=dave ;;
	esac
	: >"$T/out"
	open $u || fail "set-up" "$u's session"
	n0=$(opened $u)
	if [ $how = lock ]; then ctl users lock $u >/dev/null; else ctl users rm $u >/dev/null; fi
	# Once it has said so, it is in error mode or, wrongly, waiting
	# to connect again: the call below tells which.
	wait_for 10 grep -q "^mcpgate: the gateway ended the session: " \
	    "$T/$u.err"
	say "$(call 9)"
	hear
	close
	n1=$(opened $u)
	[ "$n0" -eq 1 ] && [ "$n1" -eq 1 ] && [ $RC -eq 1 ] &&
	    echo "$L" | is '.id == 9 and .error.code == -32000 and
	        (.error.message | contains("lost") | not)' &&
	    [ "$(grep -c . "$T/$u.err")" -eq 1 ] &&
	    grep -q "^mcpgate: the gateway ended the session: .*\(locked\|no longer exists\)" "$T/$u.err" &&
	    ! grep -q "connecting again" "$T/$u.err" ||
	    { fail "users $how during a session" "sessions $n0 $n1 rc $RC [$L] $(cat "$T/$u.err")"; continue; }
	pass "users $how during a session: the bridge says why, answers -32000 and does not connect again"
done

# What the bridge goes by: the gateway's last line names the audit reason.
n0=$(opened bob)
(echo "$INIT"; sleep 3) | user_session bob 6 mcpgate-demo >"$T/raw" 2>&1 &
rp=$!
more_bob() { [ "$(opened bob)" -gt "$n0" ]; }
wait_for 10 more_bob
ctl users lock bob >/dev/null
wait "$rp"
tail -n 1 "$T/raw" | is '.id == null and .error.code == -32000 and
    .error.data.reason == "locked" and (.error.message | startswith("the session ended: "))' &&
    pass "the gateway's last line carries the audit reason in data.reason" ||
    fail "data.reason of the last line" "$(cat "$T/raw")"

# --- the certificate renewed by a new login while the gateway is away ---------
: >"$T/out"
open erin || fail "set-up" "erin's session"
mg_stop
MCPGATE_HOME=$MG_DIR/home-erin "$MG" logout >/dev/null
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
sleep 3
say "$(call 10)"
hear
l10=$L
n0=$(opened erin)
echo "$PW" | MCPGATE_HOME=$MG_DIR/home-erin "$MG" login --password-stdin >/dev/null ||
    fail "set-up" "erin's login again"
ok=""
for i in $(seq 1 40); do
	say "$(call $((300 + i)))"
	hear
	if echo "$L" | is '.result.content'; then
		ok=$((300 + i))
		break
	fi
	sleep 0.25
done
close
echo "$l10" | is '.id == 10 and .error.code == -32000 and
    (.error.message | contains("retry"))' && [ "$n0" -eq 0 ] &&
    [ -n "$ok" ] && [ $RC -eq 0 ] &&
    [ "$(grep -c "run 'mcpgate login'" "$T/erin.err")" -eq 1 ] &&
    pass "logged out while away: says once to log in, keeps looking, and the next login is enough (call $ok)" ||
    fail "login picked up" "rc $RC sessions $n0 [$l10] [$L] $(cat "$T/erin.err")"

# --- the certificate expires during the session, and the user logs in -------
echo "$PW" | MCPGATE_HOME=$MG_DIR/home-fred "$MG" login --password-stdin \
    --ttl 4s >/dev/null || fail "set-up" "fred's short login"
: >"$T/out"
open fred || fail "set-up" "fred's session"
start=$(ms_now)
for i in $(seq 1 100); do
	grep -q "run 'mcpgate login'" "$T/fred.err" && break
	sleep 0.1
done
ms=$(($(ms_now) - start))
n0=$(opened fred)
echo "$PW" | MCPGATE_HOME=$MG_DIR/home-fred "$MG" login --password-stdin \
    >/dev/null || fail "set-up" "fred's login again"
ok=""
for i in $(seq 1 40); do
	say "$(call $((400 + i)))"
	hear
	if echo "$L" | is '.result.content'; then
		ok=$((400 + i))
		break
	fi
	sleep 0.25
done
close
[ "$n0" -eq 1 ] && [ -n "$ok" ] && [ $RC -eq 0 ] && [ "$ms" -lt 8000 ] &&
    audit_has '.event == "mcp.session.end" and .user == "fred" and .reason == "expired"' &&
    grep -q "^mcpgate: the connection to the gateway was lost (this certificate has expired: run 'mcpgate login')" "$T/fred.err" &&
    [ "$(opened fred)" -eq 2 ] &&
    pass "the certificate expires mid-session: says to log in (${ms} ms), and after the login call $ok works, the client never restarted" ||
    fail "certificate expiry" "rc $RC $ms ms sessions $n0 $(opened fred) [$L] $(cat "$T/fred.err")"

# --- it gives up after --reconnect-for, and never tries with 0 -----------------
: >"$T/out"
open alice --reconnect-for 2s || fail "set-up" "alice's second session"
start=$(ms_now)
mg_stop
for i in $(seq 1 40); do
	sleep 0.25
	grep -q "could not connect to the gateway again within 2s" "$T/alice.err" && break
done
ms=$(($(ms_now) - start))
say "$(call 11)"
hear
close
[ "$ms" -ge 2000 ] && [ "$ms" -lt 4000 ] && [ $RC -eq 1 ] &&
    echo "$L" | is '.id == 11 and .error.code == -32000 and
        (.error.message | contains("within 2s"))' &&
    pass "--reconnect-for 2s: gives up after ${ms} ms, then answers why" ||
    fail "--reconnect-for" "$ms ms rc $RC [$L] $(cat "$T/alice.err")"
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
: >"$T/out"
open alice --reconnect-for 0 || fail "set-up" "alice's third session"
mg_stop
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
sleep 1.5	# the log of this start holds no session of alice's
say "$(call 12)"
hear
close
[ "$(opened alice)" -eq 0 ] && [ $RC -eq 1 ] &&
    echo "$L" | is '.id == 12 and .error.code == -32000 and
        (.error.message | contains("gateway is stopping"))' &&
    pass "--reconnect-for 0: the old way, error mode at the first loss" ||
    fail "--reconnect-for 0" "rc $RC [$L] $(cat "$T/alice.err")"
out=$("$MG" mcp connect --reconnect-for 5x mcpgate-demo 2>&1 </dev/null)
[ $? -eq 2 ] && echo "$out" | grep -q "^mcpgate: --reconnect-for: '5x' is not a duration" &&
    pass "--reconnect-for with a bad duration: usage error" ||
    fail "--reconnect-for 5x" "$out"
out=$("$MG" --help)
echo "$out" | grep -q "mcp connect NAME \[--reconnect-for DURATION\]" &&
    echo "$out" | grep -q "connects again for DURATION (10m unless given; 0: never)" &&
    pass "--help tells of --reconnect-for" || fail "--help" "$out"

# --- while disconnected, a client that sends and does not read --------------
# 300000 pings while the gateway is away: each is answered -32000 at once,
# and when the client does not read the answers the bridge stops reading
# it; its memory grows by its output queue (1 MiB), not by the 28 MB of
# answers (the sanitizers' quarantine kept small, so that freed memory
# does not count; their build grows by about 8 MiB).
seq 1 300000 | awk '{ printf "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"ping\"}\n", $1 + 1000 }' >"$T/pings"
: >"$T/out"
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 \
    open bob2 --reconnect-for 1h || fail "set-up" "bob2's session"
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$BP/status")
mg_stop
wait_for 10 grep -q "connection to the gateway was lost" "$T/bob2.err"
# Copies of the coprocess's descriptors, which a background job keeps.
exec {wfd}>&"${BR[1]}" {rfd}<&"${BR[0]}"
cat "$T/pings" >&$wfd &
wp=$!
# Until the bridge has stopped reading: what cat wrote is the same for
# a second (at most 10 s).
w0=-1 since=0
for i in $(seq 1 40); do
	sleep 0.25
	w=$(awk '/^wchar:/ { print $2 }' "/proc/$wp/io" 2>/dev/null)
	[ "$w" = "$w0" ] && [ $((i - since)) -ge 4 ] && break
	[ "$w" = "$w0" ] || { w0=$w; since=$i; }
done
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$BP/status")
timeout 60 head -n 300000 <&$rfd >"$T/pongs"
wait "$wp"
exec {wfd}>&- {rfd}<&-
close
mg_start || { fail "the daemon starts again" "see the log"; exit 1; }
[ "$(wc -l <"$T/pongs")" -eq 300000 ] &&
    jq -e -s 'all(.[]; .error.code == -32000 and
        .error.message == "mcpgate: the connection to the gateway was lost; retry") and
        (map(.id) == [range(1001; 301001)])' "$T/pongs" >/dev/null &&
    [ $((rss1 - rss0)) -lt 16384 ] && [ $RC -eq 1 ] &&
    pass "disconnected, 300000 requests from a client that does not read: each answered in order, the bridge grew $((rss1 - rss0)) KiB" ||
    fail "disconnected flood" "rss $rss0 -> $rss1 KiB, $(wc -l <"$T/pongs") answers, rc $RC"

# --- another server after the reconnection: the session cannot go on ---------
# A fake gateway (the real one always names the same server) answers the
# first initialize as "first", drops the connection, and answers the
# replay as "second".
cp -a "$MG_DIR/home-alice" "$MG_DIR/home-fake"
"$HELPERS/fakegw" -c "$MG_DIR/state/ca.crt" -C "$MG_DIR/state/server.crt" \
    -K "$MG_DIR/state/server.key" -P "$T/port" first second &
FP=$!
for i in $(seq 1 50); do
	[ -s "$T/port" ] && break
	sleep 0.1
done
sed -i "s/127.0.0.1:$MG_PORT/127.0.0.1:$(cat "$T/port")/" \
    "$MG_DIR/home-fake/profile.json"
: >"$T/out"
open fake || fail "set-up" "the fake gateway's session: $(cat "$T/fake.err")"
wait "$FP"
fst=$?
# The next line the client gets is the answer to 13: the replay's answer
# was the bridge's.
say "$(call 13)"
hear
close
[ $fst -eq 0 ] && [ $RC -eq 1 ] &&
    echo "$L" | is '.id == 13 and .error.code == -32000 and
        (.error.message | contains("the session cannot go on"))' &&
    grep -q '^mcpgate: the session cannot go on: the MCP server is now "second" with protocol "2025-06-18", it was "first" with "2025-06-18"' "$T/fake.err" &&
    ! grep -q "connected to the gateway again" "$T/fake.err" &&
    pass "a replay that names another server: the session ends, saying which" ||
    fail "replay names another server" "fakegw $fst rc $RC [$L] $(cat "$T/fake.err")"

# Nothing left behind: the instance stops cleanly.
mg_stop
[ "$MG_STATUS" -eq 0 ] && pass "the daemon stops with 0 after the restarts" ||
    fail "final stop" "status $MG_STATUS"

# --- an idle session: ended by the gateway, taken up at the next request -----
mg_setup <<'EOF2'
limits:
  idle_timeout: 1s
EOF2
mg_start || { fail "a daemon with idle_timeout starts" "see the log"; exit 1; }
ans=$(ctl --format json users add hugo --roles access --mcp-tools '*') &&
    invite_login hugo "$ans" || fail "set-up" "user hugo"
: >"$T/out"
open hugo || fail "set-up" "hugo's session"
# The gateway ends it after a second; then a second more, twice the
# bridge's first wait before an attempt, to show none is made.
wait_for 10 grep -q "^mcpgate: the gateway ended the session: no message" \
    "$T/hugo.err"
sleep 1
n0=$(opened hugo)
say "$(call 20)"
hear 10
close
echo "$L" | is '.id == 20 and .result.content' && [ "$n0" -eq 1 ] &&
    [ "$(opened hugo)" -eq 2 ] && [ $RC -eq 0 ] &&
    grep -q "^mcpgate: the gateway ended the session: no message either way for 1s (limits.idle_timeout); connecting again at the client's next request$" "$T/hugo.err" &&
    audit_has '.event == "mcp.session.end" and .user == "hugo" and .reason == "idle_timeout"' &&
    pass "an idle session the gateway ended: no new one until the next request, which the new session answers" ||
    fail "idle session" "rc $RC sessions $n0 $(opened hugo) [$L] $(cat "$T/hugo.err")"
mg_stop

# --- a stdio server that exits: the session is taken up with a new one -------
if [ "$(id -u)" -ne 0 ]; then
	skip "a stdio server that exits" "needs root: servers run as another user"
else
	D=$(mktemp -d /tmp/mgbridgesrv.XXXXXX)
	MG_TMPS+=("$D")
	chmod 0755 "$D"
	install -m 0755 "$HELPERS/stdioserver" "$D/stdioserver"
	mg_setup <<EOF2
app_service:
  mcp_demo_server: false
  apps:
  - name: flaky
    labels: {env: test}
    mcp:
      command: $D/stdioserver
      args: [exit-mid-call]
      run_as_host_user: nobody
      env: {ASAN_OPTIONS: detect_leaks=0}
EOF2
	mg_start || { fail "a daemon with a stdio app starts" "see the log"; exit 1; }
	ans=$(ctl --format json users add ivan --roles access --mcp-tools '*') &&
	    invite_login ivan "$ans" || fail "set-up" "user ivan"
	: >"$T/out"
	coproc BR { MCPGATE_HOME=$MG_DIR/home-ivan exec "$MG" mcp connect \
	    flaky 2>"$T/ivan.err"; }
	BP=$BR_PID
	say "$INIT"
	hear 20
	l1=$L
	say "$INITED"
	# The server exits on tools/call: the call gets the gateway's word.
	say "$(call 30)"
	hear 20
	l30=$L
	ok=""
	for i in $(seq 1 40); do
		say "{\"jsonrpc\":\"2.0\",\"id\":$((500 + i)),\"method\":\"tools/list\"}"
		hear 20
		if echo "$L" | is '.result.tools | length > 0'; then
			ok=$((500 + i))
			break
		fi
		sleep 0.25
	done
	close
	echo "$l1" | is '.id == 1 and .result.serverInfo.name == "stdioserver"' &&
	    echo "$l30" | is '.id == 30 and .error.code == -32000 and
	        (.error.message | contains("exited"))' &&
	    [ -n "$ok" ] && [ $RC -eq 0 ] && [ "$(opened ivan)" -eq 2 ] &&
	    audit_has '.event == "mcp.session.end" and .user == "ivan" and .reason == "server_exited"' &&
	    grep -q "^mcpgate: connected to the gateway again" "$T/ivan.err" &&
	    pass "a stdio server that exits mid-call: the call gets why, and the session goes on with a new server (tools/list $ok)" ||
	    fail "a stdio server that exits" "rc $RC sessions $(opened ivan) [$l1] [$l30] [$L] $(cat "$T/ivan.err")"
	mg_stop
fi
