/* redis_conn.c: see redis_conn.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "redis_conn.h"

enum rconn_state { RC_CONNECTING, RC_HANDSHAKE, RC_UP, RC_FAILED };

#define READ_CALLS 1                 /* reads of 16 KiB in one rconn_handle() */

struct rtls {
	SSL_CTX *ctx;
};

struct waiter {
	rconn_cb cb;
	void *priv;
};

struct rconn {
	int fd;
	enum rconn_state state;
	char name[300];
	char host[256];              /* what the certificate must name */
	SSL *ssl;
	bool ssl_wants_write;        /* the last TLS call wanted the socket writable */
	char *out;                   /* commands not yet written */
	size_t out_len, out_off, out_cap;
	redisReader *reader;
	struct waiter *wait;         /* a ring of callbacks, in command order */
	size_t wait_head, wait_n, wait_cap;
	unsigned long replies;       /* delivered so far */
	char err[256];
};

/* ---------------------------------------------------------------- TLS */

static void tls_error(char *err, size_t errsz, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	snprintf(err, errsz, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

struct rtls *rtls_new(const char *ca_file, const char *cert_file, const char *key_file,
                      char *err, size_t errsz)
{
	struct rtls *t = calloc(1, sizeof *t);

	if (!t || !(t->ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errsz, "TLS: cannot set up OpenSSL");
		free(t);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	/* always verified: there is no setting to turn it off */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	int ok = ca_file && *ca_file ? SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL)
	                             : SSL_CTX_set_default_verify_paths(t->ctx);
	if (ok != 1) {
		tls_error(err, errsz, "TLS: cannot load the CA file (redis-ca-file)");
		goto fail;
	}
	if ((cert_file && *cert_file) != (key_file && *key_file)) {
		snprintf(err, errsz, "TLS: redis-cert-file and redis-key-file go together");
		goto fail;
	}
	if (cert_file && *cert_file &&
	    (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1 ||
	     SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
	     SSL_CTX_check_private_key(t->ctx) != 1)) {
		tls_error(err, errsz, "TLS: cannot use the client certificate and key");
		goto fail;
	}
	return t;
fail:
	rtls_free(t);
	return NULL;
}

void rtls_free(struct rtls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

const char *rconn_tls_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}

/* The peer must be who we asked for: its address when we named an
 * address, else its DNS name (sent as SNI too). */
static int tls_start(struct rconn *c, struct rtls *tls)
{
	struct in6_addr a;

	c->ssl = SSL_new(tls->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return -1;
	bool literal = inet_pton(AF_INET, c->host, &a) == 1 || inet_pton(AF_INET6, c->host, &a) == 1;
	if (literal) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host) != 1)
			return -1;
	} else if (SSL_set1_host(c->ssl, c->host) != 1 || SSL_set_tlsext_host_name(c->ssl, c->host) != 1) {
		return -1;
	}
	SSL_set_connect_state(c->ssl);
	return 0;
}

/* ---------------------------------------------------------------- failure */

__attribute__((format(printf, 2, 3)))
static int conn_fail(struct rconn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->state != RC_FAILED) {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof c->err, fmt, ap);
		va_end(ap);
	}
	c->state = RC_FAILED;
	return -1;
}

/* The reason a TLS call failed, with the verification result when that
 * is what it was. */
static int tls_fail(struct rconn *c, const char *what)
{
	char why[256];
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;

	if (v != X509_V_OK) {
		snprintf(why, sizeof why, "%s: certificate not trusted: %s", what,
		         X509_verify_cert_error_string(v));
		ERR_clear_error();
	} else if (ERR_peek_error() == 0) {
		/* no TLS error: the socket's (a server that hung up, perhaps
		 * because it wanted a client certificate) */
		snprintf(why, sizeof why, "%s: %s", what, errno ? strerror(errno) : "the server closed the connection");
	} else {
		tls_error(why, sizeof why, what);
	}
	return conn_fail(c, "%s", why);
}

/* ---------------------------------------------------------------- connect */

static int sock_open(struct rconn *c, const char *host, int port, const char *path)
{
	if (path && *path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(path) >= sizeof sa.sun_path)
			return conn_fail(c, "socket path too long: %s", path);
		strcpy(sa.sun_path, path);
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->fd < 0 || (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS))
			return conn_fail(c, "connect: %s", strerror(errno));
		return 0;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV },
	                *ai = NULL;
	char service[8];
	snprintf(service, sizeof service, "%d", port);
	/* an address is read as one: no name service is loaded or asked, which
	 * on a first look-up in a busy process took a loop turn past 50 ms */
	int rc = getaddrinfo(host, service, &hints, &ai);
	if (rc == EAI_NONAME) {
		hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
		rc = getaddrinfo(host, service, &hints, &ai);
	}
	if (rc != 0)
		return conn_fail(c, "cannot resolve the host: %s", gai_strerror(rc));
	c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	rc = c->fd < 0 ? -1 : connect(c->fd, ai->ai_addr, ai->ai_addrlen);
	int e = errno;
	freeaddrinfo(ai);
	if (c->fd < 0 || (rc < 0 && e != EINPROGRESS))
		return conn_fail(c, "connect: %s", strerror(e));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return 0;
}

struct rconn *rconn_new(const char *host, int port, const char *path, struct rtls *tls,
                        char *err, size_t errsz)
{
	struct rconn *c = calloc(1, sizeof *c);

	if (!c || !(c->reader = redisReaderCreate())) {
		snprintf(err, errsz, "out of memory");
		free(c);
		return NULL;
	}
	c->fd = -1;
	if (path && *path) {
		snprintf(c->name, sizeof c->name, "%s", path);
	} else {
		bool v6 = strchr(host, ':') != NULL;
		snprintf(c->name, sizeof c->name, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
		snprintf(c->host, sizeof c->host, "%s", host);
	}
	if (sock_open(c, host, port, path) < 0 || (tls && tls_start(c, tls) < 0)) {
		if (c->state != RC_FAILED)
			tls_error(c->err, sizeof c->err, "TLS: cannot set up the connection");
		snprintf(err, errsz, "%s", c->err);
		rconn_free(c);
		return NULL;
	}
	c->state = RC_CONNECTING;
	return c;
}

void rconn_free(struct rconn *c)
{
	if (!c)
		return;
	/* callbacks first: one may look at the connection */
	while (c->wait_n) {
		struct waiter w = c->wait[c->wait_head];
		c->wait_head = (c->wait_head + 1) % c->wait_cap;
		c->wait_n--;
		w.cb(c, NULL, w.priv);
	}
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	redisReaderFree(c->reader);
	free(c->out);
	free(c->wait);
	free(c);
}

/* ---------------------------------------------------------------- commands */

static bool wait_push(struct rconn *c, rconn_cb cb, void *priv)
{
	if (c->wait_n == c->wait_cap) {
		size_t cap = c->wait_cap ? c->wait_cap * 2 : 16;
		struct waiter *w = malloc(cap * sizeof *w);
		if (!w)
			return false;
		for (size_t i = 0; i < c->wait_n; i++)
			w[i] = c->wait[(c->wait_head + i) % c->wait_cap];
		free(c->wait);
		c->wait = w;
		c->wait_head = 0;
		c->wait_cap = cap;
	}
	c->wait[(c->wait_head + c->wait_n++) % c->wait_cap] = (struct waiter){ cb, priv };
	return true;
}

static bool out_append(struct rconn *c, const char *s, size_t len)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len + len > c->out_cap) {
		size_t cap = (c->out_len + len) * 2;
		char *o = realloc(c->out, cap);
		if (!o)
			return false;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out_len += len;
	return true;
}

int rconn_command_raw(struct rconn *c, rconn_cb cb, void *priv, const char *cmd, size_t len)
{
	if (c->state == RC_FAILED)
		return -1;
	if ((len && !out_append(c, cmd, len)) || !wait_push(c, cb, priv)) {
		conn_fail(c, "%s", "out of memory");
		return -1;
	}
	return 0;
}

int rconn_vcommand(struct rconn *c, rconn_cb cb, void *priv, const char *fmt, va_list ap)
{
	char *cmd = NULL;
	int len = redisvFormatCommand(&cmd, fmt, ap);

	if (len < 0)
		return -1;
	int rc = rconn_command_raw(c, cb, priv, cmd, (size_t)len);
	redisFreeCommand(cmd);
	return rc;
}

int rconn_command(struct rconn *c, rconn_cb cb, void *priv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = rconn_vcommand(c, cb, priv, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---------------------------------------------------------------- I/O */

/* -1 failed, 0 would block, else the bytes moved. */
static ssize_t io_write(struct rconn *c, const char *p, size_t n)
{
	if (!c->ssl) {
		ssize_t w = write(c->fd, p, n);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (w < 0)
			return conn_fail(c, "write: %s", strerror(errno));
		return w;
	}
	int w = SSL_write(c->ssl, p, (int)(n > 1 << 30 ? 1 << 30 : n));
	if (w > 0)
		return w;
	int e = SSL_get_error(c->ssl, w);
	c->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	return tls_fail(c, "TLS write");
}

static ssize_t io_read(struct rconn *c, char *p, size_t n)
{
	if (!c->ssl) {
		ssize_t r = read(c->fd, p, n);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r < 0)
			return conn_fail(c, "read: %s", strerror(errno));
		if (r == 0)
			return conn_fail(c, "%s", "connection closed by the server");
		return r;
	}
	int r = SSL_read(c->ssl, p, (int)n);
	if (r > 0)
		return r;
	int e = SSL_get_error(c->ssl, r);
	c->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return conn_fail(c, "%s", "connection closed by the server");
	return tls_fail(c, "TLS read");
}

static int flush_out(struct rconn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = io_write(c, c->out + c->out_off, c->out_len - c->out_off);
		if (w <= 0)
			return (int)w;
		c->out_off += (size_t)w;
	}
	return 0;
}

static int deliver(struct rconn *c)
{
	for (;;) {
		void *rep = NULL;
		if (redisReaderGetReply(c->reader, &rep) != REDIS_OK)
			return conn_fail(c, "bad reply from the server: %s", c->reader->errstr);
		if (!rep)
			return 0;
		if (c->wait_n == 0) {
			freeReplyObject(rep);
			return conn_fail(c, "%s", "a reply nobody asked for");
		}
		struct waiter w = c->wait[c->wait_head];
		c->wait_head = (c->wait_head + 1) % c->wait_cap;
		c->wait_n--;
		c->replies++;
		w.cb(c, rep, w.priv);
	}
}

/* Read what one turn of the loop may handle (as hiredis reads 16 KiB a
 * call): a flood of replies is spread over turns, each short.  What is left
 * in the socket wakes poll again; TLS reads a whole record (16 KiB at most)
 * per call, so it keeps no decrypted bytes poll cannot see, unless a read
 * ended inside a record: then go on. */
static int read_in(struct rconn *c)
{
	char buf[16384];

	for (int n = 0;; n++) {
		if (n >= READ_CALLS && !(c->ssl && SSL_pending(c->ssl) > 0))
			return 0;
		ssize_t r = io_read(c, buf, sizeof buf);
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		if (redisReaderFeed(c->reader, buf, (size_t)r) != REDIS_OK)
			return conn_fail(c, "%s", "out of memory");
		if (deliver(c) < 0 || c->state == RC_FAILED)
			return -1;
	}
}

static int connect_done(struct rconn *c)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr)
		return conn_fail(c, "connect: %s", strerror(soerr));
	c->state = c->ssl ? RC_HANDSHAKE : RC_UP;
	return 0;
}

static int handshake(struct rconn *c)
{
	int rc = SSL_connect(c->ssl);

	if (rc == 1) {
		c->state = RC_UP;
		c->ssl_wants_write = false;
		return 0;
	}
	int e = SSL_get_error(c->ssl, rc);
	c->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 0;
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return conn_fail(c, "%s", "TLS handshake: the server closed the connection (does it speak TLS?)");
	return tls_fail(c, "TLS handshake");
}

int rconn_handle(struct rconn *c, short revents)
{
	if (c->state == RC_FAILED)
		return -1;
	if (c->state == RC_CONNECTING) {
		if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
			return 0;
		if (connect_done(c) < 0)
			return -1;
	}
	if (c->state == RC_HANDSHAKE && (handshake(c) < 0 || c->state != RC_UP))
		return c->state == RC_FAILED ? -1 : 0;
	if (flush_out(c) < 0)
		return -1;
	if (read_in(c) < 0)
		return -1;
	/* a callback may have queued more */
	return flush_out(c) < 0 ? -1 : 0;
}

int rconn_fd(const struct rconn *c)
{
	return c->fd;
}

short rconn_events(const struct rconn *c)
{
	switch (c->state) {
	case RC_CONNECTING:
		return POLLOUT;
	case RC_HANDSHAKE:
		return c->ssl_wants_write ? POLLOUT : POLLIN;
	case RC_UP:
		return POLLIN | (c->out_off < c->out_len || c->ssl_wants_write ? POLLOUT : 0);
	case RC_FAILED:
		break;
	}
	return 0;
}

const char *rconn_error(const struct rconn *c)
{
	return c->err;
}

const char *rconn_name(const struct rconn *c)
{
	return c->name;
}

size_t rconn_waiting(const struct rconn *c)
{
	return c->wait_n;
}

unsigned long rconn_replies(const struct rconn *c)
{
	return c->replies;
}
