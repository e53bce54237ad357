# Not started as root (a developer's laptop): the processes still
# separate, seccomp and no_new_privs still hold (the parent's too),
# chroot and the user switch are skipped with a warning, and the gateway
# works.
. "$(dirname "$0")/lib.sh"
need_root "it starts the daemon as another user, nobody"

user=nobody
# The whole script runs the programs from a copy that $user can reach.
share_bin ||
    { fail "copy the programs where $user can reach them" "$BIN"; exit 1; }
BIN=$SHARED_BIN
mg_setup </dev/null
chown -R "$user" "$MG_DIR"
MG_PREFIX=(runuser -u "$user" --)
if ! mg_start; then
	fail "the daemon starts as $user" "see the log"
	exit 1
fi
MG_PREFIX=()
pass "the daemon starts as $user"
grep -q "not running as root" "$MG_DIR/log" &&
    grep -q "netd: not running as root: chroot and the user switch are skipped" \
    "$MG_DIR/log" && pass "it warns that chroot and the user switch are skipped" ||
    fail "it warns that chroot and the user switch are skipped" \
    "$(head -n 5 "$MG_DIR/log")"

ppid=$(pgrep -P "$MG_PID")	# runuser starts it
uid=$(id -u "$user")
for pid in "$ppid" $(pgrep -P "$ppid"); do
	name=$(tr '\0' ' ' </proc/"$pid"/cmdline | sed 's/mcpgated: //; s/ *$//')
	[ "$pid" = "$ppid" ] && name=parent
	st=/proc/$pid/status
	[ "$(awk '/^Uid:/ {print $3}' "$st")" = "$uid" ] &&
	    [ "$(awk '/^NoNewPrivs:/ {print $2}' "$st")" = 1 ] &&
	    [ "$(awk '/^Seccomp:/ {print $2}' "$st")" = 2 ] &&
	    pass "$name: runs as $user with no_new_privs and seccomp" ||
	    fail "$name: sandbox without root" "$(grep -E 'Uid|NoNewPrivs|Seccomp:' "$st")"
done

ans=$(probe 127.0.0.1 "$MG_PORT" '{"op":"hello"}')
[ "$(echo "$ans" | jget .ok)" = true ] && pass "hello works" ||
    fail "hello works" "$ans"
out=$(as_user "$user" mcpgatectl -c "$MG_CONF" status 2>&1)
echo "$out" | grep -q "CA:           SHA256:" &&
    pass "the daemon's own user may use the control socket" ||
    fail "the daemon's own user may use the control socket" "$out"
kill -TERM "$ppid"
wait_gone "$ppid" 5 && pass "it stops on SIGTERM" || fail "it stops" "still running"
out=$(as_user "$user" mcpgatectl -c "$MG_CONF" audit verify 2>&1)
[ $? -eq 0 ] && pass "its audit log verifies" || fail "its audit log verifies" "$out"
