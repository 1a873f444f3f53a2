/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for lib/xlcfg.c and lib/virtxml.c: xl syntax (comments, both
 * quotes, escapes, lists over several lines, +=, other settings), channel
 * specs (blanks, kind=, unknown keys) and line/column accuracy; libvirt XML
 * channels, columns and the refusal of DOCTYPEs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "domcfg.h"
#include "macro.h"
#include "tap.h"
#include "virtxml.h"
#include "xlcfg.h"

static void parse(const char *text, bool xml, struct xc_diags *d, struct xc_domcfg *cfg)
{
	unsigned f;

	xc_diags_init(d);
	memset(cfg, 0, sizeof(*cfg));
	f = xc_diags_file(d, "t");
	if ((xml ? xc_virtxml_parse(d, f, text, strlen(text), cfg)
		 : xc_xlcfg_parse(d, f, text, strlen(text), cfg)) < 0)
		tap_bail("out of memory");
}

static bool at(struct xc_loc l, unsigned line, unsigned col)
{
	if (l.line == line && l.col == col)
		return true;
	tap_diag("  at %u:%u, want %u:%u", l.line, l.col, line, col);
	return false;
}

static unsigned count(const struct xc_diags *d, enum xc_rule_id rule)
{
	unsigned n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].rule == rule;
	return n;
}

static void done(struct xc_diags *d, struct xc_domcfg *cfg)
{
	xc_domcfg_clear(cfg);
	xc_diags_clear(d);
}

struct syntax_case {
	const char *text;
	unsigned line, col;
};

static const struct syntax_case bad[] = {
	{ "name = \"web01\n", 1, 8 },
	{ "name = 'a' 'b'\n", 1, 12 },
	{ "vif = [ 'a', \n 'b'\n", 1, 7 },
	{ "channel = \"connection=pty, name=a.b.0\"\n", 1, 11 },
	{ "channel = [ [ 'x' ] ]\n", 1, 13 },
	{ "channel = [ 42 ]\n", 1, 13 },
	{ "= 3\n", 1, 1 },
	{ "name \"x\"\n", 1, 6 },
	{ "a = \"\\q\"\n", 1, 6 },
	{ "a = @\n", 1, 5 },
	{ "a = + 1\n", 1, 5 },
	/* A quote left open pairs with one lines later: the open one is reported. */
	{ "name = \"web01\nmemory = 512\nchannel = [ \"connection=pty, name=a.b.0\" ]\n", 1, 8 },
	{ "name = 'web01\nx = ''\n", 1, 8 },
	{ "vif = [ 'a,\n 'b' ]\n", 1, 9 },
};

int main(void)
{
	struct xc_diags d;
	struct xc_domcfg cfg;

	tap_plan(26 + (unsigned)ARRAY_SIZE(bad) * 2);

	parse("# web01\n"
	      "name = \"web01\"   # trailing comment\n"
	      "memory = 512; vcpus = 2\n"
	      "vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0', # comment in a list\n"
	      "        'bridge=xenbr1', ]\n"
	      "channel = [ 'connection=pty, name=org.example.dummy',\n"
	      "\t\"connection=socket, name=org.example.agent.0,\n"
	      "\t  path = /run/web01.sock\",\n"
	      "   \"kind = pty ,name= a.\\x62.0\"\n"
	      "]\n"
	      "channel += [ \"connection=pty, name=a.c.0, colour=red\" ]\n",
	      false, &d, &cfg);
	tap_ok(d.n == 2, "two diagnostics (kind=, colour=)");
	tap_ok(cfg.domname && streq(cfg.domname, "web01"), "the domain name");
	tap_ok(cfg.n == 4, "four channels, += appends");
	tap_ok(cfg.n == 4 && streq(cfg.ch[1].name, "org.example.agent.0") &&
		       streq(cfg.ch[1].connection, "socket") &&
		       streq(cfg.ch[1].path, "/run/web01.sock"),
	       "a channel string over two lines");
	tap_ok(cfg.n == 4 && at(cfg.ch[1].loc, 7, 2), "the entry's location is its quote");
	tap_ok(cfg.n == 4 && at(cfg.ch[1].name_loc, 7, 27), "name value 7:27");
	tap_ok(cfg.n == 4 && at(cfg.ch[1].path_loc, 8, 11), "path value on the next line 8:11");
	tap_ok(cfg.n == 4 && streq(cfg.ch[2].name, "a.b.0") && streq(cfg.ch[2].connection, "pty"),
	       "blanks around '=' and ',', kind= and a \\x escape");
	tap_ok(cfg.n == 4 && at(cfg.ch[2].name_loc, 9, 23), "a name after an escape: 9:23");
	tap_ok(count(&d, XC_R_CFG_KIND_ALIAS) == 1 && at(d.v[0].loc, 9, 5), "kind= at 9:5");
	tap_ok(count(&d, XC_R_CFG_UNKNOWN_KEY) == 1 && at(d.v[1].loc, 11, 43),
	       "unknown key at 11:43");
	tap_ok(cfg.n == 4 && cfg.ch[3].devid == 4, "devids count from 1");
	tap_ok(cfg.kind == XC_CFG_XL, "an xl config");
	done(&d, &cfg);

	parse("channel = [ 'connection=pty, name=a.b.0' ]\nchannel = [ 'connection=pty, name=a.c.0' ]\n",
	      false, &d, &cfg);
	tap_ok(cfg.n == 1 && streq(cfg.ch[0].name, "a.c.0") && cfg.ch[0].devid == 1,
	       "a second channel = replaces the first");
	done(&d, &cfg);

	parse("channel = [ 'connection=pty, name=\\'q\\'' ]\n", false, &d, &cfg);
	tap_ok(cfg.n == 1 && streq(cfg.ch[0].name, "'q'"), "escaped quotes");
	done(&d, &cfg);

	parse("", false, &d, &cfg);
	tap_ok(cfg.n == 0 && d.n == 0, "an empty file");
	done(&d, &cfg);

	parse("channel=['connection=pty,name=a.b.0'];name='x'", false, &d, &cfg);
	tap_ok(cfg.n == 1 && d.n == 0 && cfg.domname && streq(cfg.domname, "x"),
	       "no blanks, no final newline");
	done(&d, &cfg);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		parse(bad[i].text, false, &d, &cfg);
		tap_ok(count(&d, XC_R_CFG_SYNTAX) == 1, "syntax error %zu reported once", i);
		tap_ok(d.n >= 1 && at(d.v[d.n - 1].loc, bad[i].line, bad[i].col),
		       "syntax error %zu located", i);
		done(&d, &cfg);
	}

	parse("channel = [ 'connection=pty, name=a.b.0', 'connection=pty, name=a.c.0' 'x' ]\n",
	      false, &d, &cfg);
	tap_ok(cfg.n == 2 && count(&d, XC_R_CFG_SYNTAX) == 1,
	       "channels read before a syntax error are kept");
	done(&d, &cfg);

	/* libvirt XML */
	parse("<domain type='xen'>\n"
	      "  <name>web01</name>\n"
	      "  <devices>\n"
	      "    <channel type='unix'>\n"
	      "      <source mode='bind' path='/run/a.sock'/>\n"
	      "      <target type='xen' name='org.example.agent.0'/>\n"
	      "    </channel>\n"
	      "    <channel type='pty'>\n"
	      "      <target type='xen' name=\"org.example.pty.0\"/>\n"
	      "    </channel>\n"
	      "    <channel type='unix'>\n"
	      "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
	      "    </channel>\n"
	      "  </devices>\n"
	      "</domain>\n",
	      true, &d, &cfg);
	tap_ok(d.n == 0 && cfg.kind == XC_CFG_LIBVIRT, "a libvirt document");
	tap_ok(cfg.domname && streq(cfg.domname, "web01"), "its name");
	tap_ok(cfg.n == 2 && streq(cfg.ch[0].connection, "socket") &&
		       streq(cfg.ch[0].path, "/run/a.sock") && streq(cfg.ch[1].connection, "pty") &&
		       !cfg.ch[1].path,
	       "two xen channels, the virtio one left out");
	tap_ok(cfg.n == 2 && at(cfg.ch[0].name_loc, 6, 32) && at(cfg.ch[0].path_loc, 5, 33) &&
		       at(cfg.ch[1].name_loc, 9, 32),
	       "lines and columns of the values");
	done(&d, &cfg);

	/* virsh dumpxml of a running domain: the pty libvirt allocated. */
	parse("<domain type='xen' id='3'>\n"
	      "  <name>web01</name>\n"
	      "  <devices>\n"
	      "    <channel type='pty'>\n"
	      "      <source path='/dev/pts/2'/>\n"
	      "      <target type='xen' name='org.example.pty.0'/>\n"
	      "    </channel>\n"
	      "  </devices>\n"
	      "</domain>\n",
	      true, &d, &cfg);
	tap_ok(d.n == 0 && cfg.n == 1 && streq(cfg.ch[0].connection, "pty") && !cfg.ch[0].path,
	       "a pty channel's source path (the pty libvirt allocated) is no config path");
	done(&d, &cfg);

	parse("<domain><name>x</name>", true, &d, &cfg);
	tap_ok(count(&d, XC_R_CFG_SYNTAX) == 1, "XML not well-formed");
	done(&d, &cfg);

	parse("<?xml version='1.0'?>\n<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
	      "<domain><name>&x;</name></domain>\n",
	      true, &d, &cfg);
	tap_ok(count(&d, XC_R_CFG_SYNTAX) == 1 && !cfg.domname, "an external entity is refused");
	done(&d, &cfg);

	parse("<vm/>", true, &d, &cfg);
	tap_ok(count(&d, XC_R_CFG_SYNTAX) == 1, "a root that is not <domain>");
	done(&d, &cfg);
	return tap_done();
}
