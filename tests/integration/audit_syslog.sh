# audit.syslog: every audit record, as written to the file, goes to
# syslog as well, one record to a datagram on /dev/log.  The script runs
# in a mount namespace of its own whose /dev is a tmpfs with the real
# devices bound into it, so that /dev/log there is the socket of a small
# receiver of the test's, whatever the machine has at /dev/log.  Checked:
# the records arrive byte for byte as the file has them, with the facility
# and tag configured and the header of syslog(3); /dev/log missing at the
# start, a receiver gone (ECONNREFUSED) and one that does not read (a full
# queue): the daemon serves and writes its file as before, the records
# not sent are counted in the status and logged once a minute; a reload
# hands auditd a new socket, and turns the sending on and off.
. "$(dirname "$0")/lib.sh"
need_root "it mounts a /dev of its own in a mount namespace"

if [ -z "${MG_AUDIT_SYSLOG_NS:-}" ]; then
	if ! unshare -m true 2>/dev/null; then
		skip "audit_syslog" "no mount namespaces here (unshare -m failed)"
		exit 0
	fi
	MG_AUDIT_SYSLOG_NS=1 exec unshare -m --propagation private \
	    bash "$0" "$@"
fi

# A /dev of our own: a tmpfs with every device of the real one bound
# into it, and no log.  The real /dev is reached for that through a bind
# that is taken away at once, before anything could remove under it.
old=$(mktemp -d /tmp/mgdev.XXXXXX)
mount --rbind /dev "$old" || { fail "private /dev" "cannot bind /dev"; exit 1; }
mount -t tmpfs -o mode=0755,size=1m mgdev /dev
for f in "$old"/* "$old"/.[!.]*; do
	[ -e "$f" ] || [ -L "$f" ] || continue
	n=${f##*/}
	[ "$n" = log ] && continue
	if [ -L "$f" ]; then
		cp -a "$f" "/dev/$n"
	elif [ -d "$f" ]; then
		mkdir "/dev/$n" && mount --rbind "$f" "/dev/$n"
	elif [ -S "$f" ] || [ -p "$f" ]; then
		continue
	else
		: >"/dev/$n" && mount --bind "$f" "/dev/$n"
	fi
done
umount -l "$old" && rmdir "$old"
[ ! -e /dev/log ] && [ -c /dev/null ] && [ -c /dev/urandom ] &&
    pass "the test has a /dev of its own, without /dev/log" ||
    { fail "private /dev" "$(ls -l /dev | head)"; exit 1; }

T=$(mktemp -d /tmp/mgslog.XXXXXX)
MG_TMPS+=("$T")

# recv MODE OUT: a syslog stand-in at /dev/log.  read: every datagram
# to OUT, one a line; stall: bind and never read, so that the queue fills.
RECV=
recv() {
	rm -f /dev/log "$T/ready"
	python3 - "$1" "$2" "$T/ready" <<'EOF' &
import os, socket, sys, time
mode, out, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(ready, "w").close()
if mode == "stall":
    while True:
        time.sleep(60)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(1 << 20) + b"\n")
EOF
	RECV=$!
	wait_for 5 test -e "$T/ready"
}
recv_stop() {
	kill "$RECV" 2>/dev/null
	wait "$RECV" 2>/dev/null
}
trap 'recv_stop; cleanup' EXIT

# st FILTER: a value of audit.syslog in the status.
st() {
	ctl status --format json | jq -r ".audit.syslog.$1"
}
# records: the lines of the audit files, oldest first.
records() {
	cat "$MG_DIR"/audit/audit-*.jsonl
}
# bodies FILE: what follows the syslog header in each message.
bodies() {
	sed -E 's/^<[0-9]+>[A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [^ []+\[[0-9]+\]: //' "$1"
}

# --- /dev/log missing at the start ------------------------------------------
mg_setup <<'EOF'
  syslog:
    enabled: true
    facility: local3
    tag: mg-audit-test
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
printf 'kind: role\nversion: v1\nmetadata: {name: demo-all}\nspec:\n  allow:\n    app_labels: {env: demo}\n    mcp:\n      tools: ["*"]\n' >"$T/role.yaml"
ctl create -f "$T/role.yaml" >/dev/null || fail "a role" "cannot create it"
# add USER: a user, and its audit record.
add() {
	ctl users add "$1" --roles demo-all >/dev/null
}
grep -q "audit.syslog: cannot connect to /dev/log" "$MG_DIR/log" &&
    pass "/dev/log missing at the start: said once in the log" ||
    fail "/dev/log missing at the start" "$(cat "$MG_DIR/log")"
add early
[ "$(st connected)" = false ] && [ "$(st dropped)" -ge 2 ] &&
    [ "$(st sent)" = 0 ] &&
    pass "without a socket the records are counted as dropped ($(st dropped))" ||
    fail "without a socket, dropped" "$(ctl status --format json | jq -c .audit)"
audit_has '.event == "user.create" and .user == "early"' &&
    pass "without a socket the file has every record" ||
    fail "without a socket the file has every record" "$(records | tail -n 2)"
ctl status | grep -q "syslog local3 as mg-audit-test: NOT connected" &&
    pass "mcpgatectl status says syslog is not connected" ||
    fail "mcpgatectl status, not connected" "$(ctl status)"

# --- a receiver, found at the next reload ---------------------------------------
recv read "$T/msgs"
ctl reload >/dev/null
add alice
ctl users lock alice >/dev/null
ctl users unlock alice >/dev/null
wait_for 5 grep -q '"user.unlock"' "$T/msgs"
[ "$(st connected)" = true ] &&
    pass "a reload connects to the /dev/log that is there now" ||
    fail "a reload connects" "$(ctl status --format json | jq -c .audit)"
j=$(ctl status --format json | jq -c .audit.syslog)
p=$(ctl status --format prometheus)
echo "$p" | grep -qx "mcpgate_audit_syslog_sent_total $(echo "$j" | jq .sent)" &&
    echo "$p" | grep -qx "mcpgate_audit_syslog_dropped_total $(echo "$j" | jq .dropped)" &&
    echo "$p" | grep -qx "mcpgate_audit_syslog_connected 1" &&
    pass "the metrics carry syslog's counts" ||
    fail "the metrics carry syslog's counts" "$j / $(echo "$p" | grep syslog)"
apid=$(child_pid auditd)
head -n 1 "$T/msgs" | grep -E -q "^<158>$(date '+%b %e') [0-2][0-9]:[0-5][0-9]:[0-6][0-9] mg-audit-test\[$apid\]: \{" &&
    pass "the header is syslog(3)'s: local3.info (158), local time, tag[auditd's pid]" ||
    fail "the header" "$(head -n 1 "$T/msgs" | cut -c1-100) (auditd $apid)"
# same_tail: the messages are the file from the first one's seq on, byte
# for byte (given a moment for what auditd wrote last to arrive).
same_tail() {
	first=$(bodies "$T/msgs" | head -n 1 | jq -r .seq)
	[ -n "$first" ] && [ "$first" != null ] &&
	    cmp -s <(bodies "$T/msgs") <(records | tail -n +"$first")
}
# What arrived is the tail of the file from daemon.reload on, byte for byte.
if wait_for 5 same_tail &&
    [ "$(records | jq -r .seq | tail -n 1)" -gt "$first" ]; then
	pass "every record since, byte-identical to its line in the file ($(wc -l <"$T/msgs") records from seq $first)"
else
	fail "records byte-identical" "$(diff <(bodies "$T/msgs") <(records | tail -n +"$first") | head -n 6)"
fi
bodies "$T/msgs" | head -n 1 | jq -e '.event == "daemon.reload" and .seq > 0 and (.prev | length) == 64' >/dev/null &&
    pass "a message is the JSON record with its seq and chain hash" ||
    fail "a message is the record" "$(bodies "$T/msgs" | head -n 1)"

# A session's records: the mcpd ones too.
PW="correct horse battery"
out=$(ctl --format json users add bob --roles demo-all) &&
    invite_login bob "$out" || fail "bob logs in" "$out"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'
printf '%s\n%s\n' "$INIT" \
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"mcpgate_demo_info"}}' |
    user_session bob 10 mcpgate-demo >"$T/session" 2>&1
wait_for 5 grep -q '"mcp.session.end"' "$T/msgs"
grep -q '"mcp.session.start"' "$T/msgs" &&
    grep -q '"mcp.session.request"' "$T/msgs" &&
    grep -q '"mcp.session.end"' "$T/msgs" &&
    pass "a session's records, written by mcpd, go too" ||
    fail "a session's records" "$(bodies "$T/msgs" | jq -r .event | tr '\n' ' ') $(cat "$T/session")"
wait_for 5 same_tail &&
    pass "with the session's, still every record byte-identical" ||
    fail "with the session's, byte-identical" "$(diff <(bodies "$T/msgs") <(records | tail -n +"$first") | head -n 6)"

# --- facility and tag at reload; authpriv by default -------------------------------
sed -i -e '/^    facility: local3/d' -e 's/^    tag: mg-audit-test/    tag: other.tag/' "$MG_CONF"
: >"$T/msgs"
ctl reload >/dev/null
wait_for 5 grep -q '"daemon.reload"' "$T/msgs"
head -n 1 "$T/msgs" | grep -q "^<86>.* other.tag\[$apid\]: {" &&
    pass "facility and tag change at a reload; authpriv.info (86) by default" ||
    fail "facility and tag at reload" "$(head -n 1 "$T/msgs" | cut -c1-80)"

# --- the receiver gone: ECONNREFUSED --------------------------------------------------
recv_stop
d0=$(st dropped)
for i in 1 2 3 4 5; do
	add gone$i || fail "users add while syslog is gone" "$i"
done
d1=$(st dropped)
[ "$d1" -ge $((d0 + 5)) ] &&
    pass "a receiver gone: the records are dropped and counted ($d0 -> $d1)" ||
    fail "a receiver gone, counted" "$d0 -> $d1"
audit_has '.event == "user.create" and .user == "gone5"' &&
    pass "a receiver gone: the file has every record" ||
    fail "a receiver gone: the file" "$(records | tail -n 1)"
grep -q "audit.syslog: a record not sent to syslog (Connection refused: the syslog daemon is gone, a reload connects again)" "$MG_DIR/log" &&
    [ "$(grep -c "the syslog daemon is gone" "$MG_DIR/log")" -eq 1 ] &&
    pass "a receiver gone: said in the log, once" ||
    fail "a receiver gone: the log" "$(grep audit.syslog "$MG_DIR/log")"

# --- a receiver that does not read: its queue fills -----------------------------------
recv stall "$T/none"
ctl reload >/dev/null
d0=$(st dropped)
t0=$(ms_now)
for i in $(seq 1 40); do
	add slow$i || break
done
t1=$(ms_now)
n=$(records | jq -r 'select(.event == "user.create") | .user' | grep -c '^slow')
[ "$n" -eq 40 ] &&
    pass "a full queue: all 40 records are in the file ($((t1 - t0)) ms)" ||
    fail "a full queue: the file" "$n of 40 records"
d1=$(st dropped)
[ "$d1" -ge $((d0 + 20)) ] &&
    pass "a full queue: the records it did not take are dropped and counted ($d0 -> $d1)" ||
    fail "a full queue: dropped" "$d0 -> $d1"
[ "$(grep -c "audit.syslog: a record not sent to syslog (Resource temporarily unavailable)" "$MG_DIR/log")" -eq 1 ] &&
    [ "$(grep -c "audit.syslog: a record not sent to syslog (no socket" "$MG_DIR/log")" -eq 1 ] &&
    pass "drops are logged once a minute for each cause, not once each" ||
    fail "drops logged once a minute" "$(grep "not sent to syslog" "$MG_DIR/log")"
kill -0 "$MG_PID" && ctl status >/dev/null &&
    pass "a full queue: the daemon serves" || fail "a full queue: the daemon" "no status"
recv_stop

# --- back: a reading receiver and a reload -------------------------------------------
: >"$T/msgs"
recv read "$T/msgs"
ctl reload >/dev/null
s0=$(st sent)
add back
wait_for 5 grep -q '"back"' "$T/msgs"
grep -q '"user":"back"' "$T/msgs" && [ "$(st sent)" -gt "$s0" ] &&
    pass "after a reload the records go to the new receiver" ||
    fail "after a reload, sent again" "$(cat "$T/msgs" | cut -c1-100)"
ctl status | grep -E -q "syslog authpriv as other.tag: connected; [0-9]+ sent, [0-9]+ dropped" &&
    pass "mcpgatectl status shows the counts" ||
    fail "mcpgatectl status" "$(ctl status | grep -A1 syslog)"

# --- off at a reload ---------------------------------------------------------------
sed -i 's/^    enabled: true/    enabled: false/' "$MG_CONF"
ctl reload >/dev/null
s0=$(st sent)
n0=$(wc -l <"$T/msgs")
add quiet
sleep 0.3
[ "$(wc -l <"$T/msgs")" -eq "$n0" ] && [ "$(st enabled)" = false ] &&
    [ "$(st connected)" = false ] &&
    pass "turned off at a reload, nothing more is sent" ||
    fail "off at a reload" "$(tail -n 1 "$T/msgs" | cut -c1-100)"

# --- on again, and the stop: the last records and checkpoint arrive ------------------
sed -i 's/^    enabled: false/    enabled: true/' "$MG_CONF"
: >"$T/msgs"
ctl reload >/dev/null
wait_for 5 grep -q '"daemon.reload"' "$T/msgs"
mg_stop
wait_for 5 grep -q '"audit.checkpoint"' "$T/msgs"
wait_for 5 same_tail &&
    bodies "$T/msgs" | tail -n 2 | jq -r .event | tr '\n' ' ' | grep -q "^daemon.stop audit.checkpoint $" &&
    pass "at the stop, daemon.stop and the final checkpoint go too, byte-identical" ||
    fail "at the stop" "$(bodies "$T/msgs" | jq -r .event | tr '\n' ' ')"
ctl audit verify >/dev/null 2>&1 &&
    pass "the chain in the file is intact" || fail "the chain" "$(ctl audit verify 2>&1 | tail -n 2)"

# --- the configuration checks its keys ------------------------------------------------
bad() {
	printf 'version: v1\naudit:\n  syslog:\n%s\n' "$1" >"$T/bad.conf"
	"$BIN/mcpgated" -n -f "$T/bad.conf" 2>&1
}
out=$(bad '    facility: kern')
echo "$out" | grep -q "'facility' must be one of auth | authpriv | daemon | local0" &&
    pass "a facility not offered is refused" || fail "facility kern" "$out"
out=$(bad '    tag: "a b"')
echo "$out" | grep -q "'tag' must be at most 32 letters" &&
    pass "a tag with a space is refused" || fail "tag with a space" "$out"
out=$(bad "    tag: $(printf 'x%.0s' $(seq 1 33))")
echo "$out" | grep -q "'tag' must be at most 32" &&
    pass "a tag of 33 characters is refused" || fail "tag of 33" "$out"
out=$(bad '    enable: true')
echo "$out" | grep -q "unknown key 'enable' in section 'audit.syslog'" &&
    pass "an unknown key in audit.syslog is refused" || fail "unknown key" "$out"
