/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * seqdata: numbered records to send through a channel, and what a break did
 * to them.
 *
 *   seqdata gen COUNT [BYTES_PER_S]
 *       write COUNT records of 16 bytes ("%015llu\n", 0 to COUNT - 1) to
 *       stdout, at most BYTES_PER_S bytes a second (0 or none: at once)
 *   seqdata diff COUNT FILE
 *       compare FILE, what arrived, with the COUNT records gen writes, and
 *       print "received R expected E lost L duplicated D junctions J bad B"
 *
 * What a resend does to a stream is a splice: the received bytes are the
 * sent ones up to some offset a, then from some offset b on.  b > a lost
 * b - a bytes, b < a repeated a - b.  Each record is unique, so a window of
 * 32 received bytes (two records' worth, one of them whole) is found at
 * exactly one offset of the sent stream.  Bytes that match nowhere count as
 * bad and end the comparison.  Exit 0, or 1 on bad input, 2 on usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REC 16
#define WINDOW (2 * REC)
#define MAX_COUNT 1000000000ULL /* 16 GB of records: more than any run needs */

static int usage(void)
{
	fprintf(stderr, "usage: seqdata gen COUNT [BYTES_PER_S]\n"
			"       seqdata diff COUNT FILE\n");
	return 2;
}

static int parse(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

static char *expected(uint64_t count, size_t *len)
{
	char *buf;

	if (count > SIZE_MAX / REC || count > MAX_COUNT) {
		errno = ERANGE;
		return NULL;
	}
	buf = malloc(count * REC + 1);
	if (!buf)
		return NULL;
	for (uint64_t i = 0; i < count; i++) {
		char *p = buf + i * REC + REC - 1;
		uint64_t v = i;

		*p = '\n';
		while (p-- > buf + i * REC) {
			*p = (char)('0' + v % 10);
			v /= 10;
		}
	}
	*len = count * REC;
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int gen(uint64_t count, uint64_t rate)
{
	/* About 64 writes a second, so that bytes are always in flight. */
	size_t len, off = 0, chunk = !rate ? 65536 : rate / 64 > 65536 ? 65536 : rate / 64 ? rate / 64 : 1;
	char *buf = expected(count, &len);
	double t0 = now();

	if (!buf) {
		fprintf(stderr, "seqdata: %" PRIu64 " records: %s\n", count, strerror(errno));
		return 1;
	}
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		ssize_t w = write(STDOUT_FILENO, buf + off, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("seqdata: write");
			return 1;
		}
		off += (size_t)w;
		if (rate) {
			double ahead = (double)off / (double)rate - (now() - t0);

			if (ahead > 0)
				usleep((useconds_t)(ahead * 1e6));
		}
	}
	free(buf);
	return 0;
}

static int diff(uint64_t count, const char *file)
{
	size_t elen, rlen = 0, cap = 1 << 20, a = 0, r = 0;
	uint64_t lost = 0, dup = 0, junctions = 0, bad = 0;
	char *e = expected(count, &elen), *rb = malloc(cap);
	FILE *f = fopen(file, "rb");
	size_t n;

	if (!e || !rb || !f) {
		fprintf(stderr, "seqdata: %s: %s\n", file, strerror(errno ? errno : ENOMEM));
		return 1;
	}
	while ((n = fread(rb + rlen, 1, cap - rlen, f)) > 0) {
		rlen += n;
		if (rlen == cap) {
			char *nb = realloc(rb, cap *= 2);

			if (!nb)
				return 1;
			rb = nb;
		}
	}
	fclose(f);
	/* r: next received byte; a: the sent offset it should be. */
	while (r < rlen) {
		size_t w, b;
		char *hit;

		if (a < elen && rb[r] == e[a]) {
			r++;
			a++;
			continue;
		}
		w = rlen - r < WINDOW ? rlen - r : WINDOW;
		hit = w == WINDOW ? memmem(e, elen, rb + r, w) : NULL;
		if (!hit && w < WINDOW) {
			/* The tail: shorter than a window, found only if unique. */
			hit = memmem(e, elen, rb + r, w);
			if (hit && memmem(hit + 1, elen - (size_t)(hit + 1 - e), rb + r, w))
				hit = NULL;
		}
		if (!hit) {
			bad = rlen - r;
			break;
		}
		b = (size_t)(hit - e);
		junctions++;
		if (b > a)
			lost += b - a;
		else
			dup += a - b;
		a = b;
	}
	if (!bad && a < elen)
		lost += elen - a;
	printf("received %zu expected %zu lost %" PRIu64 " duplicated %" PRIu64
	       " junctions %" PRIu64 " bad %" PRIu64 "\n",
	       rlen, elen, lost, dup, junctions, bad);
	free(e);
	free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t count, rate = 0;

	if (argc < 3 || parse(argv[2], &count) < 0)
		return usage();
	if (!strcmp(argv[1], "gen") && argc <= 4) {
		if (argc == 4 && parse(argv[3], &rate) < 0)
			return usage();
		return gen(count, rate);
	}
	if (!strcmp(argv[1], "diff") && argc == 4)
		return diff(count, argv[3]);
	return usage();
}
