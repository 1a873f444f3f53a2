/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "choose.h"
#include "macro.h"
#include "parse.h"

/* A vchan endpoint is ours to use when dom0 is its client (or serves it). */
static bool usable(const struct xc_channel *c)
{
	return c->transport != XC_TRANSPORT_VCHAN || c->vchan_client == 0 ||
	       c->backend_domid == 0;
}

static const struct xc_channel *find(const struct xc_channel *v, size_t n, const char *name,
				     bool vchan)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name && streq(v[i].name, name) && usable(&v[i]) &&
		    (v[i].transport == XC_TRANSPORT_VCHAN) == vchan)
			return &v[i];
	return NULL;
}

static const struct xc_channel *find_transport(const struct xc_channel *v, size_t n,
					       const char *name, enum xc_transport t)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].name && streq(v[i].name, name) && usable(&v[i]) && v[i].transport == t)
			return &v[i];
	return NULL;
}

int xc_choose(const struct xc_channel *v, size_t n, const char *name,
	      enum xc_transport forced, uint64_t rate, uint64_t threshold, bool strict,
	      struct xc_choice *out)
{
	const struct xc_channel *chan = find(v, n, name, false);
	const struct xc_channel *vc = find(v, n, name, true);
	bool vchan_ready = vc && vc->fe_state == XC_STATE_CONNECTED;
	char want[XC_FORMAT_SIZE_MAX], lim[XC_FORMAT_SIZE_MAX];

	memset(out, 0, sizeof(*out));
	xc_format_size(rate, want, sizeof(want));
	xc_format_size(threshold, lim, sizeof(lim));
	if (forced != XC_TRANSPORT_UNKNOWN) {
		out->channel = find_transport(v, n, name, forced);
		snprintf(out->reason, sizeof(out->reason), "%s: asked for with --transport",
			 xc_transport_name(forced));
		return out->channel ? 0 : -ENOENT;
	}
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
