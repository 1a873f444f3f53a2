/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a whole (small) file into memory, bounded: config files, dpkg's
 * status file, sysfs values.
 */
#ifndef XENCHAN_FILE_H
#define XENCHAN_FILE_H

#include <stddef.h>

/*
 * Read fd to its end into *out (malloc'd, NUL-terminated; the bytes may
 * hold NULs of their own, *len counts them; len may be NULL).  At most max
 * bytes (max < SIZE_MAX): a longer input is -EFBIG.  EINTR is retried.  Returns 0, -EFBIG,
 * -ENOMEM or -errno of read(2); *out is untouched on failure.  fd is not
 * closed.
 */
int xc_read_fd(int fd, size_t max, char **out, size_t *len);

/* The same for the file at path, opened read-only and closed again. */
int xc_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
