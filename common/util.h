#ifndef MCPGATE_UTIL_H
#define MCPGATE_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <openssl/x509.h>

#define MCPGATE_VERSION	"0.1.0"

#define SHA256_HEX_LEN	64
#define FINGERPRINT_LEN	(7 + SHA256_HEX_LEN)	/* SHA256:hex */
#define TIME_RFC3339_LEN 32	/* 2026-11-26T17:36:41.123456Z and NUL */

/* What names may hold besides ASCII letters and digits (name_char). */
#define NAME_PUNCT	"._-"	/* the gateway, users, roles, servers */
#define HOST_PUNCT	".-"	/* host names */

int	 parse_duration(const char *, uint64_t *);
int	 parse_size(const char *, uint64_t *);
int	 parse_time(const char *, time_t, int64_t *);
void	 fmt_duration(uint64_t, char *, size_t);
int	 fd_read_lines(int, char *, size_t, size_t *,
	    void (*)(void *, const char *), void *);
void	 fmt_size(uint64_t, char *, size_t);
void	 fmt_bytes(uint64_t, char *, size_t);
void	 fmt_time_us(int64_t, char *, size_t);
int64_t	 now_us(void);
void	 hex_encode(const void *, size_t, char *, size_t);
int	 hex_decode(const char *, void *, size_t);
void	 sha256_hex(const void *, size_t, char [SHA256_HEX_LEN + 1]);
int	 fd_nonblock(int);
int	 read_file(const char *, size_t, char **, size_t *);
int	 write_file_atomic(const char *, const void *, size_t, mode_t);
int	 write_file_new(const char *, const void *, size_t, mode_t);
int	 cert_fingerprint(X509 *, char *, size_t);
int	 cert_fingerprint_pem(const char *, size_t, char *, size_t);
void	 json_zeroing_alloc(void);
const char *jstr(const json_t *, const char *);
int	 name_char(int, const char *);

#endif
