# Without -d the daemon goes to the background and logs to syslog; the
# sandboxed children cannot reach /dev/log, so their lines travel through
# the parent.
. "$(dirname "$0")/lib.sh"
need_root "it stands in for the syslog daemon at /dev/log"

if [ -e /dev/log ]; then
	skip "syslog" "a syslog daemon owns /dev/log; this test stands in for one only where there is none"
	exit 0
fi
mg_setup </dev/null
"$HELPERS/logsink" /dev/log 3 >"$MG_DIR/syslog" &
sink=$!
for i in $(seq 1 50); do
	grep -q listening "$MG_DIR/syslog" && break
	sleep 0.05
done
"$BIN/mcpgated" -v -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 0 ] && pass "without -d the daemon detaches and its start exits 0" ||
    fail "without -d the daemon detaches" "status $status: $(cat "$MG_DIR/log")"
for i in $(seq 1 100); do
	grep -q "ready: " "$MG_DIR/syslog" && break
	sleep 0.05
done
pid=$(ctl status --format json | jq -r '.processes[0].pid')
MG_INSTANCES+=("$pid")
ctl reload >/dev/null
ctl status >/dev/null
kill -TERM "$pid"
wait_gone "$pid" 5
wait "$sink"
for want in "mcpgated\[$pid\]: parent: mcpgated .* ready: " \
    "mcpgated\[$pid\]: netd: listening on 127.0.0.1:" \
    "mcpgated\[$pid\]: auditd: audit log audit-000000000001.jsonl opened" \
    "mcpgated\[$pid\]: mcpd: configuration reloaded" \
    "mcpgated\[$pid\]: parent: stopped"; do
	grep -q "$want" "$MG_DIR/syslog" && pass "syslog has '$want'" ||
	    fail "syslog has '$want'" "$(cat "$MG_DIR/syslog")"
done
grep -q "^<30>" "$MG_DIR/syslog" && grep -q "^<31>" "$MG_DIR/syslog" &&
    pass "priorities are kept (daemon.info and daemon.debug)" ||
    fail "priorities are kept" "$(head -n 3 "$MG_DIR/syslog")"
! grep -E -q "ready|started|stopped|reload" "$MG_DIR/log" &&
    pass "after detaching nothing more goes to the terminal" ||
    fail "after detaching nothing more goes to the terminal" "$(cat "$MG_DIR/log")"
