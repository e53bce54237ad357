/*
 * Fuzz the parent's login throttle (privsep/throttle.c).  Its input is
 * the client address that mcpd passes in a login request, which a
 * compromised mcpd chooses freely, and the sequence of attempts, over
 * time, that any client chooses.  The input is a list of operations:
 * byte 0 the operation, byte 1 the milliseconds since the last (times
 * 16), byte 2 a user number, byte 3 the length of the address that
 * follows.  The address and its prefix must come back NUL-terminated,
 * no table may hold more than throttle_entries, and no wait may be
 * longer than its maximum.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "../../privsep/privsep.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct mcpgated_conf	 conf;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		 remote[CONN_ADDR_MAX + 16], addr[CONN_ADDR_MAX];
	char		 prefix[THROTTLE_PREFIXLEN], user[16];
	enum throttle_why why;
	uint64_t	 n, failures, prefixes;
	int64_t		 now = 1, wait;
	size_t		 len;
	int		 i;

	config_defaults(&conf);
	conf.throttle_failures = 2;
	conf.throttle_prefix_failures = 4;
	conf.throttle_delay = 100;
	conf.throttle_max_delay = 1000;
	conf.lock_failures = 5;
	conf.lock_prefixes = 2;
	conf.lock_duration = 5000;
	conf.failure_memory = 60000;
	conf.throttle_entries = 16;

	while (size >= 4) {
		now += data[1] * 16;
		snprintf(user, sizeof(user), "u%u", data[2] % 24);
		len = data[3];
		if (len > size - 4)
			len = size - 4;
		if (len > sizeof(remote) - 1)
			len = sizeof(remote) - 1;
		memcpy(remote, data + 4, len);
		remote[len] = '\0';
		throttle_addr(remote, addr, sizeof(addr), prefix,
		    sizeof(prefix));
		if (memchr(addr, '\0', sizeof(addr)) == NULL ||
		    memchr(prefix, '\0', sizeof(prefix)) == NULL)
			abort();
		switch (data[0] % 6) {
		case 0:
			throttle_failed(&conf, user, prefix, now);
			break;
		case 1:
			throttle_succeeded(user, prefix);
			break;
		case 2:
			why = throttle_check(user, prefix, now, &wait);
			if (wait < 0 || (why == THR_OK && wait != 0) ||
			    ((why == THR_PAIR || why == THR_PREFIX) &&
			    wait > (int64_t)conf.throttle_max_delay) ||
			    (why == THR_LOCKED &&
			    wait > (int64_t)conf.lock_duration))
				abort();
			break;
		case 3:
			why = throttle_check(user, prefix, now, &wait);
			/* A record, when due, stands for one or more. */
			if (why != THR_OK && throttle_refused(user, prefix,
			    why, now, &n) && n == 0)
				abort();
			break;
		case 4:
			throttle_unlock(user, now);
			break;
		case 5:
			if (throttle_locked(user, now, &wait, &failures,
			    &prefixes) && (wait <= 0 ||
			    prefixes > CONF_LOCK_PREFIXES))
				abort();
			break;
		}
		for (i = 0; i < THR_TABLES; i++)
			if (throttle_entries(i, NULL) > conf.throttle_entries)
				abort();
		data += 4 + len;
		size -= 4 + len;
	}
	throttle_clear();
	return (0);
}
