# Lifecycles: a dead child takes the daemon down, a dead parent takes the
# children, limits hold, and a torn audit line survives a crash.
. "$(dirname "$0")/lib.sh"
need_root "its start-up refusals are about files owned by root and the chroot"

# --- kill -9 of each child --------------------------------------------------
for victim in netd mcpd auditd resolver; do
	mg_setup </dev/null
	if ! mg_start; then
		fail "$victim: daemon starts" "see the log"
		continue
	fi
	pid=$(child_pid "$victim")
	others=$(pgrep -P "$MG_PID" | grep -vx "$pid")
	records=$(cat "$MG_DIR"/audit/audit-*.jsonl | wc -l)
	start=$(date +%s%N)
	kill -KILL "$pid"
	wait "$MG_PID"
	status=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	[ $status -eq 1 ] && [ $ms -lt 1000 ] &&
	    pass "kill -9 $victim: the daemon exits 1 within a second (${ms} ms)" ||
	    fail "kill -9 $victim: the daemon exits 1 within a second" \
	    "status $status after $ms ms"
	grep -q "$victim (pid $pid) terminated by signal 9" "$MG_DIR/log" &&
	    grep -q "stopping: $victim is gone" "$MG_DIR/log" &&
	    pass "kill -9 $victim: the log names it and the signal" ||
	    fail "kill -9 $victim: the log names it" "$(cat "$MG_DIR/log")"
	left=
	for p in $others; do
		kill -0 "$p" 2>/dev/null && left="$left $p"
	done
	[ -z "$left" ] && pass "kill -9 $victim: the other children are gone" ||
	    fail "kill -9 $victim: the other children are gone" "$left"
	after=$(cat "$MG_DIR"/audit/audit-*.jsonl | wc -l)
	[ "$after" -eq "$records" ] &&
	    pass "kill -9 $victim: nothing more is written to the audit log" ||
	    fail "kill -9 $victim: nothing more is written" "$records -> $after"
done

# --- kill -9 of the parent --------------------------------------------------
mg_setup </dev/null
mg_start
kids=$(pgrep -P "$MG_PID")
kill -KILL "$MG_PID"
wait "$MG_PID" 2>/dev/null
gone=1
for p in $kids; do
	wait_gone "$p" 2 || gone=0
done
[ $gone -eq 1 ] && pass "when the parent dies, every child exits" ||
    fail "when the parent dies, every child exits" "$(pgrep -a -P 1 mcpgated)"

# The chain continues after that crash, with no checkpoint at its end.
rm -f "$MG_DIR/ctl.sock"
mg_start
mg_stop
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q "intact: 4 records" &&
    echo "$out" | grep -q "1 checkpoint signed" &&
    pass "after a crash the chain continues from the last record" ||
    fail "after a crash the chain continues" "$out"

# --- a torn last line ---------------------------------------------------------
f=$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 1)
torn='{"seq":5,"time":"2026-11-26T00:00:00.000000Z","event":"dae'
lines=$(wc -l <"$f")
printf '%s' "$torn" >>"$f"
out=$(ctl audit verify 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q ":$((lines + 1)): torn last line" &&
    pass "audit verify reports a torn last line with its line number" ||
    fail "audit verify reports a torn last line" "$out"
mg_start
grep -q "the last ${#torn} bytes were a torn line" "$MG_DIR/log" &&
    pass "on start auditd reports the torn line" ||
    fail "on start auditd reports the torn line" "$(cat "$MG_DIR/log")"
audit_has ".event == \"audit.torn\" and .bytes == ${#torn} and
    .code == \"MG0101W\"" && [ "$(jq -r 'select(.event == "audit.torn") |
    .data' "$f" | base64 -d)" = "$torn" ] &&
    pass "the torn bytes are kept in an audit.torn record" ||
    fail "the torn bytes are kept in an audit.torn record" \
    "$(grep audit.torn "$f")"
mg_stop
out=$(ctl audit verify 2>&1)
[ $? -eq 0 ] && pass "after the repair the chain verifies" ||
    fail "after the repair the chain verifies" "$out"

# --- handshake timeout and the connection limit --------------------------------
mg_setup <<'EOF'
limits:
  handshake_timeout: 1s
  max_connections: 3
EOF
mg_start
out=$("$HELPERS/tlsprobe" -r -t 5 127.0.0.1 "$MG_PORT")
secs=$(echo "$out" | sed -n 's/closed after \([0-9.]*\) s/\1/p')
if [ -n "$secs" ] && awk "BEGIN { exit !($secs >= 0.9 && $secs < 2.5) }"; then
	pass "a client that never completes TLS is dropped after handshake_timeout ($secs s)"
else
	fail "handshake_timeout" "$out"
fi
"$HELPERS/tlsprobe" -k 3 -t 3 127.0.0.1 "$MG_PORT" >"$MG_DIR/hold" &
holder=$!
for i in $(seq 1 50); do
	grep -q holding "$MG_DIR/hold" && break
	sleep 0.05
done
sleep 0.2
out=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
status=$?
[ $status -ne 0 ] && pass "over max_connections a new connection is refused" ||
    fail "over max_connections a new connection is refused" "$out"
[ "$(ctl status --format json | jget .connections.refused)" -ge 1 ] &&
    pass "status counts the refusal" || fail "status counts the refusal" "0"
grep -q "max_connections (3) reached" "$MG_DIR/log" &&
    pass "the refusal is logged" || fail "the refusal is logged" "not found"
sleep 1.2
ans=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ "$(echo "$ans" | jget .ok 2>/dev/null)" = true ] &&
    pass "once the idle connections time out, clients are served again" ||
    fail "clients are served again" "$ans"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

# A request line that never comes is dropped too.
out=$(probe -w 3 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
echo "$out" | grep -q '"error":"timeout"' &&
    pass "a client that sends no request line gets a timeout error" ||
    fail "a client that sends no request line gets a timeout error" "$out"
mg_stop
[ "$MG_STATUS" -eq 0 ] && pass "the daemon stops cleanly after all that" ||
    fail "the daemon stops cleanly after all that" "status $MG_STATUS"

# --- SIGINT stops cleanly too ------------------------------------------------
mg_setup </dev/null
mg_start
kill -INT "$MG_PID"
wait "$MG_PID"
status=$?
[ $status -eq 0 ] && grep -q "received SIGINT, stopping" "$MG_DIR/log" &&
    audit_has '.event == "daemon.stop" and .reason == "received SIGINT"' &&
    pass "SIGINT stops the daemon with status 0 and records why" ||
    fail "SIGINT stops the daemon" "status $status"

# --- start-up refusals -----------------------------------------------------------
mg_setup </dev/null
echo "precious" >"$MG_DIR/ctl.sock"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "ctl.sock exists and is not a socket" "$MG_DIR/log" &&
    [ "$(cat "$MG_DIR/ctl.sock")" = precious ] &&
    pass "a control_socket path that is a file is refused, not removed" ||
    fail "a control_socket path that is a file" "status $status: $(cat "$MG_DIR/log")"
rm "$MG_DIR/ctl.sock"
mg_start
mg_stop
chmod 0644 "$MG_DIR/state/server.key"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "server.key must be owned by uid 0 and mode 0600" "$MG_DIR/log" &&
    pass "a server.key readable by others stops the start" ||
    fail "a server.key readable by others" "status $status: $(cat "$MG_DIR/log")"
chmod 0600 "$MG_DIR/state/server.key"
chmod 0755 "$MG_DIR/state"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "state_dir .* must be owned by uid 0 with mode 0700" "$MG_DIR/log" &&
    pass "a state_dir others can read stops the start" ||
    fail "a state_dir others can read" "status $status: $(cat "$MG_DIR/log")"
chmod 0700 "$MG_DIR/state"
chmod 0777 "$MG_DIR/empty"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "must be owned by root and writable by nobody else" "$MG_DIR/log" &&
    pass "a chroot others can write stops the start" ||
    fail "a chroot others can write" "status $status: $(cat "$MG_DIR/log")"
chmod 0755 "$MG_DIR/empty"
mv "$MG_DIR/state/ca.crt" "$MG_DIR/ca.crt.bak"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
[ $status -eq 1 ] && grep -q "ca.key exists but .*ca.crt does not" "$MG_DIR/log" &&
    [ -e "$MG_DIR/state/ca.key" ] &&
    pass "a CA key without its certificate stops the start; no new CA is made" ||
    fail "a CA key without its certificate" "status $status: $(cat "$MG_DIR/log")"
mv "$MG_DIR/ca.crt.bak" "$MG_DIR/state/ca.crt"

# --- with -d the children's lines go through the parent ----------------------
mg_setup </dev/null
mg_start
apid=$(child_pid auditd)
ok=1
for c in netd mcpd auditd resolver; do
	p=$(child_pid "$c")
	case $(readlink "/proc/$p/fd/2") in
	pipe:*) ;;
	*) ok=0;;
	esac
	[ "$(readlink "/proc/$p/fd/2")" = "$(readlink "/proc/$MG_PID/fd/2")" ] && ok=0
done
[ $ok -eq 1 ] &&
    pass "with -d no child holds the daemon's standard error, only a pipe to the parent" ||
    fail "the children's standard error" "$(ls -l /proc/"$MG_PID"/fd/2 \
    /proc/"$apid"/fd/2)"
# What a child writes there, as if compromised, is written under its name.
printf 'mcpd: forged by auditd\nparent: one\rnetd: two\n' >"/proc/$apid/fd/2"
sleep 0.3
grep -q "^auditd: mcpd: forged by auditd$" "$MG_DIR/log" &&
    grep -q "^auditd: parent: one?netd: two$" "$MG_DIR/log" &&
    ! grep -q "^mcpd: forged\|^netd: two\|^parent: one" "$MG_DIR/log" &&
    pass "a child cannot write lines that pass for another process's" ||
    fail "a child's forged lines" "$(tail -n 4 "$MG_DIR/log")"
grep -q "^auditd: audit log audit-000000000001.jsonl opened$" "$MG_DIR/log" &&
    pass "the children's own lines keep their form, prefixed by the parent" ||
    fail "the children's own lines" "$(head -n 12 "$MG_DIR/log")"
mg_stop
# A child's last words before a fatal exit arrive before the parent says
# how it ended.
f=$(ls "$MG_DIR"/audit/audit-*.jsonl | tail -n 1)
printf '{"seq":9,"broken\n' >>"$f"
"$BIN/mcpgated" -d -f "$MG_CONF" >"$MG_DIR/log" 2>&1
status=$?
words=$(grep -n "^auditd: cannot continue the audit log$" "$MG_DIR/log" | cut -d: -f1)
ended=$(grep -n "^parent: auditd (pid [0-9]*) exited with status 1$" "$MG_DIR/log" | cut -d: -f1)
[ $status -eq 1 ] && grep -q "^auditd: $(basename "$f"): its last record does not parse" "$MG_DIR/log" &&
    [ -n "$words" ] && [ -n "$ended" ] && [ "$words" -lt "$ended" ] &&
    pass "a child's last words before a fatal exit reach the log first" ||
    fail "a child's last words" "status $status: $(cat "$MG_DIR/log")"
