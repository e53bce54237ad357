/*
 * mcpgatectl audit verify | search | tail: straight from the files of the
 * audit directory, so they work whether or not the daemon runs.
 * mcpgatectl.c parses their options.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "audit_record.h"
#include "ctl.h"
#include "util.h"

#define TAIL_DEFAULT	10
#define FOLLOW_MS	200

struct audit_files {
	char	**paths;
	size_t	  n;
};

struct filter {
	int64_t		 since;
	int64_t		 until;
	const char	*event;
	const char	*user;
	const char	*app;
};

static int
seq_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/*
 * Add the log's files of a directory to af in chain order (their names
 * sort by first record); returns how many there were.
 */
static size_t
audit_list_append(const char *dir, struct audit_files *af)
{
	struct dirent	*de;
	DIR		*d;
	uint64_t	 seq;
	size_t		 first = af->n;
	char		*path;

	if ((d = opendir(dir)) == NULL)
		err(CTL_EXIT_FAIL, "audit directory %s", dir);
	while ((de = readdir(d)) != NULL) {
		if (audit_file_seq(de->d_name, &seq) == -1)
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) == -1)
			err(CTL_EXIT_FAIL, NULL);
		if ((af->paths = reallocarray(af->paths, af->n + 1,
		    sizeof(*af->paths))) == NULL)
			err(CTL_EXIT_FAIL, NULL);
		af->paths[af->n++] = path;
	}
	closedir(d);
	if (af->n > first)
		qsort(af->paths + first, af->n - first, sizeof(*af->paths),
		    seq_cmp);
	return (af->n - first);
}

static void
audit_list(const char *dir, struct audit_files *af)
{
	memset(af, 0, sizeof(*af));
	audit_list_append(dir, af);
}

static void
audit_files_free(struct audit_files *af)
{
	size_t	 i;

	for (i = 0; i < af->n; i++)
		free(af->paths[i]);
	free(af->paths);
	memset(af, 0, sizeof(*af));
}

static const char *
base_name(const char *path)
{
	const char	*s = strrchr(path, '/');

	return (s != NULL ? s + 1 : path);
}

static EVP_PKEY *
load_pubkey(const char *path, int must)
{
	EVP_PKEY	*key;
	FILE		*fp;

	if ((fp = fopen(path, "r")) == NULL) {
		if (must)
			err(CTL_EXIT_FAIL, "audit key %s", path);
		return (NULL);
	}
	key = PEM_read_PUBKEY(fp, NULL, NULL, NULL);
	fclose(fp);
	if (key == NULL || EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
		if (must)
			errx(CTL_EXIT_FAIL, "%s is not an Ed25519 public key",
			    path);
		EVP_PKEY_free(key);
		return (NULL);
	}
	return (key);
}

/*
 * Open a file of the log for reading: never through a symbolic link, and
 * only a regular file (a FIFO or a device could block or feed anything).
 * NULL with a sentence in why.
 */
static FILE *
audit_fopen(const char *path, char *why, size_t whylen)
{
	struct stat	 st;
	FILE		*fp;
	int		 fd, flags;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			snprintf(why, whylen, "a symbolic link; not "
			    "followed");
		else
			snprintf(why, whylen, "%s", strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "not a regular file");
		close(fd);
		return (NULL);
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		close(fd);
		return (NULL);
	}
	return (fp);
}

/* What was found on the way, before the summary or the failure. */
static json_t	*verify_warnings;

/*
 * The problem that ends the check, at a line (0: the file as a whole),
 * after the warnings so far.
 */
static int
verify_fail(const char *path, size_t lineno, const char *msg)
{
	json_t	*ans;
	size_t	 i;

	if (ctl.format == FMT_JSON) {
		ans = json_pack("{s:b,s:s,s:I,s:s}", "ok", 0, "file", path,
		    "line", (json_int_t)lineno, "error", msg);
		if (verify_warnings != NULL)
			json_object_set(ans, "warnings", verify_warnings);
		ctl_print_json(ans);
		json_decref(ans);
		return (CTL_EXIT_FAIL);
	}
	for (i = 0; i < json_array_size(verify_warnings); i++)
		fprintf(stderr, "mcpgatectl: warning: %s\n",
		    json_string_value(json_array_get(verify_warnings, i)));
	if (lineno > 0)
		fprintf(stderr, "mcpgatectl: %s:%zu: %s\n", path, lineno, msg);
	else
		fprintf(stderr, "mcpgatectl: %s: %s\n", path, msg);
	return (CTL_EXIT_FAIL);
}

/*
 * The anchor: 1 when read, 0 when there is none, -1 when it cannot be
 * read, -2 when it does not parse; why says what went wrong.
 */
static int
load_anchor(const char *path, struct audit_anchor_file *a, char *why,
    size_t whylen)
{
	FILE	*fp;
	char	 buf[4096 + 1];
	size_t	 n;

	if ((fp = audit_fopen(path, why, whylen)) == NULL)
		return (errno == ENOENT ? 0 : -1);
	n = fread(buf, 1, sizeof(buf), fp);
	if (ferror(fp)) {
		snprintf(why, whylen, "%s", strerror(errno));
		fclose(fp);
		return (-1);
	}
	fclose(fp);
	if (audit_anchor_parse(buf, n, a, why, whylen) == -1)
		return (-2);
	return (1);
}

/*
 * What an audit.tamper record says, as a sentence, or 0 when the line is
 * not one.
 */
static int
tamper_note(const char *line, size_t len, char *buf, size_t buflen)
{
	static const char	 tag[] = "\"event\":\"" AUDIT_TAMPER "\"";
	json_t			*rec;
	int			 ret = 0;

	if (memmem(line, len, tag, sizeof(tag) - 1) == NULL ||
	    (rec = json_loadb(line, len, 0, NULL)) == NULL)
		return (0);
	if (json_is_string(json_object_get(rec, "event")) &&
	    strcmp(json_string_value(json_object_get(rec, "event")),
	    AUDIT_TAMPER) == 0) {
		snprintf(buf, buflen, "at %s auditd found that %s, which "
		    "held records %" JSON_INTEGER_FORMAT " to %"
		    JSON_INTEGER_FORMAT ", was %s%s (audit.tamper, record %"
		    JSON_INTEGER_FORMAT ")",
		    json_string_value(json_object_get(rec, "time")),
		    json_string_value(json_object_get(rec, "file")),
		    json_integer_value(json_object_get(rec, "first_seq")),
		    json_integer_value(json_object_get(rec, "last_seq")),
		    json_string_value(json_object_get(rec, "what")),
		    json_is_true(json_object_get(rec, "restored")) ?
		    "; it restored it" : "",
		    json_integer_value(json_object_get(rec, "seq")));
		ret = 1;
	}
	json_decref(rec);
	return (ret);
}

/* A finding that is an error only with --strict. */
static void
verify_warn(json_t *warnings, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
verify_warn(json_t *warnings, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[2 * PATH_MAX + 512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(warnings, json_string(msg));
}

int
cmd_audit_verify(int argc, char **argv)
{
	struct audit_files		 af;
	struct audit_chain		 chain;
	struct audit_anchor_file	 anchor;
	struct stat			 st, ast;
	EVP_PKEY			*key = NULL;
	FILE				*fp;
	json_t				*ans, *warnings;
	char				*line = NULL, keypath[PATH_MAX + 16];
	char				 anchorbuf[PATH_MAX + 16];
	char				 why[2 * PATH_MAX + 512];
	char				 note[1024];
	char				 hash[SHA256_HEX_LEN + 1];
	const char			*keyfile = NULL, *anchorpath = NULL;
	size_t				 cap = 0, lineno = 0, i, nfiles;
	ssize_t				 len;
	uint64_t			 fseq, seq;
	int				 ret = CTL_EXIT_FAIL, firstline, ch;
	int				 strict = 0, have_anchor = 0;
	int				 anchor_seen = 0, anchor_absent = 0;

	memset(&af, 0, sizeof(af));
	verify_warnings = warnings = json_array();
	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_KEY:
			keyfile = optarg;
			break;
		case OPT_ANCHOR:
			anchorpath = optarg;
			break;
		case OPT_STRICT:
			strict = 1;
			break;
		}
	}
	ctl_load_conf(0);
	/*
	 * A directory stands for its audit files; the audit directory of the
	 * configuration, alone, is the log itself, checked as without one.
	 */
	for (i = 0; i < (size_t)ctl.nargs; i++) {
		if (stat(ctl.args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			if (ctl.nargs == 1 && stat(ctl.conf.audit_dir,
			    &ast) == 0 && st.st_dev == ast.st_dev &&
			    st.st_ino == ast.st_ino)
				break;
			if (audit_list_append(ctl.args[i], &af) == 0) {
				ret = verify_fail(ctl.args[i], 0, "no audit "
				    "files (audit-*.jsonl) in this directory");
				goto out;
			}
			continue;
		}
		if ((af.paths = reallocarray(af.paths, af.n + 1,
		    sizeof(*af.paths))) == NULL ||
		    (af.paths[af.n++] = strdup(ctl.args[i])) == NULL)
			err(CTL_EXIT_FAIL, NULL);
	}
	if (keyfile != NULL)
		key = load_pubkey(keyfile, 1);
	else {
		/*
		 * The state directory holds the authoritative copy; the one
		 * beside the log is writable by auditd's user.
		 */
		snprintf(keypath, sizeof(keypath), "%s/%s",
		    ctl.conf.state_dir, AUDIT_PUBKEY_FILE);
		if ((key = load_pubkey(keypath, 0)) == NULL) {
			snprintf(keypath, sizeof(keypath), "%s/%s",
			    ctl.conf.audit_dir, AUDIT_PUBKEY_FILE);
			if ((key = load_pubkey(keypath, 0)) != NULL &&
			    ctl.format == FMT_TEXT)
				fprintf(stderr, "mcpgatectl: warning: using "
				    "the audit key copy %s, which the audit "
				    "user could replace; give --key %s/%s to "
				    "use the authoritative one\n", keypath,
				    ctl.conf.state_dir, AUDIT_PUBKEY_FILE);
		}
		if (key != NULL)
			keyfile = keypath;
	}

	/*
	 * The anchor, read before the files: the daemon moves it only once
	 * the checkpoint it names is on disk, so the log reaches it.  Files
	 * named on the command line are a copy, checked against an anchor
	 * only when one is given.
	 */
	if (anchorpath == NULL && af.n == 0) {
		snprintf(anchorbuf, sizeof(anchorbuf), "%s/%s",
		    ctl.conf.state_dir, AUDIT_ANCHOR_FILE);
		anchorpath = anchorbuf;
	}
	if (anchorpath != NULL) {
		switch (load_anchor(anchorpath, &anchor, why, sizeof(why))) {
		case 1:
			have_anchor = 1;
			break;
		case 0:
			if (anchorpath != anchorbuf) {
				ret = verify_fail(anchorpath, 0, why);
				goto out;
			}
			anchor_absent = 1;
			break;
		case -1:
			if (anchorpath != anchorbuf || strict) {
				ret = verify_fail(anchorpath, 0, why);
				goto out;
			}
			verify_warn(warnings, "cannot read the anchor %s (%s): "
			    "whether the newest records are all there is not "
			    "checked; run as root", anchorpath, why);
			break;
		default:
			ret = verify_fail(anchorpath, 0, why);
			goto out;
		}
	}

	if (af.n == 0)
		audit_list(ctl.conf.audit_dir, &af);
	if (af.n == 0) {
		if (have_anchor) {
			snprintf(why, sizeof(why), "no audit files, but the "
			    "daemon recorded a checkpoint at record %" PRIu64
			    " in %s (%s): records 1 to %" PRIu64 " are "
			    "missing; the log was removed", anchor.seq,
			    anchor.file, anchorpath, anchor.seq);
			ret = verify_fail(ctl.conf.audit_dir, 0, why);
		} else
			fprintf(stderr, "mcpgatectl: no audit files in %s\n",
			    ctl.conf.audit_dir);
		goto out;
	}

	audit_chain_init(&chain, key);
	for (nfiles = 0; nfiles < af.n; nfiles++) {
		if ((fp = audit_fopen(af.paths[nfiles], why,
		    sizeof(why))) == NULL) {
			ret = verify_fail(af.paths[nfiles], 0, why);
			goto out;
		}
		firstline = 1;
		for (lineno = 1; (len = getline(&line, &cap, fp)) != -1;
		    lineno++) {
			if (line[len - 1] != '\n') {
				fclose(fp);
				ret = verify_fail(af.paths[nfiles], lineno,
				    "torn last line: a write that did not "
				    "finish (mcpgated keeps it in an "
				    "audit.torn record when it next starts)");
				goto out;
			}
			line[--len] = '\0';
			if (audit_chain_line(&chain, line, (size_t)len, why,
			    sizeof(why)) == -1) {
				if (tamper_note(line, (size_t)len, note,
				    sizeof(note)))
					snprintf(why + strlen(why),
					    sizeof(why) - strlen(why), "; %s",
					    note);
				fclose(fp);
				ret = verify_fail(af.paths[nfiles], lineno,
				    why);
				goto out;
			}
			seq = chain.next_seq - 1;
			if (tamper_note(line, (size_t)len, note,
			    sizeof(note))) {
				if (strict) {
					fclose(fp);
					ret = verify_fail(af.paths[nfiles],
					    lineno, note);
					goto out;
				}
				verify_warn(warnings, "%s", note);
			}
			if (firstline && audit_file_seq(
			    base_name(af.paths[nfiles]), &fseq) == 0 &&
			    fseq != seq) {
				snprintf(why, sizeof(why), "the file's name "
				    "says it starts at record %" PRIu64 " but "
				    "its first record is %" PRIu64, fseq, seq);
				fclose(fp);
				ret = verify_fail(af.paths[nfiles], lineno,
				    why);
				goto out;
			}
			firstline = 0;
			if (!have_anchor || seq != anchor.seq)
				continue;
			sha256_hex(line, (size_t)len, hash);
			if (strcmp(hash, anchor.sha256) != 0) {
				snprintf(why, sizeof(why), "record %" PRIu64
				    " is not the checkpoint that the daemon "
				    "recorded in %s: the log was rewritten or "
				    "replaced", seq, anchorpath);
				fclose(fp);
				ret = verify_fail(af.paths[nfiles], lineno,
				    why);
				goto out;
			}
			anchor_seen = 1;
		}
		fclose(fp);
	}
	lineno--;	/* the last line of the last file */
	if (chain.records == 0) {
		fprintf(stderr, "mcpgatectl: the audit files hold no "
		    "records\n");
		goto out;
	}
	seq = chain.next_seq - 1;
	if (have_anchor && !anchor_seen) {
		if (seq < anchor.seq) {
			snprintf(why, sizeof(why), "the log ends at record %"
			    PRIu64 ", but the daemon recorded a signed "
			    "checkpoint at record %" PRIu64 " in %s (%s, at "
			    "%s): records %" PRIu64 " to %" PRIu64 " are "
			    "missing; the newest files were removed or cut "
			    "short", seq, anchor.seq, anchor.file,
			    anchorpath, anchor.time, seq + 1, anchor.seq);
			ret = verify_fail(af.paths[af.n - 1], lineno, why);
			goto out;
		}
		snprintf(why, sizeof(why), "record %" PRIu64 ", the "
		    "checkpoint recorded in %s, is before the start of the "
		    "log: it was not checked", anchor.seq, anchorpath);
		if (strict) {
			ret = verify_fail(af.paths[0], 1, why);
			goto out;
		}
		verify_warn(warnings, "%s", why);
	}
	if (chain.first_seq > 1) {
		snprintf(why, sizeof(why), "the chain starts at record %"
		    PRIu64 ": records 1 to %" PRIu64 " are not here (older "
		    "files were archived or removed)", chain.first_seq,
		    chain.first_seq - 1);
		if (strict) {
			ret = verify_fail(af.paths[0], 1, why);
			goto out;
		}
		verify_warn(warnings, "%s", why);
	}
	if (anchor_absent && chain.checkpoints > 0) {
		snprintf(why, sizeof(why), "no anchor %s: whether the newest "
		    "records are all there is not checked", anchorpath);
		if (strict) {
			ret = verify_fail(anchorpath, 0, why);
			goto out;
		}
		verify_warn(warnings, "%s", why);
	}
	if (ctl.format == FMT_JSON) {
		ans = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:b,s:s?,s:I,s:I,"
		    "s:O}",
		    "ok", 1, "records", (json_int_t)chain.records,
		    "files", (json_int_t)af.n,
		    "first_seq", (json_int_t)chain.first_seq,
		    "last_seq", (json_int_t)seq,
		    "checkpoints", (json_int_t)chain.checkpoints,
		    "signatures_checked", key != NULL,
		    "key", key != NULL ? chain.keyid : NULL,
		    "last_checkpoint_seq",
		    (json_int_t)chain.last_checkpoint_seq,
		    "records_after_checkpoint",
		    (json_int_t)chain.since_checkpoint,
		    "warnings", warnings);
		json_object_set_new(ans, "anchor_seq", anchor_seen ?
		    json_integer((json_int_t)anchor.seq) : json_null());
		ctl_print_json(ans);
		json_decref(ans);
	} else {
		printf("audit log intact: %" PRIu64 " records in %zu file%s, "
		    "seq %" PRIu64 " to %" PRIu64 "\n", chain.records, af.n,
		    af.n == 1 ? "" : "s", chain.first_seq, seq);
		if (key != NULL && chain.checkpoints > 0)
			printf("%" PRIu64 " checkpoint%s signed by %s (%s), "
			    "the last at seq %" PRIu64 "; %" PRIu64 " record%s "
			    "after it\n", chain.checkpoints,
			    chain.checkpoints == 1 ? "" : "s", chain.keyid,
			    keyfile, chain.last_checkpoint_seq,
			    chain.since_checkpoint,
			    chain.since_checkpoint == 1 ? "" : "s");
		else if (chain.checkpoints == 0)
			printf("no signed checkpoint yet\n");
		if (anchor_seen)
			printf("the log reaches the checkpoint at seq %" PRIu64
			    " recorded in %s\n", anchor.seq, anchorpath);
		for (i = 0; i < json_array_size(warnings); i++)
			fprintf(stderr, "mcpgatectl: warning: %s\n",
			    json_string_value(json_array_get(warnings, i)));
	}
	if (key == NULL && chain.checkpoints > 0)
		fprintf(stderr, "mcpgatectl: warning: %" PRIu64 " checkpoint "
		    "signature%s NOT checked: no audit key (give --key, or run "
		    "where %s/%s is readable)\n", chain.checkpoints,
		    chain.checkpoints == 1 ? "" : "s", ctl.conf.state_dir,
		    AUDIT_PUBKEY_FILE);
	ret = CTL_EXIT_OK;
 out:
	free(line);
	json_decref(warnings);
	verify_warnings = NULL;
	EVP_PKEY_free(key);
	audit_files_free(&af);
	return (ret);
}

/* A string as it is if that is unambiguous on a terminal, else quoted. */
static void
print_value(json_t *v)
{
	const unsigned char	*s;
	char			*enc;

	if (json_is_string(v)) {
		for (s = (const unsigned char *)json_string_value(v);
		    *s != '\0'; s++)
			if (*s <= ' ' || *s >= 0x7f || *s == '"' || *s == '\\')
				break;
		if (*s == '\0' && json_string_length(v) > 0) {
			fputs(json_string_value(v), stdout);
			return;
		}
	}
	if ((enc = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
	    JSON_ENSURE_ASCII)) != NULL) {
		fputs(enc, stdout);
		free(enc);
	}
}

static void
print_record(json_t *rec, const char *raw)
{
	const char	*key;
	json_t		*v;

	if (ctl.format == FMT_JSON) {
		printf("%s\n", raw);
		return;
	}
	printf("%s #%" PRIu64 " %s %s",
	    json_string_value(json_object_get(rec, "time")),
	    (uint64_t)json_integer_value(json_object_get(rec, "seq")),
	    json_string_value(json_object_get(rec, "event")),
	    json_string_value(json_object_get(rec, "code")));
	json_object_foreach(rec, key, v) {
		if (strcmp(key, "seq") == 0 || strcmp(key, "time") == 0 ||
		    strcmp(key, "event") == 0 || strcmp(key, "code") == 0 ||
		    strcmp(key, "prev") == 0 || strcmp(key, "sig") == 0)
			continue;
		printf(" %s=", key);
		print_value(v);
	}
	printf("\n");
}

static int
filter_match(const struct filter *f, json_t *rec)
{
	const char	*ev, *s;
	size_t		 n;
	int64_t		 t;

	if (f->since != INT64_MIN || f->until != INT64_MAX) {
		if (parse_time(json_string_value(json_object_get(rec,
		    "time")), 0, &t) == -1)
			return (0);
		if (t < f->since || t > f->until)
			return (0);
	}
	if (f->event != NULL) {
		ev = json_string_value(json_object_get(rec, "event"));
		n = strlen(f->event);
		if (n > 0 && f->event[n - 1] == '*') {
			if (strncmp(ev, f->event, n - 1) != 0)
				return (0);
		} else if (n > 0 && f->event[n - 1] == '.') {
			if (strncmp(ev, f->event, n) != 0)
				return (0);
		} else if (strcmp(ev, f->event) != 0)
			return (0);
	}
	if (f->user != NULL && ((s = json_string_value(json_object_get(rec,
	    "user"))) == NULL || strcmp(s, f->user) != 0))
		return (0);
	if (f->app != NULL && ((s = json_string_value(json_object_get(rec,
	    "app"))) == NULL || strcmp(s, f->app) != 0))
		return (0);
	return (1);
}

/*
 * Print the whole records of a file from *off on that pass the filter
 * (NULL: all), after skipping skip of them; *off moves past what was
 * read, and a line still being written waits for the next call.  A line
 * that does not parse is reported and skipped.  Returns how many were
 * printed.
 */
static size_t
print_from(const char *path, const struct filter *f, size_t skip, off_t *off)
{
	FILE		*fp;
	json_t		*rec;
	char		*line = NULL, err[256];
	size_t		 cap = 0, lineno = 0, shown = 0;
	ssize_t		 len;

	if ((fp = audit_fopen(path, err, sizeof(err))) == NULL) {
		warnx("%s: %s", path, err);
		return (0);
	}
	if (fseeko(fp, *off, SEEK_SET) == -1) {
		fclose(fp);
		return (0);
	}
	while ((len = getline(&line, &cap, fp)) != -1) {
		if (line[len - 1] != '\n')
			break;
		*off += len;
		if (lineno++ < skip)
			continue;
		line[--len] = '\0';
		if ((rec = audit_line_parse(line, (size_t)len, err,
		    sizeof(err))) == NULL) {
			fprintf(stderr, "mcpgatectl: %s: skipped a record: "
			    "%s\n", path, err);
			continue;
		}
		if (f == NULL || filter_match(f, rec)) {
			print_record(rec, line);
			shown++;
		}
		json_decref(rec);
	}
	fflush(stdout);
	free(line);
	fclose(fp);
	return (shown);
}

int
cmd_audit_search(int argc, char **argv)
{
	struct audit_files	 af;
	struct filter		 f;
	time_t			 now = time(NULL);
	size_t			 i, shown = 0;
	off_t			 off;
	int			 ch;

	memset(&f, 0, sizeof(f));
	f.since = INT64_MIN;
	f.until = INT64_MAX;
	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case OPT_SINCE:
		case OPT_UNTIL:
			if (parse_time(optarg, now, ch == OPT_SINCE ?
			    &f.since : &f.until) == -1)
				errx(CTL_EXIT_USAGE, "%s: '%s' is not a time "
				    "(2026-11-26, 2026-11-26T17:00:00Z, or a "
				    "duration such as 1h meaning that long "
				    "ago)", ch == OPT_SINCE ? "--since" :
				    "--until", optarg);
			break;
		case OPT_EVENT:
			f.event = optarg;
			break;
		case OPT_USER:
			f.user = optarg;
			break;
		case OPT_APP:
			f.app = optarg;
			break;
		}
	}
	ctl_nargs(0, 0);
	ctl_load_conf(0);
	audit_list(ctl.conf.audit_dir, &af);
	for (i = 0; i < af.n; i++) {
		off = 0;
		shown += print_from(af.paths[i], &f, 0, &off);
	}
	if (shown == 0 && ctl.format == FMT_TEXT)
		fprintf(stderr, "mcpgatectl: no matching records\n");
	audit_files_free(&af);
	return (CTL_EXIT_OK);
}

static size_t
count_lines(const char *path)
{
	FILE	*fp;
	size_t	 n = 0;
	char	 why[256];
	int	 c;

	if ((fp = audit_fopen(path, why, sizeof(why))) == NULL)
		return (0);
	while ((c = getc(fp)) != EOF)
		if (c == '\n')
			n++;
	fclose(fp);
	return (n);
}

/* Where the last whole line of a file ends. */
static off_t
whole_lines_end(const char *path)
{
	FILE	*fp;
	off_t	 off = 0, end = 0;
	char	 why[256];
	int	 c;

	if ((fp = audit_fopen(path, why, sizeof(why))) == NULL)
		return (0);
	while ((c = getc(fp)) != EOF) {
		off++;
		if (c == '\n')
			end = off;
	}
	fclose(fp);
	return (end);
}

int
cmd_audit_tail(int argc, char **argv)
{
	struct audit_files	 af;
	struct timespec		 ts = { 0, FOLLOW_MS * 1000000L };
	const char		*errstr;
	char			*cur = NULL;
	size_t			 want = TAIL_DEFAULT, have = 0, i, first;
	off_t			 off = 0;
	int			 ch, follow = 0;

	while ((ch = ctl_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'f':
			follow = 1;
			break;
		case 'n':
			want = (size_t)strtonum(optarg, 0, 1000000, &errstr);
			if (errstr != NULL)
				errx(CTL_EXIT_USAGE, "-n %s: %s", optarg,
				    errstr);
			break;
		}
	}
	ctl_nargs(0, 0);
	ctl_load_conf(0);
	audit_list(ctl.conf.audit_dir, &af);
	/* Enough of the newest files to hold the last want records. */
	first = af.n;
	while (first > 0 && have < want) {
		first--;
		have += count_lines(af.paths[first]);
	}
	for (i = first; i < af.n; i++) {
		off = 0;
		print_from(af.paths[i], NULL, have > want && i == first ?
		    have - want : 0, &off);
	}
	fflush(stdout);
	if (af.n > 0) {
		if ((cur = strdup(af.paths[af.n - 1])) == NULL)
			err(CTL_EXIT_FAIL, NULL);
		/* With -n 0 nothing was read: follow from the end. */
		if (first == af.n)
			off = whole_lines_end(cur);
	}
	audit_files_free(&af);
	while (follow) {
		nanosleep(&ts, NULL);
		if (cur != NULL)
			print_from(cur, NULL, 0, &off);
		audit_list(ctl.conf.audit_dir, &af);
		/* Move to the next file once it exists. */
		for (i = 0; i < af.n; i++) {
			if (cur != NULL && strcmp(af.paths[i], cur) <= 0)
				continue;
			if (cur != NULL)
				print_from(cur, NULL, 0, &off);
			free(cur);
			if ((cur = strdup(af.paths[i])) == NULL)
				err(CTL_EXIT_FAIL, NULL);
			off = 0;
			print_from(cur, NULL, 0, &off);
		}
		audit_files_free(&af);
	}
	free(cur);
	return (CTL_EXIT_OK);
}
