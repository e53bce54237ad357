#!/usr/bin/env bash
#
# The Debian package, as make check builds it: make deb (dpkg-buildpackage
# on a copy of the tree, then lintian, which must find no error and no
# warning), then what is in the package, read with dpkg-deb and run from
# an extracted copy: the programs, hardened; the manual pages; the unit,
# the same that the packaged mcpgated prints; the system users and the
# directories; /etc/mcpgated.conf, a conffile, what the packaged
# mcpgated configure writes and what mcpgated -n accepts; maintainer
# scripts that start nothing and remove state only on purge; and nothing
# else.  Run from the top of the tree by tests/run deb.
#
set -u
SUITE=deb
pass() { echo "PASS $SUITE: $1"; }
fail() { echo "FAIL $SUITE: $1: $2"; }
skip() { echo "SKIP $SUITE: $1: $2"; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

for t in dpkg-buildpackage dh lintian; do
	if ! command -v "$t" >/dev/null; then
		skip "every check" "$t is not installed (make deps installs it)"
		exit 0
	fi
done

if make --no-print-directory deb >"$T/make.log" 2>&1; then
	pass "make deb builds the package with dpkg-buildpackage -us -uc -b"
else
	fail "make deb" "$(grep -v '^[NI]: ' "$T/make.log" | tail -n 12 |
	    tr '\n' ' ')"
	exit 0
fi
# lintian's lines: tag kind, package, tag.  Info (I:) is allowed; an
# error or a warning fails make deb, which keeps no package then.
tags=$(grep -E '^[EWIXP]: ' build/deb/lintian.log 2>/dev/null)
if [ -f build/deb/.built ] && ! echo "$tags" | grep -qE '^[EW]: '; then
	pass "lintian: no error and no warning${tags:+ (info: $(echo "$tags" |
	    awk '{print $3}' | sort -u | tr '\n' ' '| sed 's/ $//'))}"
else
	fail "lintian" "$(echo "$tags" | grep -E '^[EW]: ' | tr '\n' ' ')"
fi

deb=$(ls build/deb/mcpgate_*_*.deb 2>/dev/null | head -n 1)
version=$(sed -n 's/^#define MCPGATE_VERSION[^"]*"\(.*\)"/\1/p' common/util.h)
[ "$(dpkg-deb -f "$deb" Package)" = mcpgate ] &&
    [ "$(dpkg-deb -f "$deb" Version)" = "$version" ] &&
    [ "$(dpkg-parsechangelog -l debian/changelog -S Version)" = \
    "$version" ] &&
    pass "the package is mcpgate $version, the version of common/util.h and debian/changelog" ||
    fail "the package's version" "$(dpkg-deb -f "$deb" Package Version) \
util.h $version changelog $(dpkg-parsechangelog -l debian/changelog \
-S Version)"

# --- what is in it -----------------------------------------------------------
X=$T/x
dpkg-deb -x "$deb" "$X"
dpkg-deb -e "$deb" "$T/ctl"
(cd "$X" && find . ! -type d | sed 's|^\./||' | sort) >"$T/files"
cat >"$T/want" <<'LIST'
etc/mcpgated.conf
lib/systemd/system/mcpgated.service
usr/bin/mcpgate
usr/lib/sysusers.d/mcpgate.conf
usr/lib/tmpfiles.d/mcpgate.conf
usr/sbin/mcpgatectl
usr/sbin/mcpgated
usr/share/doc/mcpgate/changelog.gz
usr/share/doc/mcpgate/copyright
usr/share/man/man1/mcpgate.1.gz
usr/share/man/man5/mcpgate-audit.5.gz
usr/share/man/man5/mcpgate-roles.5.gz
usr/share/man/man5/mcpgated.conf.5.gz
usr/share/man/man7/mcpgate-protocol.7.gz
usr/share/man/man8/mcpgatectl.8.gz
usr/share/man/man8/mcpgated.8.gz
LIST
if cmp -s "$T/files" "$T/want"; then
	pass "the package holds the programs, the 7 manual pages, the unit, sysusers.d, tmpfiles.d, /etc/mcpgated.conf, and nothing else"
else
	fail "the package's files" "$(diff "$T/want" "$T/files" |
	    grep '^[<>]' | tr '\n' ' ')"
fi

ok=1
for f in usr/sbin/mcpgated usr/sbin/mcpgatectl usr/bin/mcpgate; do
	[ "$(stat -c %a "$X/$f")" = 755 ] || ok=0
	readelf -d "$X/$f" | grep -q 'FLAGS.*BIND_NOW' || ok=0
	readelf -d "$X/$f" | grep -q 'FLAGS_1.*PIE' || ok=0
	readelf -lW "$X/$f" | grep -q GNU_RELRO || ok=0
	readelf -lW "$X/$f" | grep GNU_STACK | grep -q RWE && ok=0
	readelf -SW "$X/$f" | grep -q '\.debug_info' && ok=0
	readelf --dyn-syms -W "$X/$f" | grep -q '__stack_chk_fail' || ok=0
	readelf --dyn-syms -W "$X/$f" | grep -q '__[a-z]*_chk@' || ok=0
done
[ $ok -eq 1 ] &&
    pass "the programs are 0755, PIE, full RELRO, no executable stack, stack-protected, fortified, stripped" ||
    fail "the programs' hardening" "$(for f in usr/sbin/mcpgated \
usr/sbin/mcpgatectl usr/bin/mcpgate; do echo "$f: $(stat -c %a "$X/$f") \
$(readelf -d "$X/$f" | grep -c 'BIND_NOW\|PIE')"; done | tr '\n' ' ')"

# The packaged programs run: their usage, and the libraries they need
# all found on this host.
ok=1
for f in usr/sbin/mcpgated usr/sbin/mcpgatectl usr/bin/mcpgate; do
	"$X/$f" -h 2>&1 | grep -q '^usage: ' || ok=0
	ldd "$X/$f" | grep -q 'not found' && ok=0
done
[ $ok -eq 1 ] && pass "the packaged programs run, and print their usage with -h" ||
    fail "the packaged programs run" "$("$X/usr/sbin/mcpgated" -h 2>&1 |
    head -n 2 | tr '\n' ' ')"

# --- the unit -----------------------------------------------------------------
U=$X/lib/systemd/system/mcpgated.service
if "$X/usr/sbin/mcpgated" install systemd | cmp -s - "$U" &&
    grep -qx 'ExecStart=/usr/sbin/mcpgated -d -f /etc/mcpgated.conf' "$U" &&
    grep -qx 'ExecReload=/usr/sbin/mcpgatectl -c /etc/mcpgated.conf reload' \
    "$U"; then
	pass "the unit is what the packaged mcpgated install systemd prints, with /usr/sbin and /etc"
else
	fail "the unit" "$(grep '^Exec' "$U" | tr '\n' ' ')"
fi
if command -v systemd-analyze >/dev/null; then
	# verify resolves ExecStart on this host: the extracted tree's.
	sed "s|=/usr/sbin/|=$X/usr/sbin/|" "$U" >"$T/mcpgated.service"
	if out=$(systemd-analyze verify --man=no "$T/mcpgated.service" 2>&1)
	then
		pass "systemd-analyze verify accepts the packaged unit"
	else
		fail "systemd-analyze verify" "$(echo "$out" | head -n 3 |
		    tr '\n' ' ')"
	fi
fi

# --- users and directories -----------------------------------------------------
S=$X/usr/lib/sysusers.d/mcpgate.conf
ok=1
for u in _mcpgate _mcpgate-audit _mcpgate-dns; do
	grep -Eq "^u $u +- \"[^\"]*\" +/nonexistent +/usr/sbin/nologin$" \
	    "$S" || ok=0
done
[ $ok -eq 1 ] &&
    pass "sysusers.d makes _mcpgate, _mcpgate-audit and _mcpgate-dns, without home or shell" ||
    fail "sysusers.d" "$(grep '^u' "$S" | tr '\n' ' ')"
D=$X/usr/lib/tmpfiles.d/mcpgate.conf
grep -Eq '^d /var/lib/mcpgate +0700 +root +root ' "$D" &&
    grep -Eq '^d /var/log/mcpgate +0750 +_mcpgate-audit +_mcpgate-audit ' \
    "$D" &&
    pass "tmpfiles.d makes /var/lib/mcpgate root 0700 and /var/log/mcpgate _mcpgate-audit 0750" ||
    fail "tmpfiles.d" "$(grep '^d' "$D" | tr '\n' ' ')"

# --- the configuration -----------------------------------------------------------
C=$X/etc/mcpgated.conf
grep -qx /etc/mcpgated.conf "$T/ctl/conffiles" &&
    [ "$(wc -l <"$T/ctl/conffiles")" -eq 1 ] &&
    pass "/etc/mcpgated.conf is the package's one conffile" ||
    fail "conffiles" "$(cat "$T/ctl/conffiles" 2>/dev/null | tr '\n' ' ')"
"$X/usr/sbin/mcpgated" configure | cmp -s - "$C" &&
    [ "$(stat -c %a "$C")" = 644 ] &&
    pass "/etc/mcpgated.conf, 0644, is what the packaged mcpgated configure writes" ||
    fail "/etc/mcpgated.conf" "$(stat -c %a "$C") $("$X/usr/sbin/mcpgated" \
configure | diff - "$C" | head -n 3 | tr '\n' ' ')"
if [ "$(id -u)" -ne 0 ]; then
	skip "mcpgated -n accepts the packaged configuration" \
	    "needs root: the file names root's directories and system users"
elif ! getent passwd _mcpgate >/dev/null; then
	skip "mcpgated -n accepts the packaged configuration" \
	    "the system users are not on this host (make users)"
elif out=$("$X/usr/sbin/mcpgated" -n -f "$C" 2>&1); then
	pass "mcpgated -n accepts the packaged configuration: $out"
else
	fail "mcpgated -n on the packaged configuration" "$out"
fi

# --- the maintainer scripts ----------------------------------------------------------
P=$T/ctl/postinst
# The users before the directories that belong to them; the unit enabled
# again only if it was (an upgrade), and so started only then:
# deb-systemd-invoke does not start a disabled unit.
u=$(grep -n 'systemd-sysusers.*mcpgate' "$P" | head -n 1 | cut -d: -f1)
d=$(grep -n 'systemd-tmpfiles.*--create.*mcpgate' "$P" | head -n 1 |
    cut -d: -f1)
[ -n "$u" ] && [ -n "$d" ] && [ "$u" -lt "$d" ] &&
    [ "$(grep -c 'deb-systemd-helper enable' "$P")" -eq 1 ] &&
    grep -B3 'deb-systemd-helper enable' "$P" | grep -q 'was-enabled' &&
    ! grep -Eq 'systemctl +(start|enable|restart)' "$P" &&
    pass "postinst makes the users, then their directories, and enables the unit only if it was enabled before" ||
    fail "postinst" "$(grep -E 'systemd|invoke' "$P" | tr '\n' ' ')"
R=$T/ctl/postrm
# What the purge branch removes, and that only the purge does.
purge=$(sed -n '/^if \[ "$1" = purge \]; then$/,/^fi$/p' "$R")
echo "$purge" | grep -q 'rm -rf /var/lib/mcpgate /var/log/mcpgate' &&
    echo "$purge" | grep -q 'userdel' &&
    [ "$(grep -c 'rm -rf /var/lib/mcpgate\|userdel' "$R")" -eq \
    "$(echo "$purge" | grep -c 'rm -rf /var/lib/mcpgate\|userdel')" ] &&
    sh -n "$R" && sh -n "$T/ctl/preinst" &&
    grep -q '/var/lib/mcpgate/.package-users' "$T/ctl/preinst" &&
    echo "$purge" | grep -q '/var/lib/mcpgate/.package-users' &&
    pass "postrm removes the state, the audit log and the users the package made (preinst lists them) on purge, and only then" ||
    fail "postrm" "$(cat "$R" | head -n 20 | tr '\n' ' ')"
exit 0
