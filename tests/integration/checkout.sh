# make check from any checkout, and as a user who is not root.  From a
# checkout that other users cannot enter (a clone under /root, or in a
# 0700 directory from mktemp -d), the checks that run a program as nobody
# still work; run by nobody, the runner runs what needs no root and says
# SKIP, with why, for each test that does.
#
# Proportionate rather than whole: the first part runs nonroot.sh (the
# daemon itself as nobody) from a private copy, not every script; the
# second runs, as nobody, the unit tests that look at who runs them,
# config.sh and every script that needs root, not the scripts that start
# a daemon as nobody nor the other unit tests (those take minutes, under
# ASan above all, and run as they are when make check runs as non-root).
. "$(dirname "$0")/lib.sh"
need_root "it runs tests as nobody"

# --- a checkout that nobody cannot enter ---------------------------------
P=$(mktemp -d /tmp/mgprivate.XXXXXX)
MG_TMPS+=("$P")
mkdir -p "$P/bin" "$P/helpers" "$P/tests/integration"
cp "$BIN"/mcpgated "$BIN"/mcpgatectl "$BIN"/mcpgate "$P/bin/" &&
    cp "$HELPERS"/tlsprobe "$P/helpers/" &&
    cp "$TOP"/tests/integration/lib.sh "$TOP"/tests/integration/nonroot.sh \
    "$P/tests/integration/" || { fail "a private checkout" "copy"; exit 1; }
[ "$(stat -c %a "$P")" = 700 ] &&
    ! runuser -u nobody -- test -x "$P/bin/mcpgatectl" &&
    pass "nobody cannot run the programs of a checkout in a 0700 directory" ||
    fail "a private checkout" "nobody can reach $P/bin"
out=$(timeout 120 env BIN="$P/bin" HELPERS="$P/helpers" TOP="$P" \
    bash "$P/tests/integration/nonroot.sh" 2>&1)
st=$?
n=$(echo "$out" | grep -c '^PASS ')
[ $st -eq 0 ] && ! echo "$out" | grep -q '^FAIL ' &&
    echo "$out" | grep -q '^PASS nonroot: the daemon starts as nobody$' &&
    echo "$out" | grep -q "^PASS nonroot: the daemon's own user may use" &&
    pass "nonroot.sh from there: the programs run as nobody ($n checks)" ||
    fail "nonroot.sh from a private checkout" \
    "status $st: $(echo "$out" | grep -v '^PASS ' | head -n 5 | tr '\n' ' ')"

# --- the runner, run by nobody ---------------------------------------------
U=$(mktemp -d /tmp/mgnonroot.XXXXXX)
MG_TMPS+=("$U")
chmod 0755 "$U"
mkdir -p "$U/bin" "$U/build/obj/tests" "$U/tests/integration"
roots=$(grep -lE '^need_root( |$)' "$TOP"/tests/integration/*.sh)
units=$(grep -lE 'get(e)?uid\(' "$TOP"/tests/unit/test_*.c |
    sed "s|.*/\(.*\)\.c$|$HELPERS/\1|")
helpers=$(ls -d "$HELPERS"/* | grep -v '/test_[^/]*$')
mkdir -p "$U/tests/peers"
# shellcheck disable=SC2086
cp "$TOP/Makefile" "$U/" && cp "$TOP/tests/run" "$U/tests/" &&
    cp "$TOP"/tests/peers/package*.json "$U/tests/peers/" &&
    cp "$BIN"/mcpgated "$BIN"/mcpgatectl "$BIN"/mcpgate "$U/bin/" &&
    cp $helpers $units "$U/build/obj/tests/" &&
    cp "$TOP"/tests/integration/lib.sh "$TOP"/tests/integration/config.sh \
    $roots "$U/tests/integration/" &&
    chown -R nobody "$U" || { fail "a tree for nobody" "copy"; exit 1; }
out=$(cd "$U" && timeout 120 runuser -u nobody -- tests/run unit integration \
    2>&1)
st=$?
last=$(echo "$out" | tail -n 1)
[ $st -eq 0 ] && ! echo "$out" | grep -q '^FAIL ' &&
    echo "$last" | grep -Eq '^[0-9]+ passed, 0 failed, [0-9]+ skipped$' &&
    pass "as nobody, tests/run unit integration: $last" ||
    fail "as nobody, tests/run unit integration" \
    "status $st: $(echo "$out" | grep -v '^PASS ' | head -n 5 | tr '\n' ' ')"
bad=""
for t in $roots; do
	t=$(basename "$t" .sh)
	lines=$(echo "$out" | grep -E "^(PASS|FAIL|SKIP) $t: ")
	[ "$(echo "$lines" | wc -l)" -eq 1 ] &&
	    echo "$lines" | grep -Eq "^SKIP $t: every check: needs root: .{10,}" ||
	    bad="$bad $t"
done
[ -z "$bad" ] && [ -n "$roots" ] &&
    pass "each script that needs root says SKIP once, with why:$(
    for t in $roots; do printf ' %s' "$(basename "$t")"; done)" ||
    fail "scripts that need root, run by nobody" "$bad"
# test_landlock needs no root; it says SKIP only where the kernel lacks it.
ll="^(PASS sandbox: test_landlock\$|SKIP sandbox: test_landlock: the kernel)"
echo "$out" | grep -q '^SKIP sandbox: test_drop_privileges: needs root' &&
    echo "$out" | grep -Eq "$ll" && echo "$out" | grep -q '^PASS config: ' &&
    pass "unit tests that need root say SKIP; the rest, and config.sh, pass" ||
    fail "unit tests as nobody" "$(echo "$out" | grep -E '^(FAIL|SKIP) ' |
    head -n 5 | tr '\n' ' ')"

# --- make deps, run by nobody ------------------------------------------------
# It cannot apt-get: it goes on when nothing is missing, and otherwise
# names what is.  DEBS stands in for the list, to know what is installed.
if command -v node >/dev/null && command -v npm >/dev/null; then
	out=$(cd "$U" && runuser -u nobody -- make -s deps DEBS=bash 2>&1)
	[ $? -eq 0 ] && [ -z "$out" ] &&
	    pass "as nobody, make deps goes on when nothing is missing" ||
	    fail "as nobody, make deps with nothing missing" "$out"
else
	skip "as nobody, make deps with nothing missing" "node is not installed"
fi
out=$(cd "$U" && runuser -u nobody -- make -s deps \
    DEBS="bash mcpgate-no-such-package" 2>&1)
st=$?
[ $st -ne 0 ] &&
    echo "$out" | grep -q "^missing Debian packages: mcpgate-no-such-package" &&
    echo "$out" | grep -q "^run as root: apt-get install mcpgate-no-such" &&
    pass "as nobody, make deps names what is missing and stops" ||
    fail "as nobody, make deps with a package missing" "status $st: $out"
# npm caches in ~/.npm, and nobody's home is /nonexistent.
out=$(cd "$U" && runuser -u nobody -- make -s -n -B peers 2>&1)
echo "$out" | grep -q "^npm ci " &&
    echo "$out" | grep -qF -- "--cache '$U/build/npm-cache'" &&
    pass "as nobody, who has no home to write, npm ci caches under build/" ||
    fail "as nobody, npm's cache" "$out"
