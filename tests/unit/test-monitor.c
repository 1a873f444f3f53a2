/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/monitor.c.
 *
 * Needs a running xenstored reached through $XENSTORED_PATH, so it is not in
 * TESTS: run by tests/bats/unit-store.bats on the emulated host.  As dom0 it
 * writes the xenstore layout of a domain nobody uses (its name, vm key and
 * console devices, as a toolstack, a backend and a guest would), starts a
 * monitor, changes the layout step by step (each step one transaction, as a
 * toolstack writes) and checks the events each step gives; then it removes
 * every node it wrote.  Without a xenstored it bails out (fails).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "monitor.h"
#include "store.h"
#include "tap.h"

#define DOM 32100u
#define UUID "5e1f0000-0000-4000-8000-00000000a1b2"

/* path=value pairs, or "-path" to remove, written in one transaction. */
struct step {
	const char *const *ops;
};

/* s[0..len) with "$D" replaced by DOM, into out. */
static void subst(const char *s, size_t len, char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < max; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == 'D') {
			o += (size_t)snprintf(out + o, max - o, "%u", DOM);
			i++;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static int apply_tx(struct xc_store *st, xs_transaction_t t, void *data)
{
	const char *const *ops = data;

	for (; *ops; ops++) {
		char path[256];
		const char *eq = strchr(*ops, '=');
		int r;

		if (**ops == '-') {
			subst(*ops + 1, strlen(*ops + 1), path, sizeof(path));
			r = xc_store_rm(st, t, path);
		} else {
			subst(*ops, (size_t)(eq - *ops), path, sizeof(path));
			r = xc_store_write(st, t, path, eq + 1);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static void apply(struct xc_store *st, const char *const *ops)
{
	int r = xc_store_transaction(st, apply_tx, (void *)ops, XC_STORE_TX_RETRIES);

	if (r < 0)
		tap_bail("writing the layout: %s", strerror(-r));
}

/* The events of the changes made so far: those of one or more batches,
 * until want events were seen or ms passed.  Copies what is checked. */
struct seen {
	enum xc_event_action action;
	uint32_t domid, devid;
	bool vchan;
	char name[64], domain[64], old_domain[64], state[16], old_state[16];
};

static size_t collect_for(struct xc_monitor *m, struct seen *v, size_t max, size_t want,
			  uint64_t ms)
{
	uint64_t deadline = xc_deadline(ms);
	size_t n = 0;

	while (n < want) {
		const struct xc_event *ev;
		size_t k;
		int r = xc_monitor_next(m, deadline, -1, &ev, &k);

		if (r < 0) {
			if (r != -ETIMEDOUT)
				tap_diag("xc_monitor_next: %s", strerror(-r));
			break;
		}
		for (size_t i = 0; i < k && n < max; i++, n++) {
			struct seen *s = &v[n];

			memset(s, 0, sizeof(*s));
			s->action = ev[i].action;
			s->domid = ev[i].domain.domid;
			s->devid = ev[i].channel->devid;
			s->vchan = ev[i].channel->transport == XC_TRANSPORT_VCHAN;
			snprintf(s->name, sizeof(s->name), "%s",
				 ev[i].channel->name ? ev[i].channel->name : "");
			snprintf(s->domain, sizeof(s->domain), "%s",
				 ev[i].domain.name ? ev[i].domain.name : "");
			snprintf(s->old_domain, sizeof(s->old_domain), "%s",
				 ev[i].old_domain.name ? ev[i].old_domain.name : "");
			snprintf(s->state, sizeof(s->state), "%s",
				 xc_channel_state(ev[i].channel));
			snprintf(s->old_state, sizeof(s->old_state), "%s",
				 ev[i].old ? xc_channel_state(ev[i].old) : "");
			tap_diag("%s %u/%s %s (%s) in %s (was %s)",
				 xc_event_action_name(s->action), s->domid, s->name, s->state,
				 s->old_state, s->domain, s->old_domain);
		}
	}
	return n;
}

static size_t collect(struct xc_monitor *m, struct seen *v, size_t max, size_t want)
{
	return collect_for(m, v, max, want, 5000);
}

/* Nothing (more) within a second. */
static bool quiet(struct xc_monitor *m)
{
	struct seen v[4];

	return collect_for(m, v, ARRAY_SIZE(v), 1, 1000) == 0;
}

/* The layout of console device N of DOM: trusted copy, frontend, backend. */
#define CONSOLE(n, name, fe, be)                                                   \
	"/libxl/$D/device/console/" n "/frontend=/local/domain/32100/device/console/" n, \
		"/libxl/$D/device/console/" n                                       \
		"/backend=/local/domain/0/backend/console/32100/" n,               \
		"/libxl/$D/device/console/" n "/name=" name,                        \
		"/libxl/$D/device/console/" n "/connection=socket",                 \
		"/libxl/$D/device/console/" n "/path=/run/xen/mon-" n ".sock",       \
		"/local/domain/$D/device/console/" n                                \
		"/backend=/local/domain/0/backend/console/32100/" n,               \
		"/local/domain/$D/device/console/" n "/state=" fe,                  \
		"/local/domain/0/backend/console/$D/" n "/state=" be

/*
 * Many domains at once (the monitor lists them ahead, on several
 * connections): each channel reported present once, under its own domain,
 * in the domains' order.
 */
#define MANY 20
#define MANY_DOM (DOM + 100)

static void many_layout(struct xc_store *st, bool on)
{
	for (unsigned k = 0; k < MANY; k++) {
		char a[8][160];
		unsigned d = MANY_DOM + k;
		const char *ops[9];
		size_t i = 0;

		if (on) {
			snprintf(a[0], sizeof(a[0]), "/local/domain/%u/name=many%u", d, k);
			snprintf(a[1], sizeof(a[1]), "/local/domain/%u/vm=/vm/5e1f0000-0000-4000-8000-%012u", d, d);
			snprintf(a[2], sizeof(a[2]), "/libxl/%u/device/console/1/frontend=/local/domain/%u/device/console/1", d, d);
			snprintf(a[3], sizeof(a[3]), "/libxl/%u/device/console/1/backend=/local/domain/0/backend/console/%u/1", d, d);
			snprintf(a[4], sizeof(a[4]), "/libxl/%u/device/console/1/name=org.example.m%u.0", d, k);
			snprintf(a[5], sizeof(a[5]), "/libxl/%u/device/console/1/connection=pty", d);
			snprintf(a[6], sizeof(a[6]), "/local/domain/%u/device/console/1/state=1", d);
			snprintf(a[7], sizeof(a[7]), "/local/domain/0/backend/console/%u/1/state=1", d);
			for (; i < 8; i++)
				ops[i] = a[i];
		} else {
			snprintf(a[0], sizeof(a[0]), "-/local/domain/%u", d);
			snprintf(a[1], sizeof(a[1]), "-/libxl/%u", d);
			snprintf(a[2], sizeof(a[2]), "-/local/domain/0/backend/console/%u", d);
			for (; i < 3; i++)
				ops[i] = a[i];
		}
		ops[i] = NULL;
		apply(st, ops);
	}
}

static void many_domains(struct xc_store *st)
{
	struct xc_monitor *m = NULL;
	struct seen v[MANY * 4];
	size_t n, got = 0;
	bool ok = true;
	int r;

	many_layout(st, true);
	r = xc_monitor_open(st, XC_MONITOR_EXISTING, &m);
	if (r < 0)
		tap_bail("xc_monitor_open: %s", strerror(-r));
	n = collect_for(m, v, ARRAY_SIZE(v), ARRAY_SIZE(v), 1000);
	for (size_t i = 0; i < n; i++) {
		char want[64];

		if (v[i].domid < MANY_DOM || v[i].domid >= MANY_DOM + MANY)
			continue;
		snprintf(want, sizeof(want), "org.example.m%zu.0", got);
		if (v[i].action != XC_EVENT_PRESENT || v[i].domid != MANY_DOM + got ||
		    strcmp(v[i].name, want) != 0 || strcmp(v[i].state, "connecting") != 0) {
			tap_diag("event %zu: %u/%s, expected %u/%s", i, v[i].domid, v[i].name,
				 MANY_DOM + (unsigned)got, want);
			ok = false;
		}
		got++;
	}
	tap_ok(ok && got == MANY, "%d domains at once: each channel present once, in order (%zu)",
	       MANY, got);
	xc_monitor_close(m);
	many_layout(st, false);
}

int main(void)
{
	struct xc_store *st = NULL;
	struct xc_monitor *m = NULL;
	struct seen v[16];
	size_t n;
	int r, p[2];

	if (getenv("XENSTORED_PATH") == NULL)
		tap_bail("XENSTORED_PATH is not set: run this on the emulated host");
	r = xc_store_open(&st);
	if (r < 0)
		tap_bail("xc_store_open: %s", strerror(-r));
	/* What an earlier run left. */
	apply(st, (const char *const[]){ "-/local/domain/$D", "-/libxl/$D",
					 "-/local/domain/0/backend/console/$D",
					 "-/local/domain/0/data/vchan/$D", NULL });
	apply(st, (const char *const[]){ "/local/domain/$D/name=mon1",
					 "/local/domain/$D/vm=/vm/" UUID,
					 CONSOLE("1", "org.example.one.0", "1", "1"), NULL });

	r = xc_monitor_open(st, XC_MONITOR_EXISTING, &m);
	if (r < 0)
		tap_bail("xc_monitor_open: %s", strerror(-r));

	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_PRESENT && v[0].domid == DOM &&
		       v[0].devid == 1 && !strcmp(v[0].name, "org.example.one.0") &&
		       !strcmp(v[0].state, "connecting") && !strcmp(v[0].domain, "mon1"),
	       "XC_MONITOR_EXISTING: what is there is reported present first");

	/* The watches' first firing, and nothing else: no event. */
	tap_ok(quiet(m), "no change, no event (the watches' first firing is none)");

	apply(st, (const char *const[]){ "/local/domain/$D/device/console/1/state=4",
					 "/local/domain/0/backend/console/$D/1/state=4", NULL });
	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_CHANGED && v[0].devid == 1 &&
		       !strcmp(v[0].state, "connected") && !strcmp(v[0].old_state, "connecting"),
	       "both ends Connected: changed, with the state before");

	/* A key written again with its value: a watch fires, nothing changed. */
	apply(st, (const char *const[]){ "/local/domain/$D/device/console/1/state=4", NULL });
	tap_ok(quiet(m), "a value written again unchanged: no event");

	apply(st, (const char *const[]){ CONSOLE("2", "org.example.two.0", "4", "4"), NULL });
	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_APPEARED && v[0].devid == 2 &&
		       !strcmp(v[0].name, "org.example.two.0") && !strcmp(v[0].state, "connected"),
	       "a device added in one transaction: appeared, as it is");

	apply(st, (const char *const[]){ "-/libxl/$D/device/console/1",
					 "-/local/domain/$D/device/console/1",
					 "-/local/domain/0/backend/console/$D/1", NULL });
	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_GONE && v[0].devid == 1 &&
		       !strcmp(v[0].name, "org.example.one.0") && !strcmp(v[0].state, "connected"),
	       "a device removed: gone, as last seen");

	apply(st, (const char *const[]){ "/local/domain/$D/name=mon1--migratedaway", NULL });
	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_CHANGED && v[0].devid == 2 &&
		       !strcmp(v[0].domain, "mon1--migratedaway") &&
		       !strcmp(v[0].old_domain, "mon1"),
	       "a rename: each channel changed, with the name before");

	/* A vchan endpoint the domain serves to dom0: a row under each. */
	apply(st, (const char *const[]){ "/local/domain/$D/data/vchan/0/p7/ring-ref=8",
					 "/local/domain/$D/data/vchan/0/p7/event-channel=9",
					 NULL });
	n = collect(m, v, ARRAY_SIZE(v), 2);
	tap_ok(n == 2 && v[0].action == XC_EVENT_APPEARED && v[1].action == XC_EVENT_APPEARED &&
		       v[0].vchan && v[1].vchan && v[0].domid == 0 && v[1].domid == DOM &&
		       !strcmp(v[0].state, "published"),
	       "a vchan endpoint: appeared under its client (dom0) and its server");

	apply(st, (const char *const[]){ "-/local/domain/$D/data/vchan", NULL });
	n = collect(m, v, ARRAY_SIZE(v), 2);
	tap_ok(n == 2 && v[0].action == XC_EVENT_GONE && v[1].action == XC_EVENT_GONE &&
		       v[0].vchan && v[1].vchan,
	       "its whole data/vchan removed: gone under both");

	/* The caller's output hung up: the wait ends. */
	if (pipe(p) < 0)
		tap_bail("pipe: %s", strerror(errno));
	close(p[0]);
	{
		const struct xc_event *ev;
		size_t k;

		r = xc_monitor_next(m, xc_deadline(5000), p[1], &ev, &k);
		tap_ok(r == -EPIPE, "out_fd hung up: -EPIPE at once (%s)", strerror(-r));
	}
	close(p[1]);
	{
		const struct xc_event *ev;
		size_t k;
		uint64_t t0 = xc_now_ms();

		r = xc_monitor_next(m, xc_deadline(200), -1, &ev, &k);
		tap_ok(r == -ETIMEDOUT && xc_now_ms() - t0 >= 200,
		       "nothing changes: -ETIMEDOUT at the deadline");
	}

	/* The domain's directory goes (destroyed): its channels are gone. */
	apply(st, (const char *const[]){ "-/local/domain/$D", "-/libxl/$D",
					 "-/local/domain/0/backend/console/$D", NULL });
	n = collect(m, v, ARRAY_SIZE(v), 1);
	tap_ok(n == 1 && v[0].action == XC_EVENT_GONE && v[0].devid == 2 &&
		       !strcmp(v[0].domain, "mon1--migratedaway"),
	       "the domain gone: each channel gone, under its last name");

	xc_monitor_close(m);
	many_domains(st);
	xc_store_close(st);
	return tap_done_trailing_plan();
}
