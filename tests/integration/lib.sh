# Shared by the integration tests: start real mcpgated instances in
# temporary directories on ephemeral loopback ports, talk to them, stop
# them, and report one PASS, FAIL or SKIP line per check.
#
# BIN (the programs), HELPERS (test helpers such as tlsprobe) and TOP (the
# source tree) come from tests/run.

: "${BIN:?}" "${HELPERS:?}" "${TOP:?}"
SUITE=${SUITE:-$(basename "$0" .sh)}
MG_INSTANCES=()
MG_TMPS=()

pass() { echo "PASS $SUITE: $1"; }
fail() { echo "FAIL $SUITE: $1: $2"; }
skip() { echo "SKIP $SUITE: $1: $2"; }

# check NAME COMMAND...: pass when the command succeeds.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# need_root WHY: a script whose checks need root says SKIP and why, once,
# when run by another user, and stops.  The scripts that do not call it
# run as any user: the daemon then skips chroot and the user switch.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "every check" \
		    "needs root: ${1:-the daemon chroots and switches users}"
		exit 0
	fi
}

# share_bin: copy the programs of $BIN to a fresh directory that every
# user can reach, and set SHARED_BIN to it, for the checks that run them as
# another user.  The checkout may lie where that user cannot go (a clone
# under /root, or in a 0700 directory from mktemp -d), and the daemon
# re-executes itself through /proc/self/exe, so it must be a copy, not a
# link.  Call it in the script itself, not in a $(...): the directory is
# removed at exit.
share_bin() {
	local d p
	[ -n "${SHARED_BIN:-}" ] && return 0
	d=$(mktemp -d /tmp/mgbin.XXXXXX) || return 1
	MG_TMPS+=("$d")
	chmod 0755 "$d"
	for p in mcpgated mcpgatectl mcpgate; do
		install -m 0755 "$BIN/$p" "$d/$p" || return 1
	done
	SHARED_BIN=$d
}

# as_user USER PROGRAM ARGS...: run mcpgated, mcpgatectl or mcpgate as
# USER, from the copy share_bin made.
as_user() {
	local u=$1 p=$2
	shift 2
	: "${SHARED_BIN:?as_user needs share_bin first}"
	runuser -u "$u" -- "$SHARED_BIN/$p" "$@"
}

cleanup() {
	local p d
	for p in "${MG_INSTANCES[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	for d in "${MG_TMPS[@]}"; do
		# Only this run's daemons: other runs may share the machine.
		pkill -KILL -f "mcpgated -d -f $d/" 2>/dev/null
		umount "$d/audit" 2>/dev/null
		rm -rf "$d"
	done
}
trap cleanup EXIT

# mg_setup: a fresh directory with a configuration; extra YAML on stdin
# is appended (sections not already written: app_service, limits).  The
# demo server is on unless the extra YAML has an app_service section.
# Sets MG_DIR and MG_CONF.
mg_setup() {
	MG_DIR=$(mktemp -d /tmp/mgtest.XXXXXX)
	MG_TMPS+=("$MG_DIR")
	chmod 0755 "$MG_DIR"
	mkdir -m 0755 "$MG_DIR/empty"
	MG_CONF=$MG_DIR/mcpgated.conf
	cat >"$MG_CONF" <<EOF
version: v1
mcpgated:
  chroot: $MG_DIR/empty
  state_dir: $MG_DIR/state
  control_socket: $MG_DIR/ctl.sock
  log_level: ${MG_LOG_LEVEL:-info}
proxy_service:
  listen_addr: ${MG_LISTEN:-127.0.0.1:0}
audit:
  dir: $MG_DIR/audit
  fsync: ${MG_FSYNC:-always}
  max_file_size: ${MG_MAX_FILE:-64MiB}
EOF
	local extra=
	[ -t 0 ] || extra=$(cat)
	printf '%s\n' "$extra" >>"$MG_CONF"
	echo "$extra" | grep -q '^app_service:' ||
	    printf 'app_service:\n  mcp_demo_server: true\n' >>"$MG_CONF"
}

# mg_start: run the daemon in the foreground (-d) in the background of
# this shell, logging to $MG_DIR/log, and wait until it answers (at most
# MG_START_WAIT tenths of a second, 100 unless set).  Sets MG_PID and
# MG_PORT.
mg_start() {
	local i
	# Emptied here, not by the redirection below: that happens in the
	# background job, after the loop may have read the last run's log.
	: >"$MG_DIR/log"
	"${MG_PREFIX[@]}" "$BIN/mcpgated" -d -f "$MG_CONF" \
	    >>"$MG_DIR/log" 2>&1 &
	MG_PID=$!
	MG_INSTANCES+=("$MG_PID")
	for i in $(seq 1 "${MG_START_WAIT:-100}"); do
		if grep -q "ready: " "$MG_DIR/log" 2>/dev/null; then
			MG_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\).*/\1/p' \
			    "$MG_DIR/log" | head -n 1)
			return 0
		fi
		if ! kill -0 "$MG_PID" 2>/dev/null; then
			echo "mcpgated exited during start-up:" >&2
			cat "$MG_DIR/log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "mcpgated did not become ready:" >&2
	cat "$MG_DIR/log" >&2
	return 1
}

# mg_stop: SIGTERM and wait; the exit status is left in MG_STATUS.
mg_stop() {
	kill -TERM "$MG_PID" 2>/dev/null
	wait "$MG_PID"
	MG_STATUS=$?
}

ctl() {
	"$BIN/mcpgatectl" -c "$MG_CONF" "$@"
}

probe() {
	"$HELPERS/tlsprobe" -c "$MG_DIR/state/ca.crt" "$@"
}

# ms_now: the time in milliseconds.
ms_now() {
	echo $(($(date +%s%N) / 1000000))
}

# invite_login USER ANSWER: log USER in, at $MG_DIR/home-USER, with the
# invite and CA fingerprint of ANSWER (the JSON of users add or users
# reset) and the password $PW, the invite as the first line of stdin.
invite_login() {
	local inv fpr
	inv=$(echo "$2" | jq -r .invite)
	fpr=$(echo "$2" | jq -r .ca_fingerprint)
	printf '%s\n%s\n' "$inv" "$PW" |
	    MCPGATE_HOME=$MG_DIR/home-$1 "$BIN/mcpgate" login \
	    --proxy "127.0.0.1:$MG_PORT" --user "$1" --invite \
	    --password-stdin --ca-fingerprint "$fpr" >/dev/null
}

# user_session USER SECONDS [mcpsession args]: a raw session with USER's
# certificate (see invite_login), JSON-RPC lines on stdin.
user_session() {
	local home=$MG_DIR/home-$1 secs=$2
	shift 2
	"$HELPERS/mcpsession" -c "$home/ca.pem" -C "$home/cert.pem" \
	    -K "$home/key.pem" -t "$secs" 127.0.0.1 "$MG_PORT" "$@"
}

# child_pid NAME: the pid of netd, mcpd or auditd of the running instance.
child_pid() {
	ctl status --format json |
	    sed -n "/\"name\": \"$1\"/{n;s/.*\"pid\": \([0-9]*\).*/\1/p}"
}

# wait_gone PID SECONDS: true if the process ends within that time.
wait_gone() {
	local i
	for i in $(seq 1 $(($2 * 20))); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

# wait_for SECONDS COMMAND...: true once the command succeeds, tried
# every 0.05 s for at most that time: for an event, instead of a sleep.
wait_for() {
	local i n=$(($1 * 20))
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# jget FILTER: jq -r on one JSON document from stdin.
jget() {
	jq -r "$1"
}

# is FILTER: the JSON document on stdin, which must be there, passes.
is() {
	local in
	in=$(cat)
	[ -n "$in" ] && printf '%s\n' "$in" | jq -e "$1" >/dev/null 2>&1
}

# has FILTER: some JSON line on stdin matches FILTER (jq 1.6's -e is
# true without any output, so this counts lines instead).
has() {
	jq -c -R "fromjson? | select($1)" | grep -q .
}

# audit_has CONDITION: some record of the instance's audit log matches the
# jq condition.
audit_has() {
	cat "$MG_DIR"/audit/audit-*.jsonl | jq -s -e "any(.[]; $1)" >/dev/null
}
