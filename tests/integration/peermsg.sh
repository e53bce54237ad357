# A child that sends the parent a message of the wrong size, or one that
# is not its to send, is compromised: the parent says which message and
# from whom, stops every child, removes the control socket and exits 1,
# whatever the message (a status part, an audit acknowledgement, a login
# request).  The message is written on the child's real channel, taken
# from it with pidfd_getfd.
. "$(dirname "$0")/lib.sh"
need_root "it takes a copy of a child's channel with pidfd_getfd"

# attack CHILD TYPE LENGTH [BYTE]: what the parent does with it; the
# payload is zeros, or BYTE in every byte.
attack() {
	local child=$1 type=$2 len=$3 name="$1 sends $2 of $3 bytes${4:+ of $4}" pid kids
	mg_setup </dev/null
	if ! mg_start; then
		fail "$name" "the daemon did not start"
		return
	fi
	pid=$(child_pid "$child")
	kids=$(pgrep -P "$MG_PID" | tr '\n' ' ')
	if [ -z "$pid" ] || ! out=$("$HELPERS/imsginject" "$pid" "$type" \
	    "$len" ${4:+"$4"} 2>&1); then
		fail "$name" "cannot write on $child's channel (pid '$pid'): $out"
		mg_stop
		return
	fi
	if ! wait_gone "$MG_PID" 10; then
		fail "$name" "the daemon still runs: $(tail -n 3 "$MG_DIR/log")"
		mg_stop
		return
	fi
	wait "$MG_PID"
	st=$?
	left=""
	for k in $kids; do
		kill -0 "$k" 2>/dev/null && left="$left $k"
	done
	[ $st -eq 1 ] &&
	    grep -q "^parent: unexpected message ${type#IMSG_} ($len bytes) from $child$" \
	    "$MG_DIR/log" &&
	    grep -q "^parent: stopping: $child is gone$" "$MG_DIR/log" &&
	    [ ! -e "$MG_DIR/ctl.sock" ] && [ -z "$left" ] &&
	    pass "$name: the daemon names it, stops its children, removes the control socket and exits 1" ||
	    fail "$name" "status $st, children left:${left:- none}, socket $(ls "$MG_DIR/ctl.sock" 2>&1): $(tail -n 4 "$MG_DIR/log" | tr '\n' ' ')"
}

attack mcpd LOGIN_REQ 10
attack netd STATUS_NETD 3
attack mcpd STATUS_MCPD 3
# The right size, with more apps than it may name (status counters).
attack mcpd STATUS_MCPD "$("$HELPERS/imsginject" -s mcpd_status)" 255
attack auditd STATUS_AUDITD 3
attack auditd AUDIT_ACK 3
attack auditd AUDIT_ANCHOR 3
# The right size from the wrong child is no better.
attack netd DRAINED 0
