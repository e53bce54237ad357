#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <malloc.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "util.h"

/*
 * A duration such as "12h", "1h30m", "10s" or "250ms", in milliseconds.
 * Every number needs its unit; the result must fit and not be zero.
 */
int
parse_duration(const char *s, uint64_t *msec)
{
	static const struct {
		const char	*unit;
		uint64_t	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	uint64_t	 total = 0, n, mul;
	size_t		 i, ulen;
	const char	*p = s;

	if (*p == '\0')
		return (-1);
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return (-1);
		for (n = 0; isdigit((unsigned char)*p); p++) {
			if (n > (UINT64_MAX - 9) / 10)
				return (-1);
			n = n * 10 + (uint64_t)(*p - '0');
		}
		mul = 0;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ulen = strlen(units[i].unit);
			if (strncmp(p, units[i].unit, ulen) == 0 &&
			    !isalpha((unsigned char)p[ulen])) {
				mul = units[i].ms;
				p += ulen;
				break;
			}
		}
		if (mul == 0 || n > (UINT64_MAX - total) / mul)
			return (-1);
		total += n * mul;
	}
	if (total == 0)
		return (-1);
	*msec = total;
	return (0);
}

/* A size such as "4MiB", "64KiB", "1GB" or a plain number of bytes. */
int
parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char	*unit;
		uint64_t	 mul;
	} units[] = {
		{ "", 1 }, { "B", 1 },
		{ "KiB", 1ULL << 10 }, { "MiB", 1ULL << 20 },
		{ "GiB", 1ULL << 30 }, { "TiB", 1ULL << 40 },
		{ "KB", 1000ULL }, { "MB", 1000000ULL },
		{ "GB", 1000000000ULL }, { "TB", 1000000000000ULL },
		{ "K", 1ULL << 10 }, { "M", 1ULL << 20 }, { "G", 1ULL << 30 },
	};
	uint64_t	 n = 0;
	size_t		 i;
	const char	*p = s;

	if (!isdigit((unsigned char)*p))
		return (-1);
	for (; isdigit((unsigned char)*p); p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return (-1);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	while (*p == ' ')
		p++;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) == 0) {
			if (n > UINT64_MAX / units[i].mul)
				return (-1);
			*bytes = n * units[i].mul;
			return (0);
		}
	}
	return (-1);
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		 era;
	unsigned	 yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

/* n decimal digits at s, and nothing else; -1 otherwise. */
static int
fixed_digits(const char *s, int n)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		v = v * 10 + (s[i] - '0');
	}
	return (v);
}

/*
 * A point in time for searches, in microseconds since the epoch:
 * RFC 3339 in UTC ("2026-11-26T17:36:41Z", fractions allowed), a date
 * ("2026-11-26", midnight UTC), or a duration meaning that long before now.
 * Every field has its exact number of digits; years run 0000 to 9999.
 */
int
parse_time(const char *s, time_t now, int64_t *us)
{
	int		 y, mo, d, h = 0, mi = 0, sec = 0;
	uint64_t	 ms, frac = 0, scale = 1000000;
	const char	*p;

	if (parse_duration(s, &ms) == 0) {
		/* Ten thousand years back is far enough for anyone. */
		if (ms > 10000ULL * 366 * 86400 * 1000 || now < 0 ||
		    (int64_t)now > INT64_MAX / 1000000)
			return (-1);
		*us = (int64_t)now * 1000000 - (int64_t)ms * 1000;
		return (0);
	}
	if (strlen(s) < 10 || (y = fixed_digits(s, 4)) == -1 || s[4] != '-' ||
	    (mo = fixed_digits(s + 5, 2)) == -1 || s[7] != '-' ||
	    (d = fixed_digits(s + 8, 2)) == -1)
		return (-1);
	p = s + 10;
	if (*p == 'T' || *p == ' ') {
		if (strlen(p) < 9 || (h = fixed_digits(p + 1, 2)) == -1 ||
		    p[3] != ':' || (mi = fixed_digits(p + 4, 2)) == -1 ||
		    p[6] != ':' || (sec = fixed_digits(p + 7, 2)) == -1)
			return (-1);
		p += 9;
		if (*p == '.') {
			if (!isdigit((unsigned char)p[1]))
				return (-1);
			for (p++; isdigit((unsigned char)*p); p++) {
				if (scale > 1) {
					scale /= 10;
					frac += (uint64_t)(*p - '0') * scale;
				}
			}
		}
		if (*p != 'Z' || p[1] != '\0')
			return (-1);
	} else if (*p != '\0')
		return (-1);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return (-1);
	*us = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400) +
	    h * 3600 + mi * 60 + sec) * 1000000 + (int64_t)frac;
	return (0);
}

/* "1h30m", "5m", "12h": the non-zero parts, for people. */
void
fmt_duration(uint64_t sec, char *buf, size_t len)
{
	static const struct {
		uint64_t	 secs;
		const char	*unit;
	} parts[] = {
		{ 86400, "d" }, { 3600, "h" }, { 60, "m" }, { 1, "s" },
	};
	char		 part[32];
	size_t		 i;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (sec / parts[i].secs == 0)
			continue;
		snprintf(part, sizeof(part), "%" PRIu64 "%s",
		    sec / parts[i].secs, parts[i].unit);
		strlcat(buf, part, len);
		sec %= parts[i].secs;
	}
	if (buf[0] == '\0')
		strlcpy(buf, "0s", len);
}

void
fmt_size(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ULL << 30) && n % (1ULL << 30) == 0)
		snprintf(buf, len, "%" PRIu64 "GiB", n >> 30);
	else if (n >= (1ULL << 20) && n % (1ULL << 20) == 0)
		snprintf(buf, len, "%" PRIu64 "MiB", n >> 20);
	else if (n >= (1ULL << 10) && n % (1ULL << 10) == 0)
		snprintf(buf, len, "%" PRIu64 "KiB", n >> 10);
	else
		snprintf(buf, len, "%" PRIu64 "B", n);
}

/* A size for people to read, rounded: "3.9MiB", "512B". */
void
fmt_bytes(uint64_t n, char *buf, size_t len)
{
	if (n >= (1ULL << 30))
		snprintf(buf, len, "%.1fGiB", (double)n / (1ULL << 30));
	else if (n >= (1ULL << 20))
		snprintf(buf, len, "%.1fMiB", (double)n / (1ULL << 20));
	else if (n >= (1ULL << 10))
		snprintf(buf, len, "%.1fKiB", (double)n / (1ULL << 10));
	else
		snprintf(buf, len, "%" PRIu64 "B", n);
}

/* RFC 3339 UTC with microseconds, as the audit log writes it. */
void
fmt_time_us(int64_t us, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 t = (time_t)(us / 1000000);
	int64_t		 frac = us % 1000000;

	if (frac < 0) {
		frac += 1000000;
		t--;
	}
	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)frac);
}

int64_t
now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
hex_encode(const void *data, size_t len, char *out, size_t outlen)
{
	static const char	 digits[] = "0123456789abcdef";
	const unsigned char	*p = data;
	size_t			 i;

	if (outlen == 0)
		return;
	for (i = 0; i < len && 2 * i + 2 < outlen; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * i] = '\0';
}

static int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Exactly 2 * len hex digits into len bytes. */
int
hex_decode(const char *s, void *out, size_t len)
{
	unsigned char	*p = out;
	size_t		 i;
	int		 hi, lo;

	if (strlen(s) != 2 * len)
		return (-1);
	for (i = 0; i < len; i++) {
		if ((hi = hex_digit(s[2 * i])) == -1 ||
		    (lo = hex_digit(s[2 * i + 1])) == -1)
			return (-1);
		p[i] = (unsigned char)(hi << 4 | lo);
	}
	return (0);
}

void
sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];

	SHA256(data, len, md);
	hex_encode(md, sizeof(md), out, SHA256_HEX_LEN + 1);
}

int
fd_nonblock(int fd)
{
	int	 flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return (-1);
	return (fcntl(fd, F_SETFL, flags | O_NONBLOCK));
}

/* A whole regular file of at most max bytes, NUL-terminated. */
int
read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n == 0 ? EIO : errno;
			freezero(buf, (size_t)st.st_size + 1);
			close(fd);
			errno = saved;
			return (-1);
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	close(fd);
	*bufp = buf;
	*lenp = off;
	return (0);
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

/*
 * Replace path with data: a temporary file beside it, written, synced,
 * renamed over (linked, when exclusive, so that an existing path is left
 * alone), then the directory synced, so a crash leaves the old file or
 * the new one and never a part.
 */
static int
write_file_tmp(const char *path, const void *data, size_t len, mode_t mode,
    int exclusive)
{
	char		 tmp[PATH_MAX], dir[PATH_MAX], *slash;
	const char	*p = data;
	ssize_t		 n;
	int		 fd, dfd, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return (-1);
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (exclusive) {
		/* link(2) fails if path has appeared meanwhile. */
		if (link(tmp, path) == -1)
			goto fail;
		unlink(tmp);
	} else if (rename(tmp, path) == -1)
		goto fail;
	strlcpy(dir, path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	} else
		strlcpy(dir, ".", sizeof(dir));
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		fsync(dfd);
		close(dfd);
	}
	return (0);
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return (-1);
}

int
write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return (write_file_tmp(path, data, len, mode, 0));
}

/* The same for a file that must not exist yet: -1 with EEXIST if it does. */
int
write_file_new(const char *path, const void *data, size_t len, mode_t mode)
{
	return (write_file_tmp(path, data, len, mode, 1));
}

/* "SHA256:" and the hex SHA-256 of a certificate's DER encoding. */
int
cert_fingerprint(X509 *cert, char *buf, size_t len)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	unsigned int	 mdlen = sizeof(md);
	char		 hex[SHA256_HEX_LEN + 1];

	if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen != sizeof(md))
		return (-1);
	hex_encode(md, mdlen, hex, sizeof(hex));
	if ((size_t)snprintf(buf, len, "SHA256:%s", hex) >= len)
		return (-1);
	return (0);
}

/* The same, for a certificate in PEM. */
int
cert_fingerprint_pem(const char *pem, size_t pemlen, char *buf, size_t len)
{
	BIO	*bio;
	X509	*x = NULL;
	int	 ret = -1;

	if ((bio = BIO_new_mem_buf(pem, (int)pemlen)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (x != NULL)
		ret = cert_fingerprint(x, buf, len);
	X509_free(x);
	return (ret);
}

static void
json_zero_free(void *p)
{
	if (p != NULL) {
		explicit_bzero(p, malloc_usable_size(p));
		free(p);
	}
}

/*
 * jansson's memory is zeroed when freed: passwords, invites and keys
 * pass through JSON and leave no copy behind.
 */
void
json_zeroing_alloc(void)
{
	json_set_alloc_funcs(malloc, json_zero_free);
}

/*
 * Whether c may stand in a name: an ASCII letter or digit, or one of the
 * punctuation characters of punct (NAME_PUNCT, HOST_PUNCT).  The same in
 * every locale.
 */
int
name_char(int c, const char *punct)
{
	return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr(punct, c) != NULL));
}

/* An object's string member, or "" when it has none of that name. */
const char *
jstr(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : "");
}

/*
 * Read what waits on fd and cut it into lines held in buf (cap bytes, *len
 * of them taken so far): each whole line, and each part of a longer one
 * that fills buf, goes to line(arg, text) without its newline, and *len
 * starts again.  At the end of fd or on an error the last partial line
 * goes too, and 0 is returned for the caller to close fd; 1 otherwise.
 */
int
fd_read_lines(int fd, char *buf, size_t cap, size_t *len,
    void (*line)(void *, const char *), void *arg)
{
	char	 in[4096], *nl;
	size_t	 off, take, room = cap - 1;
	ssize_t	 n;

	if ((n = read(fd, in, sizeof(in))) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return (1);
	if (n <= 0) {
		if (*len > 0) {
			buf[*len] = '\0';
			*len = 0;
			line(arg, buf);
		}
		return (0);
	}
	for (off = 0; off < (size_t)n; off += take) {
		nl = memchr(in + off, '\n', (size_t)n - off);
		take = (nl != NULL ? (size_t)(nl - in) : (size_t)n) - off;
		if (take > room - *len)
			take = room - *len;
		memcpy(buf + *len, in + off, take);
		*len += take;
		if (*len == room || (nl != NULL &&
		    off + take == (size_t)(nl - in))) {
			buf[*len] = '\0';
			*len = 0;
			line(arg, buf);
			if (nl != NULL && off + take == (size_t)(nl - in))
				take++;		/* the newline */
		}
	}
	return (1);
}
