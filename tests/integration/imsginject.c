/*
 * imsginject: a child of mcpgated as a compromised one would be.  Takes
 * a copy of the child's channel to the parent (descriptor 3) with
 * pidfd_getfd, which needs root or the right to ptrace it, and writes one
 * message on it, as that child.
 *
 *	imsginject pid type length [byte]
 *	imsginject -s mcpd_status
 *
 * type is a name of common/proto.h, with or without IMSG_ (LOGIN_REQ);
 * the payload is length zero bytes, or bytes of the value byte.  Exit 0
 * once the message is written.  -s prints the size of a payload struct,
 * for a message of the right size with the wrong contents.
 */
#include <sys/types.h>
#include <sys/syscall.h>

#include <err.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imsg.h"
#include "proto.h"

int
main(int argc, char *argv[])
{
	struct imsgbuf	 ib;
	const char	*errstr, *name;
	void		*data;
	uint32_t	 type;
	size_t		 len;
	pid_t		 pid;
	int		 pidfd, fd, fill;

	if (argc == 3 && strcmp(argv[1], "-s") == 0) {
		if (strcmp(argv[2], "mcpd_status") != 0)
			errx(2, "%s: no such struct here", argv[2]);
		printf("%zu\n", sizeof(struct mcpd_status));
		return (0);
	}
	if (argc != 4 && argc != 5)
		errx(2, "usage: imsginject pid type length [byte]");
	pid = (pid_t)strtonum(argv[1], 1, INT_MAX, &errstr);
	if (errstr != NULL)
		errx(2, "pid %s: %s", argv[1], errstr);
	name = strncmp(argv[2], "IMSG_", 5) == 0 ? argv[2] + 5 : argv[2];
	for (type = 0; type < IMSG_MAX; type++)
		if (strcmp(imsg_type_name(type), name) == 0)
			break;
	if (type == IMSG_MAX)
		errx(2, "%s: no such message type", argv[2]);
	len = (size_t)strtonum(argv[3], 0, 65536, &errstr);
	if (errstr != NULL)
		errx(2, "length %s: %s", argv[3], errstr);
	if ((data = calloc(1, len > 0 ? len : 1)) == NULL)
		err(1, NULL);
	if (argc == 5) {
		fill = (int)strtonum(argv[4], 0, 255, &errstr);
		if (errstr != NULL)
			errx(2, "byte %s: %s", argv[4], errstr);
		memset(data, fill, len);
	}

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		err(1, "pidfd_open %d", (int)pid);
	if ((fd = (int)syscall(SYS_pidfd_getfd, pidfd, PROC_PARENT_FD, 0)) ==
	    -1)
		err(1, "pidfd_getfd %d", (int)pid);
	if (imsgbuf_init(&ib, fd) == -1)
		err(1, "imsgbuf_init");
	if (imsg_compose(&ib, type, 1, pid, -1, data, len) == -1)
		err(1, "imsg_compose");
	if (imsgbuf_flush(&ib) == -1)
		err(1, "write");
	imsgbuf_clear(&ib);
	free(data);
	return (0);
}
