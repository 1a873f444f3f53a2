/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/file.c: whole files read, the bound exact (max bytes
 * pass, max + 1 do not), NULs kept, empty files, pipes read in pieces, and
 * errors from open and read.
 */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "macro.h"
#include "tap.h"

static char dir[] = "/tmp/test-file.XXXXXX";

static char *write_file(const char *name, const char *data, size_t n)
{
	char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, n) != (ssize_t)n || close(fd) < 0)
		abort();
	return path;
}

static void run_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 100000 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i], len = 1;
		_cleanup_free_ char *data = malloc(n + 1), *got = NULL, *path = NULL;

		for (size_t k = 0; k < n; k++)
			data[k] = (char)(k % 251);
		path = write_file("sized", data, n);
		tap_ok(xc_read_file(path, n, &got, &len) == 0 && len == n &&
			       memcmp(got, data, n) == 0 && got[n] == '\0',
		       "%zu bytes with max %zu: read whole, NULs kept, NUL-terminated", n, n);
		free(got);
		got = NULL;
		if (n == 0)
			continue;
		tap_ok(xc_read_file(path, n - 1, &got, &len) == -EFBIG && got == NULL,
		       "%zu bytes with max %zu: -EFBIG, nothing returned", n, n - 1);
	}
}

static void run_pipe(void)
{
	int p[2];
	_cleanup_free_ char *got = NULL;
	size_t len = 0;
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* Several writes: the reader sees them as separate reads. */
		for (int i = 0; i < 3; i++) {
			if (write(p[1], "abc", 3) != 3)
				_exit(1);
			usleep(1000);
		}
		_exit(0);
	}
	close(p[1]);
	tap_ok(xc_read_fd(p[0], 64, &got, &len) == 0 && len == 9 &&
		       streq(got, "abcabcabc"),
	       "a pipe written in pieces: read to its end");
	close(p[0]);
	waitpid(pid, NULL, 0);
}

static void run_errors(void)
{
	_cleanup_free_ char *missing = NULL;
	char *got = NULL;

	if (asprintf(&missing, "%s/missing", dir) < 0)
		abort();
	tap_ok(xc_read_file(missing, 64, &got, NULL) == -ENOENT && !got,
	       "a missing file: -ENOENT");
	tap_ok(xc_read_file(dir, 64, &got, NULL) == -EISDIR && !got,
	       "a directory: -EISDIR from read");
	tap_ok(xc_read_fd(-1, 64, &got, NULL) == -EBADF && !got, "a bad descriptor: -EBADF");
}

int main(void)
{
	_cleanup_free_ char *cmd = NULL;
	int rc;

	if (!mkdtemp(dir))
		abort();
	run_sizes();
	run_pipe();
	run_errors();
	rc = tap_done_trailing_plan();
	if (asprintf(&cmd, "rm -rf '%s'", dir) < 0 || system(cmd) != 0)
		return 1;
	return rc;
}
