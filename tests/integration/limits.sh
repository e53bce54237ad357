# The limits that keep one user, logged in or not, from stopping the
# gateway or keeping others out: each attack is made for real against a
# running daemon, and another user must be served throughout.
#
#   - mcpd's memory: hundreds of sessions each sending an unfinished
#     4 MiB message (limits.max_buffered), under a memory limit that
#     those messages together would exceed;
#   - a message of 1.3 million empty arrays (limits.max_json_values);
#   - one user holding every session it can without initializing
#     (limits.max_sessions_per_user, limits.init_timeout);
#   - sessions left idle (limits.idle_timeout);
#   - a thousand TCP connections from one address that never start TLS
#     (limits.max_connections_per_address).
#
# mcpgate-test: alone
# (tests/run runs it by itself: it loads the machine, and measures how
# fast another user is served meanwhile.)
. "$(dirname "$0")/lib.sh"
need_root "it starts the daemon as root, as a production install does, and attacks it"

PW="correct horse battery"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"limits-test","version":"1"}}}'

# adduser USER: create the user (role mcp-user) and log in as them.
adduser() {
	local out
	out=$(ctl --format json users add "$1" --roles mcp-user) &&
	    invite_login "$1" "$out"
}

# session USER [mcpsession args]: one session; JSON-RPC lines on stdin.
session() {
	user_session "$1" 20 "${@:2}"
}

# load USER MODE ARGS...: mgload with USER's certificate.
load() {
	local home=$MG_DIR/home-$1 mode=$2
	shift 2
	"$HELPERS/mgload" "$mode" -c "$home/ca.pem" -C "$home/cert.pem" \
	    -K "$home/key.pem" "$@"
}

# victim_call USER: a whole session with one tools/call; true when the
# call was answered with its result.
victim_call() {
	{ echo "$INIT"
	  echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"mcpgate_user_info"}}'; } |
	    session "$1" mcpgate-demo | has '.id == 2 and .result.content != null'
}

# mem PID FIELD: a field of /proc/PID/status, in KiB.
mem() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

# field KEY: the value of KEY= in mgload's summary on stdin.
field() {
	tr ' ' '\n' | sed -n "s/^$1=//p" | tail -n 1
}

# Is this the AddressSanitizer build?  Its shadow memory takes terabytes
# of address space, so an address-space limit cannot apply to it.
san=0
ldd "$BIN/mcpgated" 2>/dev/null | grep -q libasan && san=1

# --- max_json_values, then max_buffered ---------------------------------
# 400 x 4 MiB would need 1.6 GiB: each process of the daemon may have
# 768 MiB of address space (the limit is inherited; none can raise it).
# The sanitizer build, slower, attacks a smaller budget with fewer.
if [ $san -eq 0 ]; then
	MG_PREFIX=(prlimit --as=$((768 * 1024 * 1024)) --)
	budget=256
	sessions=400
	secs=120	# the most; mgload stops once the gateway settles
else
	skip "the daemon under an address-space limit" "AddressSanitizer reserves terabytes of address space; the plain build runs it"
	budget=64
	sessions=200
	secs=150
fi
mg_setup <<EOF
limits:
  max_sessions_per_user: 1000
  max_buffered: ${budget}MiB
  init_timeout: 10m	# the budget, not this, ends them on a slow machine
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
MG_PREFIX=()
adduser eve && adduser bob ||
    { fail "users log in" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
mcpd=$(child_pid mcpd)

# A message of 1.3 million empty arrays, answered before it is a tree.
big=$MG_DIR/arrays.jsonl
{ printf '{"jsonrpc":"2.0","id":7,"method":"ping","params":{"a":['
  yes '[],' 2>/dev/null | head -n 1299999 | tr -d '\n'
  printf '[]]}}\n'
  echo '{"jsonrpc":"2.0","id":8,"method":"ping"}'; } >"$big"
before=$(mem "$mcpd" VmHWM)
t0=$(ms_now)
out=$(session eve mcpgate-demo <"$big")
t1=$(ms_now)
after=$(mem "$mcpd" VmHWM)
echo "$out" | has '.id == 7 and .error.code == -32600 and
    (.error.message | contains("max_json_values"))' &&
    echo "$out" | has '.id == 8 and .result != null' &&
    pass "1.3 million empty arrays are refused with -32600 and the session goes on ($((t1 - t0)) ms)" ||
    fail "1.3 million empty arrays are refused with -32600" "$(echo "$out" | cut -c 1-300)"
grow=$(((after - before) / 1024))
if [ $san -eq 0 ]; then
	[ $grow -lt 40 ] &&
	    pass "and mcpd's peak memory grew by ${grow} MiB, not 178 MB" ||
	    fail "mcpd's memory for that message" "its peak grew by ${grow} MiB"
else
	skip "mcpd's memory for that message" "AddressSanitizer's own allocations hide it; see the plain build"
fi

# 400 sessions, each sending an unfinished message of 4 MiB, held open.
if [ $san -eq 0 ]; then
	grep -q "^Max address space *805306368 " "/proc/$mcpd/limits" &&
	    pass "mcpd runs under an address-space limit of 768 MiB" ||
	    fail "mcpd runs under an address-space limit" "$(grep 'address space' "/proc/$mcpd/limits")"
fi
: >"$MG_DIR/victim"
touch "$MG_DIR/attack"	# before the loop below looks for it
(
	end=$(( $(date +%s) + secs ))
	while [ -e "$MG_DIR/attack" ] && [ "$(date +%s)" -lt $end ]; do
		t0=$(ms_now)
		if victim_call bob; then
			echo "ok $(( $(ms_now) - t0 ))" >>"$MG_DIR/victim"
		else
			echo "failed $(( $(ms_now) - t0 ))" >>"$MG_DIR/victim"
		fi
		sleep 0.2
	done
) &
victim=$!
res=$(load eve partial -n $sessions -s 4190000 -t $((secs - 10)) \
    127.0.0.1 "$MG_PORT" mcpgate-demo)
rm -f "$MG_DIR/attack"
wait $victim
echo "$res" | sed 's/^/    /' >&2
summary=$(echo "$res" | tail -n 1)
hwm=$(( $(mem "$mcpd" VmHWM) / 1024 ))
kill -0 "$MG_PID" 2>/dev/null && [ "$(child_pid mcpd)" = "$mcpd" ] &&
    pass "mcpd is alive after $sessions sessions of unfinished 4 MiB messages" ||
    fail "mcpd survives the unfinished messages" "$(tail -n 5 "$MG_DIR/log")"
ended=$(echo "$summary" | field over_budget)
whole=$(echo "$summary" | field holding_whole_message)
# At most the budget's worth of whole messages stays; with time enough
# the others end (the sanitizer build may not send them all in time).
holders=$((budget / 4))
[ "${ended:-0}" -ge $((san == 0 ? sessions - holders : sessions / 2)) ] &&
    [ "${whole:-999}" -le $holders ] &&
    pass "the sessions over the budget end with an error naming max_buffered ($ended ended, $whole held a whole message)" ||
    fail "the sessions over the budget end" "$summary"
nok=$(grep -c '^ok' "$MG_DIR/victim")
nfail=$(grep -c '^failed' "$MG_DIR/victim")
slow=$(sort -k2 -n "$MG_DIR/victim" | tail -n 1 | cut -d' ' -f2)
[ "$nok" -ge 3 ] && [ "$nfail" -eq 0 ] &&
    pass "another user's tools/call is answered throughout ($nok calls, the slowest session ${slow} ms)" ||
    fail "another user's tools/call is answered throughout" "$nok answered, $nfail failed"
if [ $san -eq 0 ]; then
	[ $hwm -lt $((budget + 144)) ] &&
	    pass "mcpd's peak memory stays near the budget: ${hwm} MiB for a ${budget} MiB budget" ||
	    fail "mcpd's peak memory stays near the budget" "${hwm} MiB"
fi
audit_has 'select(.event == "mcp.session.end" and .reason == "over_budget" and
    (.message | contains("max_buffered")))' &&
    pass "the ends are audited with the reason over_budget" ||
    fail "the ends are audited with the reason over_budget" "no such record"
st=$(ctl --format json status)
echo "$st" | is ".refused.over_budget > 0 and
    .sessions.buffered_peak <= $((budget * 1024 * 1024))" &&
    pass "mcpgatectl status counts them and shows the peak within the budget" ||
    fail "mcpgatectl status counts them" "$(echo "$st" | jq -c '.refused, .sessions')"
mg_stop

# --- max_sessions_per_user and init_timeout --------------------------------
mg_setup <<'EOF'
limits:
  init_timeout: 2s
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
adduser eve && adduser bob ||
    { fail "users log in" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
res=$(load eve sessions -n 65 -t 6 127.0.0.1 "$MG_PORT" mcpgate-demo)
refused=$(echo "$res" | grep '^session [0-9]*: refused')
echo "$res" | tail -n 1 | grep -q "ok=64 refused=1" &&
    echo "$refused" | grep -q "refused too_many_sessions" &&
    echo "$refused" | grep -q "max_sessions_per_user" &&
    pass "one user holds 64 sessions; the 65th is refused, saying why" ||
    fail "the 65th session of one user is refused" "$(echo "$res" | tail -n 3)"
# Each line: session N: ok session_ended ended=yes at=SECONDS why=...
early=$(echo "$res" | grep '^session [0-9]*: ok' |
    awk '{ sub("at=", "", $6); if ($5 != "ended=yes" || $6 < 1.5) print }' |
    head -n 3)
inits=$(echo "$res" | grep -c 'ok session_ended ended=yes.*init_timeout')
[ -z "$early" ] && [ "$inits" = 64 ] &&
    pass "the 64 uninitialised sessions end after init_timeout, saying why" ||
    fail "uninitialised sessions end after init_timeout" "$inits ended so; $early"
victim_call bob &&
    pass "another user opens a session meanwhile" ||
    fail "another user opens a session meanwhile" "refused"
res=$(load eve sessions -n 2 -i -t 4 127.0.0.1 "$MG_PORT" mcpgate-demo)
echo "$res" | tail -n 1 | grep -q "ok=2 refused=0 ended=0" &&
    pass "sessions that initialized outlive init_timeout, and the user opens new ones" ||
    fail "initialized sessions outlive init_timeout" "$(echo "$res" | tail -n 3)"
audit_has 'select(.event == "mcp.session.start" and .success == false and
    .error == "too_many_sessions")' &&
    audit_has 'select(.event == "mcp.session.end" and .reason == "init_timeout")' &&
    pass "the refusal and the ends are audited" ||
    fail "the refusal and the ends are audited" "records missing"
ctl --format json status |
    is '.refused.max_sessions_per_user == 1 and .refused.init_timeout == 64' &&
    pass "mcpgatectl status counts the refusal and the timeouts" ||
    fail "mcpgatectl status counts them" "$(ctl --format json status | jq -c .refused)"
mg_stop

# --- idle_timeout --------------------------------------------------------
mg_setup <<'EOF'
limits:
  idle_timeout: 1s
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
adduser eve || { fail "users log in" "$(tail -n 5 "$MG_DIR/log")"; exit 1; }
t0=$(ms_now)
out=$( { echo "$INIT"; sleep 4; } |
    { session eve mcpgate-demo; ms_now >"$MG_DIR/t1"; })
t1=$(cat "$MG_DIR/t1")
echo "$out" | has '.id == null and (.error.message | contains("idle_timeout"))' &&
    [ $((t1 - t0)) -lt 3000 ] &&
    pass "a silent session ends after idle_timeout ($((t1 - t0)) ms), saying why" ||
    fail "a silent session ends after idle_timeout" "$((t1 - t0)) ms: $out"
out=$( { echo "$INIT"
	for i in 1 2 3 4 5 6 7 8; do
		sleep 0.3
		echo "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"ping\"}"
	done; } | session eve mcpgate-demo)
echo "$out" | has '.id == 8 and .result != null' &&
    ! echo "$out" | grep -q idle_timeout &&
    pass "a session with a message every 0.3 s lives on past it" ||
    fail "a busy session lives on past idle_timeout" "$out"
audit_has 'select(.event == "mcp.session.end" and .reason == "idle_timeout")' &&
    pass "the idle end is audited" ||
    fail "the idle end is audited" "no record"
mg_stop

# --- max_connections_per_address -------------------------------------------
mg_setup <<'EOF'
limits:
  max_connections: 200
  handshake_timeout: 20s
EOF
mg_start || { fail "daemon starts" "see the log"; exit 1; }
"$HELPERS/mgload" idle -b 127.0.0.2 -n 1000 -t 8 127.0.0.1 "$MG_PORT" \
    >"$MG_DIR/idle" 2>&1 &
loader=$!
for i in $(seq 1 100); do
	grep -q "^opened=" "$MG_DIR/idle" && break
	sleep 0.05
done
sleep 0.5
t0=$(ms_now)
out=$(probe -t 5 127.0.0.1 "$MG_PORT" '{"op":"hello"}' 2>&1)
t1=$(ms_now)
echo "$out" | is '.ok == true' && [ $((t1 - t0)) -lt 1000 ] &&
    pass "with 1000 idle connections from 127.0.0.2, a hello from 127.0.0.1 is answered in $((t1 - t0)) ms" ||
    fail "a hello is answered beside 1000 idle connections" "$((t1 - t0)) ms: $out"
st=$(ctl --format json status)
echo "$st" | is '.connections.open <= 66 and
    .refused.max_connections_per_address >= 900' &&
    pass "127.0.0.2 holds at most 64 of them; the rest are refused at once" ||
    fail "127.0.0.2 holds at most 64" "$(echo "$st" | jq -c '.connections, .refused')"
wait $loader
grep -q "closed_by_gateway=9[3-9][0-9]" "$MG_DIR/idle" &&
    pass "the refused connections are closed, not left waiting" ||
    fail "the refused connections are closed" "$(cat "$MG_DIR/idle")"
grep -q "max_connections_per_address (64) reached" "$MG_DIR/log" &&
    pass "the refusal is logged, with the address" ||
    fail "the refusal is logged" "no such line"
mg_stop
