/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/channel.c.
 *
 * Needs a running xenstored reached through $XENSTORED_PATH, so it is not in
 * TESTS: run by tests/bats/unit-store.bats on the emulated host.  Each
 * scenario writes, as dom0, the xenstore layout a toolstack, a backend and a
 * guest would have written for a domain id nobody uses (the domain need not
 * exist for these reads), lists its channels, compares them with a table, and
 * removes every node it wrote.  Without a xenstored it bails out (fails), it
 * never skips.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "channel.h"
#include "macro.h"
#include "parse.h"
#include "store.h"
#include "tap.h"
#include "untrusted.h"

/*
 * Templates: "$D" is the scenario's domain, "$B" a second domain id serving
 * as a backend or vchan client, "$X<n>" n bytes of 'x' (for length limits).
 */
struct node {
	const char *path;
	const char *value;
	const char *perms; /* NULL: inherited from the parent (dom0 only) */
};

/* Numeric fields of an expectation that name the scenario's domains. */
#define SELF (-1)
#define OTHER (-2)

struct want {
	uint32_t devid;
	enum xc_transport transport;
	const char *name;
	const char *fe_name;
	const char *connection;
	const char *endpoint;
	const char *backend;
	long backend_domid;
	int fe_state, be_state;
	long vchan_client;
	unsigned flags;
	const char *state; /* xc_channel_state(); NULL ends the list */
};

struct scenario {
	const char *what;
	const struct node *nodes; /* ends with a NULL path */
	const struct want *want; /* ends with a NULL state */
};

#define FEDIR(d) "/local/domain/$D/device/console/" d
#define BEDIR(d) "/local/domain/0/backend/console/$D/" d
#define LX(d, k) "/libxl/$D/device/console/" d "/" k
#define FE(d, k) FEDIR(d) "/" k
#define BE(d, k) BEDIR(d) "/" k
#define VCHAN(client, port, k) "/local/domain/$D/data/vchan/" client "/" port "/" k

/* clang-format off */
/* libxl's trusted copy of a console device. */
#define TRUSTED(d, name)					\
	{ LX(d, "frontend"), FEDIR(d), NULL },			\
	{ LX(d, "backend"), BEDIR(d), NULL },			\
	{ LX(d, "name"), name, NULL }
/* The frontend, Connected. */
#define FRONT(d, name)						\
	{ FE(d, "backend"), BEDIR(d), NULL },			\
	{ FE(d, "name"), name, NULL },				\
	{ FE(d, "type"), "ioemu", NULL },			\
	{ FE(d, "state"), "4", NULL }
/* The backend in dom0, Connected. */
#define BACK(d)							\
	{ BE(d, "frontend"), FEDIR(d), NULL },			\
	{ BE(d, "state"), "4", NULL }
#define CONSOLE(d, name) TRUSTED(d, name), FRONT(d, name), BACK(d)
#define END { NULL, NULL, NULL }
/* clang-format on */

#define NONE XC_STATE_NONE
#define PUBLISHED XC_CHAN_GUEST_PUBLISHED

static const struct scenario scenarios[] = {
	{
		"trusted socket, pty and direct channels",
		(const struct node[]){
			CONSOLE("1", "org.example.agent.0"),
			{ LX("1", "connection"), "socket", NULL },
			{ LX("1", "path"), "/run/xen/agent.sock", NULL },
			CONSOLE("2", "org.example.pty.0"),
			{ LX("2", "connection"), "pty", NULL },
			{ FE("2", "output"), "pty", NULL },
			{ FE("2", "tty"), "/dev/pts/7", NULL },
			CONSOLE("3", "org.example.direct.0"),
			{ FE("3", "type"), "xenchan", NULL },
			/* A guest-writable type does not turn a trusted socket
			 * into a direct channel: the trusted connection decides. */
			CONSOLE("4", "org.example.sock.0"),
			{ LX("4", "connection"), "socket", NULL },
			{ LX("4", "path"), "/run/xen/sock.sock", NULL },
			{ FE("4", "type"), "xenchan", "b0" },
			/* Without a connection, a guest-writable type is not believed. */
			CONSOLE("5", "org.example.forged.0"),
			{ FE("5", "type"), "xenchan", "b0" },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_SOCKET, "org.example.agent.0", NULL, "socket",
			  "/run/xen/agent.sock", BEDIR("1"), 0, 4, 4, 0, 0, "connected" },
			{ 2, XC_TRANSPORT_PTY, "org.example.pty.0", NULL, "pty",
			  "/dev/pts/7", BEDIR("2"), 0, 4, 4, 0, 0, "connected" },
			/* Nobody holds its lock: no xenchan serves it. */
			{ 3, XC_TRANSPORT_DIRECT, "org.example.direct.0", NULL, NULL,
			  NULL, BEDIR("3"), 0, 4, 4, 0, XC_CHAN_STALE, "stale" },
			{ 4, XC_TRANSPORT_SOCKET, "org.example.sock.0", NULL, "socket",
			  "/run/xen/sock.sock", BEDIR("4"), 0, 4, 4, 0, 0, "connected" },
			{ 5, XC_TRANSPORT_UNKNOWN, "org.example.forged.0", NULL, NULL,
			  NULL, BEDIR("5"), 0, 4, 4, 0, XC_CHAN_GUEST_WRITABLE, "connected" },
			{ 0 },
		},
	},
	{
		"pty endpoints qemu has not written, or a guest could have",
		(const struct node[]){
			CONSOLE("1", "org.example.p1.0"),
			{ LX("1", "connection"), "pty", NULL },
			{ FE("1", "tty"), "", NULL },
			CONSOLE("2", "org.example.p2.0"),
			{ LX("2", "connection"), "pty", NULL },
			{ FE("2", "tty"), "/dev/pts/3", "b0" },
			CONSOLE("3", "org.example.p3.0"),
			{ LX("3", "connection"), "pty", NULL },
			{ FE("3", "tty"), "/dev/pts/03", NULL },
			CONSOLE("4", "org.example.p4.0"),
			{ LX("4", "connection"), "pty", NULL },
			{ FE("4", "tty"), "/etc/shadow", NULL },
			/* No connection key: qemu's output key says pty. */
			CONSOLE("5", "org.example.p5.0"),
			{ FE("5", "output"), "pty", NULL },
			{ FE("5", "tty"), "/dev/pts/9", NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_PTY, "org.example.p1.0", NULL, "pty", NULL,
			  BEDIR("1"), 0, 4, 4, 0, 0, "connected" },
			{ 2, XC_TRANSPORT_PTY, "org.example.p2.0", NULL, "pty", NULL,
			  BEDIR("2"), 0, 4, 4, 0,
			  XC_CHAN_GUEST_WRITABLE | XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 3, XC_TRANSPORT_PTY, "org.example.p3.0", NULL, "pty", NULL,
			  BEDIR("3"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 4, XC_TRANSPORT_PTY, "org.example.p4.0", NULL, "pty", NULL,
			  BEDIR("4"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 5, XC_TRANSPORT_PTY, "org.example.p5.0", NULL, NULL,
			  "/dev/pts/9", BEDIR("5"), 0, 4, 4, 0, 0, "connected" },
			{ 0 },
		},
	},
	{
		"frontends without a trusted copy",
		(const struct node[]){
			{ FE("1", "name"), "org.example.fe.0", NULL },
			{ FE("1", "state"), "1", NULL },
			{ FE("1", "backend"), BEDIR("1"), NULL },
			{ FE("1", "output"), "pty", NULL },
			{ BE("1", "state"), "2", NULL },
			{ BE("1", "connection"), "pty", NULL },
			FRONT("2", "org.example.fe.1"),
			{ FE("2", "name"), "org.example.fe.1", "b0" },
			BACK("2"),
			/* Backend keys that do not point at this device's backend. */
			FRONT("3", "org.example.fe.3"),
			{ FE("3", "backend"), "/etc/passwd", NULL },
			FRONT("4", "org.example.fe.4"),
			{ FE("4", "backend"), "/local/domain/0/backend/console/1/4",
			  NULL },
			FRONT("5", "org.example.fe.5"),
			{ FE("5", "backend"), BEDIR("6"), NULL },
			FRONT("6", "org.example.fe.6"),
			{ FE("6", "backend"), "/local/domain/00/backend/console/$D/6",
			  NULL },
			FRONT("7", "org.example.fe.7"),
			{ FE("7", "backend"), BEDIR("7") "/", NULL },
			FRONT("8", "org.example.fe.8"),
			{ FE("8", "backend"), BEDIR("8") "/../../../../../$D/8", NULL },
			/* A backend in another domain than dom0 is followed. */
			FRONT("9", "org.example.fe.9"),
			{ FE("9", "backend"), "/local/domain/$B/backend/console/$D/9",
			  NULL },
			{ "/local/domain/$B/backend/console/$D/9/state", "4", NULL },
			{ FE("10", "state"), "4", NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_PTY, "org.example.fe.0", NULL, "pty", NULL,
			  BEDIR("1"), 0, 1, 2, 0, XC_CHAN_NO_TRUSTED_COPY, "connecting" },
			{ 2, XC_TRANSPORT_UNKNOWN, "org.example.fe.1", NULL, NULL, NULL,
			  BEDIR("2"), 0, 4, 4, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_GUEST_WRITABLE, "connected" },
			{ 3, XC_TRANSPORT_UNKNOWN, "org.example.fe.3", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 4, XC_TRANSPORT_UNKNOWN, "org.example.fe.4", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 5, XC_TRANSPORT_UNKNOWN, "org.example.fe.5", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 6, XC_TRANSPORT_UNKNOWN, "org.example.fe.6", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 7, XC_TRANSPORT_UNKNOWN, "org.example.fe.7", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 8, XC_TRANSPORT_UNKNOWN, "org.example.fe.8", NULL, NULL, NULL,
			  NULL, 0, 4, NONE, 0,
			  XC_CHAN_NO_TRUSTED_COPY | XC_CHAN_BAD_VALUE, "no-backend" },
			{ 9, XC_TRANSPORT_UNKNOWN, "org.example.fe.9", NULL, NULL, NULL,
			  "/local/domain/$B/backend/console/$D/9", OTHER, 4, 4, 0,
			  XC_CHAN_NO_TRUSTED_COPY, "connected" },
			{ 10, XC_TRANSPORT_UNKNOWN, NULL, NULL, NULL, NULL, NULL, 0, 4,
			  NONE, 0, XC_CHAN_NO_TRUSTED_COPY, "no-backend" },
			{ 0 },
		},
	},
	{
		"a frontend name that differs from the trusted one",
		(const struct node[]){
			CONSOLE("1", "org.example.a.0"),
			{ FE("1", "name"), "evil\x1b[31mred", NULL },
			/* A trusted copy without a name. */
			{ LX("2", "frontend"), FEDIR("2"), NULL },
			{ LX("2", "backend"), BEDIR("2"), NULL },
			FRONT("2", "org.example.b.0"),
			BACK("2"),
			CONSOLE("3", "org.example.c.0"),
			/* No frontend state (being removed): its name is not looked at. */
			TRUSTED("4", "org.example.d.0"),
			{ FE("4", "name"), "other", NULL },
			BACK("4"),
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_UNKNOWN, "org.example.a.0", "evil\x1b[31mred",
			  NULL, NULL, BEDIR("1"), 0, 4, 4, 0, XC_CHAN_NAME_MISMATCH,
			  "connected" },
			{ 2, XC_TRANSPORT_UNKNOWN, NULL, "org.example.b.0", NULL, NULL,
			  BEDIR("2"), 0, 4, 4, 0, XC_CHAN_NAME_MISMATCH, "connected" },
			{ 3, XC_TRANSPORT_UNKNOWN, "org.example.c.0", NULL, NULL, NULL,
			  BEDIR("3"), 0, 4, 4, 0, 0, "connected" },
			{ 4, XC_TRANSPORT_UNKNOWN, "org.example.d.0", NULL, NULL, NULL,
			  BEDIR("4"), 0, NONE, 4, 0, 0, "absent" },
			{ 0 },
		},
	},
	{
		"socket paths that are not used",
		(const struct node[]){
			CONSOLE("1", "org.example.s1.0"),
			{ LX("1", "connection"), "socket", NULL },
			{ LX("1", "path"), "run/xen/a.sock", NULL },
			CONSOLE("2", "org.example.s2.0"),
			{ LX("2", "connection"), "socket", NULL },
			{ LX("2", "path"), "/run/../etc/a.sock", NULL },
			/* sun_path holds 107 bytes and the NUL. */
			CONSOLE("3", "org.example.s3.0"),
			{ LX("3", "connection"), "socket", NULL },
			{ LX("3", "path"), "/$X107", NULL },
			CONSOLE("4", "org.example.s4.0"),
			{ LX("4", "connection"), "socket", NULL },
			{ LX("4", "path"), "/$X106", NULL },
			/* Longer than any path xenchan reads: a bad value, not read. */
			CONSOLE("5", "org.example.s5.0"),
			{ LX("5", "connection"), "socket", NULL },
			{ LX("5", "path"), "/$X256", NULL },
			CONSOLE("6", "org.example.s6.0"),
			{ LX("6", "connection"), "socket", NULL },
			{ LX("6", "path"), "/run/a\x1b]0;x\a.sock", NULL },
			CONSOLE("7", "org.example.s7.0"),
			{ LX("7", "connection"), "socket", NULL },
			{ LX("7", "path"), "/run/sock/", NULL },
			CONSOLE("8", "org.example.s8.0"),
			{ LX("8", "connection"), "socket", NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_SOCKET, "org.example.s1.0", NULL, "socket", NULL,
			  BEDIR("1"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 2, XC_TRANSPORT_SOCKET, "org.example.s2.0", NULL, "socket", NULL,
			  BEDIR("2"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 3, XC_TRANSPORT_SOCKET, "org.example.s3.0", NULL, "socket", NULL,
			  BEDIR("3"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 4, XC_TRANSPORT_SOCKET, "org.example.s4.0", NULL, "socket",
			  "/$X106", BEDIR("4"), 0, 4, 4, 0, 0, "connected" },
			{ 5, XC_TRANSPORT_SOCKET, "org.example.s5.0", NULL, "socket",
			  NULL, BEDIR("5"), 0, 4, 4, 0, XC_CHAN_BAD_VALUE, "connected" },
			{ 6, XC_TRANSPORT_SOCKET, "org.example.s6.0", NULL, "socket", NULL,
			  BEDIR("6"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 7, XC_TRANSPORT_SOCKET, "org.example.s7.0", NULL, "socket", NULL,
			  BEDIR("7"), 0, 4, 4, 0, XC_CHAN_BAD_ENDPOINT, "connected" },
			{ 8, XC_TRANSPORT_SOCKET, "org.example.s8.0", NULL, "socket",
			  NULL, BEDIR("8"), 0, 4, 4, 0, 0, "connected" },
			{ 0 },
		},
	},
	{
		"malformed and oversized values",
		(const struct node[]){
			CONSOLE("1", "org.example.v1.0"),
			{ FE("1", "state"), "4x", NULL },
			CONSOLE("2", "org.example.v2.0"),
			{ BE("2", "state"), "9", NULL },
			CONSOLE("3", "org.example.v3.0"),
			{ BE("3", "state"), "", NULL },
			CONSOLE("4", "org.example.v4.0"),
			{ FE("4", "state"), " 4", NULL },
			/* Names: 255 bytes are read, 256 are not. */
			CONSOLE("5", "$X256"),
			CONSOLE("6", "$X255"),
			/* libxl points its copy at the frontend it describes. */
			CONSOLE("7", "org.example.v7.0"),
			{ LX("7", "frontend"), FEDIR("1"), NULL },
			CONSOLE("8", "org.example.v8.0"),
			{ LX("8", "connection"), "$X33", NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_UNKNOWN, "org.example.v1.0", NULL, NULL, NULL,
			  BEDIR("1"), 0, NONE, 4, 0, XC_CHAN_BAD_VALUE, "absent" },
			{ 2, XC_TRANSPORT_UNKNOWN, "org.example.v2.0", NULL, NULL, NULL,
			  BEDIR("2"), 0, 4, NONE, 0, XC_CHAN_BAD_VALUE, "no-backend" },
			{ 3, XC_TRANSPORT_UNKNOWN, "org.example.v3.0", NULL, NULL, NULL,
			  BEDIR("3"), 0, 4, NONE, 0, XC_CHAN_BAD_VALUE, "no-backend" },
			{ 4, XC_TRANSPORT_UNKNOWN, "org.example.v4.0", NULL, NULL, NULL,
			  BEDIR("4"), 0, NONE, 4, 0, XC_CHAN_BAD_VALUE, "absent" },
			{ 5, XC_TRANSPORT_UNKNOWN, NULL, NULL, NULL, NULL, BEDIR("5"), 0,
			  4, 4, 0, XC_CHAN_BAD_VALUE, "connected" },
			{ 6, XC_TRANSPORT_UNKNOWN, "$X255", NULL, NULL, NULL, BEDIR("6"),
			  0, 4, 4, 0, 0, "connected" },
			{ 7, XC_TRANSPORT_UNKNOWN, "org.example.v7.0", NULL, NULL, NULL,
			  BEDIR("7"), 0, 4, 4, 0, XC_CHAN_BAD_VALUE, "connected" },
			{ 8, XC_TRANSPORT_UNKNOWN, "org.example.v8.0", NULL, NULL, NULL,
			  BEDIR("8"), 0, 4, 4, 0, XC_CHAN_BAD_VALUE, "connected" },
			{ 0 },
		},
	},
	{
		"console devices in devid order, trusted or not",
		(const struct node[]){
			CONSOLE("10", "org.example.ten.0"),
			CONSOLE("2", "org.example.two.0"),
			FRONT("1", "org.example.one.0"),
			BACK("1"),
			FRONT("4095", "org.example.last.0"),
			/* The primary console is not a channel; nor are odd names. */
			CONSOLE("0", "console"),
			{ FE("abc", "name"), "org.example.abc.0", NULL },
			{ FE("4096", "name"), "org.example.big.0", NULL },
			{ LX("x1", "name"), "org.example.x1.0", NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_UNKNOWN, "org.example.one.0", NULL, NULL, NULL,
			  BEDIR("1"), 0, 4, 4, 0, XC_CHAN_NO_TRUSTED_COPY, "connected" },
			{ 2, XC_TRANSPORT_UNKNOWN, "org.example.two.0", NULL, NULL, NULL,
			  BEDIR("2"), 0, 4, 4, 0, 0, "connected" },
			{ 10, XC_TRANSPORT_UNKNOWN, "org.example.ten.0", NULL, NULL, NULL,
			  BEDIR("10"), 0, 4, 4, 0, 0, "connected" },
			{ 4095, XC_TRANSPORT_UNKNOWN, "org.example.last.0", NULL, NULL,
			  NULL, BEDIR("4095"), 0, 4, NONE, 0, XC_CHAN_NO_TRUSTED_COPY,
			  "no-backend" },
			{ 0 },
		},
	},
	{
		"vchan endpoints the domain serves and dom0 serves for it",
		(const struct node[]){
			CONSOLE("1", "org.example.con.0"),
			{ VCHAN("0", "port0", "ring-ref"), "8", NULL },
			{ VCHAN("0", "port0", "event-channel"), "5", NULL },
			{ VCHAN("0", "half", "ring-ref"), "8", NULL },
			{ VCHAN("0", "p1", "name"), "org.example.long.vchan.name.0",
			  NULL },
			{ VCHAN("0", "p1", "ring-ref"), "9", NULL },
			{ VCHAN("0", "p1", "event-channel"), "6", NULL },
			{ VCHAN("0", "p2", "name"), "$X256", NULL },
			{ VCHAN("0", "p2", "ring-ref"), "10", NULL },
			{ VCHAN("0", "p2", "event-channel"), "7", NULL },
			{ VCHAN("$B", "q", "ring-ref"), "11", NULL },
			{ VCHAN("$B", "q", "event-channel"), "12", NULL },
			{ VCHAN("abc", "x", "ring-ref"), "1", NULL },
			/* Served by dom0: not published by a guest. */
			{ "/local/domain/0/data/vchan/$D/srv/ring-ref", "13", NULL },
			{ "/local/domain/0/data/vchan/$D/srv/event-channel", "14", NULL },
			{ "/local/domain/0/data/vchan/$B/other/ring-ref", "15", NULL },
			{ "/local/domain/0/data/vchan/$B/other/event-channel", "16",
			  NULL },
			END,
		},
		(const struct want[]){
			{ 1, XC_TRANSPORT_UNKNOWN, "org.example.con.0", NULL, NULL, NULL,
			  BEDIR("1"), 0, 4, 4, 0, 0, "connected" },
			{ 0, XC_TRANSPORT_VCHAN, "half", NULL, NULL,
			  "/local/domain/$D/data/vchan/0/half", NULL, SELF, NONE, NONE, 0,
			  PUBLISHED, "incomplete" },
			{ 0, XC_TRANSPORT_VCHAN, "org.example.long.vchan.name.0", NULL,
			  NULL, "/local/domain/$D/data/vchan/0/p1", NULL, SELF, 4, 4, 0,
			  PUBLISHED, "published" },
			{ 0, XC_TRANSPORT_VCHAN, "p2", NULL, NULL,
			  "/local/domain/$D/data/vchan/0/p2", NULL, SELF, 4, 4, 0,
			  PUBLISHED | XC_CHAN_BAD_VALUE, "published" },
			{ 0, XC_TRANSPORT_VCHAN, "port0", NULL, NULL,
			  "/local/domain/$D/data/vchan/0/port0", NULL, SELF, 4, 4, 0,
			  PUBLISHED, "published" },
			{ 0, XC_TRANSPORT_VCHAN, "q", NULL, NULL,
			  "/local/domain/$D/data/vchan/$B/q", NULL, SELF, 4, 4, OTHER,
			  PUBLISHED, "published" },
			{ 0, XC_TRANSPORT_VCHAN, "srv", NULL, NULL,
			  "/local/domain/0/data/vchan/$D/srv", NULL, 0, 4, 4, SELF, 0,
			  "published" },
			{ 0 },
		},
	},
	{
		"a vchan endpoint another guest serves to the domain: its client row",
		(const struct node[]){
			{ "/local/domain/$B/data/vchan/$D/g/ring-ref", "21", NULL },
			{ "/local/domain/$B/data/vchan/$D/g/event-channel", "22", NULL },
			/* For another client: not listed under this domain. */
			{ "/local/domain/$B/data/vchan/0/h/ring-ref", "23", NULL },
			{ "/local/domain/$B/data/vchan/0/h/event-channel", "24", NULL },
			END,
		},
		(const struct want[]){
			{ 0, XC_TRANSPORT_VCHAN, "g", NULL, NULL,
			  "/local/domain/$B/data/vchan/$D/g", NULL, OTHER, 4, 4, SELF,
			  PUBLISHED, "published" },
			{ 0 },
		},
	},
	{
		"a domain with no channels",
		(const struct node[]){
			END,
		},
		(const struct want[]){
			{ 0 },
		},
	},
};

/* The scenario's domains: fresh ids no domain of the emulated host uses. */
#define FIRST_DOMID 32000u
static uint32_t dom, other;

static char *subst(const char *tmpl)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		tap_bail("out of memory");
	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '$' && p[1] == 'D') {
			fprintf(f, "%u", dom);
			p++;
		} else if (p[0] == '$' && p[1] == 'B') {
			fprintf(f, "%u", other);
			p++;
		} else if (p[0] == '$' && p[1] == 'X') {
			char *end;
			unsigned long n = strtoul(p + 2, &end, 10);

			for (unsigned long i = 0; i < n; i++)
				fputc('x', f);
			p = end - 1;
		} else {
			fputc(*p, f);
		}
	}
	if (fclose(f) != 0 || !out)
		tap_bail("out of memory");
	return out;
}

static uint32_t domid_of(long v)
{
	return v == SELF ? dom : v == OTHER ? other : (uint32_t)v;
}

/* Every tree a scenario may write. */
static const char *const trees[] = {
	"/local/domain/$D",
	"/local/domain/$B",
	"/libxl/$D",
	"/local/domain/0/backend/console/$D",
	"/local/domain/0/data/vchan/$D",
	"/local/domain/0/data/vchan/$B",
};

static void cleanup(struct xc_store *st)
{
	for (size_t i = 0; i < ARRAY_SIZE(trees); i++) {
		_cleanup_free_ char *p = subst(trees[i]);
		int r = xc_store_rm(st, XBT_NULL, p);

		if (r < 0)
			tap_bail("rm %s: %s", p, strerror(-r));
	}
}

static bool absent(struct xc_store *st, const char *tmpl)
{
	_cleanup_free_ char *p = subst(tmpl);
	_cleanup_free_ char *v = NULL;

	return xc_store_read(st, XBT_NULL, p, XC_VALUE_MAX, &v) == -ENOENT;
}

static void write_nodes(struct xc_store *st, const struct node *nodes)
{
	_cleanup_free_ char *name = subst("/local/domain/$D/name");
	int r;

	r = xc_store_write(st, XBT_NULL, name, "xenchan-test");
	if (r < 0)
		tap_bail("write %s: %s", name, strerror(-r));
	for (const struct node *n = nodes; n->path; n++) {
		_cleanup_free_ char *p = subst(n->path);
		_cleanup_free_ char *v = subst(n->value);

		r = xc_store_write(st, XBT_NULL, p, v);
		if (r == 0 && n->perms)
			r = xc_store_set_perms(st, XBT_NULL, p, n->perms);
		if (r < 0)
			tap_bail("write %s: %s", p, strerror(-r));
	}
}

/* Append "field: got X, want Y" to the report when a string differs. */
static bool same_str(FILE *rep, const char *field, const char *got, const char *tmpl)
{
	_cleanup_free_ char *want = tmpl ? subst(tmpl) : NULL;
	_cleanup_free_ char *g = got ? xc_escape(got, 80) : NULL;
	_cleanup_free_ char *w = want ? xc_escape(want, 80) : NULL;

	if (want ? got && streq(got, want) : !got)
		return true;
	fprintf(rep, " %s: got %s%s%s, want %s%s%s;", field, got ? "\"" : "",
		got ? (g ? g : "?") : "NULL", got ? "\"" : "", want ? "\"" : "",
		want ? (w ? w : "?") : "NULL", want ? "\"" : "");
	return false;
}

static bool same_num(FILE *rep, const char *field, long got, long want)
{
	if (got == want)
		return true;
	fprintf(rep, " %s: got %ld, want %ld;", field, got, want);
	return false;
}

static bool check_channel(const struct xc_channel *c, const struct want *w)
{
	_cleanup_free_ char *fe = NULL, *report = NULL;
	size_t len = 0;
	FILE *rep = open_memstream(&report, &len);
	bool ok = true;
	char buf[64];

	if (!rep)
		tap_bail("out of memory");
	if (w->transport != XC_TRANSPORT_VCHAN) {
		snprintf(buf, sizeof(buf), "/local/domain/$D/device/console/%u",
			 w->devid);
		fe = strdup(buf);
	}
	ok &= same_num(rep, "domid", c->domid, dom);
	ok &= same_num(rep, "devid", c->devid, w->devid);
	ok &= same_num(rep, "transport", c->transport, w->transport);
	ok &= same_str(rep, "name", c->name, w->name);
	ok &= same_str(rep, "fe_name", c->fe_name, w->fe_name);
	ok &= same_str(rep, "connection", c->connection, w->connection);
	ok &= same_str(rep, "endpoint", c->endpoint, w->endpoint);
	ok &= same_str(rep, "frontend", c->frontend, fe);
	ok &= same_str(rep, "backend", c->backend, w->backend);
	ok &= same_num(rep, "backend_domid", c->backend_domid,
		       domid_of(w->backend_domid));
	ok &= same_num(rep, "fe_state", c->fe_state, w->fe_state);
	ok &= same_num(rep, "be_state", c->be_state, w->be_state);
	ok &= same_num(rep, "vchan_client", c->vchan_client, domid_of(w->vchan_client));
	ok &= same_num(rep, "flags", (long)c->flags, (long)w->flags);
	ok &= same_str(rep, "state", xc_channel_state(c), w->state);
	if (fclose(rep) != 0)
		tap_bail("out of memory");
	{
		_cleanup_free_ char *name = w->name ? subst(w->name) : NULL;
		_cleanup_free_ char *shown = name ? xc_escape(name, 40) : NULL;

		if (!tap_ok(ok, "  devid %u %s: %s, %s", w->devid,
			    shown ? shown : "(no name)", xc_transport_name(w->transport),
			    w->state))
			tap_diag("%s", report ? report : "");
	}
	return ok;
}

static void run_scenario(struct xc_store *st, const struct scenario *s)
{
	struct xc_channel *v = NULL;
	size_t n = 0, nwant = 0;
	int r;

	if (!absent(st, "/local/domain/$D") || !absent(st, "/local/domain/$B") ||
	    !absent(st, "/libxl/$D"))
		tap_bail("domain %u or %u is in use: not a fresh host", dom, other);
	write_nodes(st, s->nodes);
	while (s->want[nwant].state)
		nwant++;
	r = xc_channel_list(st, dom, &v, &n);
	if (!tap_ok(r == 0 && n == nwant, "%s: %zu channels (r=%d)", s->what, nwant, r))
		tap_diag("got %zu channels", n);
	for (size_t i = 0; i < nwant; i++) {
		if (i < n)
			check_channel(&v[i], &s->want[i]);
		else
			tap_ok(false, "  devid %u: missing", s->want[i].devid);
	}
	for (size_t i = nwant; i < n; i++) {
		_cleanup_free_ char *name = v[i].name ? xc_escape(v[i].name, 80) : NULL;

		tap_diag("unexpected channel devid %u name %s", v[i].devid,
			 name ? name : "(null)");
	}
	/* Both of its domains listed with an index of the vchan servers: the
	 * same channels, in the same order, as without. */
	for (int k = 0; k < 2; k++) {
		uint32_t d = k ? other : dom;
		struct xc_vchan_index *ix = NULL;
		struct xc_channel *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		bool same;
		int ra, rb;

		r = xc_vchan_index_scan(st, &ix);
		ra = xc_channel_list(st, d, &a, &na);
		rb = xc_channel_list_indexed(st, d, ix, &b, &nb);
		same = r == 0 && ra == rb && na == nb;
		for (size_t i = 0; same && i < na; i++)
			same = xc_channel_equal(&a[i], &b[i]);
		tap_ok(same, "%s: domain %u listed through the vchan index: the same %zu channels",
		       s->what, d, na);
		xc_channel_array_free(a, na);
		xc_channel_array_free(b, nb);
		xc_vchan_index_free(ix);
	}
	xc_channel_array_free(v, n);
	cleanup(st);
}

static void test_missing_domain(struct xc_store *st)
{
	struct xc_channel *v = NULL;
	size_t n = 0;
	int r;

	r = xc_channel_list(st, dom, &v, &n);
	tap_ok(r == -ENOENT && v == NULL,
	       "a domain that does not exist is -ENOENT (r=%d)", r);
}

/* xc_channel_state and xc_channel_connected need no store. */
struct state_case {
	enum xc_transport transport;
	int fe, be;
	const char *state;
	bool connected;
};

static const struct state_case state_cases[] = {
	{ XC_TRANSPORT_SOCKET, NONE, NONE, "absent", false },
	{ XC_TRANSPORT_SOCKET, NONE, 4, "absent", false },
	{ XC_TRANSPORT_SOCKET, 4, NONE, "no-backend", false },
	{ XC_TRANSPORT_SOCKET, 0, 0, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 1, 1, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 1, 4, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 4, 1, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 3, 4, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 4, 2, "connecting", false },
	{ XC_TRANSPORT_SOCKET, 4, 4, "connected", true },
	{ XC_TRANSPORT_PTY, 4, 4, "connected", true },
	{ XC_TRANSPORT_DIRECT, 4, 4, "connected", true },
	{ XC_TRANSPORT_UNKNOWN, 4, 4, "connected", true },
	{ XC_TRANSPORT_SOCKET, 4, 5, "closing", false },
	{ XC_TRANSPORT_SOCKET, 5, 4, "closing", false },
	{ XC_TRANSPORT_SOCKET, 5, 5, "closing", false },
	{ XC_TRANSPORT_SOCKET, 1, 5, "closing", false },
	{ XC_TRANSPORT_SOCKET, 5, 6, "closing", false },
	{ XC_TRANSPORT_SOCKET, 6, 5, "closing", false },
	{ XC_TRANSPORT_SOCKET, 6, 4, "closing", false },
	{ XC_TRANSPORT_SOCKET, 4, 6, "closing", false },
	{ XC_TRANSPORT_SOCKET, 6, 6, "closed", false },
	{ XC_TRANSPORT_SOCKET, 6, NONE, "no-backend", false },
	{ XC_TRANSPORT_VCHAN, 4, 4, "published", true },
	{ XC_TRANSPORT_VCHAN, NONE, NONE, "incomplete", false },
};

static void test_states(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(state_cases); i++) {
		const struct state_case *s = &state_cases[i];
		struct xc_channel c = { .transport = s->transport,
					.fe_state = s->fe,
					.be_state = s->be };
		const char *got = xc_channel_state(&c);

		if (!tap_ok(streq(got, s->state) &&
				    xc_channel_connected(&c) == s->connected,
			    "state of %s fe=%d be=%d: %s%s",
			    xc_transport_name(s->transport), s->fe, s->be, s->state,
			    s->connected ? ", connected" : ""))
			tap_diag("got %s%s", got,
				 xc_channel_connected(&c) ? ", connected" : "");
	}
}

/* Which side a row's domain is on, and who is at the other end. */
static void test_roles(void)
{
	static const struct {
		enum xc_transport t;
		uint32_t domid, backend, client;
		const char *role;
		uint32_t peer;
	} cases[] = {
		{ XC_TRANSPORT_SOCKET, 5, 0, 0, "frontend", 0 },
		{ XC_TRANSPORT_DIRECT, 5, 3, 0, "frontend", 3 },
		/* Served by 5 to dom0: 5's row. */
		{ XC_TRANSPORT_VCHAN, 5, 5, 0, "server", 0 },
		/* Served by dom0 to 5: dom0's row, then 5's. */
		{ XC_TRANSPORT_VCHAN, 0, 0, 5, "server", 5 },
		{ XC_TRANSPORT_VCHAN, 5, 0, 5, "client", 0 },
		/* Between two guests: the client's row names the server. */
		{ XC_TRANSPORT_VCHAN, 7, 5, 7, "client", 5 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct xc_channel c = { .transport = cases[i].t,
					.domid = cases[i].domid,
					.backend_domid = cases[i].backend,
					.vchan_client = cases[i].client };

		tap_ok(streq(xc_channel_role(&c), cases[i].role) &&
			       xc_channel_peer(&c) == cases[i].peer,
		       "%s listed under %u (server %u, client %u): %s, peer %u",
		       xc_transport_name(cases[i].t), cases[i].domid, cases[i].backend,
		       cases[i].client, cases[i].role, cases[i].peer);
	}
}

/* A direct channel has no endpoint: it is ready when served, never stale. */
static void test_direct_ready(void)
{
	struct xc_channel c = { .transport = XC_TRANSPORT_DIRECT,
				.fe_state = 4,
				.be_state = 4 };

	tap_ok(xc_channel_endpoint_ready(&c) && streq(xc_channel_state(&c), "connected"),
	       "direct, Connected and served: ready");
	c.flags = XC_CHAN_STALE;
	tap_ok(!xc_channel_endpoint_ready(&c) && streq(xc_channel_state(&c), "stale") &&
		       xc_channel_connected(&c),
	       "direct whose backend died: stale, not ready (its states still say 4)");
	c.flags = 0;
	c.be_state = 2;
	tap_ok(!xc_channel_endpoint_ready(&c), "direct, backend waiting: not ready");
}

/* A socket endpoint is ready while something listens on it, and only then. */
static void test_socket_ready(void)
{
	char dir[] = "/tmp/xct.XXXXXX";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xc_channel c = { .transport = XC_TRANSPORT_SOCKET,
				.fe_state = 4,
				.be_state = 4 };
	int fd;

	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	c.endpoint = sa.sun_path;
	tap_ok(!xc_channel_endpoint_ready(&c), "no socket: endpoint not ready");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		tap_bail("socket: %s", strerror(errno));
	tap_ok(!xc_channel_endpoint_ready(&c),
	       "bound, not listening: endpoint not ready");
	if (listen(fd, 1) < 0)
		tap_bail("listen: %s", strerror(errno));
	tap_ok(xc_channel_endpoint_ready(&c), "listening: endpoint ready");
	close(fd);
	tap_ok(!xc_channel_endpoint_ready(&c), "listener closed: endpoint not ready");
	unlink(sa.sun_path);
	rmdir(dir);

	c.endpoint = NULL;
	tap_ok(!xc_channel_endpoint_ready(&c), "no endpoint: not ready");
	c = (struct xc_channel){ .transport = XC_TRANSPORT_VCHAN, .fe_state = 4 };
	c.endpoint = sa.sun_path;
	tap_ok(xc_channel_endpoint_ready(&c), "published vchan: ready");
	c.fe_state = NONE;
	tap_ok(!xc_channel_endpoint_ready(&c), "incomplete vchan: not ready");
}

/* Outermost first: removing one removes what is below it. */
static const char *const parents[] = {
	"/libxl",
	"/local/domain/0/backend",
	"/local/domain/0/backend/console",
	"/local/domain/0/data",
	"/local/domain/0/data/vchan",
};
static bool existed[ARRAY_SIZE(parents)];

int main(void)
{
	struct xc_store *st = NULL;
	int r;

	if (getenv("XENSTORED_PATH") == NULL)
		tap_bail("XENSTORED_PATH is not set: run this on the emulated host");
	r = xc_store_open(&st);
	if (r < 0)
		tap_bail("xc_store_open: %s", strerror(-r));

	/* Parents the scenarios create if missing, to remove again at the end. */
	for (size_t i = 0; i < ARRAY_SIZE(parents); i++)
		existed[i] = !absent(st, parents[i]);

	test_states();
	test_socket_ready();
	test_roles();
	test_direct_ready();

	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		dom = FIRST_DOMID + 2 * (uint32_t)i;
		other = dom + 1;
		run_scenario(st, &scenarios[i]);
	}
	dom = FIRST_DOMID + 2 * (uint32_t)ARRAY_SIZE(scenarios);
	other = dom + 1;
	test_missing_domain(st);

	/* Nothing written is left behind, parents created on the way included. */
	{
		bool clean = true;

		for (size_t i = 0; i <= ARRAY_SIZE(scenarios); i++) {
			dom = FIRST_DOMID + 2 * (uint32_t)i;
			other = dom + 1;
			for (size_t j = 0; j < ARRAY_SIZE(trees); j++) {
				if (!absent(st, trees[j])) {
					_cleanup_free_ char *p = subst(trees[j]);

					tap_diag("%s left behind", p);
					clean = false;
				}
			}
		}
		for (size_t i = 0; i < ARRAY_SIZE(parents); i++) {
			int r2;

			if (existed[i])
				continue;
			r2 = xc_store_rm(st, XBT_NULL, parents[i]);
			if (r2 < 0 || !absent(st, parents[i])) {
				tap_diag("%s: cannot remove (r=%d)", parents[i], r2);
				clean = false;
			}
		}
		tap_ok(clean, "every node written was removed");
	}
	xc_store_close(st);
	return tap_done_trailing_plan();
}
