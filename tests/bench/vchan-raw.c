/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The baseline for tests/bench/vchan.sh: the same echo as test-vchan, written
 * straight on libxenvchan (blocking, libxenvchan_wait), so the ratio
 * xenchan / raw is the cost of xenchan's transport over the library's own
 * ceiling with the same ring sizes.
 *
 *   vchan-raw serve PATH RING     in a guest: serve to dom0, echo back
 *   vchan-raw echo DOMID PATH BYTES
 *
 * and the one-way shape of tests/bench/vchan.sh, a plain loop through a
 * buffer on each side as a program written on the library would be:
 *
 *   vchan-raw recv PATH RING      in a guest: serve to dom0, ring to stdout
 *   vchan-raw send DOMID PATH     stdin to the ring, until end of file
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxenvchan.h>

static int serve(const char *path, size_t ring)
{
	struct libxenvchan *v = libxenvchan_server_init(NULL, 0, path, ring, ring);
	char buf[65536];

	if (!v)
		return 1;
	v->blocking = 1;
	for (;;) {
		int n = libxenvchan_read(v, buf, sizeof(buf));

		if (n <= 0)
			break;
		if (libxenvchan_send(v, buf, (size_t)n) < 0)
			break;
	}
	libxenvchan_close(v);
	return 0;
}

static int echo(int dom, const char *path, unsigned long long bytes)
{
	struct libxenvchan *v = libxenvchan_client_init(NULL, dom, path);
	unsigned long long sent = 0, got = 0;
	char out[65536], in[65536];
	struct timespec t0, t1;

	if (!v)
		return 1;
	v->blocking = 0;
	memset(out, 0x5a, sizeof(out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (got < bytes) {
		int progress = 0, n;

		if (sent < bytes) {
			size_t want = sizeof(out) < bytes - sent ? sizeof(out) : bytes - sent;

			n = libxenvchan_write(v, out, want);
			if (n < 0)
				return 4;
			sent += (unsigned)n;
			progress |= n > 0;
		}
		n = libxenvchan_read(v, in, sizeof(in));
		if (n < 0)
			return 4;
		got += (unsigned)n;
		progress |= n > 0;
		if (!progress && libxenvchan_wait(v) < 0)
			return 4;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	libxenvchan_close(v);
	printf("ok %llu %.3f\n", bytes,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}

static int recv_out(const char *path, size_t ring)
{
	struct libxenvchan *v = libxenvchan_server_init(NULL, 0, path, ring, ring);
	static char buf[65536];

	if (!v)
		return 1;
	v->blocking = 1;
	for (;;) {
		int n = libxenvchan_read(v, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (int off = 0; off < n;) {
			ssize_t w = write(1, buf + off, (size_t)(n - off));

			if (w < 0)
				return 1;
			off += (int)w;
		}
	}
	libxenvchan_close(v);
	return 0;
}

static int send_in(int dom, const char *path)
{
	struct libxenvchan *v = libxenvchan_client_init(NULL, dom, path);
	static char buf[65536];
	ssize_t n;

	if (!v)
		return 1;
	v->blocking = 1;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		if (libxenvchan_write(v, buf, (size_t)n) != n)
			return 4;
	/* Until the server has consumed it all, as xenchan-cat -Q 0 waits. */
	while (libxenvchan_is_open(v) && libxenvchan_buffer_space(v) < (1 << v->write.order))
		libxenvchan_wait(v);
	libxenvchan_close(v);
	return n < 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "recv"))
		return recv_out(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_in(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], strtoul(argv[3], NULL, 10));
	if (argc == 5 && !strcmp(argv[1], "echo"))
		return echo(atoi(argv[2]), argv[3], strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: vchan-raw serve PATH RING | echo DOMID PATH BYTES | "
			"recv PATH RING | send DOMID PATH\n");
	return 2;
}
