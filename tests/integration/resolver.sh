# The resolver (mcpgated -P resolver): netd's name lookups, driven here
# directly as netd asks them (tests/integration/dnsprobe.c), in a mount
# namespace of this test's own whose /etc/hosts and /etc/resolv.conf are
# files of the test: names found, a name added to /etc/hosts while it
# runs found without a restart, answers bounded, and a query no honest
# netd sends ends it.  Its sandbox is checked with the other children's
# in daemon.sh and tests/unit/test_sandbox.c.
. "$(dirname "$0")/lib.sh"
need_root "it runs as _mcpgate-dns and bind-mounts /etc/hosts in a mount namespace"
if ! unshare -m true 2>/dev/null; then
	skip "resolver" "no mount namespaces here (unshare -m failed)"
	exit 0
fi
if ! id _mcpgate-dns >/dev/null 2>&1; then
	fail "resolver" "the user _mcpgate-dns is missing (make users)"
	exit 1
fi

T=$(mktemp -d /tmp/mgdns.XXXXXX)
MG_TMPS+=("$T")
chmod 0755 "$T"
printf '127.0.0.1 localhost\n127.0.0.7 mg-one.test\n::1 localhost\n' >"$T/hosts"
for i in $(seq 1 40); do
	printf '127.0.1.%d mg-many.test\n' "$i"
done >>"$T/hosts"
# No name server answers on this loopback port: DNS fails at once.
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
chmod 0644 "$T/hosts" "$T/resolv.conf"
mkfifo "$T/q"

# The probe in its namespace, queries from the fifo, answers to a file.
unshare -m sh -c 'mount --bind "$1/hosts" /etc/hosts &&
    mount --bind "$1/resolv.conf" /etc/resolv.conf &&
    exec "$2" -x "$3" -u _mcpgate-dns' sh "$T" "$HELPERS/dnsprobe" \
    "$BIN/mcpgated" <"$T/q" >"$T/out" 2>"$T/err" &
probe=$!
exec 7>"$T/q"

# ask NAME: send a query and wait (5 s at most) for its answer line.
ask() {
	local i
	echo "$1" >&7
	for i in $(seq 1 100); do
		grep -q "^$1 " "$T/out" && break
		sleep 0.05
	done
	grep "^$1 " "$T/out" | tail -n 1
}

for i in $(seq 1 100); do
	grep -q '^ready' "$T/out" && break
	sleep 0.05
done
grep -q '^ready' "$T/out" && pass "it starts as _mcpgate-dns and says ready" ||
    fail "it starts" "$(cat "$T/out" "$T/err")"
rpid=$(sed -n 's/^ready pid //p' "$T/out")
[ "$(awk '/^Uid:/ {print $2}' "/proc/$rpid/status" 2>/dev/null)" = \
    "$(id -u _mcpgate-dns)" ] &&
    pass "it runs as _mcpgate-dns" ||
    fail "its user" "$(grep Uid "/proc/$rpid/status" 2>&1)"

a=$(ask localhost)
echo "$a" | grep -q "ok.*127.0.0.1" &&
    pass "localhost: found in /etc/hosts" || fail "localhost" "$a"
a=$(ask mg-one.test)
[ "$a" = "mg-one.test ok 127.0.0.7" ] &&
    pass "a name of /etc/hosts: its address" || fail "mg-one.test" "$a"
a=$(ask mg-two.test)
echo "$a" | grep -q "^mg-two.test error " &&
    pass "an unknown name: an error, at once (no name server answers)" ||
    fail "an unknown name" "$a"

printf '127.0.0.8 mg-two.test\n' >>"$T/hosts"
a=$(ask mg-two.test)
[ "$a" = "mg-two.test ok 127.0.0.8" ] &&
    pass "a name added to /etc/hosts while it runs: found, no restart" ||
    fail "a name added to /etc/hosts" "$a"

a=$(ask mg-many.test)
n=$(echo "$a" | wc -w)
[ "$n" -eq 18 ] && echo "$a" | grep -q " 127.0.1.1 " &&
    pass "40 addresses for a name: the first 16 answered" ||
    fail "an answer's bound" "$n words: $a"

a=$(ask 'bad name!')
echo "$a" | grep -q "error not a host name" &&
    pass "a query that is not a host name: refused, nothing looked up" ||
    fail "a bad name" "$a"
long=$(printf 'a%.0s' $(seq 1 254))
a=$(ask "$long")
echo "$a" | grep -q "error not a host name" &&
    pass "a name over 253 bytes: refused" || fail "a long name" "$a"

exec 7>&-
wait "$probe"
grep -q '^exited' "$T/out" && ! grep -q "unexpected message" "$T/out" &&
    pass "it ends when netd's and the parent's channels close" ||
    fail "its end" "$(tail -n 3 "$T/out")"

# A query no honest netd sends: a name without its terminating NUL.
out=$(timeout 10 "$HELPERS/dnsprobe" -x "$BIN/mcpgated" -u _mcpgate-dns -b)
echo "$out" | grep -q "log: unexpected message DNS_QUERY (256 bytes) from netd" &&
    echo "$out" | grep -q '^exited 1' &&
    pass "a query without its NUL: the resolver stops, naming it" ||
    fail "a query without its NUL" "$out"
