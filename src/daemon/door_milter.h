/*
 * door_milter.h: the milter door: connections from an MTA that speaks the
 * milter protocol, version 6 (Postfix's smtpd_milters and
 * non_smtpd_milters, Sendmail's INPUT_MAIL_FILTER). Packets go through the
 * I/O-free parser (proto/milter.h); the door rebuilds each message from
 * its header fields and body chunks, with a Received field of its own on
 * top that records the SMTP client (its IP address and HELO name, as the
 * MTA's connect and HELO commands told them) because the MTA does not send
 * the Received field of this hop. At the end of the message it scans it
 * with the envelope (client IP, HELO, MAIL FROM, RCPTs) on the
 * connection's worker thread, then either adds the X-Spam-* fields
 * (removing any the sender wrote) or, when the action is reject, refuses
 * the message with the configured SMTP reply. Every message and error is
 * logged.
 *
 * When it cannot scan (an internal error, or a message larger than
 * --max-size, whose buffering stops at the limit) it acts by policy:
 * accept the message unscanned, or tempfail it so the client retries.
 * The reject reply and that policy are the configuration's
 * (milter_reject, milter_on_error), read from the connection's generation
 * at each message, so a reload changes them for the next message.
 */
#ifndef SS_DAEMON_DOOR_MILTER_H
#define SS_DAEMON_DOOR_MILTER_H

#include "daemon/server.h"

/* The door, for server_listen(). */
extern const door_ops door_milter;

#endif
