/*
 * What the two benchmarks share: the clock, percentiles, loopback
 * connections, and the floors' pieces (a plain TLS 1.3 server context
 * and write + fdatasync timings).
 */
#ifndef MCPGATE_BENCHLIB_H
#define MCPGATE_BENCHLIB_H

#include <sys/types.h>
#include <netinet/in.h>

#include <openssl/ssl.h>

double	 now(void);
double	 pct(double *, size_t, double);
int	 loopback_listen(struct sockaddr_in *);
int	 loopback_connect(int);
SSL_CTX	*floor_server_ctx(void);
void	 fdatasync_times(const char *, size_t, double *, size_t);

#endif
