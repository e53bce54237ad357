/*
 * The stdio servers' memory_max and tasks_max, with control groups: the
 * spawner's alone.  At its start it finds, once, what the host offers:
 *
 *   v2   its own cgroup (the "0::" line of /proc/self/cgroup) under the
 *        cgroup2 mount, writable and with memory and pids among its
 *        cgroup.controllers: a subtree delegated to the service (systemd
 *        Delegate=yes).  The "no internal processes" rule: controllers
 *        are enabled for children only in a cgroup without processes of
 *        its own, so the daemon's processes move to the leaf
 *        PATH/mcpgated first.
 *   v1   the spawner's own memory and pids cgroups ("N:memory:PATH",
 *        "N:pids:PATH") under their hierarchies, both writable.
 *   none what is missing, for the spawner's warning.
 *
 * Each server that asks for a limit gets, before its init's first
 * instruction of its own, BASE/mcpgated-SPAWNERPID/app-NAME-ID (BASE the
 * v2 cgroup or each v1 controller's), with memory.max and memory.swap.max
 * 0 (v2) or memory.limit_in_bytes and memory.memsw.limit_in_bytes (v1),
 * and pids.max; removed once the init is reaped.  A spawner killed with
 * its parent cannot remove its own: the next one removes the
 * mcpgated-PID directories whose spawner is gone.
 *
 * Everything read here is the kernel's (/proc, cgroupfs): read bounded,
 * parsed strictly, and a line that does not parse is not used.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "privsep.h"

#define CG_READ_MAX	(256 * 1024)	/* a /proc or cgroup file, at most */
#define CG_LEAF		"mcpgated"	/* v2: the daemon's own processes */
#define CG_OWN		"mcpgated-"	/* a spawner's, then its pid */
#define CG_APP		"app-"		/* a server's, app-NAME-ID */
#define CG_SPAWNER_COMM	"mcpgated-spawn"	/* its PR_SET_NAME, cut */
#define CG_STALE_TRIES	50		/* a stale cgroup still busy: tries */
#define CG_STALE_WAIT_MS 20		/* and the wait between them */

/* A reason, cut to its buffer: a path in it may be long. */
static void
cg_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cg_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/*
 * One line of /proc/self/cgroup, "ID:CONTROLLERS:PATH", cut in place:
 * 1 when it is the line of controller ctl (NULL: the v2 line, "0::"),
 * with its path; 0 when it is another's; -1 when it does not parse.
 */
int
cgroup_self_line(char *line, const char *ctl, char *path, size_t pathlen)
{
	char	*ctls, *p, *c, *ep;
	long	 id;

	line[strcspn(line, "\n")] = '\0';
	if ((ctls = strchr(line, ':')) == NULL)
		return (-1);
	*ctls++ = '\0';
	if ((p = strchr(ctls, ':')) == NULL)
		return (-1);
	*p++ = '\0';
	errno = 0;
	id = strtol(line, &ep, 10);
	if (line[0] == '\0' || *ep != '\0' || errno != 0 || id < 0 ||
	    p[0] != '/')
		return (-1);
	if (ctl == NULL) {
		if (id != 0 || ctls[0] != '\0')
			return (0);
	} else {
		if (id == 0)
			return (0);
		while ((c = strsep(&ctls, ",")) != NULL)
			if (strcmp(c, ctl) == 0)
				break;
		if (c == NULL)
			return (0);
	}
	if (strlcpy(path, p, pathlen) >= pathlen)
		return (-1);
	return (1);
}

/* A field of mountinfo, its octal escapes (\040 for a space) undone. */
static int
cgroup_unescape(const char *s, char *out, size_t outlen)
{
	size_t	 n = 0;

	while (*s != '\0') {
		if (n + 1 >= outlen)
			return (-1);
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			out[n++] = (char)(((s[1] - '0') << 6) |
			    ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 4;
		} else
			out[n++] = *s++;
	}
	out[n] = '\0';
	return (0);
}

/*
 * One line of /proc/self/mountinfo, cut in place: 1 when it mounts the
 * hierarchy of controller ctl (fstype cgroup, ctl among its super
 * options) or, ctl NULL, the cgroup2 one, with its mount point and the
 * cgroup it shows as its root; 0 when it is another mount; -1 when it
 * does not parse.
 */
int
cgroup_mount_line(char *line, const char *ctl, char *mnt, size_t mntlen,
    char *root, size_t rootlen)
{
	char	*f[64], *p = line, *o;
	int	 n = 0, sep = -1, i;

	line[strcspn(line, "\n")] = '\0';
	while (n < (int)(sizeof(f) / sizeof(f[0])) &&
	    (f[n] = strsep(&p, " ")) != NULL) {
		if (f[n][0] == '\0')
			return (-1);
		if (n >= 6 && sep == -1 && strcmp(f[n], "-") == 0)
			sep = n;
		n++;
	}
	if (p != NULL || sep == -1 || n != sep + 4)
		return (-1);
	if (ctl == NULL) {
		if (strcmp(f[sep + 1], "cgroup2") != 0)
			return (0);
	} else {
		if (strcmp(f[sep + 1], "cgroup") != 0)
			return (0);
		p = f[sep + 3];
		while ((o = strsep(&p, ",")) != NULL)
			if (strcmp(o, ctl) == 0)
				break;
		if (o == NULL)
			return (0);
	}
	for (i = 3; i <= 4; i++)
		if (f[i][0] != '/')
			return (-1);
	if (cgroup_unescape(f[3], root, rootlen) == -1 ||
	    cgroup_unescape(f[4], mnt, mntlen) == -1)
		return (-1);
	return (1);
}

/*
 * The directory of cgroup path, under a mount of its hierarchy whose
 * root is root: -1 if that mount does not show it, or it is too long.
 */
int
cgroup_dir(const char *mnt, const char *root, const char *path, char *out,
    size_t outlen)
{
	size_t	 rl = strlen(root);
	int	 n;

	if (strstr(path, "/../") != NULL ||
	    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		return (-1);
	if (strcmp(root, "/") != 0) {
		if (strncmp(path, root, rl) != 0 ||
		    (path[rl] != '\0' && path[rl] != '/'))
			return (-1);
		path += rl;
	}
	if (strcmp(path, "/") == 0)
		path = "";
	n = snprintf(out, outlen, "%s%s", mnt, path);
	if (n < 0 || (size_t)n >= outlen)
		return (-1);
	return (0);
}

/* A whole small file, NUL-terminated: its length, or -1. */
static ssize_t
cg_read(const char *dir, const char *file, char *buf, size_t buflen)
{
	char	 path[PATH_MAX];
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	if (dir == NULL)
		dir = "";
	if (snprintf(path, sizeof(path), "%s%s%s", dir, dir[0] != '\0' ?
	    "/" : "", file) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return (-1);
	while (len < buflen - 1) {
		if ((n = read(fd, buf + len, buflen - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return (-1);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return ((ssize_t)len);
}

/* text into dir/file, which must exist: 0, or -1 with why. */
static int
cg_write(const char *dir, const char *file, const char *text, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX];
	ssize_t	 n;
	int	 fd, saved;

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path)) {
		cg_why(err, errlen, "%s/%s: path too long", dir, file);
		return (-1);
	}
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		saved = errno;
		cg_why(err, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return (-1);
	}
	n = write(fd, text, strlen(text));
	saved = n == -1 ? errno : EIO;
	close(fd);
	if (n != (ssize_t)strlen(text)) {
		cg_why(err, errlen, "%s: %s", path,
		    n == -1 ? strerror(saved) : "short write");
		errno = saved;
		return (-1);
	}
	return (0);
}

static int
cg_exists(const char *dir, const char *file)
{
	char	 path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return (0);
	return (access(path, F_OK) == 0);
}

/* A word among the blank-separated words of a cgroup file. */
static int
cg_has_word(const char *text, const char *word)
{
	size_t	 wl = strlen(word), n;

	while (*text != '\0') {
		text += strspn(text, " \t\n");
		n = strcspn(text, " \t\n");
		if (n == wl && strncmp(text, word, n) == 0)
			return (1);
		text += n;
	}
	return (0);
}

/* "KEY N" in a file of such lines (memory.events, oom_control). */
static uint64_t
cg_counter(const char *text, const char *key)
{
	const char	*p = text;
	size_t		 kl = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
			return (strtoull(p + kl + 1, NULL, 10));
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return (0);
}

/*
 * The directories the cgroup and mountinfo files name, for v2 (ctl
 * NULL) or a v1 controller: 0, or -1 with what is missing.
 */
static int
cg_find(const char *self, const char *mountinfo, const char *ctl,
    char *dir, size_t dirlen, char *why, size_t whylen)
{
	char	 path[PATH_MAX], mnt[PATH_MAX], root[PATH_MAX];
	char	*buf, *line, *p;
	int	 found = 0, r;
	const char *what = ctl == NULL ? "cgroup v2" : ctl;

	if ((buf = malloc(CG_READ_MAX)) == NULL) {
		cg_why(why, whylen, "out of memory");
		return (-1);
	}
	if (cg_read(NULL, self, buf, CG_READ_MAX) == -1) {
		cg_why(why, whylen, "%s: %s", self, strerror(errno));
		free(buf);
		return (-1);
	}
	for (p = buf; !found && (line = strsep(&p, "\n")) != NULL;)
		if (cgroup_self_line(line, ctl, path, sizeof(path)) == 1)
			found = 1;
	if (!found) {
		cg_why(why, whylen, "no %s hierarchy", what);
		free(buf);
		return (-1);
	}
	if (cg_read(NULL, mountinfo, buf, CG_READ_MAX) == -1) {
		cg_why(why, whylen, "%s: %s", mountinfo, strerror(errno));
		free(buf);
		return (-1);
	}
	found = 0;
	for (p = buf; !found && (line = strsep(&p, "\n")) != NULL;) {
		r = cgroup_mount_line(line, ctl, mnt, sizeof(mnt), root,
		    sizeof(root));
		if (r == 1 && cgroup_dir(mnt, root, path, dir, dirlen) == 0)
			found = 1;
	}
	free(buf);
	if (!found) {
		cg_why(why, whylen, "%s %s is not mounted", what, path);
		return (-1);
	}
	if (access(dir, W_OK) == -1) {
		cg_why(why, whylen, "%s %s: %s", what, dir, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * v2: enable memory and pids for the children of dir.  When the kernel
 * refuses because dir has processes, every one moves to the leaf
 * dir/mcpgated (the daemon's: a delegated cgroup is the service's own),
 * and again.
 */
static int
cg_v2_enable(const char *dir, char *why, size_t whylen)
{
	char	 leaf[PATH_MAX], err[256], *buf, *p, *line;
	int	 tries, ret = -1;

	if (cg_write(dir, "cgroup.subtree_control", "+memory +pids", err,
	    sizeof(err)) == 0)
		return (0);
	if (errno != EBUSY) {
		cg_why(why, whylen, "%s", err);
		return (-1);
	}
	if (snprintf(leaf, sizeof(leaf), "%s/%s", dir, CG_LEAF) >=
	    (int)sizeof(leaf) || (mkdir(leaf, 0755) == -1 &&
	    errno != EEXIST)) {
		cg_why(why, whylen, "mkdir %s: %s", leaf, strerror(errno));
		return (-1);
	}
	if ((buf = malloc(CG_READ_MAX)) == NULL) {
		cg_why(why, whylen, "out of memory");
		return (-1);
	}
	for (tries = 0; tries < 3; tries++) {
		if (cg_read(dir, "cgroup.procs", buf, CG_READ_MAX) == -1) {
			cg_why(why, whylen, "%s/cgroup.procs: %s", dir,
			    strerror(errno));
			goto done;
		}
		for (p = buf; (line = strsep(&p, "\n")) != NULL;) {
			if (line[0] == '\0')
				continue;
			/* One gone meanwhile: ESRCH, nothing to move. */
			if (cg_write(leaf, "cgroup.procs", line, err,
			    sizeof(err)) == -1 && errno != ESRCH) {
				cg_why(why, whylen, "%s", err);
				goto done;
			}
		}
		if (cg_write(dir, "cgroup.subtree_control", "+memory +pids",
		    err, sizeof(err)) == 0) {
			ret = 0;
			goto done;
		}
	}
	cg_why(why, whylen, "%s", err);
 done:
	free(buf);
	return (ret);
}


/* A spawner's pid, if name is mcpgated-PID; else 0. */
static pid_t
cg_own_pid(const char *name)
{
	const char	*p;
	char		*ep;
	long		 pid;

	if (strncmp(name, CG_OWN, strlen(CG_OWN)) != 0)
		return (0);
	p = name + strlen(CG_OWN);
	if (!isdigit((unsigned char)p[0]))
		return (0);
	errno = 0;
	pid = strtol(p, &ep, 10);
	if (*ep != '\0' || errno != 0 || pid <= 0 || pid > INT_MAX)
		return (0);
	return ((pid_t)pid);
}

/* Whether pid is a live spawner (not a zombie), not this one. */
static int
cg_spawner_alive(pid_t pid)
{
	char	 proc[64], st[512], *p;

	if (pid == getpid())
		return (0);
	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	/* "PID (COMM) STATE ...": COMM may hold anything, ')' too. */
	if (cg_read(proc, "stat", st, sizeof(st)) == -1 ||
	    (p = strrchr(st, ')')) == NULL || p[1] != ' ' ||
	    p[2] == 'Z' || p[2] == 'X')
		return (0);
	*p = '\0';
	if ((p = strchr(st, '(')) == NULL)
		return (0);
	return (strncmp(p + 1, CG_SPAWNER_COMM,
	    strlen(CG_SPAWNER_COMM)) == 0);
}

/*
 * A stale server's cgroup removed: what is still in it (the server of a
 * dead spawner on its way out, or what it started and left behind) is
 * killed, and the kernel given CG_STALE_TRIES * CG_STALE_WAIT_MS to let
 * go of it.  Returns 1 when removed, 0 when it was not there, -1 (logged)
 * when it is still there; *killed counts the kills.
 */
static int
cg_rmdir_stale(const char *dir, int *killed)
{
	char	 buf[4096], *p, *line, *ep;
	ssize_t	 len;
	long	 pid;
	int	 i;

	for (i = 0; i < CG_STALE_TRIES; i++) {
		if (rmdir(dir) == 0)
			return (1);
		if (errno == ENOENT)
			return (0);
		if (errno != EBUSY)
			break;
		if ((len = cg_read(dir, "cgroup.procs", buf,
		    sizeof(buf))) == -1)
			break;
		/* A full buffer may end in part of a pid: not that one. */
		if ((size_t)len == sizeof(buf) - 1 &&
		    (p = strrchr(buf, '\n')) != NULL)
			p[1] = '\0';
		for (p = buf; (line = strsep(&p, "\n")) != NULL;) {
			errno = 0;
			pid = strtol(line, &ep, 10);
			if (ep == line || *ep != '\0' || errno != 0 ||
			    pid <= 0 || pid > INT_MAX)
				continue;
			if (kill((pid_t)pid, SIGKILL) == 0)
				(*killed)++;
		}
		usleep(CG_STALE_WAIT_MS * 1000);
	}
	log_warn("cannot remove the stale cgroup %s", dir);
	return (-1);
}

/*
 * Every directory named PREFIX... in dir, removed: how many were.  With
 * killed, they are a dead spawner's: cg_rmdir_stale, counting its kills.
 */
static int
cg_rmdir_children(const char *dir, const char *prefix, int *killed)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	if ((d = opendir(dir)) == NULL)
		return (0);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path))
			continue;
		if (killed != NULL) {
			if (cg_rmdir_stale(path, killed) == 1)
				n++;
		} else if (rmdir(path) == 0)
			n++;
		else if (errno != ENOENT)
			log_warn("cannot remove cgroup %s", path);
	}
	closedir(d);
	return (n);
}

/*
 * The mcpgated-PID directories of base whose spawner is gone (killed
 * with its parent) or is this one's pid before it (its servers are no
 * more): their servers' directories, then theirs.
 */
static void
cg_clean_stale(const char *base)
{
	char		 path[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	pid_t		 pid;
	int		 n, killed;

	if ((d = opendir(base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if ((pid = cg_own_pid(de->d_name)) == 0 ||
		    cg_spawner_alive(pid) ||
		    snprintf(path, sizeof(path), "%s/%s", base, de->d_name) >=
		    (int)sizeof(path))
			continue;
		killed = 0;
		n = cg_rmdir_children(path, CG_APP, &killed);
		if (killed > 0)
			log_warnx("killed %d processes left in %s by spawner "
			    "%d", killed, path, (int)pid);
		if (cg_rmdir_stale(path, &killed) != -1)
			log_info("removed %s, left by spawner %d, and %d of "
			    "its servers' cgroups", path, (int)pid, n);
	}
	closedir(d);
}

/*
 * What the host offers, from the files the kernel names (self: the
 * process's cgroup file, mountinfo: its mounts); h says which, or why
 * none.  root: whether the spawner is root, without which cgroups are
 * not its to write.
 */
void
cgroup_detect(struct cgroup_host *h, const char *self, const char *mountinfo,
    int root)
{
	char	 why2[256], why1[256], err[256];

	memset(h, 0, sizeof(*h));
	h->mode = CGROUP_NONE;
	if (!root) {
		cg_why(h->why, sizeof(h->why), "not running as root");
		return;
	}
	if (cg_find(self, mountinfo, NULL, h->v2, sizeof(h->v2), why2,
	    sizeof(why2)) == 0) {
		if (cg_read(h->v2, "cgroup.controllers", err,
		    sizeof(err)) == -1)
			cg_why(why2, sizeof(why2), "%s/cgroup.controllers: "
			    "%s", h->v2, strerror(errno));
		else if (!cg_has_word(err, "memory") ||
		    !cg_has_word(err, "pids"))
			cg_why(why2, sizeof(why2), "cgroup v2 %s does not "
			    "have the memory and pids controllers", h->v2);
		else if (cg_v2_enable(h->v2, why2, sizeof(why2)) == 0) {
			h->mode = CGROUP_V2;
			return;
		}
	}
	h->v2[0] = '\0';
	if (cg_find(self, mountinfo, "memory", h->mem, sizeof(h->mem), why1,
	    sizeof(why1)) == 0 && cg_find(self, mountinfo, "pids", h->pids,
	    sizeof(h->pids), why1, sizeof(why1)) == 0) {
		h->mode = CGROUP_V1;
		return;
	}
	h->mem[0] = h->pids[0] = '\0';
	cg_why(h->why, sizeof(h->why), "no writable memory and pids cgroup "
	    "controllers: %s; %s", why2, why1);
}

/* At the spawner's start: find, say, and clean what a dead one left. */
void
cgroup_init(struct cgroup_host *h, int root)
{
	cgroup_detect(h, "/proc/self/cgroup", "/proc/self/mountinfo", root);
	switch (h->mode) {
	case CGROUP_V2:
		log_info("memory_max and tasks_max: cgroup v2, beneath %s",
		    h->v2);
		cg_clean_stale(h->v2);
		break;
	case CGROUP_V1:
		log_info("memory_max and tasks_max: cgroup v1, beneath %s "
		    "and %s", h->mem, h->pids);
		cg_clean_stale(h->mem);
		cg_clean_stale(h->pids);
		break;
	default:
		log_info("memory_max and tasks_max cannot be enforced: %s",
		    h->why);
	}
}

/* The directories of a spawner and of one of its servers, under base. */
static int
cg_paths(const char *base, const char *app, uint32_t id, char *own,
    size_t ownlen, char *srv, size_t srvlen)
{
	if (snprintf(own, ownlen, "%s/" CG_OWN "%d", base, (int)getpid()) >=
	    (int)ownlen)
		return (-1);
	if (srv != NULL && snprintf(srv, srvlen, "%s/" CG_APP "%s-%u", own,
	    app, id) >= (int)srvlen)
		return (-1);
	return (0);
}

/* The server's directory under base, made with its spawner's. */
static int
cg_make(const char *base, int v2, const char *app, uint32_t id, char *srv,
    size_t srvlen, char *err, size_t errlen)
{
	char	 own[PATH_MAX];

	if (cg_paths(base, app, id, own, sizeof(own), srv, srvlen) == -1) {
		cg_why(err, errlen, "%s: path too long", base);
		return (-1);
	}
	if (mkdir(own, 0755) == -1 && errno != EEXIST) {
		cg_why(err, errlen, "mkdir %s: %s", own, strerror(errno));
		return (-1);
	}
	if (v2 && cg_write(own, "cgroup.subtree_control", "+memory +pids",
	    err, errlen) == -1)
		return (-1);
	if (mkdir(srv, 0755) == -1 && errno != EEXIST) {
		cg_why(err, errlen, "mkdir %s: %s", srv, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * Put the init pid of server id of app in cgroups with its limits,
 * before it runs anything of the server's: 0, also when it asks for no
 * limit or the host has no cgroups (the spawner warns), or -1 with why.
 * The caller removes what was made with cgroup_server_remove.
 */
int
cgroup_server_add(const struct cgroup_host *h, const char *app, uint32_t id,
    uint64_t memory_max, uint64_t tasks_max, pid_t pid, char *err,
    size_t errlen)
{
	char		 dir[PATH_MAX], num[32], pidtext[32], why[256];
	const char	*what = memory_max > 0 ? "memory_max" : "tasks_max";

	if ((memory_max == 0 && tasks_max == 0) || h->mode == CGROUP_NONE)
		return (0);
	snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
	if (h->mode == CGROUP_V2) {
		if (cg_make(h->v2, 1, app, id, dir, sizeof(dir), why,
		    sizeof(why)) == -1)
			goto fail;
		if (memory_max > 0) {
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)memory_max);
			if (cg_write(dir, "memory.max", num, why,
			    sizeof(why)) == -1 ||
			    (cg_exists(dir, "memory.swap.max") &&
			    cg_write(dir, "memory.swap.max", "0", why,
			    sizeof(why)) == -1))
				goto fail;
		}
		if (tasks_max > 0) {
			what = "tasks_max";
			snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)tasks_max);
			if (cg_write(dir, "pids.max", num, why,
			    sizeof(why)) == -1)
				goto fail;
		}
		if (cg_write(dir, "cgroup.procs", pidtext, why,
		    sizeof(why)) == -1)
			goto fail;
		return (0);
	}
	if (memory_max > 0) {
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)memory_max);
		/* The limit first: memsw may not be below it. */
		if (cg_make(h->mem, 0, app, id, dir, sizeof(dir), why,
		    sizeof(why)) == -1 ||
		    cg_write(dir, "memory.limit_in_bytes", num, why,
		    sizeof(why)) == -1 ||
		    (cg_exists(dir, "memory.memsw.limit_in_bytes") &&
		    cg_write(dir, "memory.memsw.limit_in_bytes", num, why,
		    sizeof(why)) == -1) ||
		    cg_write(dir, "cgroup.procs", pidtext, why,
		    sizeof(why)) == -1)
			goto fail;
	}
	if (tasks_max > 0) {
		what = "tasks_max";
		snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)tasks_max);
		if (cg_make(h->pids, 0, app, id, dir, sizeof(dir), why,
		    sizeof(why)) == -1 ||
		    cg_write(dir, "pids.max", num, why, sizeof(why)) == -1 ||
		    cg_write(dir, "cgroup.procs", pidtext, why,
		    sizeof(why)) == -1)
			goto fail;
	}
	return (0);
 fail:
	cg_why(err, errlen, "cannot apply %s: %s", what, why);
	return (-1);
}

/* The OOM kills in server id's memory cgroup, before it is removed. */
uint64_t
cgroup_server_oom(const struct cgroup_host *h, const char *app, uint32_t id)
{
	char	 own[PATH_MAX], srv[PATH_MAX], buf[1024];

	switch (h->mode) {
	case CGROUP_V2:
		if (cg_paths(h->v2, app, id, own, sizeof(own), srv,
		    sizeof(srv)) == -1 ||
		    cg_read(srv, "memory.events", buf, sizeof(buf)) == -1)
			return (0);
		return (cg_counter(buf, "oom_kill"));
	case CGROUP_V1:
		if (cg_paths(h->mem, app, id, own, sizeof(own), srv,
		    sizeof(srv)) == -1 ||
		    cg_read(srv, "memory.oom_control", buf, sizeof(buf)) == -1)
			return (0);
		return (cg_counter(buf, "oom_kill"));
	default:
		return (0);
	}
}

/*
 * Remove server id's cgroups: 0 when none is left, 1 when the kernel
 * still holds one (EBUSY: tasks on their way out; try again), -1 when
 * one cannot be removed (logged).
 */
int
cgroup_server_remove(const struct cgroup_host *h, const char *app,
    uint32_t id)
{
	const char	*base[2];
	char		 own[PATH_MAX], srv[PATH_MAX];
	int		 i, ret = 0;

	base[0] = h->mode == CGROUP_V2 ? h->v2 : h->mem;
	base[1] = h->mode == CGROUP_V1 ? h->pids : NULL;
	if (h->mode == CGROUP_NONE)
		return (0);
	for (i = 0; i < 2; i++) {
		if (base[i] == NULL || cg_paths(base[i], app, id, own,
		    sizeof(own), srv, sizeof(srv)) == -1)
			continue;
		if (rmdir(srv) == 0 || errno == ENOENT) {
			/* The spawner's, once its last server's is gone. */
			(void)rmdir(own);
			continue;
		}
		if (errno == EBUSY) {
			if (ret == 0)
				ret = 1;
			continue;
		}
		log_warn("cannot remove cgroup %s", srv);
		ret = -1;
	}
	return (ret);
}

/* At the spawner's end, its servers' removed: its own directories. */
void
cgroup_end(const struct cgroup_host *h)
{
	const char	*base[2];
	char		 own[PATH_MAX];
	int		 i;

	base[0] = h->mode == CGROUP_V2 ? h->v2 : h->mem;
	base[1] = h->mode == CGROUP_V1 ? h->pids : NULL;
	if (h->mode == CGROUP_NONE)
		return;
	for (i = 0; i < 2; i++) {
		if (base[i] == NULL || cg_paths(base[i], NULL, 0, own,
		    sizeof(own), NULL, 0) == -1)
			continue;
		cg_rmdir_children(own, CG_APP, NULL);
		if (rmdir(own) == -1 && errno != ENOENT)
			log_warn("cannot remove cgroup %s", own);
	}
}
