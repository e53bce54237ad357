# memory_max and tasks_max of the stdio servers, with the host's control
# groups (cgroup v2 delegated, or the v1 memory and pids hierarchies):
# what the spawner finds, a server's cgroup while it runs with its limits
# and the init inside, gone at its end; a server over memory_max killed
# by the OOM killer and said so, the same without the limit living; a
# server at tasks_max that cannot fork, the same without it forking all
# it wants; a limit the kernel refuses keeps the server from starting;
# without root, the limits not enforced and said so; through the
# daemon, the session's end in the audit log and other sessions served,
# nothing left when it stops, and what a spawner killed with its parent
# left removed at the next start.  Driven through spawnprobe (the real
# spawner) and the daemon, with stdioserver.
. "$(dirname "$0")/lib.sh"
need_root "control groups are root's to write"

D=$(mktemp -d /tmp/mgcgroup.XXXXXX)
MG_TMPS+=("$D")
chmod 0755 "$D"
install -m 0755 "$HELPERS/stdioserver" "$D/stdioserver"
RUN_AS=nobody
MIB64=$((64 << 20))
# A sanitizer build's stdioserver cannot run LeakSanitizer (ptrace) in
# a server's sandbox: the app's environment turns it off.
PROBE=("$HELPERS/spawnprobe" -x "$BIN/mcpgated" -P
    -e ASAN_OPTIONS=detect_leaks=0 -u "$RUN_AS")

# run NAME ARGS...: spawnprobe, its output in $D/NAME.out, log in .err.
run() {
	local name=$1
	shift
	timeout 60 "${PROBE[@]}" "$@" </dev/null >"$D/$name.out" \
	    2>"$D/$name.err"
}

# start NAME ARGS...: spawnprobe in the background, its standard input
# held open on descriptor 7 until finish; sets PROBE_PID, SERVER_PID
# and SPAWNER.
start() {
	local name=$1 i
	shift
	rm -f "$D/in"
	mkfifo "$D/in"
	timeout 60 "${PROBE[@]}" "$@" <"$D/in" >"$D/$name.out" \
	    2>"$D/$name.err" &
	PROBE_PID=$!
	exec 7>"$D/in"
	SERVER_PID=
	for i in $(seq 1 100); do
		SERVER_PID=$(sed -n 's/^started 1 pid \([0-9]*\).*/\1/p' \
		    "$D/$name.out")
		[ -n "$SERVER_PID" ] && break
		grep -q '^failed' "$D/$name.out" && break
		sleep 0.05
	done
	SPAWNER=$(sed -n 's/^spawner pid //p' "$D/$name.out")
}

finish() {
	exec 7>&-
	wait "$PROBE_PID"
}

out() {
	cat "$D/$1.out"
}

# run_until NAME ERE ARGS...: as start, its standard input open until
# its output matches ERE or it ends (at most 30 s), so that a slow
# machine does not end it first; then its end.
run_until() {
	local name=$1 ere=$2 i
	shift 2
	start "$name" "$@"
	for i in $(seq 1 600); do
		grep -Eq "$ere|^exited|^failed" "$D/$name.out" && break
		sleep 0.05
	done
	finish
}

# mnt_of FSTYPE [CONTROLLER]: where that hierarchy is mounted.
mnt_of() {
	awk -v t="$1" -v c="${2:-}" '{
		for (i = 7; i <= NF && $i != "-"; i++)
			;
		if ($(i + 1) != t)
			next
		if (c != "" && ("," $(i + 3) ",") !~ ("," c ","))
			next
		print $5
		exit
	}' /proc/self/mountinfo
}

# cg_of PID [CONTROLLER]: the directory of PID's cgroup, v2 or of that
# v1 controller.
cg_of() {
	local path
	if [ -z "${2:-}" ]; then
		path=$(sed -n 's/^0:://p' /proc/"$1"/cgroup)
		echo "$(mnt_of cgroup2)$path"
	else
		path=$(awk -F: -v c="$2" '{
			n = split($2, a, ",")
			for (i = 1; i <= n; i++)
				if (a[i] == c) {
					sub(/^[^:]*:[^:]*:/, "")
					print
					exit
				}
		}' /proc/"$1"/cgroup)
		echo "$(mnt_of cgroup "$2")$path"
	fi
}

# --- what the host offers ---------------------------------------------------
run detect -- "$D/stdioserver" exit=0
if grep -q "memory_max and tasks_max cannot be enforced" "$D/detect.err"
then
	skip "every check" "no writable memory and pids cgroup controllers \
($(sed -n 's/.*cannot be enforced: //p' "$D/detect.err" | head -n 1))"
	exit 0
fi
line=$(grep "spawner: memory_max and tasks_max: cgroup v" "$D/detect.err")
case $line in
*"cgroup v2, beneath "*)
	MODE=v2
	BASES=("${line##*beneath }")
	;;
*"cgroup v1, beneath "*)
	MODE=v1
	line=${line##*beneath }
	BASES=("${line%% and *}" "${line##* and }")
	;;
*)
	fail "the spawner says what the host offers" "$(cat "$D/detect.err")"
	exit 0
esac
ok=1
for b in "${BASES[@]}"; do
	[ -d "$b" ] || ok=0
done
[ $ok -eq 1 ] &&
    pass "the spawner finds cgroup $MODE, beneath ${BASES[*]}" ||
    fail "the spawner finds cgroups" "$line"

# spawner_dirs PID: its mcpgated-PID directories that exist.
spawner_dirs() {
	local b
	for b in "${BASES[@]}"; do
		[ -d "$b/mcpgated-$1" ] && echo "$b/mcpgated-$1"
	done
}

# --- a server's cgroup, while it runs --------------------------------------
start limits -M $MIB64 -T 8 -- "$D/stdioserver"
init=$(awk '/^PPid:/ {print $2}' /proc/"$SERVER_PID"/status 2>/dev/null)
if [ "$MODE" = v2 ]; then
	DIRS=("$(cg_of "$SERVER_PID")")
else
	DIRS=("$(cg_of "$SERVER_PID" memory)" "$(cg_of "$SERVER_PID" pids)")
fi
ok=1
for d in "${DIRS[@]}"; do
	case $d in
	*/mcpgated-"$SPAWNER"/app-probe-1) [ -d "$d" ] || ok=0;;
	*) ok=0;;
	esac
done
[ -n "$SERVER_PID" ] && [ $ok -eq 1 ] &&
    pass "a server runs in mcpgated-$SPAWNER/app-probe-1 ($MODE)" ||
    fail "a server's cgroup" "server '$SERVER_PID': ${DIRS[*]}"
same=1
if [ "$MODE" = v2 ]; then
	[ "$(cg_of "$init")" = "${DIRS[0]}" ] || same=0
else
	[ "$(cg_of "$init" memory)" = "${DIRS[0]}" ] &&
	    [ "$(cg_of "$init" pids)" = "${DIRS[1]}" ] || same=0
fi
[ -n "$init" ] && [ $same -eq 1 ] &&
    pass "its init is in the same cgroup: all it starts is inside" ||
    fail "its init is in its cgroup" "init '$init' $(cat /proc/"$init"/cgroup)"
if [ "$MODE" = v2 ]; then
	[ "$(cat "${DIRS[0]}/memory.max")" = $MIB64 ] &&
	    [ "$(cat "${DIRS[0]}/pids.max")" = 8 ] &&
	    { [ ! -e "${DIRS[0]}/memory.swap.max" ] ||
	    [ "$(cat "${DIRS[0]}/memory.swap.max")" = 0 ]; } &&
	    pass "memory.max 64MiB, memory.swap.max 0, pids.max 8" ||
	    fail "its limits" "$(cd "${DIRS[0]}" && head memory.max \
	    memory.swap.max pids.max 2>&1 | tr '\n' ' ')"
else
	[ "$(cat "${DIRS[0]}/memory.limit_in_bytes")" = $MIB64 ] &&
	    { [ ! -e "${DIRS[0]}/memory.memsw.limit_in_bytes" ] ||
	    [ "$(cat "${DIRS[0]}/memory.memsw.limit_in_bytes")" = $MIB64 ]; } &&
	    [ "$(cat "${DIRS[1]}/pids.max")" = 8 ] &&
	    pass "memory.limit_in_bytes and memsw 64MiB, pids.max 8" ||
	    fail "its limits" "$(head "${DIRS[0]}/memory.limit_in_bytes" \
	    "${DIRS[0]}/memory.memsw.limit_in_bytes" "${DIRS[1]}/pids.max" \
	    2>&1 | tr '\n' ' ')"
fi
# The server may not leave it: the cgroup's files are root's.
echo "$SERVER_PID" | runuser -u "$RUN_AS" -- \
    tee "$(dirname "$(dirname "${DIRS[0]}")")/cgroup.procs" \
    >/dev/null 2>&1 && moved=1 || moved=0
[ $moved -eq 0 ] && [ "$(cg_of "$SERVER_PID" \
    "$([ "$MODE" = v1 ] && echo memory)")" = "${DIRS[0]}" ] &&
    pass "its user cannot move it out of its cgroup" ||
    fail "its user cannot move it out" "$(cat /proc/"$SERVER_PID"/cgroup)"
finish
left=
for d in "${DIRS[@]}"; do
	[ -e "$d" ] && left="$left $d"
done
[ -z "$left" ] && [ -z "$(spawner_dirs "$SPAWNER")" ] &&
    pass "its cgroup is gone when it ends, and its spawner's with it" ||
    fail "its cgroup is gone when it ends" \
    "left:$left $(spawner_dirs "$SPAWNER")"

# --- memory_max ----------------------------------------------------------------
run_until oom '^alloc ok' -M $MIB64 -- "$D/stdioserver" alloc=256
out oom | grep -q '^exited 1 signal 9 killed 0$' &&
    ! out oom | grep -q '^alloc ok' &&
    pass "a server that touches 256 MiB over memory_max 64MiB is killed (SIGKILL)" ||
    fail "a server over memory_max is killed" "$(out oom)"
grep -q "parent: app probe session s1: out of memory (memory_max 64MiB)" \
    "$D/oom.err" &&
    pass "the log says it ran out of memory, and its memory_max" ||
    fail "the log says out of memory" "$(cat "$D/oom.err")"
spawner=$(sed -n 's/^spawner pid //p' "$D/oom.out")
[ -z "$(spawner_dirs "$spawner")" ] &&
    pass "the killed server's cgroup is gone" ||
    fail "the killed server's cgroup is gone" "$(spawner_dirs "$spawner")"
run_until nolimit '^alloc ok' -- "$D/stdioserver" alloc=256
out nolimit | grep -q '^alloc ok 256$' &&
    out nolimit | grep -q '^exited 1 status 0 killed 0$' &&
    ! grep -q "out of memory" "$D/nolimit.err" &&
    pass "without memory_max the same server touches its 256 MiB" ||
    fail "without memory_max" "$(out nolimit)"

# --- tasks_max -------------------------------------------------------------------
run_until tasks '^fork ' -T 8 -- "$D/stdioserver" fork=20
got=$(sed -n 's/^fork got \([0-9]*\) of 20: Resource temporarily unavailable$/\1/p' \
    "$D/tasks.out")
# 8 tasks: the init, the server and at most 6 children.
[ -n "$got" ] && [ "$got" -le 6 ] && [ "$got" -ge 1 ] &&
    out tasks | grep -q '^exited 1 status 0 killed 0$' &&
    pass "at tasks_max 8 its fork fails with EAGAIN after $got children" ||
    fail "tasks_max 8" "$(out tasks)"
run_until notasks '^fork ' -- "$D/stdioserver" fork=20
out notasks | grep -q '^fork ok 20$' &&
    pass "without tasks_max the same server starts its 20 children" ||
    fail "without tasks_max" "$(out notasks)"

# --- a limit that cannot be applied ---------------------------------------------
# The configuration bounds tasks_max; the kernel refuses more than an
# int64, which spawnprobe can ask for: the server must not start.
run badtasks -M $MIB64 -T 18446744073709551615 -- "$D/stdioserver" id
spawner=$(sed -n 's/^spawner pid //p' "$D/badtasks.out")
out badtasks | grep -Eq "^failed 1: app probe: cannot apply tasks_max: .*/mcpgated-$spawner/app-probe-1/pids.max: (Numerical result out of range|Invalid argument)$" &&
    ! out badtasks | grep -q '^id ok' && ! out badtasks | grep -q '^started' &&
    [ -z "$(spawner_dirs "$spawner")" ] &&
    pass "a limit the kernel refuses: the server does not start, and says why" ||
    fail "a limit the kernel refuses" "$(out badtasks) $(spawner_dirs "$spawner")"

# --- without root -----------------------------------------------------------------
install -m 0755 "$BIN/mcpgated" "$HELPERS/spawnprobe" "$D/"
echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' | timeout 30 \
    runuser -u "$RUN_AS" -- "$D/spawnprobe" -x "$D/mcpgated" -M $MIB64 \
    -e ASAN_OPTIONS=detect_leaks=0 -- "$D/stdioserver" \
    >"$D/nonroot.out" 2>"$D/nonroot.err"
grep -q "spawner: memory_max and tasks_max cannot be enforced: not running as root$" \
    "$D/nonroot.err" &&
    grep -q "spawner: app probe: memory_max and tasks_max are not enforced (not running as root)$" \
    "$D/nonroot.err" && out nonroot | grep -q '"id":1,"result":{}' &&
    pass "without root the limits are not enforced, the spawner says why, the server runs" ||
    fail "without root" "$(out nonroot) $(cat "$D/nonroot.err")"

# --- through the daemon ----------------------------------------------------------
server_app() {
	cat <<EOF
  - name: $1
    labels: {env: test}
    mcp:
      command: $D/stdioserver
      args: [$2]
      run_as_host_user: $RUN_AS
      env: {ASAN_OPTIONS: detect_leaks=0}
      sandbox: {network: none$3}
EOF
}
{
	printf 'app_service:\n  mcp_demo_server: true\n  apps:\n'
	server_app hog "probes-on-stderr, alloc=256" ", memory_max: 64MiB"
	server_app free "probes-on-stderr, alloc=256" ""
	server_app forks "probes-on-stderr, fork=20" ", tasks_max: 8"
	server_app hold "probes-on-stderr, ignore-eof" \
	    ", memory_max: 64MiB, tasks_max: 16"
} >"$D/apps.yaml"
mg_setup <"$D/apps.yaml"
if ! mg_start; then
	fail "the daemon starts" "see the log"
	exit 0
fi
PW="correct horse battery"
out=$(ctl --format json users add alice --roles mcp-user)
invite_login alice "$out"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"cgroup.sh","version":"1"}}}'

# spawner_pid: the spawner of the running instance.
spawner_pid() {
	local p
	for p in $(pgrep -P "$MG_PID"); do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline | sed 's/ *$//')" = \
		    "mcpgated: spawner" ] && echo "$p"
	done
}
spawner=$(spawner_pid)
[ "$(grep -c "spawner: memory_max and tasks_max: cgroup $MODE" \
    "$MG_DIR/log")" = 1 ] &&
    pass "the daemon's spawner logs what it found, once" ||
    fail "the daemon's spawner logs what it found" "$(head "$MG_DIR/log")"

printf '%s\n' "$INIT" | user_session alice 20 hog >"$D/hog.out" 2>&1
for i in $(seq 1 100); do
	audit_has '.event == "mcp.session.end" and .app == "hog"' && break
	sleep 0.1
done
audit_has '.event == "mcp.session.end" and .app == "hog" and
    .reason == "server_exited" and .server.exit_signal == 9' &&
    pass "a session's server over memory_max: the session ends server_exited, exit_signal 9" ||
    fail "the hog's session end" "$(cat "$MG_DIR"/audit/audit-*.jsonl |
    jq -c 'select(.event == "mcp.session.end" and .app == "hog")')"
grep -Eq "app hog session [^ ]+: out of memory \(memory_max 64MiB\)" \
    "$MG_DIR/log" &&
    pass "and the daemon's log says out of memory (memory_max 64MiB)" ||
    fail "out of memory in the daemon's log" "$(grep hog "$MG_DIR/log")"

# It answers once its 256 MiB are touched, which takes a while.
{ printf '%s\n' "$INIT"; sleep 4; } | user_session alice 20 free \
    >"$D/free.out" 2>&1
grep '"id":0' "$D/free.out" | grep -q '"serverInfo"' &&
    grep -Eq "app free session [^ ]+: alloc ok 256" "$MG_DIR/log" &&
    pass "another session, without the limit, touches 256 MiB and is served" ||
    fail "the session without the limit" \
    "$(cat "$D/free.out") $(grep 'app free' "$MG_DIR/log")"

{ printf '%s\n' "$INIT"; sleep 1; } | user_session alice 20 forks \
    >"$D/forks.out" 2>&1
grep -Eq "app forks session [^ ]+: fork got [1-6] of 20: Resource temporarily unavailable" \
    "$MG_DIR/log" && grep '"id":0' "$D/forks.out" | grep -q '"serverInfo"' &&
    pass "a session's server at tasks_max 8 cannot fork more, and serves" ||
    fail "tasks_max through the daemon" "$(grep 'app forks' "$MG_DIR/log")"

# hold_start: a session of hold, its standard input open on 9 until
# hold_end; sets SESSION.
hold_start() {
	rm -f "$D/hold.in"
	mkfifo "$D/hold.in"
	user_session alice 30 hold <"$D/hold.in" >/dev/null 2>&1 &
	SESSION=$!
	exec 9>"$D/hold.in"
	printf '%s\n' "$INIT" >&9
}
hold_end() {
	exec 9>&-
	kill "$SESSION" 2>/dev/null
	wait "$SESSION" 2>/dev/null
}

# The daemon stops with a limited session open: nothing is left.
hold_start
for i in $(seq 1 60); do
	[ -n "$(spawner_dirs "$spawner")" ] && break
	sleep 0.05
done
held=$(spawner_dirs "$spawner")
mg_stop
hold_end
[ -n "$held" ] && [ "$MG_STATUS" -eq 0 ] &&
    [ -z "$(spawner_dirs "$spawner")" ] &&
    pass "the daemon stops with a limited session open: no cgroup is left" ||
    fail "no cgroup is left when the daemon stops" \
    "held '$held', left '$(spawner_dirs "$spawner")' status $MG_STATUS"

# kill -9 of the parent: the spawner dies with it and cannot clean up;
# the next start removes what it left.
rm -f "$MG_DIR/ctl.sock"
if ! mg_start; then
	fail "the daemon starts again" "see the log"
	exit 0
fi
spawner=$(spawner_pid)
hold_start
for i in $(seq 1 60); do
	[ -n "$(spawner_dirs "$spawner")" ] && break
	sleep 0.05
done
held=$(spawner_dirs "$spawner")
kill -KILL "$MG_PID"
wait "$MG_PID" 2>/dev/null
wait_gone "$spawner" 5
hold_end
pkill -KILL -f "mcpgated -d -f $MG_DIR/" 2>/dev/null
sleep 0.2
stale=$(spawner_dirs "$spawner")
rm -f "$MG_DIR/ctl.sock"
if ! mg_start; then
	fail "the daemon starts after kill -9" "see the log"
	exit 0
fi
# The new spawner cleans up as it starts, maybe after the daemon is ready.
for i in $(seq 1 60); do
	[ -z "$(spawner_dirs "$spawner")" ] && break
	sleep 0.05
done
[ -n "$held" ] && [ -z "$(spawner_dirs "$spawner")" ] &&
    { [ -z "$stale" ] ||
    grep -q "removed .*/mcpgated-$spawner, left by spawner $spawner" \
    "$MG_DIR/log"; } &&
    pass "after kill -9 of the parent, the next start removes the cgroups left (${stale:+left: $(echo "$stale" | wc -l)})" ||
    fail "the cgroups left by kill -9" \
    "held '$(echo $held)' stale '$(echo $stale)' now '$(echo \
    $(spawner_dirs "$spawner"))'; log: $(grep -i cgroup "$MG_DIR/log" |
    tail -n 3 | tr '\n' ' ')"
mg_stop

# What a dead spawner left running in a server's cgroup is killed at the
# next start, and the cgroup removed: a process put there by hand stands
# for it, under the name of a spawner whose pid is gone.
true &
gone=$!
wait "$gone"
sleep 300 &
stray=$!
disown "$stray"		# its death by SIGKILL is the point, not news
ok=1
for b in "${BASES[@]}"; do
	mkdir -p "$b/mcpgated-$gone/app-stray-1" &&
	    echo "$stray" >"$b/mcpgated-$gone/app-stray-1/cgroup.procs" ||
	    ok=0
done
rm -f "$MG_DIR/ctl.sock"
if [ $ok -eq 0 ] || ! mg_start; then
	kill "$stray" 2>/dev/null
	fail "a stale cgroup with a process in it" "cannot set it up, or \
the daemon does not start"
	exit 0
fi
for i in $(seq 1 60); do
	[ -z "$(spawner_dirs "$gone")" ] && break
	sleep 0.05
done
state=$(awk '{print $3}' /proc/"$stray"/stat 2>/dev/null)
[ -z "$(spawner_dirs "$gone")" ] && [ "${state:-Z}" = Z ] &&
    grep -q "killed 1 processes left in .*/mcpgated-$gone by spawner $gone" \
    "$MG_DIR/log" &&
    pass "a process left in a dead spawner's cgroup is killed at the next start, and the cgroup removed" ||
    fail "a process left in a stale cgroup" "state '$state' left \
'$(echo $(spawner_dirs "$gone"))'; log: $(grep -i cgroup "$MG_DIR/log" |
    tail -n 3 | tr '\n' ' ')"
kill -KILL "$stray" 2>/dev/null
for b in "${BASES[@]}"; do
	rmdir "$b/mcpgated-$gone/app-stray-1" "$b/mcpgated-$gone" 2>/dev/null
done
mg_stop
