/*
 * door_spamd.h: the spamd door: connections that speak SPAMC/1.x (spamc,
 * Exim's spamd interface, procmail+spamc...). Bytes go through the I/O-free
 * parser (proto/spamd.h); a complete request is scanned, learned or
 * unlearned by the engine on the connection's worker thread, and the reply
 * is formatted by proto/spamd.h. Every request, refusal and error is logged.
 */
#ifndef SS_DAEMON_DOOR_SPAMD_H
#define SS_DAEMON_DOOR_SPAMD_H

#include "daemon/server.h"

/* The door, for server_listen(). */
extern const door_ops door_spamd;

#endif
