# The stdio servers' spawner and each server's sandbox, driven through
# the parent's spawner API by spawnprobe (the real spawner, mcpgated -P
# spawner), with tests/integration/stdioserver as the server: its user,
# its PID and network namespaces, its paths, its forbidden calls, its
# environment, its end (grandchildren included, a server that ignores
# SIGTERM), kill -9 of the spawner or of its parent, exec failures, the
# bound on servers, its standard error in the log, the npm reference
# servers in it; and the daemon's own spawner: its sandbox, a session's
# server through the whole gateway (mcpd's relay, the parent, the
# spawner), the daemon stopping with a session open, and that the
# spawner's death stops the daemon.
. "$(dirname "$0")/lib.sh"
need_root "servers run as another user in namespaces of their own"

D=$(mktemp -d /tmp/mgspawn.XXXXXX)
MG_TMPS+=("$D")
chmod 0755 "$D"
install -m 0755 "$HELPERS/stdioserver" "$D/stdioserver"
mkdir -m 0777 "$D/w"
echo hello >"$D/outside"
chmod 0644 "$D/outside"
RUN_AS=nobody
uid=$(id -u "$RUN_AS")
gid=$(id -g "$RUN_AS")
# spawnprobe runs under the parent's seccomp filter (-P), as the parent
# does.  A sanitizer build's stdioserver cannot run LeakSanitizer, which
# needs ptrace, in a server's sandbox: the app's environment turns it off.
PROBE=("$HELPERS/spawnprobe" -x "$BIN/mcpgated" -P
    -e ASAN_OPTIONS=detect_leaks=0)

# run NAME ARGS...: spawnprobe with standard input from /dev/null; its
# output in $D/NAME.out, its log in $D/NAME.err.
run() {
	local name=$1
	shift
	timeout 30 "${PROBE[@]}" "$@" </dev/null >"$D/$name.out" \
	    2>"$D/$name.err"
}

# start NAME ARGS...: spawnprobe in the background, its standard input
# held open on descriptor 7 until finish; sets PROBE_PID and SERVER_PID.
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
}

# finish: the end of its standard input (mcpd closing), and its end.
finish() {
	exec 7>&-
	wait "$PROBE_PID"
}

# out NAME: what that run printed.
out() {
	cat "$D/$1.out"
}

# --- who and where it runs ---------------------------------------------
start id -u "$RUN_AS" -- "$D/stdioserver" id
st=/proc/$SERVER_PID/status
if [ -z "$SERVER_PID" ] || [ ! -r "$st" ]; then
	fail "a server starts" "$(out id) $(cat "$D/id.err")"
else
	pass "a server starts (pid $SERVER_PID)"
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")" = \
	    "$uid $uid $uid $uid" ] &&
	    [ "$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$st")" = \
	    "$gid $gid $gid $gid" ] &&
	    pass "it runs as $RUN_AS (real, effective, saved uid and gid)" ||
	    fail "it runs as $RUN_AS" "$(grep -E '^(Uid|Gid)' "$st")"
	[ "$(awk '/^Groups:/ {print $2, $3}' "$st" | sed 's/ *$//')" = \
	    "$(id -G "$RUN_AS" | tr ' ' '\n' | sort -n | tr '\n' ' ' |
	    sed 's/ *$//')" ] &&
	    pass "its groups are $RUN_AS's, nothing of root's" ||
	    fail "its groups are $RUN_AS's" "$(grep '^Groups' "$st")"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
	    [ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
	    pass "it has no_new_privs and a seccomp filter" ||
	    fail "no_new_privs and seccomp" \
	    "$(grep -E '^(NoNewPrivs|Seccomp):' "$st")"
	[ "$(awk '/^CapEff:/ {print $2}' "$st")" = 0000000000000000 ] &&
	    pass "it has no capabilities" ||
	    fail "it has no capabilities" "$(grep '^CapEff' "$st")"
	[ "$(readlink /proc/"$SERVER_PID"/ns/pid)" != \
	    "$(readlink /proc/self/ns/pid)" ] &&
	    [ "$(awk '/^NSpid:/ {print $3}' "$st")" = 2 ] &&
	    pass "it is pid 2 of a PID namespace of its own, under an init" ||
	    fail "its own PID namespace" "$(grep '^NSpid' "$st")"
	[ "$(readlink /proc/"$SERVER_PID"/ns/net)" = \
	    "$(readlink /proc/self/ns/net)" ] &&
	    pass "network: host shares the host's network namespace" ||
	    fail "network: host" "another network namespace"
fi
finish
out id | grep -q "^id ok uid=$uid euid=$uid gid=$gid pid=2 nonewprivs=1 seccomp=2" &&
    pass "the server sees itself as $RUN_AS, pid 2, sandboxed" ||
    fail "the server sees itself" "$(out id)"
out id | grep -q '^exited 1 status 0 killed 0$' &&
    pass "at the end of its input it exits, status 0, and is reported" ||
    fail "its end is reported" "$(out id)"

# --- network: none ------------------------------------------------------
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(60)' >"$D/port" &
LISTENER=$!
for i in $(seq 1 50); do [ -s "$D/port" ] && break; sleep 0.1; done
port=$(cat "$D/port")
run net-host -u "$RUN_AS" -- "$D/stdioserver" connect="$port"
out net-host | grep -q "^connect ok $port" &&
    pass "network: host reaches a port on the host's loopback" ||
    fail "network: host reaches the host's loopback" "$(out net-host)"
start net-none -u "$RUN_AS" -n -- "$D/stdioserver" connect="$port" \
    connect=1
netns=$(readlink /proc/"$SERVER_PID"/ns/net 2>/dev/null)
finish
out net-none | grep -q "^connect failed: Connection refused" &&
    ! out net-none | grep -q "^connect ok" &&
    pass "network: none cannot reach a port listening outside" ||
    fail "network: none cannot reach outside" "$(out net-none)"
[ -n "$netns" ] && [ "$netns" != "$(readlink /proc/self/ns/net)" ] &&
    pass "network: none is a network namespace of its own" ||
    fail "network: none is a namespace of its own" "'$netns'"
kill "$LISTENER" 2>/dev/null

# --- paths ---------------------------------------------------------------
run paths -u "$RUN_AS" -r /usr -r /lib -r /lib64 -r /etc -w "$D/w" -- \
    "$D/stdioserver" write="$D/w/file" write="$D/escape" \
    read=/etc/hostname read="$D/outside"
out paths | grep -q "^write ok $D/w/file" && [ -f "$D/w/file" ] &&
    pass "it writes beneath writable_paths" ||
    fail "it writes beneath writable_paths" "$(out paths)"
out paths | grep -q "^write failed: $D/escape: Permission denied" &&
    [ ! -e "$D/escape" ] &&
    pass "it cannot write outside writable_paths (a world-writable dir)" ||
    fail "it cannot write outside writable_paths" "$(out paths)"
out paths | grep -q "^read ok /etc/hostname" &&
    out paths | grep -q "^read failed: $D/outside: Permission denied" &&
    pass "it reads read_only_paths and nothing else (a world-readable file)" ||
    fail "it reads only read_only_paths" "$(out paths)"
run nopaths -u "$RUN_AS" -- "$D/stdioserver" read="$D/outside"
out nopaths | grep -q "^read ok $D/outside" &&
    pass "without sandbox paths, what its user may read is visible" ||
    fail "without sandbox paths" "$(out nopaths)"
run badpath -u "$RUN_AS" -r /nonexistent-path -- "$D/stdioserver"
out badpath | grep -q "^failed 1: app probe: landlock: /nonexistent-path: No such file or directory" &&
    pass "a sandbox path that does not exist: a clear failure" ||
    fail "a missing sandbox path" "$(out badpath)"

# --- forbidden calls -----------------------------------------------------
run calls -u "$RUN_AS" -- "$D/stdioserver" ptrace unshare
out calls | grep -q "^ptrace failed: Operation not permitted" &&
    out calls | grep -q "^unshare failed: Operation not permitted" &&
    pass "ptrace and unshare fail with EPERM" ||
    fail "ptrace and unshare fail" "$(out calls)"
run mount -u "$RUN_AS" -- "$D/stdioserver" mount
out mount | grep -q "^mount trying" && ! out mount | grep -q "^mount ok" &&
    out mount | grep -q "^exited 1 signal 31 killed 0" &&
    pass "mount kills the server (SIGSYS), which is reported" ||
    fail "mount kills the server" "$(out mount)"

# --- environment and directory --------------------------------------------
SECRET_SENTINEL=leaked run env -u "$RUN_AS" -e FOO=bar -e LANG=fr_FR.UTF-8 \
    -c /tmp -- "$D/stdioserver" env cwd
vars=$(out env | sed -n 's/^env \([^=]*\)=.*/\1/p' | sort | tr '\n' ' ')
[ "$vars" = "ASAN_OPTIONS FOO HOME LANG LOGNAME PATH USER " ] &&
    out env | grep -q "^env FOO=bar$" &&
    out env | grep -q "^env USER=$RUN_AS$" &&
    [ "$(out env | grep -c '^env LANG=')" = 1 ] &&
    out env | grep -q "^env LANG=fr_FR.UTF-8$" &&
    pass "its environment: PATH HOME USER LOGNAME LANG and the app's, which wins" ||
    fail "its environment" "$vars"
out env | grep -q "^cwd /tmp$" && pass "it runs in the app's cwd" ||
    fail "it runs in the app's cwd" "$(out env)"

# --- its end ---------------------------------------------------------------
mark=gc$$
start gc -u "$RUN_AS" -- "$D/stdioserver" grandchild="$mark"
for i in $(seq 1 40); do
	pgrep -f "stdioserver hang $mark" >/dev/null && break
	sleep 0.05
done
gc=$(pgrep -f "stdioserver hang $mark")
[ -n "$gc" ] && [ "$(awk '/^Uid:/ {print $2}' /proc/"$gc"/status)" = "$uid" ] &&
    pass "a setsid'd grandchild that ignores SIGTERM runs (pid $gc)" ||
    fail "the grandchild runs" "$(out gc)"
finish
sleep 0.2
[ -n "$gc" ] && ! kill -0 "$gc" 2>/dev/null &&
    pass "the grandchild is gone when its session ends" ||
    fail "the grandchild is gone when its session ends" \
    "$(pgrep -af "stdioserver hang $mark")"

start stubborn -u "$RUN_AS" -- "$D/stdioserver" ignore-term ignore-eof
t0=$(ms_now)
finish
ms=$(($(ms_now) - t0))
out stubborn | grep -q "^exited 1 signal 9 killed 1" && [ $ms -ge 4500 ] &&
    [ $ms -lt 8000 ] && ! kill -0 "$SERVER_PID" 2>/dev/null &&
    pass "a server deaf to EOF and SIGTERM is killed after 5 s (${ms} ms)" ||
    fail "a server deaf to EOF and SIGTERM is killed" \
    "${ms} ms: $(out stubborn)"

start term -u "$RUN_AS" -- "$D/stdioserver" ignore-eof
t0=$(ms_now)
finish
ms=$(($(ms_now) - t0))
out term | grep -q "^exited 1 signal 15 killed 0" && [ $ms -ge 1500 ] &&
    [ $ms -lt 4500 ] &&
    pass "a server deaf to EOF ends with SIGTERM after 2 s (${ms} ms)" ||
    fail "a server deaf to EOF ends with SIGTERM" "${ms} ms: $(out term)"

# --- kill -9 of the spawner, and of its parent ---------------------------
start k9 -u "$RUN_AS" -- "$D/stdioserver" grandchild="k$mark"
spawner=$(sed -n 's/^spawner pid //p' "$D/k9.out")
sleep 0.3
gc=$(pgrep -f "stdioserver hang k$mark")
kill -KILL "$spawner"
gone=1
for p in $SERVER_PID $gc; do
	wait_gone "$p" 2 || gone=0
done
[ -n "$gc" ] && [ $gone -eq 1 ] &&
    pass "kill -9 of the spawner: its servers and their children die" ||
    fail "kill -9 of the spawner" "left: $(pgrep -af "k$mark")"
finish 2>/dev/null
grep -q "^spawner lost" "$D/k9.out" &&
    pass "kill -9 of the spawner: its parent hears that it is gone" ||
    fail "its parent hears that the spawner is gone" "$(out k9)"

start p9 -u "$RUN_AS" -- "$D/stdioserver" grandchild="p$mark"
spawner=$(sed -n 's/^spawner pid //p' "$D/p9.out")
sleep 0.3
gc=$(pgrep -f "stdioserver hang p$mark")
kill -KILL "$(pgrep -P "$PROBE_PID" -x spawnprobe)"	# not timeout
gone=1
for p in $spawner $SERVER_PID $gc; do
	wait_gone "$p" 2 || gone=0
done
[ -n "$gc" ] && [ $gone -eq 1 ] &&
    pass "kill -9 of the spawner's parent: nothing is left" ||
    fail "kill -9 of the spawner's parent" \
    "left: $(ps -o pid,cmd -p "$spawner,$SERVER_PID,$gc" | tail -n +2)"
exec 7>&-
wait "$PROBE_PID" 2>/dev/null

# The daemon stops: the spawner's channel closes, and it kills and reaps
# every server before it exits, and the parent waits for that.
run stopall -u "$RUN_AS" -E -N 2 -- "$D/stdioserver" ignore-term ignore-eof \
    grandchild="e$mark"
left=$(pgrep -f "stdioserver.*e$mark" | tr '\n' ' ')
spawner=$(sed -n 's/^spawner pid //p' "$D/stopall.out")
[ "$(grep -c '^started' "$D/stopall.out")" = 2 ] &&
    grep -q "^all stopped$" "$D/stopall.out" && [ -z "$left" ] &&
    ! kill -0 "$spawner" 2>/dev/null &&
    pass "when the daemon stops, every server is gone before it exits" ||
    fail "when the daemon stops, every server is gone" \
    "left: '$left' $(out stopall)"

# --- failures ---------------------------------------------------------------
run noexec -u "$RUN_AS" -- "$D/missing-server"
out noexec | grep -q "^failed 1: app probe: exec $D/missing-server: No such file or directory$" &&
    grep -q "cannot start: exec $D/missing-server: No such file" "$D/noexec.err" &&
    pass "an exec failure reaches the parent with errno's text" ||
    fail "an exec failure" "$(out noexec) $(cat "$D/noexec.err")"
chmod 0700 "$D/w"
run noperm -u "$RUN_AS" -c "$D/w" -- "$D/stdioserver"
chmod 0777 "$D/w"
out noperm | grep -q "^failed 1: app probe: cwd $D/w: Permission denied$" &&
    pass "a cwd the user cannot enter: a clear failure" ||
    fail "a cwd the user cannot enter" "$(out noperm)"
run root -u root -- "$D/stdioserver"
out root | grep -q "^failed 1: app probe: run_as user root is root; a server never runs as root$" &&
    pass "run_as root is refused" || fail "run_as root is refused" "$(out root)"
run nouser -u no-such-user-$$ -- "$D/stdioserver"
out nouser | grep -q "^failed 1: app probe: run_as user no-such-user-$$ does not exist$" &&
    pass "an unknown run_as user is refused" ||
    fail "an unknown run_as user is refused" "$(out nouser)"
run bound -u "$RUN_AS" -m 2 -N 3 -- "$D/stdioserver"
[ "$(grep -c '^started' "$D/bound.out")" = 2 ] &&
    grep -q "^failed 3: the gateway runs too many servers; try again later$" \
    "$D/bound.out" &&
    grep -q "refused, 2 servers run (limits.max_connections)" "$D/bound.err" &&
    pass "at most max_connections servers at once" ||
    fail "at most max_connections servers at once" "$(out bound)"

# --- its standard error ------------------------------------------------------
run stderr -u "$RUN_AS" -- "$D/stdioserver" stderr=100 exit=3
logged=$(grep -c "app probe session s1: stderr line" "$D/stderr.err")
grep -q "app probe session s1: stderr line 0$" "$D/stderr.err" &&
    grep -Eq "app probe session s1: [0-9]+ lines dropped" "$D/stderr.err" &&
    [ "$logged" -lt 100 ] &&
    pass "its standard error is logged prefixed, rate-limited ($logged lines logged)" ||
    fail "its standard error is logged and rate-limited" \
    "$(head -n 5 "$D/stderr.err")"
grep -q "app probe session s1: server exited with status 3" "$D/stderr.err" &&
    grep -q "app probe session s1: | stderr line 99$" "$D/stderr.err" &&
    grep -q "its last 10 lines of standard error" "$D/stderr.err" &&
    pass "when it fails, its status and last lines are logged" ||
    fail "its status and last lines" "$(tail -n 5 "$D/stderr.err")"

# --- the npm reference servers, in a sandbox with paths -------------------
NM=$TOP/tests/peers/node_modules
EVERYTHING=$NM/@modelcontextprotocol/server-everything/dist/index.js
FILESYSTEM=$NM/@modelcontextprotocol/server-filesystem/dist/index.js
NODE=$(command -v node)
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"spawn.sh","version":"1"}}}'
if [ -z "$NODE" ]; then
	skip "the reference servers" "node is not installed (make deps installs it)"
elif [ ! -f "$EVERYTHING" ] || [ ! -f "$FILESYSTEM" ]; then
	skip "the reference servers" "they are not installed (make peers installs them)"
else
	# node and the servers' files, read-only; nothing else.
	RO=(-r /usr -r /lib -r /etc -r "$NM" -r "$(readlink -f "$NODE")")
	[ -d /lib64 ] && RO+=(-r /lib64)
	(printf '%s\n' "$INIT" '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"sandboxed"}}}'
	    sleep 3) | timeout 30 "${PROBE[@]}" -u "$RUN_AS" -n "${RO[@]}" -- \
	    "$NODE" "$EVERYTHING" stdio >"$D/everything.out" 2>"$D/everything.err"
	grep -q '"text":"Echo: sandboxed"' "$D/everything.out" &&
	    grep -q '^exited 1 status 0 killed 0' "$D/everything.out" &&
	    pass "server-everything answers tools/call echo from its sandbox" ||
	    fail "server-everything in its sandbox" \
	    "$(out everything | cut -c1-200) $(tail -n 3 "$D/everything.err")"
	mkdir -m 0777 "$D/fs" "$D/fs/data"
	write='{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"write_file","arguments":{"path":"%s","content":"x"}}}'
	# It may write where it likes beneath $D/fs; the sandbox lets it
	# write beneath $D/fs/data only.
	(printf '%s\n' "$INIT"
	    printf "$write\n" 2 "$D/fs/data/in.txt" 3 "$D/fs/out.txt"
	    sleep 3) | timeout 30 "${PROBE[@]}" -u "$RUN_AS" -n "${RO[@]}" \
	    -r "$D/fs" -w "$D/fs/data" -- "$NODE" "$FILESYSTEM" "$D/fs" \
	    >"$D/filesystem.out" 2>"$D/filesystem.err"
	[ -f "$D/fs/data/in.txt" ] && [ ! -e "$D/fs/out.txt" ] &&
	    grep '"id":3' "$D/filesystem.out" | grep -q 'EACCES\|permission denied' &&
	    pass "server-filesystem writes beneath writable_paths only, whatever it allows itself" ||
	    fail "server-filesystem in its sandbox" \
	    "$(out filesystem | cut -c1-300)"
fi

# --- without root ------------------------------------------------------------
install -m 0755 "$BIN/mcpgated" "$HELPERS/spawnprobe" "$D/"
echo '{"jsonrpc":"2.0","id":1,"method":"ping"}' | timeout 30 \
    runuser -u "$RUN_AS" -- "$D/spawnprobe" -x "$D/mcpgated" -n \
    -e ASAN_OPTIONS=detect_leaks=0 -- \
    "$D/stdioserver" id >"$D/nonroot.out" 2>"$D/nonroot.err"
out nonroot | grep -q "^id ok uid=$uid euid=$uid gid=$gid pid=2 nonewprivs=1 seccomp=2 .* uidmap=$uid:$uid:1$" &&
    out nonroot | grep -q '"id":1,"result":{}' &&
    grep -q "spawner: not running as root: servers run as this user, in a user namespace" \
    "$D/nonroot.err" &&
    pass "without root: the server runs as the daemon's user, mapped in a user namespace" ||
    fail "without root" "$(out nonroot) $(cat "$D/nonroot.err")"

# --- the daemon's spawner, and a session's server through it -------------
PW="correct horse battery"
mg_setup <<EOF
app_service:
  mcp_demo_server: true
  apps:
  - name: probe
    labels: {env: test}
    mcp:
      command: $D/stdioserver
      args: [probes-on-stderr, "grandchild=d$mark", ignore-term]
      run_as_host_user: $RUN_AS
      sandbox:
        network: none
EOF
if ! mg_start; then
	fail "daemon starts" "see the log"
	exit 0
fi

# spawner_pid: the spawner of the running instance.
spawner_pid() {
	local p
	for p in $(pgrep -P "$MG_PID"); do
		[ "$(tr '\0' ' ' </proc/"$p"/cmdline | sed 's/ *$//')" = \
		    "mcpgated: spawner" ] && echo "$p"
	done
}

# server_pid: the probe app's server, once it runs.
server_pid() {
	local i p
	for i in $(seq 1 60); do
		p=$(pgrep -f "^$D/stdioserver probes-on-stderr grandchild=d$mark")
		[ -n "$p" ] && { echo "$p"; return; }
		sleep 0.05
	done
}

spawner=$(spawner_pid)
st=/proc/$spawner/status
if [ -z "$spawner" ]; then
	fail "the daemon starts a spawner" "$(pgrep -a -P "$MG_PID")"
else
	pass "the daemon starts a spawner (pid $spawner)"
	[ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")" = "0 0 0 0" ] &&
	    [ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
	    [ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
	    [ "$(readlink /proc/"$spawner"/root)" = / ] &&
	    pass "the spawner: root, unchrooted, no_new_privs, seccomp" ||
	    fail "the spawner's sandbox" \
	    "$(grep -E '^(Uid|NoNewPrivs|Seccomp):' "$st")"
	# One filter, its own: none inherited from the parent's sandbox.
	[ "$(awk '/^Seccomp_filters:/ {print $2}' "$st")" = 1 ] &&
	    [ "$(awk '/^Seccomp:/ {print $2}' /proc/"$MG_PID"/status)" = 2 ] &&
	    pass "the spawner holds its own filter only, not the parent's" ||
	    fail "the spawner holds its own filter only" \
	    "$(grep -E '^Seccomp' "$st")"
fi

out=$(ctl --format json users add alice --roles mcp-user)
invite_login alice "$out"
INIT='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"spawn.sh","version":"1"}}}'
CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"through the gateway"}}}'
{ printf '%s\n' "$INIT" '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    "$CALL"; sleep 3; } | user_session alice 20 probe >"$D/e2e.out" 2>&1 &
SESSION=$!
srv=$(server_pid)
sleep 0.5
gc=$(pgrep -f "stdioserver hang d$mark")
init=$(awk '/^PPid:/ {print $2}' /proc/"$srv"/status 2>/dev/null)
[ -n "$srv" ] && [ -n "$init" ] &&
    [ "$(awk '/^PPid:/ {print $2}' /proc/"$init"/status)" = "$spawner" ] &&
    [ "$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/"$srv"/status)" = \
    "$uid $uid $uid $uid" ] &&
    [ "$(awk '/^NSpid:/ {print $3}' /proc/"$srv"/status)" = 2 ] &&
    [ "$(readlink /proc/"$srv"/ns/net)" != "$(readlink /proc/self/ns/net)" ] &&
    pass "a session's server: the spawner's, as $RUN_AS, pid 2 of its namespace, network none" ||
    fail "a session's server through the daemon" \
    "srv '$srv' init '$init': $(tail -n 5 "$MG_DIR/log")"
wait "$SESSION"
grep '"id":1' "$D/e2e.out" | grep -q '"text":"through the gateway"' &&
    pass "tools/call echo goes to the server and back through mcpd" ||
    fail "tools/call echo through the gateway" "$(cat "$D/e2e.out")"
gone=1
for p in $srv $gc; do
	wait_gone "$p" 5 || gone=0
done
[ -n "$gc" ] && [ $gone -eq 1 ] &&
    pass "at the session's end its server and a setsid'd grandchild are gone" ||
    fail "at the session's end its server is gone" \
    "left: $(pgrep -af "d$mark")"
grep -q "app probe session [0-9a-zA-Z_-]*: grandchild ok d$mark" \
    "$MG_DIR/log" &&
    grep -q "app probe session [0-9a-zA-Z_-]*: server started (pid $srv)" \
    "$MG_DIR/log" &&
    pass "the server's start and standard error are in the daemon's log" ||
    fail "the server's log lines" "$(grep 'app probe' "$MG_DIR/log" | head)"

# The daemon stops with a session open: its server is gone by the time
# the daemon has exited.
{ printf '%s\n' "$INIT"; sleep 20; } | user_session alice 30 probe \
    >/dev/null 2>&1 &
SESSION=$!
srv=$(server_pid)
sleep 0.3
gc=$(pgrep -f "stdioserver hang d$mark")
mg_stop
left=
for p in $srv $gc; do
	kill -0 "$p" 2>/dev/null && left="$left $p"
done
[ -n "$srv" ] && [ -n "$gc" ] && [ "$MG_STATUS" -eq 0 ] && [ -z "$left" ] &&
    pass "the daemon stops with a session open: its server is gone, status 0" ||
    fail "the daemon stops with a session open" \
    "srv '$srv' gc '$gc' status $MG_STATUS left '$left'"
kill "$SESSION" 2>/dev/null
wait "$SESSION" 2>/dev/null

rm -f "$MG_DIR/ctl.sock"
if ! mg_start; then
	fail "the daemon starts again" "see the log"
	exit 0
fi
spawner=$(spawner_pid)
kill -KILL "$spawner"
wait "$MG_PID"
status=$?
[ -n "$spawner" ] && [ $status -eq 1 ] &&
    grep -q "spawner (pid $spawner) terminated by signal 9" \
    "$MG_DIR/log" && grep -q "stopping: spawner is gone" "$MG_DIR/log" &&
    pass "kill -9 of the spawner stops the daemon, status 1" ||
    fail "kill -9 of the spawner stops the daemon" \
    "status $status: $(tail -n 3 "$MG_DIR/log")"
