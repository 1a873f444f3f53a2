/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for what xenchan makes of a xenstore that guests write
 * into: channel discovery (lib/channel.c), domain identity and DOMAIN
 * resolution (lib/domain.c), the transport choice among the channels found
 * (lib/choose.c), and below them lib/store.c's reads, listings and
 * permission checks, and its number reader on the frontend keys the direct
 * transport and the streams parse (ring-ref, port, state).
 *
 * The input is a xenstore tree in the text form of xs-mem.h, e.g.
 *
 *	/local/domain/5 n0 r5
 *	/local/domain/5/name=web01
 *	/local/domain/5/device/console/1 n5 r0
 *	/local/domain/5/device/console/1/tty n5=/dev/pts/3
 *	!/local/domain/5/device/console/1/state=13
 *
 * read through the real lib/store.c over xs-mem.c's in-memory libxenstore.
 * Every domain is listed and resolved by id, name and UUID; its channels are
 * listed and chosen among.  Beyond not crashing, what domain.h, channel.h
 * and choose.h promise is checked against the tree: identity comes from
 * dom0's keys (or is flagged), a backend is only followed at the one path a
 * backend can have, an endpoint a guest could have written is never given
 * out, states and vchan endpoints are what the store says.  A broken promise
 * aborts.
 *
 * Built with clang -fsanitize=fuzzer by "make fuzz-run"; make check links it
 * with replay.c instead and replays tests/fuzz/corpus/channel.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "choose.h"
#include "domain.h"
#include "fuzz.h"
#include "macro.h"
#include "parse.h"
#include "store.h"
#include "untrusted.h"
#include "xs-mem.h"


/* Bounds on the work one input can ask for (resolving a name lists every
 * domain). */
#define MAX_DOMAINS 8
#define MAX_RESOLVE 3
#define MAX_CHOOSE 8

#define ALL_FLAGS                                                                   \
	(XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_NAME_MISMATCH | XC_CHAN_GUEST_WRITABLE | \
	 XC_CHAN_BAD_ENDPOINT | XC_CHAN_BAD_VALUE | XC_CHAN_GUEST_PUBLISHED |      \
	 XC_CHAN_STALE)

/* Longest path built here: a vchan endpoint (255-byte port) and a key. */
#define PATH_LEN 512

/* The value at path as xc_store_read(max) returns it, or NULL. */
static const char *tree_str(const char *path, size_t max)
{
	size_t len;
	const char *v = xs_mem_value(path, &len);

	if (!v || len > max || memchr(v, '\0', len))
		return NULL;
	return v;
}

static const char *tree_key(const char *dir, const char *key, size_t max)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return tree_str(path, max);
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && streq(a, b));
}

/* A XenbusState the way a reader must take it: digits, at most 8. */
static int tree_state(const char *dir)
{
	const char *v = dir ? tree_key(dir, "state", 16) : NULL;

	if (!v || !*v || v[strspn(v, "0123456789")])
		return XC_STATE_NONE;
	while (v[0] == '0' && v[1])
		v++;
	return v[1] || v[0] > '8' ? XC_STATE_NONE : v[0] - '0';
}

/*
 * xc_store_read_uint() on a guest's key (a frontend's ring-ref, port or
 * state, as the direct transport and the stream read them): a strict
 * decimal number or -EBADMSG, -ERANGE above max, -ENOENT when missing.
 */
static void check_read_uint(struct xc_store *st, const char *dir, const char *key,
			    uint64_t max)
{
	char path[PATH_LEN];
	const char *v, *d;
	uint64_t got = 0xabad1dea, want = 0;
	size_t len, digits;
	int r, expect = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	r = xc_store_read_uint(st, XBT_NULL, path, max, &got);
	if (!xs_mem_exists(path)) {
		/* Missing, or a request the tree makes fail. */
		check(r < 0 && got == 0xabad1dea);
		return;
	}
	v = xs_mem_value(path, &len);
	digits = strspn(v, "0123456789");
	if (len == 0 || len > 32 || digits != len) {
		expect = -EBADMSG;
	} else {
		d = v;
		while (d[0] == '0' && d[1])
			d++;
		for (; *d && expect == 0; d++) {
			if (want > (UINT64_MAX - (uint64_t)(*d - '0')) / 10)
				expect = -ERANGE;
			else
				want = want * 10 + (uint64_t)(*d - '0');
		}
		if (expect == 0 && want > max)
			expect = -ERANGE;
	}
	check(r == expect);
	check(r < 0 ? got == 0xabad1dea : got == want);
}

static void check_domains(const struct xc_domain *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[64], uuid[XC_UUID_LEN + 1] = "";
		const char *vm;

		/* Sorted by domid, each once. */
		check(d[i].domid <= XC_DOMID_MAX);
		check(i == 0 || d[i - 1].domid < d[i].domid);
		snprintf(path, sizeof(path), "/local/domain/%u/name", d[i].domid);
		check(same(d[i].name, tree_str(path, 256)));
		/* The UUID is taken from a well-formed "/vm/<uuid>" only, in lower case. */
		snprintf(path, sizeof(path), "/local/domain/%u/vm", d[i].domid);
		vm = tree_str(path, 64);
		if (vm && strneq(vm, "/vm/", 4) && xc_uuid_valid(vm + 4)) {
			for (size_t k = 0; k < XC_UUID_LEN; k++) {
				char c = vm[4 + k];

				uuid[k] = c >= 'A' && c <= 'F' ? (char)(c + 32) : c;
			}
		}
		check(streq(d[i].uuid, uuid));
	}
}

/* xc_domain_resolve() finds what xc_domain_match() finds in the listing. */
static void check_resolve(struct xc_store *st, const char *arg, const struct xc_domain *d,
			  size_t n)
{
	struct xc_domain_spec spec;
	struct xc_domain got;
	int want, r;

	want = xc_domain_spec_parse(arg, &spec);
	if (want == 0 && spec.key == XC_DOM_BY_ID) {
		want = -ENOENT;
		for (size_t i = 0; i < n; i++)
			if (d[i].domid == spec.domid)
				want = (int)i;
	} else if (want == 0) {
		want = xc_domain_match(&spec, d, n);
	}
	r = xc_domain_resolve(st, arg, &got);
	if (want < 0) {
		check(r == want);
		return;
	}
	check(r == 0);
	check(got.domid == d[want].domid && same(got.name, d[want].name) &&
	      streq(got.uuid, d[want].uuid));
	xc_domain_clear(&got);
}

static void check_console(struct xc_store *st, const struct xc_channel *c, uint32_t domid)
{
	char fe[96], lx[96], be[128], path[PATH_LEN];
	bool trusted = !(c->flags & XC_CHAN_NO_TRUSTED_COPY);

	check(c->devid >= 1 && c->devid <= 4095);
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/console/%u", domid, c->devid);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/console/%u", domid, c->devid);
	check(c->frontend && streq(c->frontend, fe));

	/* Identity: the trusted copy's name, or the frontend's, flagged. */
	snprintf(path, sizeof(path), "%s/name", trusted ? lx : fe);
	check(same(c->name, tree_str(path, 255)));
	if (!trusted && c->name && xs_mem_writable(path, domid))
		check(c->flags & XC_CHAN_GUEST_WRITABLE);
	/* The frontend's own name is reported when it differs, never used. */
	check(!c->fe_name == !(c->flags & XC_CHAN_NAME_MISMATCH));
	if (c->fe_name)
		check(trusted && !same(c->fe_name, c->name));

	/* A backend is only followed at the one path a backend can have. */
	if (c->backend) {
		snprintf(be, sizeof(be), "/local/domain/%u/backend/console/%u/%u",
			 c->backend_domid, domid, c->devid);
		check(c->backend_domid <= XC_DOMID_MAX && streq(c->backend, be));
	}
	check(c->fe_state == tree_state(fe));
	check(c->be_state == tree_state(c->backend));
	check_read_uint(st, fe, "ring-ref", UINT32_MAX);
	check_read_uint(st, fe, "port", 0x1ffff);
	check_read_uint(st, fe, "state", 16);

	switch (c->transport) {
	case XC_TRANSPORT_SOCKET:
		/* Only the toolstack's copy says where qemu listens. */
		if (c->endpoint)
			check(trusted && xc_socket_path_valid(c->endpoint) &&
			      same(c->endpoint, tree_key(lx, "path", 256)));
		break;
	case XC_TRANSPORT_PTY:
		/* qemu's tty key, and only if the guest cannot write it. */
		if (c->endpoint) {
			snprintf(path, sizeof(path), "%s/tty", fe);
			check(xc_pty_path_valid(c->endpoint) &&
			      same(c->endpoint, tree_str(path, 64)));
			check(xs_mem_exists(path) && !xs_mem_writable(path, domid));
		}
		break;
	case XC_TRANSPORT_DIRECT:
		/* The connection a dom0-owned key states, or the frontend's type
		 * when the guest cannot have written it (XSA-57). */
		snprintf(path, sizeof(path), "%s/type", fe);
		check(!c->endpoint &&
		      (same(c->connection, "xenchan") ||
		       (!c->connection && same(tree_str(path, 32), "xenchan") &&
			!xs_mem_writable(path, domid))));
		break;
	default:
		check(c->transport == XC_TRANSPORT_UNKNOWN && !c->endpoint);
	}
}

static void check_vchan(const struct xc_channel *c, uint32_t domid)
{
	char base[96];
	const char *port, *pub, *rr, *ev;
	size_t blen;
	int want;

	check(!c->devid && !c->frontend && !c->backend && !c->fe_name);
	/* Served by the domain (its server row), or by another domain to it
	 * (its client row). */
	check(c->domid == domid);
	check(c->backend_domid == domid || c->vchan_client == domid);
	check(!(c->flags & XC_CHAN_GUEST_PUBLISHED) == (c->backend_domid == 0));
	snprintf(base, sizeof(base), "/local/domain/%u/data/vchan/%u/", c->backend_domid,
		 c->vchan_client);
	blen = strlen(base);
	check(c->endpoint && strneq(c->endpoint, base, blen));
	port = c->endpoint + blen;
	check(*port && !strchr(port, '/') && strlen(port) <= 255 &&
	      xs_mem_exists(c->endpoint));
	/* A long name is published beside its short port. */
	pub = tree_key(c->endpoint, "name", 255);
	check(c->name && streq(c->name, pub ? pub : port));
	rr = tree_key(c->endpoint, "ring-ref", 16);
	ev = tree_key(c->endpoint, "event-channel", 16);
	want = rr && ev ? XC_STATE_CONNECTED : XC_STATE_NONE;
	/* Stale: published by dom0 with xenchan's name key, and nobody holds
	 * its serving lock (none do here): never taken for published. */
	check(!(c->flags & XC_CHAN_STALE) == !(c->backend_domid == 0 && pub));
	if (c->flags & XC_CHAN_STALE)
		want = XC_STATE_NONE;
	check(c->fe_state == want && c->be_state == want);
	check(c->in_use == (tree_key(c->endpoint, "busy", 16) != NULL));
}

static void check_choose(const struct xc_channel *v, size_t n, const char *name)
{
	static const enum xc_transport forced[] = {
		XC_TRANSPORT_UNKNOWN, XC_TRANSPORT_SOCKET, XC_TRANSPORT_PTY,
		XC_TRANSPORT_DIRECT,  XC_TRANSPORT_VCHAN,
	};
	static const uint64_t rates[] = { 0, 1024, 64ull << 20 };

	for (size_t f = 0; f < ARRAY_SIZE(forced); f++) {
		for (size_t k = 0; k < ARRAY_SIZE(rates); k++) {
			for (int strict = 0; strict < 2; strict++) {
				const struct xc_channel *c;
				struct xc_choice out;
				int r;

				r = xc_choose(v, n, name, forced[f], rates[k],
					      XC_RING_RATE_DEFAULT, strict, &out);
				check(r == 0 || r == -ENOENT || r == -ENOTSUP ||
				      r == -ENOTUNIQ);
				/* The reason is plain ASCII, whatever the names. */
				check(memchr(out.reason, '\0', sizeof(out.reason)) &&
				      out.reason[0]);
				for (const char *p = out.reason; *p; p++)
					check(*p >= 0x20 && *p < 0x7f);
				if (r < 0)
					continue;
				c = out.channel;
				check(c >= v && c < v + n && c->name &&
				      streq(c->name, name));
				/* A guest-made channel never shadows a trusted one. */
				if (c->flags & XC_CHAN_NO_TRUSTED_COPY)
					for (size_t j = 0; j < n; j++)
						check(!v[j].name || !streq(v[j].name, name) ||
						      v[j].transport != c->transport ||
						      (v[j].flags & XC_CHAN_NO_TRUSTED_COPY));
				check(!forced[f] || c->transport == forced[f]);
				/* Another domain's vchan is not ours to map. */
				check(c->transport != XC_TRANSPORT_VCHAN ||
				      c->vchan_client == 0 || c->backend_domid == 0);
				check(!out.fell_back ||
				      (!strict && c->transport != XC_TRANSPORT_VCHAN));
			}
		}
	}
}

static void check_channels(struct xc_store *st, uint32_t domid)
{
	static const char *const states[] = {
		"absent", "no-backend", "connected", "connecting", "closing",
		"closed", "published",	"in-use",    "incomplete", "stale",
	};
	struct xc_channel *v = NULL;
	size_t n = 0;
	bool vchans = false;

	if (xc_channel_list(st, domid, &v, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct xc_channel *c = &v[i];
		const char *state = xc_channel_state(c);
		bool known = false;

		check(c->domid == domid && !(c->flags & ~ALL_FLAGS));
		check(c->name == NULL || strlen(c->name) <= 255);
		check(c->fe_state == XC_STATE_NONE ||
		      (c->fe_state >= 0 && c->fe_state <= 8));
		check(c->be_state == XC_STATE_NONE ||
		      (c->be_state >= 0 && c->be_state <= 8));
		for (size_t k = 0; k < ARRAY_SIZE(states); k++)
			known = known || streq(state, states[k]);
		check(known);
		check(xc_channel_connected(c) == (c->fe_state == XC_STATE_CONNECTED &&
						  c->be_state == XC_STATE_CONNECTED));
		/* Console devices in devid order, then vchan endpoints. */
		if (c->transport == XC_TRANSPORT_VCHAN) {
			vchans = true;
			check_vchan(c, domid);
		} else {
			check(!vchans && (i == 0 || v[i - 1].devid <= c->devid));
			check_console(st, c, domid);
		}
	}
	for (size_t i = 0; i < n && i < MAX_CHOOSE; i++)
		if (v[i].name)
			check_choose(v, n, v[i].name);
	xc_channel_array_free(v, n);
}

/* Domains the toolstack still describes under /libxl that have no
 * /local/domain node: they do not exist, whatever else is in the store. */
struct gone {
	struct xc_store *st;
	unsigned left;
};

static void check_gone(const char *name, void *data)
{
	struct gone *g = data;
	struct xc_channel *v = NULL;
	char path[64];
	uint32_t domid;
	size_t n = 0;

	if (!g->left || xc_parse_domid(name, &domid) < 0)
		return;
	g->left--;
	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	if (xs_mem_exists(path))
		return;
	check(xc_channel_list(g->st, domid, &v, &n) < 0 && !v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xc_store *st = NULL;
	struct xc_domain *doms = NULL;
	struct gone gone;
	size_t n = 0;

	xs_mem_load(data, size);
	check(xc_store_open(&st) == 0);
	if (xc_domain_list(st, &doms, &n) == 0) {
		check_domains(doms, n);
		for (size_t i = 0; i < n && i < MAX_DOMAINS; i++) {
			char arg[16];

			snprintf(arg, sizeof(arg), "id:%u", doms[i].domid);
			check_resolve(st, arg, doms, n);
			if (i < MAX_RESOLVE) {
				snprintf(arg, sizeof(arg), "%u", doms[i].domid);
				check_resolve(st, arg, doms, n);
				if (doms[i].name)
					check_resolve(st, doms[i].name, doms, n);
				if (doms[i].uuid[0])
					check_resolve(st, doms[i].uuid, doms, n);
			}
			check_channels(st, doms[i].domid);
		}
		xc_domain_array_free(doms, n);
	}
	gone.st = st;
	gone.left = MAX_DOMAINS;
	xs_mem_children("/libxl", check_gone, &gone);
	xc_store_close(st);
	/* Nothing outlives the input: libFuzzer counts allocations per run. */
	xs_mem_clear();
	return 0;
}
