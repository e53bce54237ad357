# mcpgated configure and mcpgated install systemd: the configuration
# written, alone and with each option, is what mcpgated -n accepts as it
# is; -o writes 0644 atomically and replaces an edited file only with --force;
# bad options are refused with what is wrong.  The unit is the one that
# make builds, systemd-analyze verifies it, its exposure score is the one
# mcpgated(8) prints, its system call filter denies nothing the daemon's
# own allow-lists allow; and the daemon, from a configuration that
# configure wrote, serves a session of a stdio app on Node under the
# unit's restrictions applied by hand (its capability bounding set, no
# new privileges, and a read-only file system but for its directories).
. "$(dirname "$0")/lib.sh"

T=$(mktemp -d /tmp/mgconfigure.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
D=$BIN/mcpgated
# MG_UNIT: another unit to try, a directive changed.
UNIT=${MG_UNIT:-$(dirname "$HELPERS")/mcpgated.service}
PW="correct horse battery"

# configured NAME ARGS...: configure's output with ARGS, checked by -n.
configured() {
	local name=$1 out
	shift
	if ! "$D" configure "$@" >"$T/c.conf" 2>"$T/c.err"; then
		fail "$name" "configure: $(head -n 2 "$T/c.err" | tr '\n' ' ')"
		return
	fi
	if out=$("$D" -n -f "$T/c.conf" 2>&1) &&
	    [ "$out" = "configuration OK" ]; then
		pass "$name: mcpgated -n accepts it as it is"
	else
		fail "$name" "mcpgated -n: $(echo "$out" | head -n 3 |
		    tr '\n' ' ')"
	fi
}

# refused NAME WANT ARGS...: configure fails with status 1 and says WANT.
refused() {
	local name=$1 want=$2 rc
	shift 2
	"$D" configure "$@" >"$T/r.out" 2>"$T/r.err"
	rc=$?
	if [ "$rc" -eq 1 ] && [ ! -s "$T/r.out" ] &&
	    grep -qF -- "$want" "$T/r.err"; then
		pass "refused: $name"
	else
		fail "refused: $name" \
		    "status $rc, said: $(head -n 1 "$T/r.err")"
	fi
}

# --- the configuration ------------------------------------------------------
APP_USER=nobody
getent passwd "$APP_USER" >/dev/null || APP_USER=$(id -un)
configured "no options"
grep -q '^  mcp_demo_server: false$' "$T/c.conf" &&
    grep -q '^  listen_addr: 127.0.0.1:3080$' "$T/c.conf" &&
    grep -q '^  state_dir: /var/lib/mcpgate$' "$T/c.conf" &&
    pass "the defaults are spelled out" ||
    fail "the defaults are spelled out" "$(grep -c . "$T/c.conf") lines"
configured "--name" --name gw-1.example
grep -q '^  name: gw-1.example$' "$T/c.conf" && pass "--name is set" ||
    fail "--name is set" "$(grep '^  name:' "$T/c.conf")"
configured "--listen IPv6" --listen '[::1]:3443'
grep -q '^  listen_addr: "\[::1\]:3443"$' "$T/c.conf" &&
    pass "--listen is set, quoted" ||
    fail "--listen is set" "$(grep listen_addr "$T/c.conf")"
configured "--mcp-demo-server" --mcp-demo-server
grep -q '^  mcp_demo_server: true$' "$T/c.conf" &&
    pass "--mcp-demo-server is set" || fail "--mcp-demo-server" "not true"
configured "--app and --run-as" --app 'shell=/bin/sh -c  "exit 0"' \
    --app "cat=/bin/cat" --run-as "$APP_USER"
grep -A3 -- '- name: shell' "$T/c.conf" | grep -qF \
    'args: ["-c", "\"exit", "0\""]' &&
    pass "--app: the command split on spaces" ||
    fail "--app: split" "$(grep -A3 -- '- name: shell' "$T/c.conf" |
    tr '\n' ' ')"
configured "every option" --name gw --listen 127.0.0.1:4443 \
    --mcp-demo-server --app "cat=/bin/cat -u" --run-as "$APP_USER"

refused "an unknown option" "unrecognized option" --bogus
refused "an argument" "usage:" extra
refused "a bad --listen" "not a numeric host:port" --listen localhost:80
refused "a bad --name" "--name" --name 'a b'
refused "a relative command" "absolute path" --app x=node --run-as nobody
refused "a missing command" "No such file" --app x=/nonexistent/cmd \
    --run-as "$APP_USER"
refused "--app without --run-as" "needs --run-as" --app x=/bin/cat
refused "--run-as without --app" "give an --app" --run-as "$APP_USER"
refused "--run-as root" "uid 0" --app x=/bin/cat --run-as root
refused "an app given twice" "given twice" --app x=/bin/cat \
    --app x=/bin/sh --run-as "$APP_USER"
refused "a bad app name" "lowercase" --app X=/bin/cat --run-as "$APP_USER"

# -o: 0644, atomically, replaced only with --force when edited.
F=$T/out/mcpgated.conf
mkdir -m 0755 "$T/out"
if "$D" configure -o "$F" --name first 2>"$T/o.err" &&
    [ "$(stat -c %a "$F")" = 644 ] && grep -q '^  name: first$' "$F"; then
	pass "-o writes the file, mode 0644"
else
	fail "-o writes the file" "$(cat "$T/o.err") $(stat -c %a "$F")"
fi
if "$D" configure -o "$F" --name second 2>"$T/o.err"; then
	fail "-o refuses to replace a file" "exit 0"
elif grep -q "exists and differs from the defaults: give --force" \
    "$T/o.err" &&
    grep -q '^  name: first$' "$F"; then
	pass "-o refuses to replace a file without --force, and leaves it"
else
	fail "-o refuses to replace a file" "$(cat "$T/o.err")"
fi
if "$D" configure --force --output "$F" --name second 2>"$T/o.err" &&
    grep -q '^  name: second$' "$F" && [ "$(stat -c %a "$F")" = 644 ]; then
	pass "--force replaces it"
else
	fail "--force replaces it" "$(cat "$T/o.err")"
fi
# A file that is configure's defaults, as the package ships it, loses
# nothing: replaced without --force; one edit, and it is kept.
"$D" configure >"$T/out/pristine.conf"
"$D" configure >"$T/out/edited.conf"
echo "# an edit" >>"$T/out/edited.conf"
if "$D" configure -o "$T/out/pristine.conf" --mcp-demo-server \
    2>"$T/o.err" && grep -q '^  mcp_demo_server: true$' \
    "$T/out/pristine.conf" &&
    ! "$D" configure -o "$T/out/edited.conf" --mcp-demo-server \
    2>/dev/null && grep -q '^# an edit$' "$T/out/edited.conf"; then
	pass "-o replaces a file of the defaults without --force, not an edited one"
else
	fail "-o and a file of the defaults" "$(cat "$T/o.err")"
fi
rm -f "$T/out/pristine.conf" "$T/out/edited.conf"
n=$(find "$T/out" -type f | wc -l)
[ "$n" -eq 1 ] && pass "no temporary file left behind" ||
    fail "no temporary file left" "$(ls "$T/out" | tr '\n' ' ')"

# --- the unit ---------------------------------------------------------------
if "$D" install systemd | cmp -s - "$UNIT"; then
	pass "install systemd prints the unit make built ($UNIT)"
else
	fail "install systemd prints the unit make built" \
	    "$("$D" install systemd | diff - "$UNIT" | head -n 3 | tr '\n' ' ')"
fi
grep -qx "ExecStart=.*/sbin/mcpgated -d -f .*/mcpgated.conf" "$UNIT" &&
    grep -qx "ExecReload=.*/sbin/mcpgatectl -c .*/mcpgated.conf reload" \
    "$UNIT" && grep -qx "Restart=on-failure" "$UNIT" &&
    grep -qx "Delegate=yes" "$UNIT" &&
    pass "ExecStart -d, ExecReload mcpgatectl reload, Restart, Delegate" ||
    fail "the unit's service lines" "$(grep '^Exec' "$UNIT" | tr '\n' ' ')"
"$D" install systemd -o "$T/out/mcpgated.service" &&
    cmp -s "$T/out/mcpgated.service" "$UNIT" &&
    "$D" install systemd -o "$T/out/mcpgated.service" &&
    echo "# an edit" >>"$T/out/mcpgated.service" &&
    ! "$D" install systemd -o "$T/out/mcpgated.service" 2>/dev/null &&
    grep -q '^# an edit$' "$T/out/mcpgated.service" &&
    "$D" install systemd --force -o "$T/out/mcpgated.service" &&
    cmp -s "$T/out/mcpgated.service" "$UNIT" &&
    pass "install systemd -o writes it, and replaces an edited one only with --force" ||
    fail "install systemd -o" "see $T/out"
"$D" install systemd --bogus >/dev/null 2>&1
rc=$?
[ "$rc" -eq 1 ] && pass "install: a bad option is status 1" ||
    fail "install: a bad option" "status $rc"
"$D" install upstart >/dev/null 2>"$T/i.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "usage: mcpgated install systemd" "$T/i.err" &&
    pass "install: only systemd, else the usage and status 1" ||
    fail "install upstart" "status $rc"

# The unit's directives, continuation lines joined.
unit_value() {
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$UNIT" |
	    sed -n "s/^$1=//p"
}

if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify" \
	    "no systemd-analyze (apt-get install systemd)"
else
	# As installed: here the programs are those of $BIN.
	mkdir -m 0755 "$T/unit"
	sed -e "s|^ExecStart=[^ ]*/mcpgated |ExecStart=$BIN/mcpgated |" \
	    -e "s|^ExecReload=[^ ]*/mcpgatectl |ExecReload=$BIN/mcpgatectl |" \
	    "$UNIT" >"$T/unit/mcpgated.service"
	if out=$(systemd-analyze verify --man=no \
	    "$T/unit/mcpgated.service" 2>&1) && [ -z "$out" ]; then
		pass "systemd-analyze verify: no complaint"
	else
		fail "systemd-analyze verify" "$(echo "$out" | head -n 3 |
		    tr '\n' ' ')"
	fi
	score=$(systemd-analyze security --offline=yes \
	    "$T/unit/mcpgated.service" 2>/dev/null |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$score" ] && grep -q "exposure level of $score\b" \
	    "$TOP/man/mcpgated.8"; then
		pass "exposure score $score, as mcpgated(8) says"
	else
		fail "exposure score" "${score:-none}; mcpgated(8) says \
		    $(grep -o 'exposure level of [0-9.]*' "$TOP/man/mcpgated.8")"
	fi
	# What SystemCallFilter= denies, against every allow-list of the
	# daemon's processes (but what the sanitizers alone need).
	allowed=$(cat "$TOP"/privsep/*.c "$TOP"/common/*.c "$TOP"/netd/*.c \
	    "$TOP"/mcpd/*.c "$TOP"/auditd/*.c |
	    awk '/^#ifdef MCPGATE_SANITIZE/ {s = 1} /^#endif/ {s = 0} !s' |
	    grep -o 'SB_SYSCALL\(_ARG\)\?([a-z0-9_]*' | sed 's/.*(//' |
	    sort -u)
	denied=$(for g in $(unit_value SystemCallFilter | tr -d '~'); do
		systemd-analyze syscall-filter "$g" | grep -v '^ *#' |
		    grep -v '^@' | sed 's/^ *//' | grep .
	done | sort -u)
	both=$(comm -12 <(echo "$allowed") <(echo "$denied") | tr '\n' ' ')
	if [ "$(echo "$allowed" | wc -l)" -gt 50 ] &&
	    [ "$(echo "$denied" | wc -l)" -gt 20 ] && [ -z "$both" ]; then
		pass "SystemCallFilter denies none of the $(echo "$allowed" |
		    wc -l) calls the daemon's processes allow themselves"
	else
		fail "SystemCallFilter against the allow-lists" \
		    "both: ${both:-?}"
	fi
fi

# --- the daemon under the unit's restrictions -------------------------------
PEERS=$TOP/tests/peers
EV=$PEERS/node_modules/@modelcontextprotocol/server-everything/dist/index.js
if [ "$(id -u)" -ne 0 ]; then
	skip "a session under the unit's restrictions" "needs root"
	exit 0
fi
if ! command -v node >/dev/null || [ ! -f "$EV" ] ||
    ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
	skip "a session under the unit's restrictions" \
	    "needs node, make peers, setpriv and unshare"
	exit 0
fi
# The server runs as nobody, who may not reach the checkout: a copy.
cp -a "$PEERS/node_modules" "$T/node_modules"
NODE=$(command -v node)
share_bin
BIN=$SHARED_BIN
EVCMD="$NODE $T/node_modules/@modelcontextprotocol/server-everything"
EVCMD="$EVCMD/dist/index.js stdio"
"$BIN/mcpgated" configure --listen 127.0.0.1:0 --app "everything=$EVCMD" \
    --app "offline=$EVCMD" --run-as nobody -o "$T/configured.conf" ||
    { fail "configure for the session" "see above"; exit 0; }
MG_DIR=$(mktemp -d /tmp/mgtest.XXXXXX)
MG_TMPS+=("$MG_DIR")
chmod 0755 "$MG_DIR"
mkdir -m 0755 "$MG_DIR/empty"
MG_CONF=$MG_DIR/mcpgated.conf
# The paths of this test, and a network namespace for the app offline
# (network: none, which the loopback needs CAP_NET_ADMIN for); the rest
# as configure wrote it.
sed -e '/- name: offline/,/run_as_host_user/{/run_as_host_user/a\
      sandbox: {network: none}
}' -e "s|^  chroot: .*|  chroot: $MG_DIR/empty|" \
    -e "s|^  state_dir: .*|  state_dir: $MG_DIR/state|" \
    -e "s|^  control_socket: .*|  control_socket: $MG_DIR/ctl.sock|" \
    -e "s|^  dir: /var/log/mcpgate|  dir: $MG_DIR/audit|" \
    "$T/configured.conf" >"$MG_CONF"

# The restrictions systemd would apply that can be applied by hand:
# CapabilityBoundingSet and NoNewPrivileges with setpriv; in a mount
# namespace of its own, ProtectSystem=strict and ProtectHome=read-only
# (every mount read-only but /dev, /proc, /sys and the daemon's
# directories, here all in $MG_DIR) and ProtectKernelTunables (/proc/sys
# and /sys read-only).  Not by hand: PrivateTmp and PrivateDevices (the
# test's directories are in /tmp), the seccomp filters of
# RestrictAddressFamilies, RestrictNamespaces and SystemCallFilter, and
# the unit's own cgroup.
bset=-all
for c in $(unit_value CapabilityBoundingSet); do
	c=${c#CAP_}
	bset="$bset,+${c,,}"
done
nnp=
[ "$(unit_value NoNewPrivileges)" = yes ] && nnp=--no-new-privs
cat >"$T/harden.sh" <<EOF
#!/bin/sh
set -e
mount --bind "$MG_DIR" "$MG_DIR"
mount --bind /proc/sys /proc/sys
mount -o remount,bind,ro /proc/sys
mount -o remount,bind,ro /sys 2>/dev/null || true
awk '{print \$5}' /proc/self/mountinfo | while read -r m; do
	case "\$m" in
	/dev|/dev/*|/proc|/proc/*|/sys|/sys/*|"$MG_DIR") continue;;
	esac
	mount -o remount,bind,ro "\$m" 2>/dev/null || true
done
exec setpriv --bounding-set $bset $nnp -- "\$@"
EOF
chmod 0755 "$T/harden.sh"
MG_PREFIX=(unshare -m --propagation private -- "$T/harden.sh")
mg_start || { fail "the daemon starts under the restrictions" \
    "$(tail -n 5 "$MG_DIR/log" | tr '\n' ' ')"; exit 0; }
pass "the daemon starts under the restrictions"

st=/proc/$MG_PID/status
want=$(setpriv --bounding-set "$bset" -- grep CapBnd /proc/self/status)
[ "$(grep CapBnd "$st")" = "$want" ] &&
    { [ -z "$nnp" ] || grep -q '^NoNewPrivs:[[:space:]]*1' "$st"; } &&
    pass "its bounding set is the unit's, with no new privileges" ||
    fail "the restrictions applied" "$(grep 'CapBnd\|NoNewPrivs' "$st" |
    tr '\n' ' ') want $want"
awk '$5 == "/" {print $6}' "/proc/$MG_PID/mountinfo" | grep -q '^ro' &&
    pass "and / is read-only for it" ||
    fail "/ read-only" "$(awk '$5 == "/"' "/proc/$MG_PID/mountinfo")"

INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}'
INITED='{"jsonrpc":"2.0","method":"notifications/initialized"}'
CALL='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"message":"hardened"}}}'
if invite_login ann "$(ctl --format json users add ann --roles mcp-user)"
then
	pass "a user logs in"
else
	fail "a user logs in" "$(tail -n 3 "$MG_DIR/log" | tr '\n' ' ')"
fi
# session APP: initialize, and echo's answer.
session() {
	{
		for l in "$INIT" "$INITED" "$CALL"; do
			printf '%s\n' "$l"
			sleep 0.5
		done
		sleep 3
	} | user_session ann 20 "$1" >"$T/$1.out" 2>&1
	if has '.id == 2 and (.result.content[0].text | test("hardened"))' \
	    <"$T/$1.out"; then
		pass "a session of server-everything on Node as $1: \
tools/call echo answered"
	else
		fail "a session of server-everything as $1" \
		    "$(tail -c 300 "$T/$1.out") $(grep -i "$1\|error" \
		    "$MG_DIR/log" | tail -n 3 | tr '\n' ' ')"
	fi
}
session everything
session offline
session_ended() {
	audit_has '.event == "mcp.session.end" and .app == "everything" and
	    .server.exit_status == 0'
}
wait_for 10 session_ended &&
    pass "and the session's end is in the audit log, the server's exit 0" ||
    fail "the session's end record" "$(cat "$MG_DIR"/audit/*.jsonl |
    jq -c 'select(.app == "everything")' | tail -n 1 | cut -c1-300)"
ctl reload >/dev/null && pass "mcpgatectl reload (ExecReload) works there" ||
    fail "mcpgatectl reload" "$(tail -n 3 "$MG_DIR/log" | tr '\n' ' ')"
mg_stop
[ "$MG_STATUS" -eq 0 ] && pass "and it stops cleanly on SIGTERM" ||
    fail "stops on SIGTERM" "status $MG_STATUS"
