/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XenbusState: the values of a device's frontend and backend `state` keys,
 * as xen/io/xenbus.h numbers them.  A channel is usable when both ends read
 * XC_STATE_CONNECTED.  Names only: nothing here reads or writes xenstore.
 */
#ifndef XENCHAN_XENBUS_H
#define XENCHAN_XENBUS_H

enum xc_xenbus_state {
	XC_STATE_NONE = -1, /* not a XenbusState: the key is missing or malformed */
	XC_STATE_UNKNOWN = 0,
	XC_STATE_INITIALISING = 1,
	XC_STATE_INIT_WAIT = 2, /* the backend waits for the frontend's details */
	XC_STATE_INITIALISED = 3, /* the frontend published ring-ref and port */
	XC_STATE_CONNECTED = 4,
	XC_STATE_CLOSING = 5,
	XC_STATE_CLOSED = 6,
	XC_STATE_RECONFIGURING = 7,
	XC_STATE_RECONFIGURED = 8,
};

#endif
