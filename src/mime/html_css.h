/*
 * html_css.h: colours and CSS for the HTML reader (private to src/mime).
 *
 * html.c decides whether text can be seen; html_css.c reads what the HTML
 * says about colours and styles: CSS colour values (#rgb, #rrggbb, rgb(),
 * hsl(), names), the legacy colour attributes (bgcolor=, color=, text=),
 * inline style="" declarations and the class rules of <style> sheets that
 * hide text. No allocation, no I/O.
 *
 * Both files also share the byte helpers and the name hash index below
 * (static inline: they sit on the tokenizer's hot path).
 */
#ifndef SS_MIME_HTML_CSS_H
#define SS_MIME_HTML_CSS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CSS_MAX_CLASSES 32 /* hiding class names kept from <style> */
#define CSS_CLASS_LEN 32   /* longest class name kept, plus NUL */

/* Colours are 0xRRGGBB or one of these. */
#define CSS_COLOR_UNKNOWN 0xffffffffu /* background is an image or unknown */
#define CSS_COLOR_CLEAR 0xfffffffeu   /* transparent */

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- bytes ---- */

/* Sets of ASCII bytes below 64, tested with one shift. */
#define BIT(c) (1ull << (c))
#define SET_WS (BIT(' ') | BIT('\t') | BIT('\n') | BIT('\r') | BIT('\f'))

static inline int in_set(unsigned char c, uint64_t set)
{
	return c < 64 && ((set >> c) & 1);
}

static inline int is_ws(unsigned char c)
{
	return in_set(c, SET_WS);
}

static inline int is_alpha(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26;
}

static inline int is_digit(unsigned char c)
{
	return (unsigned)(c - '0') < 10;
}

static inline int is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static inline unsigned char to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? c | 0x20 : c;
}

static inline int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	c = to_lower(c);
	return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Returns 1 when s[0..n) equals the lower-case literal `lit`, ignoring case. */
static inline int span_is(const char *s, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!lit[i] || to_lower(s[i]) != (unsigned char)lit[i])
			return 0;
	return lit[n] == '\0';
}

static inline const char *skip_ws(const char *p, const char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* Trims ASCII white space from both ends of the slice (*s, *n). */
static inline void trim(const char **s, size_t *n)
{
	while (*n && is_ws((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_ws((*s)[*n - 1]))
		(*n)--;
}

/* ---- name index ---- */

/* Hash indexes over tables of names (row + 1 per slot, 0: empty, linear
 * probing; the slot count is a power of two). */

static inline uint32_t name_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static inline void index_add(uint16_t *slots, size_t nslots, const char *name, size_t row)
{
	size_t i = name_hash(name, strlen(name)) & (nslots - 1);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = (uint16_t)(row + 1);
}

/* Finds s[0..n), whose name_hash is h, through an index over a table of
 * rows that start with a `const char *name`; returns the row or -1. */
static inline long index_find(const uint16_t *slots, size_t nslots, const void *tbl, size_t stride,
                              const char *s, size_t n, uint32_t h)
{
	size_t i, k;

	for (i = h & (nslots - 1); slots[i]; i = (i + 1) & (nslots - 1)) {
		const char *m =
		    *(const char *const *)((const char *)tbl + (slots[i] - 1u) * stride);

		for (k = 0; k < n && m[k] && m[k] == s[k]; k++)
			;
		if (k == n && !m[n])
			return (long)slots[i] - 1;
	}
	return -1;
}

/* ---- styles ---- */

/* What one style declaration list says. -1: not said. */
struct css_style {
	uint8_t none; /* display:none, opacity:0, zero-sized box with overflow hidden */
	uint8_t zero, clip;
	int8_t vis;  /* visibility: 1 hidden, 0 visible */
	int8_t tiny; /* font-size: 1 tiny, 0 readable */
	uint8_t has_fg, has_bg;
	uint32_t fg, bg;
};

/* What the <style> sheets of one document said so far. */
struct css_sheet {
	uint8_t fg;                           /* a sheet sets text colours */
	uint8_t bg;                           /* a sheet sets backgrounds */
	unsigned nclass;                      /* entries used in class_name and class_hide */
	uint16_t class_hide[CSS_MAX_CLASSES]; /* HTML_F_* reasons */
	char class_name[CSS_MAX_CLASSES][CSS_CLASS_LEN];
};

/* Builds the colour name index. Must have run once before any other css_
 * function is called; html_to_text() runs it through pthread_once. */
void css_index_build(void);

/* Parses a legacy colour attribute value s[0..n) (bgcolor, color, text) the
 * way browsers do. Returns 1 and stores 0xRRGGBB in *rgb, or returns 0 (empty
 * or "transparent": no colour). */
int css_color_legacy(const char *s, size_t n, uint32_t *rgb);

/* Returns 1 when colours a and b (0xRRGGBB) look the same to a reader. */
int css_color_near(uint32_t a, uint32_t b);

/* Parses the declarations of a style="" value s[0..n) (character
 * references already decoded) into *y. s is lower-cased and rewritten in
 * place; nothing points into it afterwards. */
void css_style_parse(struct css_style *y, char *s, size_t n);

/* Reads the text s[0..n) of a <style> element into *sh (zeroed before the
 * first sheet): whether it sets colours, and its simple ".name" rules that
 * hide. s is rewritten in place, as above. Returns 1 when sh->fg or sh->bg
 * changed (the hiding of open elements must be worked out again), else 0. */
int css_sheet_read(struct css_sheet *sh, char *s, size_t n);

/* Returns the HTML_F_* reasons the class names in the class="" value
 * p[0..n) are hidden by the rules of *sh, 0 when none. */
unsigned css_class_hide(const struct css_sheet *sh, const char *p, size_t n);

#endif
