/*
 * phish_attach.c: attachments that are, or pretend not to be, programs.
 *
 * Names: the name is cleaned as Windows would show and use it (bidi and
 * zero-width controls dropped, trailing dots and spaces dropped, ASCII
 * lower case). ATTACH_RISKY_EXT when its extension is one Windows runs or
 * mounts; ATTACH_DOUBLE_EXT when that extension follows a document or media
 * one ("invoice.pdf.exe", "photo.jpg      .scr") or the name carried a
 * right-to-left override (U+202E "invoice\u202Efdp.exe" shows as
 * "invoiceexe.pdf").
 *
 * Content: ATTACH_EXECUTABLE when the decoded bytes are a PE, ELF, Mach-O
 * or MSI program. Scripts are left to their names: a script only runs
 * under its extension, while a renamed binary can be renamed back. The
 * first bytes pick the candidates (MZ, ELF, Mach-O, Compound File), so
 * libmagic (which takes ~0.4 ms on data it does not know) only runs on
 * those, and says which ones really are programs (a valid PE header, an
 * MSI and not a Word file, a Mach-O and not a Java class).
 */
#include <stdio.h>
#include <string.h>

#include "phish/internal.h"
#include "util/utf8.h"

#define NAME_KEEP 255 /* bytes of a cleaned name kept (the end matters) */

/* Extensions Windows executes, installs, or mounts as a disk. */
static const char *const risky_ext[] = {
    "exe", "scr", "com", "pif",  "bat",  "cmd",         "js",     "jse",          "vbs",
    "vbe", "wsf", "wsh", "hta",  "lnk",  "iso",         "img",    "vhd",          "vhdx",
    "msi", "msp", "ps1", "jar",  "cpl",  "reg",         "scf",    "chm",          "msc",
    "dll", "xll", "url", "appx", "msix", "application", "gadget", "appinstaller", NULL,
};

/* Extensions of what people open without fear: documents, media, archives. */
static const char *const doc_ext[] = {
    "pdf", "doc", "docx", "xls",  "xlsx", "ppt", "pptx", "odt",  "ods", "rtf",  "txt",
    "csv", "jpg", "jpeg", "png",  "gif",  "bmp", "tif",  "tiff", "mp3", "mp4",  "wav",
    "avi", "mov", "htm",  "html", "zip",  "rar", "7z",   "eml",  "xml", "json", NULL,
};

/* Executable MIME types libmagic (5.4x) gives. */
static const struct {
	const char *mime, *kind;
} exe_mime[] = {
    {"application/vnd.microsoft.portable-executable", "PE"},
    {"application/x-dosexec", "PE"},
    {"application/x-msdownload", "PE"},
    {"application/x-executable", "ELF"},
    {"application/x-pie-executable", "ELF"},
    {"application/x-sharedlib", "ELF"},
    {"application/x-mach-binary", "Mach-O"},
    {"application/x-msi", "MSI"},
};

static int in_list(const char *const *list, const char *s, size_t n)
{
	for (size_t i = 0; list[i]; i++)
		if (strlen(list[i]) == n && !memcmp(list[i], s, n))
			return 1;
	return 0;
}

/* ---- names ---- */

typedef struct clean_name {
	char s[NAME_KEEP + 1];
	size_t n;
	int override; /* a bidi override or isolate was in the name */
} clean_name;

static int is_invisible(unsigned cp, int *override)
{
	if (cp == 0x202D || cp == 0x202E || (cp >= 0x2066 && cp <= 0x2069))
		*override = 1;
	return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF;
}

/* Cleans name[0..len) into c, keeping its last NAME_KEEP bytes. */
static void clean(const char *name, size_t len, clean_name *c)
{
	size_t i = 0, k;

	c->n = 0;
	c->override = 0;
	while (i < len) {
		unsigned cp = utf8_decode(name + i, len - i, &k);
		if (!is_invisible(cp, &c->override)) {
			if (c->n + k > NAME_KEEP) {
				memmove(c->s, c->s + c->n / 2, c->n - c->n / 2);
				c->n -= c->n / 2;
			}
			for (size_t j = 0; j < k && c->n < NAME_KEEP; j++) {
				char ch = name[i + j];
				c->s[c->n++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			}
		}
		i += k;
	}
	while (c->n && (c->s[c->n - 1] == ' ' || c->s[c->n - 1] == '.' || c->s[c->n - 1] == '\t'))
		c->n--;
	c->s[c->n] = '\0';
}

/* The extension of s[0..n) (after its last dot), or NULL. */
static const char *ext_of(const char *s, size_t n, size_t *elen)
{
	const char *dot = memrchr(s, '.', n);

	if (!dot || dot == s)
		return NULL;
	*elen = n - (size_t)(dot + 1 - s);
	return dot + 1;
}

int phish_name_risky(const char *name, size_t len)
{
	clean_name c;
	const char *e;
	size_t n;

	clean(name, len, &c);
	e = ext_of(c.s, c.n, &n);
	return e && in_list(risky_ext, e, n);
}

/* Whether the part before the risky extension ends in a document one,
 * white space between them allowed. */
static int doc_before(const clean_name *c, const char *ext)
{
	size_t n = (size_t)(ext - 1 - c->s), elen;
	const char *e;

	while (n && (c->s[n - 1] == ' ' || c->s[n - 1] == '\t' || c->s[n - 1] == '_'))
		n--;
	e = ext_of(c->s, n, &elen);
	return e && in_list(doc_ext, e, elen);
}

static int name_checks(const ss_str *filename, ss_hits *out)
{
	clean_name c;
	const char *e;
	size_t n;
	int err;

	clean(filename->p, filename->len, &c);
	e = ext_of(c.s, c.n, &n);
	if (!e || !in_list(risky_ext, e, n))
		return 0;
	if ((err = hits_add(out, "ATTACH_RISKY_EXT", c.s)))
		return err;
	if (c.override || doc_before(&c, e))
		return hits_add(out, "ATTACH_DOUBLE_EXT", c.s);
	return 0;
}

/* ---- content ---- */

static int be32_is(const unsigned char *d, uint32_t v)
{
	return ((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]) == v;
}

/* Whether the first bytes are those of a program (or a Compound File, which
 * may be an MSI): the candidates libmagic decides about. */
static int exe_candidate(const unsigned char *d, size_t len)
{
	if (len < 8)
		return 0;
	if (d[0] == 'M' && d[1] == 'Z')
		return 1;
	if (be32_is(d, 0x7f454c46u) || be32_is(d, 0xd0cf11e0u))
		return 1;
	return be32_is(d, 0xfeedfaceu) || be32_is(d, 0xfeedfacfu) || be32_is(d, 0xcefaedfeu) ||
	       be32_is(d, 0xcffaedfeu) || be32_is(d, 0xcafebabeu);
}

/* Without libmagic: a PE signature where the DOS header points, ELF,
 * thin Mach-O. */
static const char *exe_by_bytes(const unsigned char *d, size_t len)
{
	if (d[0] == 'M' && d[1] == 'Z' && len >= 64) {
		uint32_t pe =
		    d[60] | (uint32_t)d[61] << 8 | (uint32_t)d[62] << 16 | (uint32_t)d[63] << 24;
		if (pe <= len - 4 && !memcmp(d + pe, "PE\0\0", 4))
			return "PE";
	}
	if (be32_is(d, 0x7f454c46u))
		return "ELF";
	if (be32_is(d, 0xfeedfaceu) || be32_is(d, 0xfeedfacfu) || be32_is(d, 0xcefaedfeu) ||
	    be32_is(d, 0xcffaedfeu))
		return "Mach-O";
	return NULL;
}

const char *phish_exe_kind(phish_ctx *ctx, const unsigned char *data, size_t len)
{
	const char *mime;

	if (!exe_candidate(data, len))
		return NULL;
	if (!ctx->magic)
		return exe_by_bytes(data, len);
	if (!(mime = magic_buffer(ctx->magic, data, len)))
		return NULL;
	for (size_t i = 0; i < sizeof(exe_mime) / sizeof(exe_mime[0]); i++)
		if (!strcmp(mime, exe_mime[i].mime))
			return exe_mime[i].kind;
	return NULL;
}

/* The name a part is called by in details. */
static const char *part_label(const ss_part *p, char *buf, size_t cap, int idx)
{
	if (p->filename.len)
		return p->filename.p;
	snprintf(buf, cap, "part %d", idx);
	return buf;
}

static int content_checks(phish_ctx *ctx, const ss_part *p, int idx, phish_budget *b, ss_hits *out)
{
	const unsigned char *d = (const unsigned char *)p->data.p;
	const char *kind = phish_exe_kind(ctx, d, p->data.len), *name;
	char buf[32];
	int err = 0;

	name = part_label(p, buf, sizeof(buf), idx);
	if (kind)
		err = hits_addf(out, "ATTACH_EXECUTABLE", "%s: %s", name, kind);
	if (!err && phish_archive_kind(d, p->data.len))
		err = phish_archive_scan(ctx, name, d, p->data.len, 0, b, out);
	return err;
}

int phish_attach_check(phish_ctx *ctx, const ss_message *m, ss_hits *out)
{
	phish_budget b;
	int err = 0;

	phish_budget_init(&b);
	for (size_t i = 0; !err && i < m->nparts; i++) {
		const ss_part *p = &m->parts[i];
		if (p->flags & (SS_PART_MULTIPART | SS_PART_MESSAGE))
			continue;
		if (p->filename.len)
			err = name_checks(&p->filename, out);
		if (!err && p->data.len)
			err = content_checks(ctx, p, (int)i, &b, out);
	}
	return err;
}
