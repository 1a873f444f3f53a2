/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Replay a fuzz target's corpus without libFuzzer, so that make check runs
 * every saved input through the target with the ordinary compiler and the
 * configured sanitizers.  Linked with one tests/fuzz/fuzz-*.c.
 *
 *	fuzz-values-replay [DIR|FILE]...
 *
 * Every regular file in each DIR (sorted by name, not recursive), and every
 * FILE, is passed to LLVMFuzzerTestOneInput once; the output is TAP, one line
 * per input.  A target that crashes or aborts ends the run, which the TAP
 * driver reports as an error.
 *
 * Without arguments the corpus compiled in as REPLAY_CORPUS (relative to the
 * source tree) is replayed: $top_srcdir, which make check exports, locates it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "strv.h"
#include "tap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs are small: anything above this is not a corpus file. */
#define INPUT_MAX (1024 * 1024)

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t n = 0;
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0)
		return -errno;
	if (sb.st_size > INPUT_MAX)
		return -EFBIG;
	/* One byte more than needed, so that an empty file still allocates. */
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = TAKE_PTR(buf);
	*len = n;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append path to the vector *v of *n entries; bails out on allocation failure. */
static void add(char ***v, size_t *n, char *path)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv || !path)
		tap_bail("out of memory");
	nv[(*n)++] = path;
	nv[*n] = NULL;
	*v = nv;
}

/* The regular files of dir, sorted by name. */
static void add_dir(char ***v, size_t *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t first = *n;

	if (!d)
		tap_bail("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char *p;
		struct stat sb;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			tap_bail("out of memory");
		if (stat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			free(p);
			continue;
		}
		add(v, n, p);
	}
	closedir(d);
	if (*n > first)
		qsort(*v + first, *n - first, sizeof(**v), cmp_str);
}

int main(int argc, char **argv)
{
	_cleanup_strv_free_ char **files = NULL;
	size_t n = 0;

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			struct stat sb;

			if (stat(argv[i], &sb) < 0)
				tap_bail("%s: %s", argv[i], strerror(errno));
			if (S_ISDIR(sb.st_mode))
				add_dir(&files, &n, argv[i]);
			else
				add(&files, &n, strdup(argv[i]));
		}
	} else {
#ifdef REPLAY_CORPUS
		const char *top = getenv("top_srcdir");
		char *dir;

		if (asprintf(&dir, "%s/%s", top ? top : ".", REPLAY_CORPUS) < 0)
			tap_bail("out of memory");
		add_dir(&files, &n, dir);
		free(dir);
#else
		fprintf(stderr, "Usage: %s DIR|FILE...\n", argv[0]);
		return 2;
#endif
	}
	/* An empty corpus is a mistake, not a pass. */
	if (n == 0)
		tap_bail("no input to replay");
	tap_plan((unsigned)n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ uint8_t *data = NULL;
		size_t len = 0;
		int r = read_file(files[i], &data, &len);

		if (r < 0) {
			tap_ok(false, "%s: %s", files[i], strerror(-r));
			continue;
		}
		LLVMFuzzerTestOneInput(data, len);
		tap_ok(true, "%s (%zu bytes)", files[i], len);
	}
	return tap_done();
}
