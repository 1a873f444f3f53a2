/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "untrusted.h"

static bool printable(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '\\';
}

bool xc_is_printable(const char *s)
{
	for (; *s; s++)
		if (!printable((unsigned char)*s))
			return false;
	return true;
}

char *xc_escape(const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strnlen(s, max), i;
	bool cut = s[n] != '\0';
	char *out = malloc(n * 4 + 4), *p = out;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (printable(c)) {
			*p++ = (char)c;
		} else {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
	}
	if (cut) {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p = '\0';
	return out;
}

bool xc_channel_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > XC_CHANNEL_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool xc_socket_path_valid(const char *s)
{
	size_t n = strlen(s);
	const char *c;

	if (n < 2 || n >= sizeof(((struct sockaddr_un *)0)->sun_path) || s[0] != '/' ||
	    !xc_is_printable(s) || s[n - 1] == '/')
		return false;
	for (c = s; c; c = strchr(c + 1, '/')) {
		const char *comp = c + 1;
		size_t len = strcspn(comp, "/");

		if (len == 0 || (len == 1 && comp[0] == '.') ||
		    (len == 2 && comp[0] == '.' && comp[1] == '.'))
			return false;
	}
	return true;
}

bool xc_pty_path_valid(const char *s)
{
	const char *d;

	if (strncmp(s, "/dev/pts/", 9))
		return false;
	d = s + 9;
	if (*d == '\0' || strlen(d) > 9 || (d[0] == '0' && d[1] != '\0'))
		return false;
	for (; *d; d++)
		if (*d < '0' || *d > '9')
			return false;
	return true;
}
