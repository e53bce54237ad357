# What each program is linked with: the client and mcpgatectl take from
# common/ (a static library) only what they use, so neither the daemon's
# sandbox and child code nor its libraries (libseccomp, libargon2) end up
# in them.  mcpgated itself links both libraries.
. "$(dirname "$0")/lib.sh"

if ! command -v ldd >/dev/null || ! command -v nm >/dev/null; then
	skip "every check" "ldd and nm are needed (libc-bin, binutils)"
	exit 0
fi

# libs PROGRAM: the names of the shared libraries it needs.
libs() {
	ldd "$BIN/$1" 2>&1 | awk '{ print $1 }'
}

for p in mcpgate mcpgatectl; do
	l=$(libs $p)
	bad=$(echo "$l" | grep -E 'libseccomp|libargon2' | tr '\n' ' ')
	if [ -z "$l" ]; then
		fail "$p: its libraries" "ldd gave nothing"
	elif [ -n "$bad" ]; then
		fail "$p needs neither libseccomp nor libargon2" "ldd: $bad"
	else
		pass "$p needs neither libseccomp nor libargon2"
	fi
	syms=$(nm "$BIN/$p" 2>&1)
	bad=$(echo "$syms" | awk '$NF ~ /^(child_|sandbox_)/ { print $NF }' |
	    head -n 5 | tr '\n' ' ')
	if ! echo "$syms" | grep -q ' main$'; then
		fail "$p: its symbols" "nm shows no main: $(echo "$syms" |
		    head -n 1)"
	elif [ -n "$bad" ]; then
		fail "$p holds no child_ or sandbox_ code of the daemon" "$bad"
	else
		pass "$p holds no child_ or sandbox_ code of the daemon"
	fi
done

# The other side: the daemon does use them, so the checks above look at
# the right names.
l=$(libs mcpgated)
echo "$l" | grep -q libseccomp && echo "$l" | grep -q libargon2 &&
    nm "$BIN/mcpgated" | grep -q ' T child_setup$' &&
    pass "mcpgated links libseccomp, libargon2 and its child code" ||
    fail "mcpgated links libseccomp, libargon2 and its child code" \
    "ldd: $(echo "$l" | tr '\n' ' ')"
