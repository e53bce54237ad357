# mcpgatectl status --format prometheus: a daemon, logins that pass and
# fail, sessions with calls to the demo server and to stdio servers,
# calls and connects the roles refuse; every count shows exactly, and the
# output is the Prometheus text format (promcheck.py) at each step.
#
# mcpgate-test: alone
# (counts must be exact: nothing else may talk to this daemon, and
# sessions must have ended before the counts are read.)
. "$(dirname "$0")/lib.sh"
need_root "the stdio servers run as another user"

D=$(mktemp -d /tmp/mgmetrics.XXXXXX)
MG_TMPS+=("$D")
chmod 0755 "$D"
install -m 0755 "$HELPERS/stdioserver" "$D/stdioserver"
mg_setup <<EOF
app_service:
  mcp_demo_server: true
  apps:
  - name: echo
    labels: {env: dev}
    mcp:
      command: $D/stdioserver
      run_as_host_user: nobody
      cwd: /
      env: {ASAN_OPTIONS: detect_leaks=0}
  - name: exits
    labels: {env: dev}
    mcp:
      command: $D/stdioserver
      args: ["exit=3"]
      run_as_host_user: nobody
      cwd: /
      env: {ASAN_OPTIONS: detect_leaks=0}
  - name: hidden
    labels: {env: prod}
    mcp:
      command: $D/stdioserver
      run_as_host_user: nobody
      cwd: /
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
GW=127.0.0.1:$MG_PORT
PW="correct horse battery"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"metrics.sh","version":"1"}}}'
M=$MG_DIR/metrics.prom

# scrape: the metrics into $M, checked as the format.
scrape() {
	ctl status --format prometheus >"$M" || return 1
	python3 "$TOP/tests/integration/promcheck.py" "$M" >"$M.errors"
}

# metric SERIES: its value in $M, as printed (labels in their order).
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$M"
}

# want SERIES=VALUE...: every series has that value; else says which not.
want() {
	local kv got bad=
	for kv in "$@"; do
		got=$(metric "${kv%=*}")
		[ "$got" = "${kv##*=}" ] ||
		    bad="$bad ${kv%=*} is '$got', not ${kv##*=};"
	done
	[ -z "$bad" ] || { echo "$bad"; return 1; }
}

session() {
	local home=$MG_DIR/home-$1
	shift
	"$HELPERS/mcpsession" -c "$home/ca.pem" -C "$home/cert.pem" \
	    -K "$home/key.pem" -t 20 127.0.0.1 "$MG_PORT" "$@"
}

rpc() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"%s"%s}\n' "$1" "$2" \
	    "${3:+,\"params\":$3}"
}

no_sessions() {
	ctl status --format json | jq -e '.sessions.open == 0 and
	    .servers.running == 0' >/dev/null
}

# --- before anything: zeros, and the format ---------------------------------
scrape && pass "the metrics of a new daemon are in the text format" ||
    fail "the format of a new daemon's metrics" "$(cat "$M.errors")"
out=$(want 'mcpgate_logins_total{result="success"}=0' \
    'mcpgate_requests_total{method="tools/call",result="success"}=0' \
    'mcpgate_servers_started_total=0' \
    'mcpgate_status_answered{process="mcpd"}=1' \
    'mcpgate_connections{state="established"}=0') &&
    [ "$(grep -c '^mcpgate_sessions{' "$M")" = 0 ] &&
    pass "before any client: zero counts, every child answered" ||
    fail "a new daemon's counts" "$out"
n=$(grep -c '^# TYPE ' "$M")
[ "$n" = "$(grep -c '^# HELP ' "$M")" ] &&
    [ "$(grep '^# TYPE ' "$M" | sort | uniq -d)" = "" ] &&
    ! grep -q '_total gauge$' "$M" &&
    ! grep '^# TYPE .* counter$' "$M" | grep -vq '_total counter$' &&
    pass "$n families, each with HELP and TYPE once; counters are _total" ||
    fail "HELP and TYPE" "$(grep '^# ' "$M")"
# The checker must refuse what is not the format.
! printf '# TYPE a_total counter\na_total 1\n# TYPE a_total counter\n' |
    python3 "$TOP/tests/integration/promcheck.py" - >/dev/null &&
    ! printf 'a{x="1"} 1\n' |
    python3 "$TOP/tests/integration/promcheck.py" - >/dev/null &&
    printf '# TYPE a_total counter\na_total{x="\\"\\n"} 1\n' |
    python3 "$TOP/tests/integration/promcheck.py" - >/dev/null &&
    pass "the checker refuses a TYPE twice and a sample without one" ||
    fail "the checker" "it passed a bad file"

# --- logins: one that passes, one that fails --------------------------------
{
	printf 'kind: role\nversion: v1\nmetadata: {name: some}\nspec:\n'
	printf '  allow:\n    app_labels: {env: [demo, dev]}\n'
	printf '    mcp:\n      tools: ["*"]\n'
	printf '  deny:\n    mcp:\n      tools: [mcpgate_demo_info]\n'
} >"$D/role.yaml"
check "a role that gives the demo and dev apps" ctl create -f "$D/role.yaml"
out=$(ctl --format json users add alice --roles some)
inv=$(echo "$out" | jq -r .invite)
fpr=$(echo "$out" | jq -r .ca_fingerprint)
printf '%s\n%s\n' "$inv" "$PW" | MCPGATE_HOME=$MG_DIR/home-alice \
    "$BIN/mcpgate" login --proxy "$GW" --user alice --invite \
    --password-stdin --ca-fingerprint "$fpr" >/dev/null 2>&1
printf 'wrong password!\n' | MCPGATE_HOME=$MG_DIR/home-bad \
    "$BIN/mcpgate" login --proxy "$GW" --user alice --password-stdin \
    --ca-fingerprint "$fpr" >/dev/null 2>&1 &&
    fail "a wrong password is refused" "mcpgate login passed"
scrape && out=$(want 'mcpgate_logins_total{result="success"}=1' \
    'mcpgate_logins_total{result="access_denied"}=1' \
    'mcpgate_refusals_total{reason="access_denied"}=1' \
    'mcpgate_logins_total{result="throttled"}=0') &&
    pass "logins: one success, one access_denied, also a refusal" ||
    fail "logins by result" "$out $(cat "$M.errors")"

# --- a session with calls to the demo server ---------------------------------
{
	echo "$INIT"
	rpc 1 tools/list
	rpc 2 tools/call '{"name":"mcpgate_user_info"}'
	rpc 3 tools/call '{"name":"mcpgate_demo_info"}'
	rpc 4 ping
	rpc 5 no/such/method
	rpc 6 tools/call '{"name":"mcpgate_session_info"}'
} | session alice mcpgate-demo >"$D/demo.out"
grep -q '"id":6' "$D/demo.out" ||
    fail "the demo session" "$(cat "$D/demo.out")"
session alice hidden </dev/null >"$D/hidden.out"
grep -q unknown_app "$D/hidden.out" ||
    fail "hidden is refused" "$(cat "$D/hidden.out")"
wait_for 5 no_sessions
scrape && out=$(want \
    'mcpgate_requests_total{method="initialize",result="success"}=1' \
    'mcpgate_requests_total{method="tools/list",result="success"}=1' \
    'mcpgate_requests_total{method="tools/call",result="success"}=2' \
    'mcpgate_requests_total{method="tools/call",result="denied"}=1' \
    'mcpgate_requests_total{method="ping",result="success"}=1' \
    'mcpgate_requests_total{method="other",result="error"}=1' \
    'mcpgate_requests_total{method="other",result="success"}=0' \
    'mcpgate_denials_total{what="tool"}=1' \
    'mcpgate_denials_total{what="app"}=1' \
    'mcpgate_refusals_total{reason="unknown_app"}=1' \
    'mcpgate_sessions_started_total{app="mcpgate-demo"}=1' \
    'mcpgate_sessions{app="mcpgate-demo"}=0') &&
    pass "requests by method and result, denials, sessions by app" ||
    fail "the demo session's counts" "$out $(cat "$M.errors")"

# --- stdio servers: one ends with its session, one exits 3 -------------------
{ echo "$INIT"; rpc 1 tools/list; } | session alice echo >"$D/echo.out"
echo "$INIT" | session alice exits >"$D/exits.out" 2>&1
wait_for 10 no_sessions
scrape && out=$(want 'mcpgate_servers_started_total=2' \
    'mcpgate_server_exits_total{reason="exit_ok"}=1' \
    'mcpgate_server_exits_total{reason="exit_error"}=1' \
    'mcpgate_server_exits_total{reason="killed"}=0' \
    'mcpgate_servers_running=0' \
    'mcpgate_sessions_started_total{app="echo"}=1' \
    'mcpgate_sessions_started_total{app="exits"}=1' \
    'mcpgate_sessions_started_total{app="mcpgate-demo"}=1' \
    'mcpgate_requests_total{method="initialize",result="success"}=3') &&
    pass "stdio servers started, and why they ended" ||
    fail "the stdio servers' counts" "$out $(cat "$M.errors")"

# --- bytes, connections, audit ------------------------------------------------
rx=$(metric 'mcpgate_relayed_bytes_total{direction="received"}')
tx=$(metric 'mcpgate_relayed_bytes_total{direction="sent"}')
demo=$(wc -c <"$D/demo.out")
[ "${rx:-0}" -gt 0 ] && [ "${tx:-0}" -gt "$demo" ] &&
    pass "bytes relayed: $rx received, $tx sent (the demo session $demo)" ||
    fail "bytes relayed" "received '$rx', sent '$tx', demo $demo"
acc=$(metric mcpgate_connections_accepted_total)
# Two logins and five sessions, at least.
[ "${acc:-0}" -ge 7 ] &&
    want 'mcpgate_connections{state="established"}=0' \
    'mcpgate_connections{state="handshaking"}=0' >/dev/null &&
    pass "connections: $acc accepted, none open now" ||
    fail "connections" "$(grep connections "$M")"
# A session's end may still be on its way to the log: count again until
# the files and the metrics agree, which they must once it is quiet.
audit_agrees() {
	seq=$(cat "$MG_DIR"/audit/audit-*.jsonl | jq -s 'map(.seq) | max')
	recs=$(cat "$MG_DIR"/audit/audit-*.jsonl | wc -l)
	scrape && out=$(want "mcpgate_audit_sequence=$seq" \
	    "mcpgate_audit_records_total=$recs" \
	    mcpgate_audit_failures_total=0 mcpgate_audit_failing=0)
}
wait_for 5 audit_agrees &&
    [ "$(metric mcpgate_audit_syncs_total)" -gt 0 ] &&
    pass "audit: $recs records, the last $seq, as in the files" ||
    fail "audit counts" "$out"

# --- JSON status: the same figures -----------------------------------------
js=$(ctl status --format json)
echo "$js" | is '.mcp.logins.success == 1 and
    .mcp.requests["tools/call"].denied == 1 and .mcp.denials.tool == 1 and
    (.mcp.apps | map(select(.name == "mcpgate-demo"))[0].started == 1) and
    .servers.started == 2 and .servers.exits.exit_error == 1 and
    .connections.bytes_received > 0 and .audit.syncs > 0' &&
    pass "status --format json has the same figures" ||
    fail "JSON status" "$js"

# --- what a child does not answer is left out --------------------------------
mcpd=$(child_pid mcpd)
kill -STOP "$mcpd"
scrape
rc=$?
kill -CONT "$mcpd"
[ $rc = 0 ] && want 'mcpgate_status_answered{process="mcpd"}=0' \
    'mcpgate_status_answered{process="netd"}=1' >/dev/null &&
    ! grep -q '^mcpgate_requests_total' "$M" &&
    grep -q '^mcpgate_audit_records_total' "$M" &&
    pass "mcpd stopped: its families are left out, answered says 0" ||
    fail "a child that does not answer" "$(head -20 "$M") $(cat "$M.errors")"

# --- errors --------------------------------------------------------------------
out=$(ctl users ls --format prometheus 2>&1)
rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "status only" &&
    pass "--format prometheus is for status only" ||
    fail "--format prometheus elsewhere" "$rc: $out"
out=$("$BIN/mcpgatectl" -s "$MG_DIR/nosuch.sock" status \
    --format prometheus 2>&1)
rc=$?
[ $rc = 1 ] && ! echo "$out" | grep -q '^mcpgate_' &&
    pass "no daemon: an error and no metrics, so a textfile keeps its last" ||
    fail "no daemon" "$rc: $out"
mg_stop
[ "$MG_STATUS" = 0 ] && pass "the daemon stops cleanly after it all" ||
    fail "the daemon's stop" "status $MG_STATUS: $(tail -n 3 "$MG_DIR/log")"
