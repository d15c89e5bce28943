/*
 * phish_archive.c: programs hidden in archive attachments, by libarchive.
 *
 * An attachment whose first bytes are those of a zip, rar, 7z, tar, cab or
 * ISO 9660 image, or of a gzip or xz stream (a tar inside, or one file),
 * is listed entry by entry. ATTACH_ARCHIVE_EXECUTABLE when an entry's name
 * has a risky extension, or (zip, tar, ISO, gz, xz) its first 4 KiB are a
 * program (phish_exe_kind); an entry that is itself an archive is opened
 * too, one level deep. ATTACH_ENCRYPTED_ARCHIVE when entries (or the
 * headers) are encrypted: we cannot look inside, and that is the point.
 *
 * Bounds, per message (phish_budget): 1,000 entries listed, 8 MiB
 * decompressed (entry bytes read, and what a gzip/xz stream yields,
 * measured at each read of input), 2 MiB read of a nested archive, and
 * 50 ms of wall time measured at each read of input. libarchive gets the
 * input in pieces of 512 bytes, so between two checks it can expand at
 * most one piece: a zip bomb stops within the bounds plus one piece's
 * expansion. The content of 7z and rar entries is never read, because in
 * their solid form reaching an entry means decompressing those before it;
 * their names are listed (7z lists without decoding; rar5 solid archives
 * decode while skipping, which the time bound stops).
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "phish/internal.h"

#define ARC_MAX_ENTRIES 1000
#define ARC_MAX_UNPACK (8u << 20)
#define ARC_NESTED_MAX (2u << 20)
#define ARC_SNIFF 4096
#define ARC_CHUNK 512
#define ARC_DEADLINE_NS (50 * 1000000LL)
#define LABEL_MAX 400

enum { K_NONE, K_ZIP, K_RAR, K_7Z, K_TAR, K_CAB, K_ISO, K_GZ, K_XZ };

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void phish_budget_init(phish_budget *b)
{
	b->entries = ARC_MAX_ENTRIES;
	b->unpacked = ARC_MAX_UNPACK;
	b->deadline = now_ns() + ARC_DEADLINE_NS;
}

static int starts(const unsigned char *d, size_t len, size_t off, const char *magic, size_t n)
{
	return len >= off + n && !memcmp(d + off, magic, n);
}

int phish_archive_kind(const unsigned char *d, size_t len)
{
	if (starts(d, len, 0, "PK\3\4", 4) || starts(d, len, 0, "PK\5\6", 4))
		return K_ZIP;
	if (starts(d, len, 0, "Rar!\x1a\x07", 6))
		return K_RAR;
	if (starts(d, len, 0, "7z\xbc\xaf\x27\x1c", 6))
		return K_7Z;
	if (starts(d, len, 257, "ustar", 5))
		return K_TAR;
	if (starts(d, len, 0, "MSCF\0\0\0\0", 8))
		return K_CAB;
	if (starts(d, len, 32769, "CD001", 5))
		return K_ISO;
	if (starts(d, len, 0, "\x1f\x8b\x08", 3))
		return K_GZ;
	if (starts(d, len, 0,
	           "\xfd"
	           "7zXZ\0",
	           6))
		return K_XZ;
	return K_NONE;
}

/* ---- input for libarchive, in bounded pieces ---- */

typedef struct arc_src {
	const unsigned char *p;
	size_t len, pos;
	phish_budget *b;
	int over; /* a bound stopped the reading */
} arc_src;

static la_ssize_t src_read(struct archive *a, void *cd, const void **buf)
{
	arc_src *s = cd;
	size_t n = s->len - s->pos < ARC_CHUNK ? s->len - s->pos : ARC_CHUNK;
	la_int64_t out = archive_filter_count(a) > 1 ? archive_filter_bytes(a, 0) : 0;

	if (now_ns() > s->b->deadline || (out > 0 && (uint64_t)out > s->b->unpacked)) {
		s->over = 1;
		archive_set_error(a, ERANGE, "phish: archive bounds reached");
		return -1;
	}
	*buf = s->p + s->pos;
	s->pos += n;
	return (la_ssize_t)n;
}

static la_int64_t src_skip(struct archive *a, void *cd, la_int64_t req)
{
	arc_src *s = cd;
	size_t left = s->len - s->pos;
	size_t n = req < 0 ? 0 : (uint64_t)req < left ? (size_t)req : left;

	s->pos += n;
	return (la_int64_t)n;
}

static la_int64_t src_seek(struct archive *a, void *cd, la_int64_t off, int whence)
{
	arc_src *s = cd;
	la_int64_t base = whence == SEEK_SET   ? 0
	                  : whence == SEEK_CUR ? (la_int64_t)s->pos
	                                       : (la_int64_t)s->len;

	if (off > (la_int64_t)s->len - base || base + off < 0)
		return ARCHIVE_FATAL;
	s->pos = (size_t)(base + off);
	return (la_int64_t)s->pos;
}

/* ---- one archive ---- */

typedef struct arc_run {
	phish_ctx *ctx;
	const char *label; /* "a.zip", or "a.zip: b.zip" when nested */
	int kind, depth;
	phish_budget *b;
	ss_hits *out;
	struct archive *a;
	arc_src src;
	int encrypted; /* reported already */
} arc_run;

static void add_formats(struct archive *a, int kind)
{
	switch (kind) {
	case K_ZIP:
		archive_read_support_format_zip(a);
		break;
	case K_RAR:
		archive_read_support_format_rar(a);
		archive_read_support_format_rar5(a);
		break;
	case K_7Z:
		archive_read_support_format_7zip(a);
		break;
	case K_CAB:
		archive_read_support_format_cab(a);
		break;
	case K_ISO:
		archive_read_support_format_iso9660(a);
		break;
	case K_GZ:
	case K_XZ:
		archive_read_support_filter_gzip(a);
		archive_read_support_filter_xz(a);
		archive_read_support_format_raw(a);
		archive_read_support_format_tar(a); /* a tar inside */
		break;
	default:
		archive_read_support_format_tar(a);
	}
}

static int arc_open(arc_run *r, const unsigned char *data, size_t len)
{
	r->src = (arc_src){data, len, 0, r->b, 0};
	if (!(r->a = archive_read_new()))
		return SS_ENOMEM;
	add_formats(r->a, r->kind);
	archive_read_set_callback_data(r->a, &r->src);
	archive_read_set_read_callback(r->a, src_read);
	archive_read_set_skip_callback(r->a, src_skip);
	archive_read_set_seek_callback(r->a, src_seek);
	return archive_read_open1(r->a) == ARCHIVE_OK ? 0 : 1;
}

static int report_encrypted(arc_run *r)
{
	if (r->encrypted)
		return 0;
	r->encrypted = 1;
	return hits_add(r->out, "ATTACH_ENCRYPTED_ARCHIVE", r->label);
}

/* After a failure: was it encryption we cannot read through? `opened`:
 * a format was chosen (libarchive 3.6 crashes in
 * archive_read_has_encrypted_entries() when none was). */
static int failed_encrypted(arc_run *r, int opened)
{
	const char *msg = archive_error_string(r->a);

	if (r->src.over)
		return 0;
	if (opened && archive_read_has_encrypted_entries(r->a) > 0)
		return 1;
	return msg && (strstr(msg, "ncrypt") || strstr(msg, "assphrase"));
}

/* The path of an entry, for the raw reader the attachment's name without
 * its compression suffix. */
static const char *entry_path(arc_run *r, struct archive_entry *e, char *buf, size_t cap)
{
	const char *p = archive_entry_pathname_utf8(e);

	if (!p)
		p = archive_entry_pathname(e);
	if (archive_format(r->a) == ARCHIVE_FORMAT_RAW) {
		const char *name = r->label, *dot;
		size_t n;
		for (const char *c = strstr(name, ": "); c; c = strstr(c + 2, ": "))
			name = c + 2; /* the innermost name of a nested label */
		n = strlen(name);
		dot = strrchr(name, '.');
		if (dot && (!strcasecmp(dot, ".gz") || !strcasecmp(dot, ".xz")))
			n = (size_t)(dot - name);
		snprintf(buf, cap, "%.*s", (int)n, name);
		return buf;
	}
	return p ? p : "";
}

/* Appends up to `want` bytes of the current entry to buf, within budget. */
static int entry_read(arc_run *r, sbuf *buf, size_t want)
{
	while (buf->len < want && r->b->unpacked) {
		size_t n = want - buf->len;
		la_ssize_t got;
		if (n > r->b->unpacked)
			n = r->b->unpacked;
		if (sbuf_reserve(buf, n))
			return SS_ENOMEM;
		got = archive_read_data(r->a, buf->p + buf->len, n);
		if (got <= 0)
			break;
		buf->len += (size_t)got;
		buf->p[buf->len] = '\0';
		r->b->unpacked -= (size_t)got;
	}
	return 0;
}

static int content_readable(const arc_run *r)
{
	return r->kind == K_ZIP || r->kind == K_TAR || r->kind == K_ISO || r->kind == K_GZ ||
	       r->kind == K_XZ;
}

static int nested(arc_run *r, const char *label)
{
	phish_ctx *ctx = r->ctx;
	int err;

	sbuf_reset(&ctx->nested);
	if ((err = sbuf_add(&ctx->nested, ctx->sniff.p, ctx->sniff.len)) ||
	    (err = entry_read(r, &ctx->nested, ARC_NESTED_MAX)))
		return err;
	return phish_archive_scan(ctx, label, (const unsigned char *)ctx->nested.p, ctx->nested.len,
	                          r->depth + 1, r->b, r->out);
}

/* Looks at the first bytes of a regular entry. */
static int entry_content(arc_run *r, const char *label)
{
	const unsigned char *d;
	const char *kind;
	int err;

	sbuf_reset(&r->ctx->sniff);
	if ((err = entry_read(r, &r->ctx->sniff, ARC_SNIFF)))
		return err;
	d = (const unsigned char *)r->ctx->sniff.p;
	if (!r->ctx->sniff.len)
		return 0;
	if ((kind = phish_exe_kind(r->ctx, d, r->ctx->sniff.len)))
		return hits_addf(r->out, "ATTACH_ARCHIVE_EXECUTABLE", "%s (%s)", label, kind);
	if (r->depth == 0 && phish_archive_kind(d, r->ctx->sniff.len))
		return nested(r, label);
	return 0;
}

static int entry_check(arc_run *r, struct archive_entry *e)
{
	char label[LABEL_MAX], pbuf[256];
	const char *path = entry_path(r, e, pbuf, sizeof(pbuf));
	int err = 0, enc = archive_entry_is_encrypted(e);

	if (enc && (err = report_encrypted(r)))
		return err;
	if (archive_entry_filetype(e) != AE_IFREG)
		return 0;
	snprintf(label, sizeof(label), "%s: %s", r->label, path);
	if (phish_name_risky(path, strlen(path)))
		return hits_add(r->out, "ATTACH_ARCHIVE_EXECUTABLE", label);
	if (enc || !content_readable(r))
		return 0;
	return entry_content(r, label);
}

static int arc_list(arc_run *r)
{
	struct archive_entry *e;
	int rc, err = 0;

	while (!err && r->b->entries) {
		rc = archive_read_next_header(r->a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		if (rc < ARCHIVE_WARN)
			return failed_encrypted(r, 1) ? report_encrypted(r) : 0;
		r->b->entries--;
		err = entry_check(r, e);
	}
	return err;
}

/* Charges what a gzip or xz stream yielded to the message's budget (the
 * entry bytes read were charged already: counted twice, on the safe side). */
static void charge_filters(arc_run *r)
{
	la_int64_t out = archive_filter_count(r->a) > 1 ? archive_filter_bytes(r->a, 0) : 0;

	if (out <= 0)
		return;
	r->b->unpacked = (uint64_t)out < r->b->unpacked ? r->b->unpacked - (size_t)out : 0;
}

int phish_archive_scan(phish_ctx *ctx, const char *name, const unsigned char *data, size_t len,
                       int depth, phish_budget *b, ss_hits *out)
{
	arc_run r = {ctx, name, phish_archive_kind(data, len), depth, b, out, NULL, {0}, 0};
	int err;

	if (r.kind == K_NONE || depth > 1 || !b->entries)
		return 0;
	err = arc_open(&r, data, len);
	if (err == 1)
		err = failed_encrypted(&r, 0) ? report_encrypted(&r) : 0;
	else if (!err)
		err = arc_list(&r);
	if (r.a) {
		charge_filters(&r);
		archive_read_free(r.a);
	}
	return err;
}
