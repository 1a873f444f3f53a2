/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt domain XML (the libxl driver's <channel> elements), read with
 * libxml2 with network access off and entities not substituted; a document
 * with a DOCTYPE is refused outright, so no entity can be declared:
 *
 *	<domain type='xen'>
 *	  <name>web01</name>
 *	  <devices>
 *	    <channel type='unix'>
 *	      <source mode='bind' path='/run/web01.sock'/>
 *	      <target type='xen' name='org.example.agent.0'/>
 *	    </channel>
 *	    <channel type='pty'>
 *	      <target type='xen' name='org.example.pty.0'/>
 *	    </channel>
 *	  </devices>
 *	</domain>
 *
 * Channels whose target type is not 'xen' (virtio, guestfwd) are not Xen PV
 * channels and are left out.  type='unix' is connection socket, type='pty'
 * connection pty; others are reported (config-connection).  Lines come from
 * libxml2; a column is found by looking for the attribute value on that
 * line (1 when it is not found).
 *
 * Nothing here blocks.  Not thread-safe with other libxml2 users that change
 * its global error handler.
 */
#ifndef XENCHAN_VIRTXML_H
#define XENCHAN_VIRTXML_H

#include <stddef.h>

#include "diag.h"
#include "domcfg.h"

/* Like xc_xlcfg_parse(), for a libvirt domain XML document. */
int xc_virtxml_parse(struct xc_diags *d, unsigned file, const char *buf, size_t len,
		     struct xc_domcfg *cfg);

#endif
