/*
 * fakegw: a gateway that answers as a test wants, for what the real one
 * cannot be made to do: name another MCP server after a reconnection.
 * It serves one connection after another on 127.0.0.1, TLS 1.3 with ALPN
 * mcpgate/1 and a client certificate from the CA.  On the Nth it answers
 * connect, answers initialize with serverInfo.name NAME_N and the
 * protocolVersion the client asked for, and every other request with an
 * empty result.  Every connection but the last it then drops after the
 * client's notifications/initialized, with no TLS close, as a gateway
 * that was killed; the last it serves until the client closes.
 *
 *	fakegw -c ca -C cert -K key -P portfile name...
 *
 * It writes its port to portfile once it listens.  Exit 0 after the last
 * connection, 1 on errors, 3 when 30 seconds pass.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <err.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "wire.h"

static void
on_alarm(int sig)
{
	(void)sig;
	_exit(3);
}

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char	 alpn[] = WIRE_ALPN_PROTOS;

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, alpn,
	    sizeof(alpn) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return (SSL_TLSEXT_ERR_ALERT_FATAL);
	return (SSL_TLSEXT_ERR_OK);
}

static void
send_json(SSL *ssl, json_t *o)
{
	char	*s;
	int	 len;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL)
		errx(1, "cannot encode");
	len = (int)strlen(s);
	s[len] = '\n';		/* over the NUL */
	if (SSL_write(ssl, s, len + 1) != len + 1)
		errx(1, "SSL_write");
	free(s);
	json_decref(o);
}

/*
 * One line from the client: 1 and what is to be done with it done, 0 when
 * the connection is to be dropped now.
 */
static int
client_line(SSL *ssl, const char *line, int first, const char *name,
    int last)
{
	json_t		*msg, *id, *want;
	const char	*m;

	if (first) {
		send_json(ssl, json_pack("{s:b,s:s,s:s}", "ok", 1, "session",
		    "fake", "app", "fake"));
		return (1);
	}
	if ((msg = json_loads(line, 0, NULL)) == NULL)
		errx(1, "not JSON: %s", line);
	id = json_object_get(msg, "id");
	m = json_string_value(json_object_get(msg, "method"));
	want = json_object_get(json_object_get(msg, "params"),
	    "protocolVersion");
	if (m != NULL && strcmp(m, "initialize") == 0)
		send_json(ssl, json_pack("{s:s,s:O,s:{s:O,s:{},s:{s:s,s:s}}}",
		    "jsonrpc", "2.0", "id", id, "result", "protocolVersion",
		    want != NULL ? want : json_string("2025-06-18"),
		    "capabilities", "serverInfo", "name", name, "version",
		    "1"));
	else if (m != NULL && id != NULL)
		send_json(ssl, json_pack("{s:s,s:O,s:{}}", "jsonrpc", "2.0",
		    "id", id, "result"));
	else if (m != NULL && strcmp(m, "notifications/initialized") == 0 &&
	    !last) {
		json_decref(msg);
		return (0);
	}
	json_decref(msg);
	return (1);
}

static void
serve(SSL *ssl, const char *name, int last)
{
	char	 buf[64 * 1024], *nl;
	int	 len = 0, r, nlines = 0;

	for (;;) {
		while ((nl = memchr(buf, '\n', (size_t)len)) != NULL) {
			*nl = '\0';
			if (!client_line(ssl, buf, nlines++ == 0, name, last))
				return;
			len -= (int)(nl - buf) + 1;
			memmove(buf, nl + 1, (size_t)len);
		}
		if (len == (int)sizeof(buf) ||
		    (r = SSL_read(ssl, buf + len, (int)sizeof(buf) - len)) <= 0)
			return;
		len += r;
	}
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	SSL_CTX			*ctx;
	SSL			*ssl;
	FILE			*fp;
	const char		*ca = NULL, *cert = NULL, *key = NULL;
	const char		*portfile = NULL;
	int			 ch, s, fd, i;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "c:C:K:P:")) != -1) {
		switch (ch) {
		case 'c':
			ca = optarg;
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'P':
			portfile = optarg;
			break;
		default:
			fprintf(stderr, "usage: fakegw -c ca -C cert -K key "
			    "-P portfile name...\n");
			return (1);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || ca == NULL || cert == NULL || key == NULL ||
	    portfile == NULL)
		errx(1, "ca, cert, key, portfile and a name needed");
	signal(SIGALRM, on_alarm);
	alarm(30);

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		errx(1, "SSL_CTX_new");
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
		errx(1, "cannot load the certificates");
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);

	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 8) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &slen) == -1)
		err(1, "listen");
	if ((fp = fopen(portfile, "w")) == NULL)
		err(1, "%s", portfile);
	fprintf(fp, "%d\n", ntohs(sin.sin_port));
	fclose(fp);

	for (i = 0; i < argc; i++) {
		if ((fd = accept(s, NULL, NULL)) == -1)
			err(1, "accept");
		if ((ssl = SSL_new(ctx)) == NULL)
			errx(1, "SSL_new");
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1)
			serve(ssl, argv[i], i == argc - 1);
		else
			i--;		/* not a client: it does not count */
		SSL_free(ssl);		/* no close_notify: a drop */
		close(fd);
	}
	close(s);
	SSL_CTX_free(ctx);
	return (0);
}
