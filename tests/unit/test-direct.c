/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Driver for tests/bats/direct.bats: the direct transport (lib/direct.c) on
 * an emulated host, through the stream operations themselves.
 *
 *   test-direct [-v] [-t MS] [-d DEVID] MODE DOMID NAME [ARGS]
 *
 * Modes (the channel NAME is hotplugged unless -d names an existing devid):
 *   echo SIZE...   round-trip SIZE bytes through an echo agent per SIZE;
 *                  prints "SIZE ok HASH" and the notifications per MiB
 *   send BYTES     write BYTES (byte i = (i * 7 + 3) & 0xff) and wait until
 *                  the guest consumed all of them
 *   recv BYTES     read BYTES and check them against the same pattern
 *   serve          print "devid N" and wait to be killed
 *   drain          read and write until an error; print it
 *   remove         xc_direct_remove(DOMID, DEVID) (-d required)
 *
 * Output: "devid N" once open, results, then "error: NAME" for the first
 * error, on stdout.  Exit 0 on success, 1 on a data mismatch, 2 on an error.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "direct.h"
#include "log.h"
#include "parse.h"
#include "store.h"
#include "stream-internal.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static struct xc_stream s;
static uint64_t timeout_ms = 20000;

static const char *errname(int e)
{
	switch (e) {
	case EPROTO:
		return "EPROTO";
	case EPIPE:
		return "EPIPE";
	case ENOSPC:
		return "ENOSPC";
	case ENOTSUP:
		return "ENOTSUP";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case ENOENT:
		return "ENOENT";
	case EEXIST:
		return "EEXIST";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EINVAL:
		return "EINVAL";
	default:
		return strerror(e);
	}
}

static int fail(int r)
{
	printf("error: %s\n", errname(-r));
	fflush(stdout);
	return 2;
}

static void log_stderr(void *data, int prio, const char *fmt, va_list ap)
{
	(void)data;
	(void)prio;
	fputs("test-direct: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for the stream's descriptor, then let it process what happened. */
static int wait_stream(bool want_read, bool want_write)
{
	struct pollfd p = { 0 };
	int r;

	r = s.ops->poll(&s, want_read, want_write, &p.fd, &p.events);
	if (r < 0)
		return r;
	r = poll(&p, 1, (int)timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	if (r == 0)
		return -ETIMEDOUT;
	return s.ops->process(&s, p.revents);
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static void per_mib(const char *what, uint64_t events, uint64_t bytes)
{
	if (bytes >= 65536)
		printf("%s %.1f notifications/MiB (%llu for %llu bytes)\n", what,
		       (double)events * 1048576.0 / (double)bytes,
		       (unsigned long long)events, (unsigned long long)bytes);
}

static int echo_one(size_t n)
{
	unsigned char *out = malloc(n ? n : 1), *in = malloc(n ? n : 1);
	size_t sent = 0, got = 0;
	int r = 0;

	if (!out || !in)
		return -ENOMEM;
	srand((unsigned)n);
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)rand();
	while (got < n) {
		bool progress = false;
		ssize_t k;

		if (sent < n) {
			k = s.ops->write(&s, out + sent, n - sent);
			if (k > 0) {
				sent += (size_t)k;
				progress = true;
			} else if (k != -EAGAIN) {
				r = (int)k;
				break;
			}
			s.ops->flush(&s);
		}
		k = s.ops->read(&s, in + got, n - got);
		if (k > 0) {
			got += (size_t)k;
			progress = true;
		} else if (k != -EAGAIN) {
			r = (int)k;
			break;
		}
		if (!progress) {
			r = wait_stream(true, sent < n);
			if (r < 0)
				break;
		}
	}
	if (r == 0) {
		bool same = memcmp(out, in, n) == 0;

		printf("%zu %s %016llx %016llx\n", n, same ? "ok" : "MISMATCH",
		       (unsigned long long)fnv(out, n), (unsigned long long)fnv(in, n));
		if (!same)
			r = 1;
	}
	free(out);
	free(in);
	return r;
}

static int do_send(uint64_t n)
{
	unsigned char buf[4096];
	uint64_t sent = 0, done = 0, pending = 0;
	enum xc_proof proof;
	int r;

	while (sent < n) {
		size_t len = n - sent < sizeof(buf) ? (size_t)(n - sent) : sizeof(buf);
		ssize_t k;

		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)(((sent + i) * 7 + 3) & 0xff);
		k = s.ops->write(&s, buf, len);
		if (k > 0) {
			sent += (uint64_t)k;
			continue;
		}
		if (k != -EAGAIN)
			return (int)k;
		r = wait_stream(false, true);
		if (r < 0)
			return r;
	}
	s.ops->flush(&s);
	for (;;) {
		r = s.ops->delivered(&s, &done, &pending, &proof);
		if (r < 0)
			return r;
		if (done == n)
			break;
		r = wait_stream(false, true);
		if (r < 0)
			return r;
	}
	printf("delivered %llu %s\n", (unsigned long long)done,
	       proof == XC_PROOF_CONSUMED ? "consumed" : "unproven");
	return 0;
}

static int do_recv(uint64_t n)
{
	unsigned char buf[4096];
	uint64_t got = 0;
	int r;

	while (got < n) {
		size_t len = n - got < sizeof(buf) ? (size_t)(n - got) : sizeof(buf);
		ssize_t k = s.ops->read(&s, buf, len);

		if (k > 0) {
			for (ssize_t i = 0; i < k; i++)
				if (buf[i] !=
				    (unsigned char)(((got + (uint64_t)i) * 7 + 3) &
						    0xff)) {
					printf("MISMATCH at %llu\n",
					       (unsigned long long)(got + (uint64_t)i));
					return 1;
				}
			got += (uint64_t)k;
			continue;
		}
		if (k != -EAGAIN)
			return (int)k;
		r = wait_stream(true, false);
		if (r < 0)
			return r;
	}
	printf("received %llu ok\n", (unsigned long long)got);
	return 0;
}

/* Read and write until something fails; that is the answer. */
static int do_drain(void)
{
	unsigned char buf[4096];

	memset(buf, 'x', sizeof(buf));
	for (;;) {
		ssize_t k = s.ops->read(&s, buf, sizeof(buf));
		ssize_t w;
		uint64_t a, b;
		enum xc_proof p;
		int r;

		if (k < 0 && k != -EAGAIN)
			return (int)k;
		w = s.ops->write(&s, buf, sizeof(buf));
		if (w < 0 && w != -EAGAIN)
			return (int)w;
		r = s.ops->delivered(&s, &a, &b, &p);
		if (r < 0)
			return r;
		if (k == -EAGAIN && w == -EAGAIN) {
			r = wait_stream(true, true);
			if (r < 0)
				return r;
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: test-direct [-v] [-t MS] [-d DEVID] "
			"echo|send|recv|serve|drain|remove DOMID NAME [ARGS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct xc_stream_opts opts = { .transport = XC_TRANSPORT_DIRECT, .create = true };
	struct xc_channel c = { .transport = XC_TRANSPORT_DIRECT };
	struct xc_direct_stats st0, st1;
	struct xc_store *st = NULL;
	const char *mode;
	uint64_t v;
	int opt, r, rc = 0;

	xc_log_set(log_stderr, NULL);
	xc_log_set_priority(LOG_WARNING);
	while ((opt = getopt(argc, argv, "vt:d:")) != -1) {
		switch (opt) {
		case 'v':
			xc_log_set_priority(LOG_INFO);
			break;
		case 't':
			if (xc_parse_uint(optarg, 3600000, &timeout_ms) < 0)
				usage();
			break;
		case 'd':
			if (xc_parse_uint(optarg, 4095, &v) < 0)
				usage();
			c.devid = (uint32_t)v;
			opts.create = false;
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 3)
		usage();
	mode = argv[optind];
	if (xc_parse_domid(argv[optind + 1], &c.domid) < 0)
		usage();
	c.name = argv[optind + 2];
	opts.timeout_ms = timeout_ms;

	r = xc_store_open(&st);
	if (r < 0)
		return fail(r);
	if (!strcmp(mode, "remove")) {
		r = xc_direct_remove(st, c.domid, c.devid);
		xc_store_close(st);
		return r < 0 ? fail(r) : 0;
	}
	r = xc_direct_open(st, &c, &opts, &s);
	xc_store_close(st);
	if (r < 0)
		return fail(r);
	xc_direct_stats(&s, &st0);
	printf("devid %u\n", st0.devid);
	fflush(stdout);

	if (!strcmp(mode, "echo")) {
		for (int i = optind + 3; i < argc && rc == 0; i++) {
			if (xc_parse_size(argv[i], &v) < 0)
				usage();
			xc_direct_stats(&s, &st0);
			rc = echo_one((size_t)v);
			xc_direct_stats(&s, &st1);
			if (rc == 0) {
				per_mib("to-guest",
					st1.ring.notify_in - st0.ring.notify_in, v);
				per_mib("from-guest",
					st1.ring.notify_out - st0.ring.notify_out, v);
			}
		}
	} else if (!strcmp(mode, "send") || !strcmp(mode, "recv")) {
		if (argc - optind != 4 || xc_parse_size(argv[optind + 3], &v) < 0)
			usage();
		rc = mode[0] == 's' ? do_send(v) : do_recv(v);
		xc_direct_stats(&s, &st1);
		if (rc == 0 && mode[0] == 's')
			per_mib("to-guest", st1.ring.notify_in - st0.ring.notify_in, v);
		if (rc == 0 && mode[0] == 'r')
			per_mib("from-guest", st1.ring.notify_out - st0.ring.notify_out,
				v);
	} else if (!strcmp(mode, "serve")) {
		for (;;)
			pause();
	} else if (!strcmp(mode, "drain")) {
		uint64_t t0 = now_ms();

		rc = do_drain();
		fprintf(stderr, "test-direct: drain ended after %llu ms\n",
			(unsigned long long)(now_ms() - t0));
	} else {
		usage();
	}
	fflush(stdout);
	s.ops->close(&s);
	if (rc < 0)
		return fail(rc);
	return rc;
}
