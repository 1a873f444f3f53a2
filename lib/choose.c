/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "choose.h"
#include "macro.h"
#include "parse.h"

/*
 * The forced transport is not there: say which one is missing and what the
 * name has instead ("no vchan endpoint (the channel has: socket)"), or that
 * there is no such channel at all.  Only what xc_channel_find() would take
 * counts: a vchan endpoint between two guests is nothing we can use.
 */
static void missing_transport(const struct xc_channel *v, size_t n, const char *name,
			      enum xc_transport forced, struct xc_choice *out)
{
	static const enum xc_transport all[] = {
		XC_TRANSPORT_SOCKET,
		XC_TRANSPORT_PTY,
		XC_TRANSPORT_DIRECT,
		XC_TRANSPORT_VCHAN,
	};
	char has[64] = "";

	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		const struct xc_channel *c;

		if (xc_channel_find(v, n, name, all[i], &c) == -ENOENT)
			continue;
		if (has[0])
			strcat(has, ", ");
		strcat(has, xc_transport_name(all[i]));
	}
	if (!has[0])
		snprintf(out->reason, sizeof(out->reason), "no such channel");
	else
		snprintf(out->reason, sizeof(out->reason),
			 "no %s %s (the channel has: %s)", xc_transport_name(forced),
			 forced == XC_TRANSPORT_VCHAN ? "endpoint" : "channel", has);
}

int xc_choose(const struct xc_channel *v, size_t n, const char *name,
	      enum xc_transport forced, uint64_t rate, uint64_t threshold, bool strict,
	      struct xc_choice *out)
{
	const struct xc_channel *chan = NULL, *vc = NULL;
	char want[XC_FORMAT_SIZE_MAX], lim[XC_FORMAT_SIZE_MAX];
	bool vchan_ready;
	int r;

	memset(out, 0, sizeof(*out));
	xc_format_size(rate, want, sizeof(want));
	xc_format_size(threshold, lim, sizeof(lim));
	if (forced != XC_TRANSPORT_UNKNOWN) {
		snprintf(out->reason, sizeof(out->reason), "%s: asked for with --transport",
			 xc_transport_name(forced));
		r = xc_channel_find(v, n, name, forced, &out->channel);
		if (r == -ENOENT)
			missing_transport(v, n, name, forced, out);
		return r;
	}
	r = xc_channel_find(v, n, name, XC_TRANSPORT_UNKNOWN, &chan);
	if (r == 0 || r == -ENOENT)
		r = xc_channel_find(v, n, name, XC_TRANSPORT_VCHAN, &vc);
	if (r == -ENOTUNIQ) {
		snprintf(out->reason, sizeof(out->reason),
			 "ambiguous: several channels of that name, none trusted");
		return r;
	}
	vchan_ready = vc && vc->fe_state == XC_STATE_CONNECTED;
	if (!chan && !vc) {
		snprintf(out->reason, sizeof(out->reason), "no such channel");
		return -ENOENT;
	}
	if (rate > threshold) {
		if (vchan_ready) {
			out->channel = vc;
			snprintf(out->reason, sizeof(out->reason),
				 "vchan: %s/s asked for, more than the %s/s a console ring "
				 "carries, and the guest publishes a vchan endpoint",
				 want, lim);
			return 0;
		}
		snprintf(out->reason, sizeof(out->reason),
			 "%s/s asked for, more than the %s/s a console ring carries, but the "
			 "guest publishes no vchan endpoint for it",
			 want, lim);
		if (strict || !chan)
			return -ENOTSUP;
		out->channel = chan;
		out->fell_back = true;
		return 0;
	}
	if (chan) {
		out->channel = chan;
		if (rate)
			snprintf(out->reason, sizeof(out->reason),
				 "%s: %s/s asked for, within what a console ring carries (%s/s)",
				 xc_transport_name(chan->transport), want, lim);
		else
			snprintf(out->reason, sizeof(out->reason),
				 "%s: the channel's own transport (no bandwidth asked for)",
				 xc_transport_name(chan->transport));
		return 0;
	}
	out->channel = vc;
	snprintf(out->reason, sizeof(out->reason),
		 "vchan: the only endpoint with that name");
	return 0;
}
