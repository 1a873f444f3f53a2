/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The automatic transport choice: the matrix of rate (below, above the
 * threshold) x vchan endpoint (present, absent) x --strict, and --transport;
 * and the one lookup rule under it (xc_channel_find()): a trusted channel
 * wins whatever its devid, two untrusted ones are ambiguous. */
#include <errno.h>
#include <string.h>

#include "choose.h"
#include "tap.h"

#define M (1024ull * 1024)

int main(void)
{
	struct xc_channel with[] = {
		{ .name = (char *)"org.example.a.0", .transport = XC_TRANSPORT_SOCKET,
		  .fe_state = 4, .be_state = 4 },
		/* vchan rows as listed under domain 5, their server. */
		{ .name = (char *)"org.example.a.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 5, .vchan_client = 0,
		  .fe_state = 4, .be_state = 4 },
		{ .name = (char *)"org.example.b.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 5, .vchan_client = 7,
		  .fe_state = 4, .be_state = 4 },
		{ .name = (char *)"org.example.c.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 5, .vchan_client = 0,
		  .fe_state = -1, .be_state = -1 },
		{ .name = (char *)"org.example.c.0", .transport = XC_TRANSPORT_PTY,
		  .fe_state = 4, .be_state = 4 },
		/* A guest-made device at a lower devid shadowing a trusted name. */
		{ .name = (char *)"org.example.d.0", .devid = 1, .transport = XC_TRANSPORT_SOCKET,
		  .flags = XC_CHAN_NO_TRUSTED_COPY, .fe_state = 4, .be_state = 4 },
		{ .name = (char *)"org.example.d.0", .devid = 2, .transport = XC_TRANSPORT_SOCKET,
		  .fe_state = 4, .be_state = 4 },
		/* Two guest-made devices and no trusted one. */
		{ .name = (char *)"org.example.e.0", .devid = 3, .transport = XC_TRANSPORT_PTY,
		  .flags = XC_CHAN_NO_TRUSTED_COPY, .fe_state = 4, .be_state = 4 },
		{ .name = (char *)"org.example.e.0", .devid = 4, .transport = XC_TRANSPORT_PTY,
		  .flags = XC_CHAN_NO_TRUSTED_COPY, .fe_state = 4, .be_state = 4 },
		/* One guest-made device alone: used (the caller warns). */
		{ .name = (char *)"org.example.f.0", .devid = 5, .transport = XC_TRANSPORT_PTY,
		  .flags = XC_CHAN_NO_TRUSTED_COPY, .fe_state = 4, .be_state = 4 },
		/* 10: a name that is only a vchan endpoint the guest serves to dom0. */
		{ .name = (char *)"org.example.g.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 5, .vchan_client = 0,
		  .fe_state = 4, .be_state = 4 },
		/* 11: dom0's own row of an endpoint it serves to domain 5: the
		 * endpoint is domain 5's row to find, not domain 0's. */
		{ .name = (char *)"org.example.h.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 0, .backend_domid = 0, .vchan_client = 5,
		  .fe_state = 4, .be_state = 4 },
		/* 12: domain 5's row of an endpoint dom0 serves to it: usable. */
		{ .name = (char *)"org.example.i.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 0, .vchan_client = 5,
		  .fe_state = 4, .be_state = 4 },
		/* 13: domain 5's row of an endpoint domain 7 serves to it: not ours. */
		{ .name = (char *)"org.example.j.0", .transport = XC_TRANSPORT_VCHAN,
		  .domid = 5, .backend_domid = 7, .vchan_client = 5,
		  .fe_state = 4, .be_state = 4 },
	};
	struct {
		const char *name;
		enum xc_transport forced;
		uint64_t rate;
		bool strict;
		int ret;
		int want; /* index into with[], -1 for none */
		bool fell_back;
		const char *reason;
	} cases[] = {
		{ "org.example.a.0", 0, 0, false, 0, 0, false, "no bandwidth asked" },
		{ "org.example.a.0", 0, 1 * M, false, 0, 0, false, "within what a console" },
		{ "org.example.a.0", 0, 40 * M, false, 0, 1, false, "publishes a vchan endpoint" },
		{ "org.example.a.0", 0, 40 * M, true, 0, 1, false, "publishes a vchan endpoint" },
		{ "org.example.c.0", 0, 40 * M, false, 0, 4, true, "publishes no vchan endpoint" },
		{ "org.example.c.0", 0, 40 * M, true, -ENOTSUP, -1, false, "publishes no vchan" },
		{ "org.example.c.0", 0, 1 * M, true, 0, 4, false, "pty" },
		/* An endpoint for another client is not ours. */
		{ "org.example.b.0", 0, 0, false, -ENOENT, -1, false, "no such channel" },
		{ "org.example.nope.0", 0, 0, false, -ENOENT, -1, false, "no such channel" },
		{ "org.example.a.0", XC_TRANSPORT_VCHAN, 0, false, 0, 1, false, "--transport" },
		{ "org.example.a.0", XC_TRANSPORT_PTY, 0, false, -ENOENT, -1, false,
		  "no pty channel (the channel has: socket, vchan)" },
		{ "org.example.g.0", XC_TRANSPORT_SOCKET, 0, false, -ENOENT, -1, false,
		  "no socket channel (the channel has: vchan)" },
		{ "org.example.g.0", XC_TRANSPORT_VCHAN, 0, false, 0, 10, false,
		  "--transport" },
		{ "org.example.d.0", XC_TRANSPORT_VCHAN, 0, false, -ENOENT, -1, false,
		  "no vchan endpoint (the channel has: socket)" },
		{ "org.example.d.0", XC_TRANSPORT_DIRECT, 0, false, -ENOENT, -1, false,
		  "no direct channel (the channel has: socket)" },
		{ "org.example.nope.0", XC_TRANSPORT_VCHAN, 0, false, -ENOENT, -1, false,
		  "no such channel" },
		/* Another client's endpoint does not count as what the name has. */
		{ "org.example.b.0", XC_TRANSPORT_VCHAN, 0, false, -ENOENT, -1, false,
		  "no such channel" },
		{ "org.example.h.0", 0, 0, false, -ENOENT, -1, false, "no such channel" },
		{ "org.example.i.0", 0, 0, false, 0, 12, false, "the only endpoint" },
		{ "org.example.j.0", 0, 0, false, -ENOENT, -1, false, "no such channel" },
		{ "org.example.c.0", XC_TRANSPORT_PTY, 99 * M, true, 0, 4, false, "--transport" },
		{ "org.example.d.0", 0, 0, false, 0, 6, false, "socket" },
		{ "org.example.d.0", XC_TRANSPORT_SOCKET, 0, false, 0, 6, false, "--transport" },
		{ "org.example.e.0", 0, 0, false, -ENOTUNIQ, -1, false, "ambiguous" },
		{ "org.example.e.0", XC_TRANSPORT_PTY, 0, false, -ENOTUNIQ, -1, false, "--transport" },
		{ "org.example.f.0", 0, 0, false, 0, 9, false, "pty" },
	};

	tap_plan(ARRAY_SIZE(cases) * 3);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct xc_choice ch;
		int r = xc_choose(with, ARRAY_SIZE(with), cases[i].name, cases[i].forced,
				  cases[i].rate, XC_RING_RATE_DEFAULT, cases[i].strict, &ch);
		const struct xc_channel *want =
			cases[i].want < 0 ? NULL : &with[cases[i].want];

		tap_ok(r == cases[i].ret, "%zu: %s rate %llu strict %d: returns %d (got %d)", i,
		       cases[i].name, (unsigned long long)cases[i].rate, cases[i].strict,
		       cases[i].ret, r);
		tap_ok((r < 0 && !want) || (r == 0 && ch.channel == want && ch.fell_back == cases[i].fell_back),
		       "%zu: picks the expected channel", i);
		tap_ok(strstr(ch.reason, cases[i].reason) != NULL, "%zu: reason: %s", i, ch.reason);
	}
	return tap_done();
}
