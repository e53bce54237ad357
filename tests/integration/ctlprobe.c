/*
 * ctlprobe: the daemon's answer time on the control socket, without the
 * start-up of mcpgatectl, which alone takes tens of milliseconds (about
 * 100 under AddressSanitizer on a busy machine).
 *
 *	ctlprobe [-N count] socket line
 *
 * Sends the line, a JSON request as mcpgatectl writes it (such as
 * {"cmd":"status"}), on a new connection, reads the one-line answer and
 * prints "elapsed N ms", from connect to the answer's newline; count
 * times.  Exit 0 if every answer came and says "ok":true, 1 otherwise.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + ts.tv_nsec / 1e9);
}

static int
ask(const char *path, const char *line)
{
	struct sockaddr_un	 sun;
	char			 buf[65536];
	size_t			 len = 0;
	ssize_t			 n;
	double			 start = now();
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "connect %s", path);
	if (dprintf(fd, "%s\n", line) < 0)
		err(1, "write");
	while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	printf("elapsed %.0f ms\n", (now() - start) * 1000);
	if (strchr(buf, '\n') == NULL || strstr(buf, "\"ok\":true") == NULL) {
		fprintf(stderr, "answer: %s\n", buf);
		return (1);
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	int	 ch, count = 1, i, status = 0;

	while ((ch = getopt(argc, argv, "N:")) != -1) {
		switch (ch) {
		case 'N':
			if ((count = atoi(optarg)) < 1)
				errx(1, "-N needs a count of 1 or more");
			break;
		default:
			fprintf(stderr, "usage: ctlprobe [-N count] socket "
			    "line\n");
			return (1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		errx(1, "usage: ctlprobe [-N count] socket line");
	for (i = 0; i < count; i++)
		status |= ask(argv[0], argv[1]);
	return (status);
}
