/*
 * contacts.h: the abuse contact map: which address to send a report about
 * a source IP to, from a file of networks, and optionally the source's
 * country from a MaxMind-format database (libmaxminddb).
 *
 * The file has one network per line:
 *
 *   # comment
 *   CIDR  CONTACT  [ASN]  [CC]
 *   192.0.2.0/24     abuse@example.net    AS64500  VN
 *   2001:db8::/32    abuse@example.org
 *
 * CIDR is an IPv4 or IPv6 network (a bare address is a /32 or /128), CONTACT
 * an address with an '@', ASN "AS" and digits, CC a two-letter country code
 * (either may be left out, in any order). The longest prefix that holds an
 * address wins. The parser is I/O-free; lookups scan the list (contact
 * files hold thousands of lines at most, and reports are rare).
 */
#ifndef SS_REPORT_CONTACTS_H
#define SS_REPORT_CONTACTS_H

#include <stddef.h>

typedef struct contact_map contact_map;

/* One line of the map; strings live as long as the map. */
typedef struct contact {
	const char *network; /* as written ("192.0.2.0/24") */
	const char *addr;    /* the abuse contact */
	const char *asn;     /* "AS64500" or NULL */
	const char *cc;      /* "VN" or NULL */
} contact;

/* Parses len bytes of a contacts file named `name` (for messages) into a
 * new map in *out (free with contacts_free). On a bad line returns
 * SS_ESYNTAX with "NAME:LINE: reason" in err (err_len bytes, may be 0);
 * or SS_ENOMEM. */
int contacts_parse(const char *buf, size_t len, const char *name, contact_map **out, char *err,
                   size_t err_len);

/* Reads and parses the file at path. As contacts_parse(), plus SS_EIO
 * ("PATH: reason" in err) when it cannot be read. */
int contacts_load(const char *path, contact_map **out, char *err, size_t err_len);

void contacts_free(contact_map *m);

/* Returns how many networks the map holds. */
size_t contacts_count(const contact_map *m);

/* Finds the longest network of m holding the textual address ip (v4 or v6;
 * v4-mapped v6 addresses match v4 networks). Returns 1 with *out filled,
 * or 0 (not found, or ip is not an address). */
int contacts_lookup(const contact_map *m, const char *ip, contact *out);

/* A MaxMind-format country database (opaque). */
typedef struct geoip geoip;

/* Opens the .mmdb file at path into *out. Returns 0, or SS_EIO with the
 * reason in err (a missing file, not a MaxMind database). */
int geoip_open(const char *path, geoip **out, char *err, size_t err_len);

/* Writes the ISO 3166 country code of ip into cc (3 bytes); returns 1, or
 * 0 when the database has none for it. g may be NULL (always 0). */
int geoip_country(const geoip *g, const char *ip, char cc[3]);

void geoip_close(geoip *g);

#endif
