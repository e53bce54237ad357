#!/usr/bin/env bash
#
# make deb-check: the package on this machine, as an operator would use
# it.  dpkg -i; the users, directories and conffile are there and nothing
# runs; mcpgated -n accepts /etc/mcpgated.conf; mcpgated configure -o
# /etc/mcpgated.conf --mcp-demo-server replaces it without --force;
# systemctl enable links the unit; the daemon starts from the installed
# files as the unit starts it; the walkthrough of make demo (a role, a
# user, a login, mcp ls, the official MCP SDK through mcp connect, the
# audit log verified) runs against it with the installed programs; then
# dpkg -r keeps the configuration, the state and the users, and dpkg -P
# leaves the machine as it was before the install: the users it made are
# gone, one that was there is kept.  It installs and purges for real:
# for a machine that is thrown away after, such as CI's.  Run by
# tests/run deb-install, which make deb-check calls once make deb has
# built build/deb/*.deb.
#
set -u
SUITE=deb-install
pass() { echo "PASS $SUITE: $1"; }
fail() { echo "FAIL $SUITE: $1: $2"; }
skip() { echo "SKIP $SUITE: $1: $2"; }

TOP=$(pwd)
deb=$(ls build/deb/mcpgate_*_*.deb 2>/dev/null | head -n 1)
if [ "$(id -u)" -ne 0 ]; then
	skip "every check" "needs root: dpkg -i installs the package"
	exit 0
fi
if [ -z "$deb" ]; then
	fail "the package" "no build/deb/mcpgate_*.deb: run make deb"
	exit 0
fi
if dpkg-query -W -f='${Status}' mcpgate 2>/dev/null | grep -qv 'not-installed'
then
	fail "a machine without mcpgate" "mcpgate is installed here, and \
deb-check would purge it; run it on a machine that is thrown away after"
	exit 0
fi
for f in /etc/mcpgated.conf /var/lib/mcpgate /var/log/mcpgate \
    /run/mcpgated.sock; do
	if [ -e "$f" ]; then
		fail "a machine without mcpgate" "$f exists (make install?); \
deb-check would remove it"
		exit 0
	fi
done

T=$(mktemp -d)
chmod 0755 "$T"
DAEMON=
cleanup() {
	[ -n "$DAEMON" ] && kill -KILL "$DAEMON" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# What the machine holds, before and after: the trees a package writes
# to, less what dpkg and apt keep of their own, and the users.
snapshot() {
	{
		find /etc /usr /lib /var /run -xdev \
		    \( -path /var/lib/dpkg -o -path /var/log -o \
		    -path /var/cache -o -path /var/lib/apt -o \
		    -path /var/tmp -o -path /run/user \) \
		    -prune -o -print 2>/dev/null
		find /var/log -maxdepth 1 -name 'mcpgate*' 2>/dev/null
		getent passwd | cut -d: -f1 | sed 's/^/user: /'
		getent group | cut -d: -f1 | sed 's/^/group: /'
	} | sort
}
# The users: _mcpgate and _mcpgate-audit absent, for the package to make
# and its purge to remove; _mcpgate-dns there before it, made by hand,
# for the purge to keep.
for u in _mcpgate _mcpgate-audit; do
	if getent passwd "$u" >/dev/null && ! userdel "$u" 2>"$T/err"; then
		fail "a machine without the users" "userdel $u: $(cat "$T/err")"
		exit 0
	fi
	getent group "$u" >/dev/null && groupdel "$u"
done
getent passwd _mcpgate-dns >/dev/null ||
    useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --user-group _mcpgate-dns
snapshot >"$T/before"

# --- dpkg -i ------------------------------------------------------------------
if out=$(dpkg -i "$deb" 2>&1); then
	pass "dpkg -i $(basename "$deb")"
else
	fail "dpkg -i" "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
	exit 0
fi
ok=1
for u in _mcpgate _mcpgate-audit _mcpgate-dns; do
	sh=$(getent passwd "$u" | cut -d: -f7)
	case $sh in */nologin) ;; *) ok=0;; esac
done
[ $ok -eq 1 ] &&
    pass "the system users _mcpgate, _mcpgate-audit and _mcpgate-dns exist, without a shell" ||
    fail "the system users" "$(getent passwd _mcpgate _mcpgate-audit \
_mcpgate-dns | tr '\n' ' ')"
[ "$(stat -c '%U %G %a' /var/lib/mcpgate)" = "root root 700" ] &&
    [ "$(stat -c '%U %G %a' /var/log/mcpgate)" = \
    "_mcpgate-audit _mcpgate-audit 750" ] &&
    pass "/var/lib/mcpgate is root 0700, /var/log/mcpgate _mcpgate-audit 0750" ||
    fail "the directories" "$(stat -c '%n %U %G %a' /var/lib/mcpgate \
/var/log/mcpgate 2>&1 | tr '\n' ' ')"
if ! pgrep -x mcpgated >/dev/null &&
    [ ! -e /etc/systemd/system/multi-user.target.wants/mcpgated.service ] &&
    [ -f /lib/systemd/system/mcpgated.service ]; then
	pass "nothing runs, and the unit is installed but not enabled"
else
	fail "nothing runs after dpkg -i" "$(pgrep -a mcpgated | tr '\n' ' ')"
fi
if out=$(mcpgated -n 2>&1); then
	pass "mcpgated -n accepts the installed /etc/mcpgated.conf: $out"
else
	fail "mcpgated -n" "$out"
fi

# --- configure, as the README says -----------------------------------------------
# The walkthrough's listener: 3080 as the README has it, or a free
# loopback port when 3080 is taken on this machine.
port=$(python3 -c 'import socket
s = socket.socket()
try:
    s.bind(("127.0.0.1", 3080))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
if out=$(mcpgated configure -o /etc/mcpgated.conf --mcp-demo-server \
    --listen "127.0.0.1:$port" 2>&1) &&
    grep -q '^  mcp_demo_server: true$' /etc/mcpgated.conf &&
    out=$(mcpgated -n 2>&1); then
	pass "mcpgated configure -o /etc/mcpgated.conf --mcp-demo-server replaces the package's file without --force"
else
	fail "mcpgated configure -o /etc/mcpgated.conf" "$out"
fi

# systemctl enable --now: the enabling is systemd's links, which work
# without systemd running; the start needs systemd as process 1, so
# where it is not (containers, CI), the daemon is started below as the
# unit's ExecStart would start it.
if ! command -v systemctl >/dev/null; then
	skip "systemctl enable mcpgated" "no systemctl on this machine"
elif out=$(systemctl enable mcpgated 2>&1) && [ "$(readlink \
    /etc/systemd/system/multi-user.target.wants/mcpgated.service)" = \
    /lib/systemd/system/mcpgated.service ]; then
	pass "systemctl enable mcpgated links the installed unit into multi-user.target"
else
	fail "systemctl enable mcpgated" "$(echo "$out" | tail -n 2 |
	    tr '\n' ' ')"
fi

# --- the daemon, from the installed files ------------------------------------------
# As the unit's ExecStart runs it.
/usr/sbin/mcpgated -d -f /etc/mcpgated.conf >"$T/mcpgated.log" 2>&1 &
DAEMON=$!
for i in $(seq 1 100); do
	grep -q "ready: " "$T/mcpgated.log" && break
	kill -0 "$DAEMON" 2>/dev/null || break
	sleep 0.1
done
if grep -q "ready: " "$T/mcpgated.log" && [ -S /run/mcpgated.sock ]; then
	pass "the installed mcpgated starts as the unit starts it: $(grep -o \
'ready: .*' "$T/mcpgated.log" | head -n 1)"
else
	fail "the installed mcpgated starts" "$(tail -n 5 "$T/mcpgated.log" |
	    tr '\n' ' ')"
	exit 0
fi
[ -n "$(ls /var/lib/mcpgate)" ] &&
    ls /var/log/mcpgate | grep -q '^audit-.*\.jsonl$' &&
    pass "the state is in /var/lib/mcpgate and the audit journal in /var/log/mcpgate" ||
    fail "the state and the journal" "$(ls /var/lib/mcpgate \
/var/log/mcpgate 2>&1 | tr '\n' ' ')"

# --- the walkthrough, with the installed programs ---------------------------------------
export MCPGATE_HOME=$T/home
cat >"$T/demo-user.yaml" <<'ROLE'
kind: role
version: v1
metadata:
  name: demo-user
  description: the demo MCP server, without mcpgate_demo_info
spec:
  allow:
    app_labels: {env: demo}
    mcp:
      tools: ['mcpgate_*']
  deny:
    mcp:
      tools: [mcpgate_demo_info]
ROLE
if out=$(mcpgatectl create -f "$T/demo-user.yaml" 2>&1) &&
    invite=$(mcpgatectl users add alice --roles demo-user 2>&1); then
	pass "mcpgatectl creates a role and a user"
else
	fail "mcpgatectl create, users add" "$out $invite"
fi
fpr=$(echo "$invite" |
    sed -n 's/.*--ca-fingerprint \(SHA256:[0-9a-f]*\).*/\1/p')
(umask 077
echo "$invite" | sed -n 's/^  \([0-9a-f]\{64\}\)$/\1/p' >"$T/invite"
openssl rand -hex 12 >"$T/password")
if out=$(mcpgate login --proxy "127.0.0.1:$port" --user alice \
    --invite-file "$T/invite" --ca-fingerprint "$fpr" --password-stdin \
    <"$T/password" 2>&1); then
	pass "mcpgate login with the invite"
else
	fail "mcpgate login" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
out=$(mcpgate mcp ls 2>&1)
echo "$out" | grep -q 'mcpgate-demo' &&
    pass "mcpgate mcp ls lists mcpgate-demo" ||
    fail "mcpgate mcp ls" "$(echo "$out" | tr '\n' ' ')"
if mcpgate mcp config mcpgate-demo --client-config "$T/client.json" \
    >/dev/null 2>&1 &&
    [ "$(jq -r '.mcpServers["mcpgate-mcpgate-demo"].command' \
    "$T/client.json")" = /usr/bin/mcpgate ] &&
    out=$(timeout 90 node tests/peers/demo_client.mjs "$T/client.json" \
    mcpgate-mcpgate-demo mcpgate_user_info mcpgate_session_info \
    mcpgate_access_info mcpgate_demo_info 2>&1); then
	pass "the official MCP SDK, through /usr/bin/mcpgate mcp connect: the tools answer, mcpgate_demo_info is refused"
else
	fail "the SDK through mcp connect" "$(echo "$out" | tail -n 5 |
	    tr '\n' ' ')"
fi
out=$(mcpgatectl audit tail -n 50 2>&1)
echo "$out" | grep -q 'mcpgate_demo_info' &&
    v=$(mcpgatectl audit verify 2>&1) &&
    pass "the audit log holds the denial, and verifies: $(echo "$v" |
    tr '\n' ' ' | sed 's/ *$//')" ||
    fail "the audit log" "$(echo "$v" | tail -n 3 | tr '\n' ' ')"

# --- stop, remove, purge -------------------------------------------------------------
kill -TERM "$DAEMON"
for i in $(seq 1 100); do
	kill -0 "$DAEMON" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$DAEMON" 2>/dev/null && ! pgrep -x mcpgated >/dev/null; then
	wait "$DAEMON" 2>/dev/null
	DAEMON=
	pass "SIGTERM stops the daemon and all its processes"
else
	fail "the daemon stops" "$(pgrep -a mcpgated | tr '\n' ' ')"
fi

if out=$(dpkg -r mcpgate 2>&1); then
	left=
	for f in /usr/sbin/mcpgated /usr/sbin/mcpgatectl /usr/bin/mcpgate \
	    /lib/systemd/system/mcpgated.service \
	    /usr/share/man/man8/mcpgated.8.gz; do
		[ -e "$f" ] && left="$left $f"
	done
	if [ -z "$left" ] && [ -f /etc/mcpgated.conf ] &&
	    [ -d /var/lib/mcpgate ] && [ -d /var/log/mcpgate ] &&
	    getent passwd _mcpgate-audit >/dev/null; then
		pass "dpkg -r removes the programs, the unit and the pages, and keeps the configuration, the state, the audit log and the users"
	else
		fail "dpkg -r" "left:$left; kept: $(ls -d /etc/mcpgated.conf \
/var/lib/mcpgate /var/log/mcpgate 2>&1 | tr '\n' ' ')"
	fi
else
	fail "dpkg -r" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
if out=$(dpkg -P mcpgate 2>&1); then
	snapshot >"$T/after"
	# The daemon's chroot, /var/empty, is a directory of the system
	# that other software may share: made if missing, never removed.
	if diff "$T/before" "$T/after" | grep '^[<>]' |
	    grep -v '^> /var/empty$' >"$T/diff"; then
		fail "dpkg -P leaves the machine as before the install" \
		    "$(head -n 10 "$T/diff" | tr '\n' ' ')"
	else
		pass "dpkg -P removes the configuration, the state and the audit log: the machine is as before the install"
	fi
	! getent passwd _mcpgate >/dev/null &&
	    ! getent passwd _mcpgate-audit >/dev/null &&
	    ! getent group _mcpgate-audit >/dev/null &&
	    getent passwd _mcpgate-dns >/dev/null &&
	    pass "dpkg -P removes the users the package made, and keeps _mcpgate-dns, which was there before" ||
	    fail "the users after dpkg -P" "$(getent passwd _mcpgate \
_mcpgate-audit _mcpgate-dns | cut -d: -f1 | tr '\n' ' ')"
else
	fail "dpkg -P" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
fi
exit 0
