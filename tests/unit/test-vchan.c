/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The vchan transport (lib/vchan.c) over the real libxenvchan.
 *
 *   test-vchan [names]                port naming (no xenstore needed), TAP
 *   test-vchan serve NAME [RING]      in a guest: serve NAME to dom0, echo
 *                                     everything back until the client goes
 *   test-vchan sink NAME FILE         in a guest: serve NAME to dom0, consume
 *                                     everything; FILE holds the byte count
 *                                     and their FNV-1a 64 hash, updated after
 *                                     each read and carried on from what FILE
 *                                     holds (a sink started again in a
 *                                     rebuilt domain counts on); reads 1 KiB
 *                                     at a time, as append does
 *   test-vchan append NAME FILE       in a guest: serve NAME to dom0, append
 *                                     everything read to FILE, 1 KiB at a
 *                                     time, until the client goes
 *   test-vchan stall NAME             in a guest: serve NAME to dom0, never
 *                                     read (until killed)
 *   test-vchan echo DOMID NAME BYTES [nocheck]
 *                                     in dom0: find NAME among DOMID's
 *                                     channels, send BYTES, expect them back;
 *                                     prints "ok <bytes> <seconds>" or fails
 *   test-vchan busy DOMID NAME        in dom0: opening must fail with EBUSY
 *   test-vchan hostile NAME MODE      in a guest: serve NAME to dom0 on
 *                                     libxenvchan itself, and once a client
 *                                     is connected write an impossible index:
 *                                     MODE prod, its producer a ring and more
 *                                     ahead (after 100 good bytes); cons, the
 *                                     consumer of the client's ring ahead of
 *                                     what it produced; then wait to be killed
 *
 * The last three run on the emulated host (tests/bats/vchan-transport.bats).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>
#include <xenevtchn.h>

#include "channel.h"
#include "stream-internal.h"
#include "tap.h"
#include "vchan.h"

static int names(void)
{
	char port[32], path[128];
	char long_name[200];

	tap_plan(8);
	tap_ok(xc_vchan_port("agent_0", 1, 0, port, sizeof(port)) && !strcmp(port, "agent_0"),
	       "a short name of xencat's alphabet is its own port");
	tap_ok(!xc_vchan_port("org.example.agent.0", 1, 0, port, sizeof(port)) &&
		       !strncmp(port, "xc", 2) && strlen(port) == 12,
	       "a dotted name gets a short port: %s", port);
	{
		char again[32];

		xc_vchan_port("org.example.agent.0", 1, 0, again, sizeof(again));
		tap_ok(!strcmp(port, again), "the short port is deterministic");
		xc_vchan_port("org.example.agent.1", 1, 0, again, sizeof(again));
		tap_ok(strcmp(port, again) != 0, "and differs for another name");
	}
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	tap_ok(!xc_vchan_port(long_name, 32000, 32001, port, sizeof(port)) &&
		       xc_vchan_path(32000, 32001, port, path, sizeof(path)) == 0,
	       "a name too long for a literal port gets one that fits: %s", path);
	tap_ok(strlen(path) + strlen("/event-channel") < XC_VCHAN_PATH_BUF,
	       "with room for libxenvchan's longest key in its 64-byte buffer");
	tap_ok(xc_vchan_path(32000, 32001, "aaaaaaaaaaaaaaaaaaaa", path, sizeof(path)) ==
		       -ENAMETOOLONG,
	       "a literal port that would be truncated is refused");
	tap_ok(xc_vchan_port("abcdefghijklmno", 1, 0, port, sizeof(port)) &&
		       !strcmp(port, "abcdefghijklmno"),
	       "with small domids a longer literal port fits");
	return tap_done();
}

static int wait_fd(struct xc_stream *s, bool rd, bool wr, int ms)
{
	struct pollfd p = { 0 };
	int r = s->ops->poll(s, rd, wr, &p.fd, &p.events);

	if (r < 0)
		return r;
	if (poll(&p, 1, ms) < 0)
		return -errno;
	return s->ops->process(s, p.revents);
}

static int serve(const char *name, size_t ring)
{
	struct xc_store *st;
	struct xc_stream *s;
	char buf[65536];
	int r;

	struct xc_stream_opts o = { .transport = XC_TRANSPORT_VCHAN, .timeout_ms = 20000 };

	if ((r = xc_store_open(&st)) < 0 || (r = xc_stream_listen(st, 0, name, &o, ring, &s)) < 0) {
		fprintf(stderr, "serve: %s\n", strerror(-r));
		return 1;
	}
	for (;;) {
		ssize_t n = s->ops->read(s, buf, sizeof(buf));

		if (n == -EAGAIN) {
			wait_fd(s, true, false, 1000);
			continue;
		}
		if (n < 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = s->ops->write(s, buf + off, (size_t)(n - off));

			if (w == -EAGAIN) {
				wait_fd(s, false, true, 1000);
				continue;
			}
			if (w < 0)
				goto out;
			off += w;
		}
	}
out:
	s->ops->close(s);
	free(s);
	xc_store_close(st);
	return 0;
}

static int open_client(const char *domarg, const char *name, struct xc_store **st,
		       struct xc_stream *s)
{
	struct xc_channel *ch = NULL;
	size_t n = 0;
	int r;

	if ((r = xc_store_open(st)) < 0)
		return r;
	if ((r = xc_channel_list(*st, (uint32_t)atoi(domarg), &ch, &n)) < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (ch[i].transport == XC_TRANSPORT_VCHAN && !strcmp(ch[i].name, name) &&
		    ch[i].vchan_client == 0)
			r = xc_vchan_open(*st, &ch[i], NULL, s);
	xc_channel_array_free(ch, n);
	return r;
}

/* check: generate random data and compare checksums; without it (for the
 * benchmark) the bytes are constant and only counted. */
static int echo(const char *domarg, const char *name, uint64_t bytes, bool check)
{
	struct xc_store *st = NULL;
	struct xc_stream s = { .lock_fd = -1 };
	uint64_t sent = 0, got = 0, seed = 0x9e3779b97f4a7c15ull;
	uint64_t h_out = 0xcbf29ce484222325ull, h_in = h_out;
	char out[65536], in[65536];
	size_t outn = 0, outoff = 0;
	struct timespec t0, t1;
	int r = open_client(domarg, name, &st, &s);

	if (r < 0) {
		fprintf(stderr, "echo: open: %s\n", strerror(-r));
		xc_store_close(st);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < bytes) {
		bool progress = false;
		ssize_t n;

		if (outoff == outn && sent < bytes) {
			outn = sizeof(out) < bytes - sent ? sizeof(out) : (size_t)(bytes - sent);
			for (size_t i = 0; check && i < outn; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				out[i] = (char)(seed >> 56);
				h_out = (h_out ^ (unsigned char)out[i]) * 0x100000001b3ull;
			}
			outoff = 0;
		}
		if (outoff < outn) {
			n = s.ops->write(&s, out + outoff, outn - outoff);
			if (n > 0) {
				outoff += (size_t)n;
				sent += (uint64_t)n;
				progress = true;
			} else if (n != -EAGAIN) {
				fprintf(stderr, "echo: write: %s\n", strerror((int)-n));
				goto gone;
			}
		}
		n = s.ops->read(&s, in, sizeof(in));
		if (n > 0) {
			for (ssize_t i = 0; check && i < n; i++)
				h_in = (h_in ^ (unsigned char)in[i]) * 0x100000001b3ull;
			got += (uint64_t)n;
			progress = true;
		} else if (n != -EAGAIN) {
			fprintf(stderr, "echo: read: %s after %llu bytes\n", strerror((int)-n),
				(unsigned long long)got);
			goto gone;
		}
		if (!progress)
			wait_fd(&s, true, outoff < outn, 2000);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s.ops->close(&s);
	xc_store_close(st);
	if (h_in != h_out) {
		fprintf(stderr, "echo: checksums differ\n");
		return 1;
	}
	printf("ok %llu %.3f\n", (unsigned long long)bytes,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
gone:
	s.ops->close(&s);
	xc_store_close(st);
	return 4;
}

/* FILE's "COUNT HASH", replaced at once (a reader never sees half). */
static int sink_put(const char *file, uint64_t n, uint64_t h)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "%" PRIu64 " %016" PRIx64 "\n", n, h);
	if (fclose(f) != 0 || rename(tmp, file) != 0)
		return -errno;
	return 0;
}

/*
 * In a guest: serve NAME, and hand each read to take() until the client goes
 * or take() fails; without take(), never read.  Reads of at most 1 KiB: the
 * emulator kills a destroyed domain's processes, and what one took and had
 * not recorded yet is lost to its record, at most this much, as with the
 * emulator's own agents on a console ring.
 */
static int consume(const char *who, const char *name,
		   bool (*take)(void *data, const unsigned char *buf, size_t n), void *data)
{
	struct xc_store *st = NULL;
	struct xc_stream *s;
	struct xc_stream_opts o = { .transport = XC_TRANSPORT_VCHAN, .timeout_ms = 20000 };
	unsigned char buf[1024];
	int r;

	if ((r = xc_store_open(&st)) < 0 || (r = xc_stream_listen(st, 0, name, &o, 0, &s)) < 0) {
		fprintf(stderr, "%s: %s\n", who, strerror(-r));
		xc_store_close(st);
		return 1;
	}
	for (;;) {
		ssize_t got;

		if (!take) {
			pause();
			continue;
		}
		got = s->ops->read(s, buf, sizeof(buf));
		if (got == -EAGAIN) {
			wait_fd(s, true, false, 1000);
			continue;
		}
		if (got <= 0 || !take(data, buf, (size_t)got))
			break;
	}
	s->ops->close(s);
	free(s);
	xc_store_close(st);
	return 0;
}

struct sink {
	const char *file;
	uint64_t n, h;
};

static bool sink_take(void *data, const unsigned char *buf, size_t len)
{
	struct sink *k = data;
	int r;

	for (size_t i = 0; i < len; i++)
		k->h = (k->h ^ buf[i]) * 0x100000001b3ull;
	k->n += len;
	r = sink_put(k->file, k->n, k->h);
	if (r < 0)
		fprintf(stderr, "sink: %s: %s\n", k->file, strerror(-r));
	return r == 0;
}

static int sink(const char *name, const char *file)
{
	struct sink k = { .file = file, .h = 0xcbf29ce484222325ull };
	FILE *f = fopen(file, "re");
	int r;

	if (f) {
		r = fscanf(f, "%" SCNu64 " %" SCNx64, &k.n, &k.h);
		fclose(f);
		if (r != 2) {
			fprintf(stderr, "sink: %s: not a count and a hash\n", file);
			return 1;
		}
	}
	r = sink_put(file, k.n, k.h);
	if (r < 0) {
		fprintf(stderr, "sink: %s: %s\n", file, strerror(-r));
		return 1;
	}
	return consume("sink", name, sink_take, &k);
}

static bool append_take(void *data, const unsigned char *buf, size_t len)
{
	return write(*(int *)data, buf, len) == (ssize_t)len;
}

static int append(const char *name, const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644), r;

	if (fd < 0) {
		fprintf(stderr, "append: %s: %s\n", file, strerror(errno));
		return 1;
	}
	r = consume("append", name, append_take, &fd);
	close(fd);
	return r;
}

static int stall(const char *name)
{
	return consume("stall", name, NULL, NULL);
}

static int hostile(const char *name, const char *mode)
{
	char port[32], path[128], key[160];
	struct xc_store *st = NULL;
	struct libxenvchan *v;
	uint64_t self;
	int r = xc_store_open(&st);

	if (r == 0)
		r = xc_store_read_uint(st, XBT_NULL, "domid", 0x7fef, &self);
	if (r < 0) {
		fprintf(stderr, "hostile: xenstore: %s\n", strerror(-r));
		return 1;
	}
	xc_vchan_port(name, (uint32_t)self, 0, port, sizeof(port));
	if (xc_vchan_path((uint32_t)self, 0, port, path, sizeof(path)) < 0)
		return 1;
	snprintf(key, sizeof(key), "%s/name", path);
	xc_store_write(st, XBT_NULL, key, name);
	v = libxenvchan_server_init(NULL, 0, path, 65536, 65536);
	if (!v) {
		fprintf(stderr, "hostile: serve: %s\n", strerror(errno));
		return 1;
	}
	v->blocking = 1;
	while (libxenvchan_is_open(v) == 2)
		libxenvchan_wait(v);
	if (!strcmp(mode, "prod")) {
		char hello[100];

		memset(hello, 'h', sizeof(hello));
		libxenvchan_write(v, hello, sizeof(hello));
		usleep(200000);
		v->write.shr->prod = v->write.shr->cons + (3u << v->write.order);
	} else {
		usleep(200000);
		v->read.shr->cons = v->read.shr->prod + (5u << v->read.order);
	}
	xenevtchn_notify(v->event, v->event_port);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "hostile"))
		return hostile(argv[2], argv[3]);
	if (argc == 1 || (argc == 2 && !strcmp(argv[1], "names")))
		return names();
	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "serve"))
		return serve(argv[2], argc == 4 ? strtoul(argv[3], NULL, 10) : 0);
	if (argc == 4 && !strcmp(argv[1], "append"))
		return append(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "stall"))
		return stall(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return sink(argv[2], argv[3]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "echo"))
		return echo(argv[2], argv[3], strtoull(argv[4], NULL, 10),
			    !(argc == 6 && !strcmp(argv[5], "nocheck")));
	if (argc == 4 && !strcmp(argv[1], "busy")) {
		struct xc_store *st = NULL;
		struct xc_stream s = { .lock_fd = -1 };
		int r = open_client(argv[2], argv[3], &st, &s);

		printf("%s\n", r == -EBUSY ? "busy" : strerror(-r));
		if (r == 0)
			s.ops->close(&s);
		xc_store_close(st);
		return r == -EBUSY ? 0 : 1;
	}
	fprintf(stderr, "usage: test-vchan names | serve NAME [RING] | sink NAME FILE | append NAME FILE | "
			"stall NAME | "
			"echo DOMID NAME BYTES "
			"[nocheck] | busy DOMID NAME | hostile NAME prod|cons\n");
	return 2;
}
