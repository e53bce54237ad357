# The running daemon: its five processes and their sandboxes, hello over
# TLS 1.3, refusals, the control socket, reload, and a clean stop.
. "$(dirname "$0")/lib.sh"
need_root "it checks the chroot, the user switch and root-owned files"
share_bin ||
    { fail "copy the programs where nobody can reach them" "$BIN"; exit 1; }

mg_setup </dev/null
# Started with a relative -f from the file's directory: the daemon keeps,
# and status shows, the absolute path.
abs_conf=$MG_CONF
cd "$MG_DIR" || exit 1
MG_CONF=$(basename "$abs_conf")
if ! mg_start; then
	fail "daemon starts" "see the log above"
	exit 1
fi
MG_CONF=$abs_conf
cd "$OLDPWD" || exit 1
pass "daemon starts and says it is ready"

# --- processes and sandboxes ---------------------------------------------
kids=$(pgrep -P "$MG_PID" | wc -l)
[ "$kids" -eq 5 ] &&
    pass "six processes: the parent, four children and the spawner" ||
    fail "six processes: the parent, four children and the spawner" \
    "$kids children"

mg_uid=$(id -u _mcpgate)
audit_uid=$(id -u _mcpgate-audit)
dns_uid=$(id -u _mcpgate-dns)
for name in netd mcpd auditd resolver; do
	pid=$(child_pid "$name")
	if [ -z "$pid" ] || [ ! -d "/proc/$pid" ]; then
		fail "$name runs" "no pid"
		continue
	fi
	st=/proc/$pid/status
	title=$(tr '\0' ' ' </proc/"$pid"/cmdline | sed 's/ *$//')
	[ "$title" = "mcpgated: $name" ] && pass "$name: ps shows 'mcpgated: $name'" ||
	    fail "$name: ps shows 'mcpgated: $name'" "'$title'"
	want=$mg_uid
	root=$MG_DIR/empty
	if [ "$name" = auditd ]; then
		want=$audit_uid
		root=$MG_DIR/audit
	elif [ "$name" = resolver ]; then
		# Not chrooted: it reads /etc; Landlock confines it there.
		want=$dns_uid
		root=/
	fi
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")
	[ "$uids" = "$want $want $want $want" ] &&
	    pass "$name: runs unprivileged (real, effective, saved uid $want)" ||
	    fail "$name: runs unprivileged" "Uid: $uids"
	groups=$(awk '/^Groups:/ {print $2}' "$st")
	gid=$(awk '/^Gid:/ {print $2}' "$st")
	[ "$groups" = "$gid" ] && pass "$name: no supplementary groups but its own" ||
	    fail "$name: no supplementary groups" "Groups: $groups"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
	    pass "$name: no_new_privs is set" || fail "$name: no_new_privs" "not set"
	[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
	    pass "$name: seccomp filter mode (2)" || fail "$name: seccomp" "not mode 2"
	caps=$(awk '/^CapEff:/ {print $2}' "$st")
	[ "$caps" = 0000000000000000 ] && pass "$name: no capabilities" ||
	    fail "$name: no capabilities" "CapEff $caps"
	if [ "$root" = / ]; then
		[ "$(readlink /proc/"$pid"/root)" = / ] &&
		    pass "$name: not chrooted, as documented (Landlock)" ||
		    fail "$name: its root" "$(readlink /proc/"$pid"/root)"
	else
		[ "$(readlink /proc/"$pid"/root)" = "$root" ] &&
		    pass "$name: chrooted to $(basename "$root")" ||
		    fail "$name: chrooted" \
		    "root is $(readlink /proc/"$pid"/root)"
	fi
done

# The parent stays root, but once it serves it has no_new_privs and a
# seccomp filter; its Landlock does not show in /proc, but the reloads and
# the stop below work within it (tests/unit/test_sandbox.c proves it).
st=/proc/$MG_PID/status
[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
    pass "parent: no_new_privs is set" || fail "parent: no_new_privs" "not set"
[ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
    pass "parent: seccomp filter mode (2)" || fail "parent: seccomp" \
    "$(grep -E '^Seccomp' "$st" | tr '\n' ' ')"
[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")" = "0 0 0 0" ] &&
    pass "parent: still root" || fail "parent: still root" \
    "$(grep '^Uid:' "$st")"

# --- hello over TLS 1.3 ---------------------------------------------------
out=$(probe 127.0.0.1 "$MG_PORT")
[ "$out" = "handshake ok: TLSv1.3" ] && pass "the handshake is TLS 1.3" ||
    fail "the handshake is TLS 1.3" "$out"
ans=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}')
if [ "$(echo "$ans" | jget .ok)" = true ] &&
    [ "$(echo "$ans" | jget .name)" = mcpgate ] &&
    [ "$(echo "$ans" | jget .version)" = "$("$BIN/mcpgatectl" --help >/dev/null; ctl status --format json | jget .version)" ]; then
	pass "hello answers with the gateway name and version"
else
	fail "hello answers with the gateway name and version" "$ans"
fi
[ "$(echo "$ans" | jget .ca)" = "$(cat "$MG_DIR/state/ca.crt")" ] &&
    pass "hello carries the gateway CA certificate" ||
    fail "hello carries the gateway CA certificate" "CA differs"
fpr=$(openssl x509 -in "$MG_DIR/state/ca.crt" -noout -fingerprint -sha256 |
    sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
[ "$(echo "$ans" | jget .ca_fingerprint)" = "SHA256:$fpr" ] &&
    [ "$(ctl status --format json | jget .ca_fingerprint)" = "SHA256:$fpr" ] &&
    pass "hello and status give the CA fingerprint as SHA256:hex" ||
    fail "CA fingerprint" "$(echo "$ans" | jget .ca_fingerprint) vs $fpr"
openssl x509 -in "$MG_DIR/state/ca.crt" -noout -text | grep -q ED25519 &&
    pass "the CA is an Ed25519 key" || fail "the CA is an Ed25519 key" "no"
openssl verify -CAfile "$MG_DIR/state/ca.crt" "$MG_DIR/state/server.crt" \
    >/dev/null 2>&1 && pass "the server certificate is signed by the CA" ||
    fail "the server certificate is signed by the CA" "does not verify"
mode=$(stat -c %a "$MG_DIR/state/ca.key")
[ "$mode" = 600 ] && pass "ca.key is mode 0600" || fail "ca.key mode" "$mode"
mode=$(stat -c '%a %U' "$MG_DIR/state")
[ "$mode" = "700 root" ] && pass "state_dir is root 0700" ||
    fail "state_dir is root 0700" "$mode"
mode=$(stat -c '%a %U' "$MG_DIR/audit")
[ "$mode" = "750 _mcpgate-audit" ] && pass "audit dir is _mcpgate-audit 0750" ||
    fail "audit dir is _mcpgate-audit 0750" "$mode"
mode=$(stat -c '%a %U' "$MG_DIR/ctl.sock")
[ "$mode" = "600 root" ] && pass "control socket is root 0600" ||
    fail "control socket is root 0600" "$mode"

# --- refusals -------------------------------------------------------------
out=$(probe -2 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ $? -eq 2 ] && pass "a TLS 1.2 client is refused" ||
    fail "a TLS 1.2 client is refused" "$out"
out=$(probe -a h2 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ $? -eq 2 ] && pass "a client with ALPN h2 is refused" ||
    fail "a client with ALPN h2 is refused" "$out"
out=$(probe -A 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ $? -eq 2 ] && pass "a client without ALPN is refused" ||
    fail "a client without ALPN is refused" "$out"

expect_error() {
	local name=$1 line=$2 code=$3 ans
	ans=$(probe 127.0.0.1 "$MG_PORT" "$line" 2>&1)
	if [ "$(echo "$ans" | jget .ok)" = false ] &&
	    [ "$(echo "$ans" | jget .error)" = "$code" ] &&
	    [ -n "$(echo "$ans" | jget .message)" ]; then
		pass "$name: {\"ok\":false,\"error\":\"$code\"} with a message"
	else
		fail "$name" "$ans"
	fi
}
expect_error "an unknown op" '{"op":"frobnicate"}' unknown_op
expect_error "a line that is not JSON" 'hello there' bad_request
expect_error "a JSON array" '[1,2]' bad_request
expect_error "no op" '{"hello":1}' bad_request
expect_error "an op that is not a string" '{"op":7}' bad_request
expect_error "login without a user" '{"op":"login"}' bad_request
expect_error "connect without a client certificate" '{"op":"connect","app":"x"}' cert_required
expect_error "apps without a client certificate" '{"op":"apps"}' cert_required
expect_error "whoami without a certificate" '{"op":"whoami"}' cert_required
expect_error "an empty line" '' bad_request
big=$(head -c 20000 /dev/zero | tr '\0' 'x')
expect_error "a request line over 16 KiB" "{\"op\":\"hello\",\"x\":\"$big\"}" \
    bad_request
ans=$(probe -e 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ "$(echo "$ans" | jget .ok)" = true ] &&
    pass "a client that closes its side after the request still gets the answer" ||
    fail "half-closed client gets the answer" "$ans"
ans=$(probe -e -n 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
[ "$(echo "$ans" | jget .error)" = bad_request ] &&
    echo "$ans" | grep -q "ended before the request line did" &&
    pass "a request line cut short by the client's close is an error" ||
    fail "a request line cut short" "$ans"
ans=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}')
[ "$(echo "$ans" | jget .ok)" = true ] &&
    pass "the gateway serves on after bad requests" ||
    fail "the gateway serves on after bad requests" "$ans"

st=$(ctl status --format json)
[ "$(echo "$st" | jget .connections.tls_failed)" -ge 3 ] &&
    [ "$(echo "$st" | jget .connections.accepted)" -ge 10 ] &&
    pass "status counts accepted connections and failed handshakes" ||
    fail "status counts connections" "$(echo "$st" | jget .connections)"

# --- the control socket ---------------------------------------------------
out=$(ctl status)
for want in "mcpgated " "processes:    parent pid $MG_PID" "netd pid" \
    "mcpd pid" "auditd pid" "connections:" "audit:        $MG_DIR/audit/audit-" \
    "last seq" "CA:           SHA256:"; do
	echo "$out" | grep -qF "$want" && pass "status shows '$want'" ||
	    fail "status shows '$want'" "$out"
done
echo "$out" | grep -qxF "config:       $MG_CONF" &&
    [ "$(ctl status --format json | jget .config)" = "$MG_CONF" ] &&
    pass "status shows the configuration file's absolute path" ||
    fail "status shows the configuration file's absolute path" "$out"
out=$("$BIN/mcpgatectl" status --format json -s "$MG_DIR/ctl.sock" 2>&1)
[ "$(echo "$out" | jget .name)" = mcpgate ] &&
    pass "options are accepted after the command" ||
    fail "options are accepted after the command" "$out"
out=$("$BIN/mcpgatectl" status --format=json -c "$MG_CONF" 2>&1)
[ "$(echo "$out" | jget .name)" = mcpgate ] &&
    pass "--format=json and -c are accepted after the command" ||
    fail "--format=json and -c after the command" "$out"
out=$("$BIN/mcpgatectl" reload -h)
[ $? -eq 0 ] && [ "$(echo "$out" | head -n 1)" = "usage: mcpgatectl reload" ] &&
    ! grep -q "daemon.reload.*control" "$MG_DIR"/audit/audit-*.jsonl &&
    pass "reload -h prints its usage and reloads nothing" ||
    fail "reload -h" "$out"
out=$(as_user nobody mcpgatectl -s "$MG_DIR/ctl.sock" status 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "root only" &&
    pass "a non-root user cannot open the control socket" ||
    fail "a non-root user cannot open the control socket" "$out"
chmod 0666 "$MG_DIR/ctl.sock"
out=$(as_user nobody mcpgatectl -s "$MG_DIR/ctl.sock" status 2>&1)
status=$?
chmod 0600 "$MG_DIR/ctl.sock"
[ $status -eq 1 ] && echo "$out" | grep -q "the control socket is for root only" &&
    pass "SO_PEERCRED refuses a non-root peer even when the mode allows it" ||
    fail "SO_PEERCRED refuses a non-root peer" "$out"
grep -q "control: refused uid $(id -u nobody)" "$MG_DIR/log" &&
    pass "the refusal is logged with the uid" ||
    fail "the refusal is logged with the uid" "not in the log"

# --- reload ---------------------------------------------------------------
out=$(ctl reload)
[ "$out" = "configuration reloaded" ] && pass "mcpgatectl reload" ||
    fail "mcpgatectl reload" "$out"
cp "$MG_CONF" "$MG_DIR/good.conf"
printf 'limits:\n  max_connections: none\n' >>"$MG_CONF"
kill -HUP "$MG_PID"
wait_for 10 grep -q "reload failed: the running configuration stays" \
    "$MG_DIR/log"
grep -q "reload: $MG_CONF:.*'max_connections' must be a whole number" \
    "$MG_DIR/log" && grep -q "reload failed: the running configuration stays" \
    "$MG_DIR/log" && pass "SIGHUP with a broken file logs the error" ||
    fail "SIGHUP with a broken file logs the error" "$(tail -n 3 "$MG_DIR/log")"
kill -0 "$MG_PID" && ans=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}') &&
    [ "$(echo "$ans" | jget .ok)" = true ] &&
    pass "after a broken SIGHUP the daemon keeps serving" ||
    fail "after a broken SIGHUP the daemon keeps serving" "$ans"
out=$(ctl reload 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "mcpgated.conf:[0-9]*:[0-9]*: 'max_connections'" &&
    pass "mcpgatectl reload reports the errors with line and column" ||
    fail "mcpgatectl reload reports the errors" "$out"
cp "$MG_DIR/good.conf" "$MG_CONF"
# sed -i writes a new file and renames it over the old one, as editors do:
# the sandboxed parent reads the new file too.
ino=$(stat -c %i "$MG_CONF")
sed -i 's/log_level: info/log_level: debug/' "$MG_CONF"
[ "$(stat -c %i "$MG_CONF")" != "$ino" ] &&
    [ "$(ctl reload)" = "configuration reloaded" ] &&
    pass "a repaired file, renamed into place, reloads" ||
    fail "a repaired file, renamed into place, reloads" "no"

# The children follow log_level both ways.
probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}' >/dev/null
accepted() {
	grep -c "netd: 127.0.0.1:[0-9]*: connection [0-9]* accepted" \
	    "$MG_DIR/log"
}
wait_for 10 accepted >/dev/null
n1=$(accepted)
sed -i 's/log_level: debug/log_level: info/' "$MG_CONF"
ctl reload >/dev/null
probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}' >/dev/null
sleep 0.2	# time enough for a debug line, were one written
n2=$(accepted)
[ "$n1" -ge 1 ] && [ "$n2" -eq "$n1" ] &&
    pass "a reload moves the children's log level to debug and back" ||
    fail "children follow log_level" "debug lines: $n1, then $n2"

# Keys that need a restart are kept, and the answer says which.
sed -i "s/listen_addr: 127.0.0.1:0/listen_addr: 127.0.0.1:$MG_PORT/" "$MG_CONF"
out=$(ctl reload)
[ "$out" = "configuration reloaded; restart mcpgated to apply: proxy_service.listen_addr" ] &&
    pass "reload names the keys that need a restart" ||
    fail "reload names the keys that need a restart" "$out"
cp "$MG_DIR/good.conf" "$MG_CONF"

# --- a clean stop -----------------------------------------------------------
kids=$(pgrep -P "$MG_PID")
start=$(date +%s%N)
mg_stop
ms=$((($(date +%s%N) - start) / 1000000))
[ "$MG_STATUS" -eq 0 ] && pass "SIGTERM stops the daemon with status 0 (${ms} ms)" ||
    fail "SIGTERM stops the daemon with status 0" "status $MG_STATUS"
grep -E -q "terminated by signal|exited with status|did not stop" \
    "$MG_DIR/log" && fail "every child exits cleanly" "$(tail -n 5 \
    "$MG_DIR/log")" || pass "every child exits cleanly"
[ ! -e "$MG_DIR/ctl.sock" ] && pass "the control socket is removed" ||
    fail "the control socket is removed" "still there"
left=
for p in $kids; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -z "$left" ] && pass "no process is left behind" ||
    fail "no process is left behind" "still running:$left"
log=$(cat "$MG_DIR"/audit/audit-*.jsonl)
# Checkpoints come every 10 s too, when the run is slow (sanitizers).
events=$(echo "$log" | jq -r 'select(.event != "audit.checkpoint") | .event' |
    tr '\n' ' ')
[ "$events" = "daemon.start daemon.reload daemon.reload daemon.reload daemon.reload daemon.reload daemon.reload daemon.stop " ] &&
    [ "$(echo "$log" | tail -n 1 | jq -r .event)" = audit.checkpoint ] &&
    pass "the audit log has start, each reload, stop and a final checkpoint" ||
    fail "the audit log events" "$events"
audit_has '.event == "daemon.reload" and .success == false and
    .trigger == "signal" and (.error | test("max_connections"))' && pass "a failed reload is audited with its error" ||
    fail "a failed reload is audited with its error" "missing"
audit_has '.event == "daemon.reload" and .success == true and
    .trigger == "control" and .admin_uid == 0' &&
    pass "a reload from mcpgatectl is audited with the admin's uid" ||
    fail "a reload from mcpgatectl is audited" "missing"
nck=$(echo "$log" | grep -c '"event":"audit.checkpoint"')
out=$(ctl audit verify)
[ $? -eq 0 ] && echo "$out" | grep -q "audit log intact: $((8 + nck)) records in 1 file" &&
    echo "$out" | grep -q "$nck checkpoints\? signed by SHA256:" &&
    pass "audit verify: the chain and the checkpoint are intact" ||
    fail "audit verify" "$out"
