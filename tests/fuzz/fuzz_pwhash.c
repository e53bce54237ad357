/*
 * Fuzz the parser of Argon2id hashes in the PHC string format
 * (privsep/pwhash.c), which reads the password hashes of the state
 * directory.  It takes only the canonical form libargon2 writes, so
 * whatever it accepts must be written back byte for byte, and within the
 * bounds it promises.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "config.h"
#include "../../privsep/privsep.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pwhash_params	 pp, again;
	char			*s, back[PWHASH_ENCODED];

	if (size > 1024)
		return (0);
	if ((s = malloc(size + 1)) == NULL)
		return (0);
	memcpy(s, data, size);
	s[size] = '\0';
	if (pwhash_decode(s, &pp) == 0) {
		if (pp.saltlen < ARGON2_MIN_SALT_LENGTH ||
		    pp.saltlen > sizeof(pp.salt) ||
		    pp.hashlen < ARGON2_MIN_OUTLEN ||
		    pp.hashlen > sizeof(pp.hash) || pp.t < 1 || pp.p < 1 ||
		    pp.m < 8 * pp.p)
			abort();
		pwhash_encode(&pp, back, sizeof(back));
		if (strcmp(back, s) != 0 || pwhash_decode(back, &again) != 0 ||
		    memcmp(&pp, &again, sizeof(pp)) != 0)
			abort();
	}
	free(s);
	return (0);
}
