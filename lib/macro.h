/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers used throughout xenchan (in the style of kmod's macro.h).
 *
 * The _cleanup_ helpers run when the annotated variable goes out of scope:
 *
 *	_cleanup_free_ char *s = NULL;     free(s)
 *	_cleanup_close_ int fd = -1;       close(fd) if fd >= 0
 *	_cleanup_fclose_ FILE *f = NULL;   fclose(f) if f != NULL
 *
 * To hand ownership to the caller, use TAKE_PTR() / TAKE_FD(), which return
 * the value and reset the variable so the cleanup does nothing.
 */
#ifndef XENCHAN_MACRO_H
#define XENCHAN_MACRO_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0, but fails to compile when arr is a pointer rather than an array. */
#define _array_size_chk_(arr)                                                    \
	(sizeof(char[1 - 2 * __builtin_types_compatible_p(typeof(arr),           \
							  typeof(&(arr)[0]))]) - \
	 1)

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]) + _array_size_chk_(arr))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _must_check_ __attribute__((warn_unused_result))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _cleanup_(fn) __attribute__((cleanup(fn)))

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		/* Preserve errno: cleanups run on error paths. */
		int saved = errno;

		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f != NULL) {
		int saved = errno;

		fclose(*f);
		errno = saved;
	}
}

static inline void closedirp(DIR **d)
{
	if (*d != NULL) {
		int saved = errno;

		closedir(*d);
		errno = saved;
	}
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

#define TAKE_PTR(p)                    \
	({                             \
		typeof(p) _tmp_ = (p); \
		(p) = NULL;            \
		_tmp_;                 \
	})

#define TAKE_FD(fd)               \
	({                        \
		int _tmp_ = (fd); \
		(fd) = -1;        \
		_tmp_;            \
	})

#endif
