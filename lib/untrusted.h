/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Values a guest may have written (xenstore keys it owns, ring contents) and
 * values from other toolstacks are untrusted: they are escaped before they
 * reach a terminal and validated before they are used as a path.
 *
 * Nothing here allocates except xc_escape(), and nothing blocks.
 */
#ifndef XENCHAN_UNTRUSTED_H
#define XENCHAN_UNTRUSTED_H

#include <stdbool.h>
#include <stddef.h>

/* Longest value xenchan reads from xenstore for any key it displays. */
#define XC_VALUE_MAX 1024

/* Longest channel name, in bytes. */
#define XC_CHANNEL_NAME_MAX 255

/* How much of a DOMAIN or other argument a message quotes. */
#define XC_ARG_QUOTE_MAX 256

/*
 * A printable copy of s (caller frees; NULL on allocation failure): bytes
 * outside printable ASCII, and the backslash, become \xHH, so the result
 * never contains a control character or an escape sequence and can be read
 * back unambiguously.  At most max bytes of s are taken; a longer s ends in
 * "...".
 */
char *xc_escape(const char *s, size_t max);

/* True when s needs no escaping (printable ASCII, no backslash). */
bool xc_is_printable(const char *s);

/*
 * A channel name as xenchan accepts it: 1..XC_CHANNEL_NAME_MAX bytes of [A-Za-z0-9._-],
 * not starting with '.' or '-'.  (Stricter rules for registries live in the
 * registry checker; this is what is safe to use in paths and messages.)
 */
bool xc_channel_name_valid(const char *s);

/*
 * A unix socket path taken from xenstore: absolute, shorter than sun_path,
 * printable, no "." or ".." component, no empty component.
 */
bool xc_socket_path_valid(const char *s);

/* A pty path as qemu writes it: "/dev/pts/" followed by a decimal number. */
bool xc_pty_path_valid(const char *s);

#endif
