/*
 * html_css.c: colours and CSS for the HTML reader (see html_css.h).
 *
 * Colour values are read the way browsers read them: CSS colours (#rgb,
 * #rgba, #rrggbb, #rrggbbaa, rgb(), rgba(), hsl(), hsla(), the CSS Color 4
 * names, "transparent") and legacy attribute colours ("fff" is #0f0f0f).
 * Colours closer than CSS_COLOR_NEAR per channel count as equal (#fefefe
 * on white). Declarations are only read for what decides whether text can
 * be seen: display, visibility, opacity, font size, colours, zero-sized
 * boxes with overflow hidden. Of <style> sheets only single-class rules
 * (".name" or "tag.name") that hide are kept, at most CSS_MAX_CLASSES;
 * rules inside @media and other @-blocks are skipped. Work is linear in
 * the input.
 */
#include "mime/html_css.h"

#include "mime/html.h"

#define CSS_COLOR_NEAR 8 /* channel difference still "the same" */

/* Exact match of s[0..n) with a lower-case literal (for normalised CSS). */
#define IS(s, n, lit) ((n) == sizeof(lit) - 1 && !memcmp((s), (lit), sizeof(lit) - 1))

#define COLOR_SLOTS 512
static uint16_t color_slots[COLOR_SLOTS]; /* index over html_colors */

/* ---- colours ---- */

struct html_color {
	const char *name;
	uint32_t rgb;
};

/* The CSS named colours (CSS Color 4). */
/* clang-format off */
static const struct html_color html_colors[] = {
	{"aliceblue", 0xF0F8FF}, {"antiquewhite", 0xFAEBD7}, {"aqua", 0x00FFFF},
	{"aquamarine", 0x7FFFD4}, {"azure", 0xF0FFFF}, {"beige", 0xF5F5DC}, {"bisque", 0xFFE4C4},
	{"black", 0x000000}, {"blanchedalmond", 0xFFEBCD}, {"blue", 0x0000FF},
	{"blueviolet", 0x8A2BE2}, {"brown", 0xA52A2A}, {"burlywood", 0xDEB887},
	{"cadetblue", 0x5F9EA0}, {"chartreuse", 0x7FFF00}, {"chocolate", 0xD2691E},
	{"coral", 0xFF7F50}, {"cornflowerblue", 0x6495ED}, {"cornsilk", 0xFFF8DC},
	{"crimson", 0xDC143C}, {"cyan", 0x00FFFF}, {"darkblue", 0x00008B}, {"darkcyan", 0x008B8B},
	{"darkgoldenrod", 0xB8860B}, {"darkgray", 0xA9A9A9}, {"darkgreen", 0x006400},
	{"darkgrey", 0xA9A9A9}, {"darkkhaki", 0xBDB76B}, {"darkmagenta", 0x8B008B},
	{"darkolivegreen", 0x556B2F}, {"darkorange", 0xFF8C00}, {"darkorchid", 0x9932CC},
	{"darkred", 0x8B0000}, {"darksalmon", 0xE9967A}, {"darkseagreen", 0x8FBC8F},
	{"darkslateblue", 0x483D8B}, {"darkslategray", 0x2F4F4F}, {"darkslategrey", 0x2F4F4F},
	{"darkturquoise", 0x00CED1}, {"darkviolet", 0x9400D3}, {"deeppink", 0xFF1493},
	{"deepskyblue", 0x00BFFF}, {"dimgray", 0x696969}, {"dimgrey", 0x696969},
	{"dodgerblue", 0x1E90FF}, {"firebrick", 0xB22222}, {"floralwhite", 0xFFFAF0},
	{"forestgreen", 0x228B22}, {"fuchsia", 0xFF00FF}, {"gainsboro", 0xDCDCDC},
	{"ghostwhite", 0xF8F8FF}, {"gold", 0xFFD700}, {"goldenrod", 0xDAA520}, {"gray", 0x808080},
	{"green", 0x008000}, {"greenyellow", 0xADFF2F}, {"grey", 0x808080},
	{"honeydew", 0xF0FFF0}, {"hotpink", 0xFF69B4}, {"indianred", 0xCD5C5C},
	{"indigo", 0x4B0082}, {"ivory", 0xFFFFF0}, {"khaki", 0xF0E68C}, {"lavender", 0xE6E6FA},
	{"lavenderblush", 0xFFF0F5}, {"lawngreen", 0x7CFC00}, {"lemonchiffon", 0xFFFACD},
	{"lightblue", 0xADD8E6}, {"lightcoral", 0xF08080}, {"lightcyan", 0xE0FFFF},
	{"lightgoldenrodyellow", 0xFAFAD2}, {"lightgray", 0xD3D3D3}, {"lightgreen", 0x90EE90},
	{"lightgrey", 0xD3D3D3}, {"lightpink", 0xFFB6C1}, {"lightsalmon", 0xFFA07A},
	{"lightseagreen", 0x20B2AA}, {"lightskyblue", 0x87CEFA}, {"lightslategray", 0x778899},
	{"lightslategrey", 0x778899}, {"lightsteelblue", 0xB0C4DE}, {"lightyellow", 0xFFFFE0},
	{"lime", 0x00FF00}, {"limegreen", 0x32CD32}, {"linen", 0xFAF0E6}, {"magenta", 0xFF00FF},
	{"maroon", 0x800000}, {"mediumaquamarine", 0x66CDAA}, {"mediumblue", 0x0000CD},
	{"mediumorchid", 0xBA55D3}, {"mediumpurple", 0x9370DB}, {"mediumseagreen", 0x3CB371},
	{"mediumslateblue", 0x7B68EE}, {"mediumspringgreen", 0x00FA9A},
	{"mediumturquoise", 0x48D1CC}, {"mediumvioletred", 0xC71585}, {"midnightblue", 0x191970},
	{"mintcream", 0xF5FFFA}, {"mistyrose", 0xFFE4E1}, {"moccasin", 0xFFE4B5},
	{"navajowhite", 0xFFDEAD}, {"navy", 0x000080}, {"oldlace", 0xFDF5E6}, {"olive", 0x808000},
	{"olivedrab", 0x6B8E23}, {"orange", 0xFFA500}, {"orangered", 0xFF4500},
	{"orchid", 0xDA70D6}, {"palegoldenrod", 0xEEE8AA}, {"palegreen", 0x98FB98},
	{"paleturquoise", 0xAFEEEE}, {"palevioletred", 0xDB7093}, {"papayawhip", 0xFFEFD5},
	{"peachpuff", 0xFFDAB9}, {"peru", 0xCD853F}, {"pink", 0xFFC0CB}, {"plum", 0xDDA0DD},
	{"powderblue", 0xB0E0E6}, {"purple", 0x800080}, {"rebeccapurple", 0x663399},
	{"red", 0xFF0000}, {"rosybrown", 0xBC8F8F}, {"royalblue", 0x4169E1},
	{"saddlebrown", 0x8B4513}, {"salmon", 0xFA8072}, {"sandybrown", 0xF4A460},
	{"seagreen", 0x2E8B57}, {"seashell", 0xFFF5EE}, {"sienna", 0xA0522D},
	{"silver", 0xC0C0C0}, {"skyblue", 0x87CEEB}, {"slateblue", 0x6A5ACD},
	{"slategray", 0x708090}, {"slategrey", 0x708090}, {"snow", 0xFFFAFA},
	{"springgreen", 0x00FF7F}, {"steelblue", 0x4682B4}, {"tan", 0xD2B48C}, {"teal", 0x008080},
	{"thistle", 0xD8BFD8}, {"tomato", 0xFF6347}, {"turquoise", 0x40E0D0},
	{"violet", 0xEE82EE}, {"wheat", 0xF5DEB3}, {"white", 0xFFFFFF}, {"whitesmoke", 0xF5F5F5},
	{"yellow", 0xFFFF00}, {"yellowgreen", 0x9ACD32},
};
/* clang-format on */

static int color_name(const char *s, size_t n, uint32_t *rgb)
{
	char b[24];
	size_t i;
	long k;

	if (n == 0 || n >= sizeof(b))
		return 0;
	for (i = 0; i < n; i++)
		b[i] = (char)to_lower(s[i]);
	k = index_find(color_slots, COLOR_SLOTS, html_colors, sizeof(html_colors[0]), b, n,
	               name_hash(b, n));
	if (k < 0)
		return 0;
	*rgb = html_colors[k].rgb;
	return 1;
}

/* Parses 3, 4, 6 or 8 hex digits (after '#'); alpha 0 is transparent. */
static int color_hex(const char *s, size_t n, uint32_t *rgb)
{
	unsigned v[8] = {0}, i, r, g, b, a;

	if (n != 3 && n != 4 && n != 6 && n != 8)
		return 0;
	for (i = 0; i < n; i++) {
		int x = hex_val(s[i]);
		if (x < 0)
			return 0;
		v[i] = (unsigned)x;
	}
	if (n <= 4) {
		r = v[0] * 17, g = v[1] * 17, b = v[2] * 17;
		a = n == 4 ? v[3] : 1;
	} else {
		r = v[0] * 16 + v[1], g = v[2] * 16 + v[3], b = v[4] * 16 + v[5];
		a = n == 8 ? v[6] * 16 + v[7] : 1;
	}
	*rgb = a ? (r << 16 | g << 8 | b) : CSS_COLOR_CLEAR;
	return 1;
}

/* Parses a CSS number (no exponent) at *s and advances *s past it. */
static int css_number(const char **s, const char *end, double *v)
{
	const char *p = *s;
	double x = 0, f = 0.1;
	int neg = 0, any = 0;

	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	for (; p < end && is_digit(*p); p++, any = 1)
		if (x < 1e9)
			x = x * 10 + (*p - '0');
	if (p < end && *p == '.')
		for (p++; p < end && is_digit(*p); p++, any = 1, f /= 10)
			x += (*p - '0') * f;
	if (!any)
		return 0;
	*v = neg ? -x : x;
	*s = p;
	return 1;
}

/* Reads the arguments of rgb()/hsl() up to ')': at most 4 numbers with
 * ',', '/' or spaces between; pct[i] says a '%' followed. Returns the count
 * or -1. */
static int css_fn_args(const char *p, const char *end, double *v, int *pct)
{
	int n = 0;

	for (;;) {
		while (p < end && (is_ws(*p) || *p == ',' || *p == '/'))
			p++;
		if (p < end && *p == ')')
			return n;
		if (n == 4 || !css_number(&p, end, &v[n]))
			return -1;
		pct[n] = p < end && *p == '%';
		p += pct[n];
		while (p < end && is_alpha(*p)) /* "deg" */
			p++;
		n++;
	}
}

static unsigned color_chan(double v, int pct)
{
	if (pct)
		v = v * 2.55;
	if (v <= 0)
		return 0;
	return v >= 255 ? 255 : (unsigned)(v + 0.5);
}

static double dabs(double x)
{
	return x < 0 ? -x : x;
}

static uint32_t color_hsl(const double *v)
{
	double h = v[0], s = v[1] / 100, l = v[2] / 100, c, x, m, rgb[3];
	int sec;

	if (h > 1e6 || h < -1e6)
		h = 0;
	h -= 360.0 * (long)(h / 360);
	if (h < 0)
		h += 360;
	s = s < 0 ? 0 : s > 1 ? 1 : s;
	l = l < 0 ? 0 : l > 1 ? 1 : l;
	c = (1 - dabs(2 * l - 1)) * s;
	sec = (int)(h / 60) % 6;
	x = c * (1 - dabs((h / 60) - 2 * (int)(h / 120) - 1));
	m = l - c / 2;
	rgb[0] = rgb[1] = rgb[2] = m;
	rgb[(sec + 1) / 2 % 3] += c; /* the largest channel */
	rgb[(7 - sec) % 3] += x;     /* the middle one */
	return color_chan(rgb[0] * 255, 0) << 16 | color_chan(rgb[1] * 255, 0) << 8 |
	       color_chan(rgb[2] * 255, 0);
}

/* Parses "rgb(", "rgba(", "hsl(" or "hsla(" followed by arguments. */
static int color_fn(const char *s, size_t n, uint32_t *rgb)
{
	const char *end = s + n, *open = memchr(s, '(', n);
	double v[4];
	int pct[4], k;

	if (!open)
		return 0;
	k = css_fn_args(open + 1, end, v, pct);
	if (k < 3)
		return 0;
	if (k == 4 && v[3] <= 0)
		*rgb = CSS_COLOR_CLEAR;
	else if (s[0] == 'h')
		*rgb = color_hsl(v);
	else
		*rgb = color_chan(v[0], pct[0]) << 16 | color_chan(v[1], pct[1]) << 8 |
		       color_chan(v[2], pct[2]);
	return 1;
}

/* Parses a CSS colour value (lower case, trimmed). */
static int css_color(const char *s, size_t n, uint32_t *rgb)
{
	if (n > 1 && s[0] == '#')
		return color_hex(s + 1, n - 1, rgb);
	if (IS(s, n, "transparent")) {
		*rgb = CSS_COLOR_CLEAR;
		return 1;
	}
	if (n > 4 && (!memcmp(s, "rgb", 3) || !memcmp(s, "hsl", 3)) &&
	    (s[3] == '(' || (s[3] == 'a' && s[4] == '(')))
		return color_fn(s, n, rgb);
	return color_name(s, n, rgb);
}

/* Parses a legacy colour attribute (bgcolor, color, text) the way
 * browsers do: names, "#rgb", and anything else read as hex digits split
 * into three components ("fff" is #0f0f0f, "ffffff" is white). */
int css_color_legacy(const char *s, size_t n, uint32_t *rgb)
{
	char b[128];
	size_t m = 0, i, l, len, off = 0;
	unsigned c[3];

	trim(&s, &n);
	if (n == 0 || span_is(s, n, "transparent"))
		return 0;
	if (color_name(s, n, rgb))
		return 1;
	if (n == 4 && s[0] == '#' && color_hex(s + 1, 3, rgb))
		return 1;
	if (s[0] == '#')
		s++, n--;
	for (i = 0; i < n && m < sizeof(b) - 3; i++)
		b[m++] = hex_val(s[i]) >= 0 ? s[i] : '0';
	while (m == 0 || m % 3)
		b[m++] = '0';
	l = len = m / 3;
	if (len > 8)
		off = len - 8, len = 8;
	while (len > 2 && b[off] == '0' && b[l + off] == '0' && b[2 * l + off] == '0')
		off++, len--;
	if (len > 2)
		len = 2;
	for (i = 0; i < 3; i++) {
		c[i] = (unsigned)hex_val(b[i * l + off]);
		if (len == 2)
			c[i] = c[i] * 16 + (unsigned)hex_val(b[i * l + off + 1]);
	}
	*rgb = c[0] << 16 | c[1] << 8 | c[2];
	return 1;
}

int css_color_near(uint32_t a, uint32_t b)
{
	int i;

	for (i = 0; i < 24; i += 8) {
		int d = (int)((a >> i) & 0xff) - (int)((b >> i) & 0xff);
		if (d > CSS_COLOR_NEAR || d < -CSS_COLOR_NEAR)
			return 0;
	}
	return 1;
}

/* ---- inline style ---- */

/* Lower-cases CSS text in place, drops comments and "<!--"/"-->";
 * returns the new length. */
static size_t css_norm(char *s, size_t n)
{
	size_t i = 0, o = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (!in_set(c, BIT('/') | BIT('<') | BIT('-'))) {
			s[o++] = (char)to_lower(c);
			i++;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			const char *e = memmem(s + i + 2, n - i - 2, "*/", 2);
			i = e ? (size_t)(e - s) + 2 : n;
			s[o++] = ' ';
		} else if (c == '<' && i + 3 < n && !memcmp(s + i + 1, "!--", 3)) {
			i += 4;
			s[o++] = ' ';
		} else if (c == '-' && i + 2 < n && s[i + 1] == '-' && s[i + 2] == '>') {
			i += 3;
			s[o++] = ' ';
		} else {
			s[o++] = s[i++];
		}
	}
	return o;
}

/* Returns 1 for a zero length ("0", "0px", "0em"...). */
static int css_len_zero(const char *v, size_t n)
{
	const char *p = v, *end = v + n;
	double x;

	if (!css_number(&p, end, &x) || x != 0)
		return 0;
	while (p < end && (is_alpha(*p) || *p == '%'))
		p++;
	return p == end;
}

/* Classifies a font-size: 1 tiny (0-2px, 1.5pt...), 0 readable,
 * -1 relative to the parent or unknown. */
static int css_font_tiny(const char *v, size_t n)
{
	static const struct {
		const char *unit;
		double max;
		int rel;
	} u[] = {
	    {"", 2, 0},        {"px", 2, 0},     {"pt", 1.5, 0},  {"pc", 0.125, 0},
	    {"mm", 0.5, 0},    {"cm", 0.05, 0},  {"in", 0.02, 0}, {"q", 2, 0},
	    {"rem", 0.125, 0}, {"em", 0.125, 1}, {"%", 12.5, 1},  {"ex", 0.25, 1},
	};
	static const char *const kw[] = {
	    "xx-small", "x-small", "small", "medium", "large", "x-large", "xx-large", "xxx-large",
	};
	const char *p = v, *end = v + n;
	size_t i;
	double x;

	if (!css_number(&p, end, &x)) {
		for (i = 0; i < ARRAY_LEN(kw); i++)
			if (span_is(v, n, kw[i]))
				return 0;
		return -1;
	}
	if (x <= 0)
		return x == 0 ? 1 : -1;
	for (i = 0; i < ARRAY_LEN(u); i++)
		if (span_is(p, (size_t)(end - p), u[i].unit))
			return x <= u[i].max ? 1 : (u[i].rel ? -1 : 0);
	return -1;
}

/* Reads the size out of a "font" shorthand ("bold 12px/1.2 arial", "0/0 a"). */
static void css_font(struct css_style *y, const char *v, size_t n)
{
	const char *p = v, *end = v + n;

	while (p < end) {
		const char *t = p;

		while (p < end && !is_ws(*p) && *p != '/')
			p++;
		if (p > t && (is_digit(*t) || *t == '.')) {
			int k = css_font_tiny(t, (size_t)(p - t));
			if (k >= 0)
				y->tiny = (int8_t)k;
			return;
		}
		while (p < end && (is_ws(*p) || *p == '/'))
			p++;
	}
}

/* "background": an image hides the colour behind; else the first token
 * that is a colour. */
static void css_background(struct css_style *y, const char *v, size_t n)
{
	const char *p = v, *end = v + n;

	if (memmem(v, n, "url(", 4) || memmem(v, n, "gradient(", 9)) {
		y->has_bg = 1;
		y->bg = CSS_COLOR_UNKNOWN;
		return;
	}
	while (p < end) {
		const char *t = p;
		int depth = 0;

		for (; p < end && (depth || !is_ws(*p)); p++)
			depth += *p == '(' ? 1 : *p == ')' ? -(depth > 0) : 0;
		if (p > t && css_color(t, (size_t)(p - t), &y->bg)) {
			y->has_bg = 1;
			return;
		}
		p = skip_ws(p, end);
	}
}

/* Declarations that hide outright or set a font size. */
static int css_decl_hide(struct css_style *y, const char *k, size_t kn, const char *v, size_t vn)
{
	const char *q = v;
	double x;
	int t;

	if (IS(k, kn, "display"))
		y->none |= IS(v, vn, "none");
	else if (IS(k, kn, "visibility") && (IS(v, vn, "hidden") || IS(v, vn, "collapse")))
		y->vis = 1;
	else if (IS(k, kn, "visibility") && IS(v, vn, "visible"))
		y->vis = 0;
	else if (IS(k, kn, "opacity"))
		y->none |= css_number(&q, v + vn, &x) && x <= 0;
	else if (IS(k, kn, "font-size") && (t = css_font_tiny(v, vn)) >= 0)
		y->tiny = (int8_t)t;
	else if (IS(k, kn, "font"))
		css_font(y, v, vn);
	else
		return 0;
	return 1;
}

/* One declaration "k: v" (both trimmed, lower case, no !important). */
static void css_decl(struct css_style *y, const char *k, size_t kn, const char *v, size_t vn)
{
	if (kn < 4 || css_decl_hide(y, k, kn, v, vn))
		return;
	if (IS(k, kn, "color"))
		y->has_fg |= css_color(v, vn, &y->fg);
	else if (IS(k, kn, "background-color"))
		y->has_bg |= css_color(v, vn, &y->bg);
	else if (IS(k, kn, "background") || IS(k, kn, "background-image"))
		css_background(y, v, vn);
	else if (IS(k, kn, "height") || IS(k, kn, "max-height") || IS(k, kn, "width") ||
	         IS(k, kn, "max-width"))
		y->zero |= css_len_zero(v, vn);
	else if (kn >= 8 && !memcmp(k, "overflow", 8))
		y->clip |= IS(v, vn, "hidden") || IS(v, vn, "clip");
}

/* Parses "prop: value; ..." (already normalised by css_norm). */
static void css_decls(struct css_style *y, const char *s, size_t n)
{
	const char *end = s + n;

	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *e = semi ? semi : end, *colon = memchr(s, ':', (size_t)(e - s));

		if (colon) {
			const char *k = s, *v = colon + 1, *bang;
			size_t kn = (size_t)(colon - s), vn = (size_t)(e - v);

			bang = memchr(v, '!', vn);
			if (bang)
				vn = (size_t)(bang - v);
			trim(&k, &kn);
			trim(&v, &vn);
			css_decl(y, k, kn, v, vn);
		}
		s = semi ? semi + 1 : end;
	}
	if (y->zero && y->clip)
		y->none = 1;
}

static void style_init(struct css_style *y)
{
	memset(y, 0, sizeof(*y));
	y->vis = -1;
	y->tiny = -1;
}

void css_style_parse(struct css_style *y, char *s, size_t n)
{
	style_init(y);
	css_decls(y, s, css_norm(s, n));
}

/* ---- <style> sheets ---- */

static void sheet_class(struct css_sheet *sh, const char *s, size_t n, unsigned why)
{
	const char *dot, *p;

	trim(&s, &n);
	dot = memchr(s, '.', n);
	if (!dot || sh->nclass == CSS_MAX_CLASSES || (size_t)(s + n - dot) >= CSS_CLASS_LEN)
		return;
	for (p = s; p < dot; p++)
		if (!is_alnum(*p))
			return;
	for (p = dot + 1; p < s + n; p++)
		if (!is_alnum(*p) && *p != '-' && *p != '_' && !(*p & 0x80))
			return;
	if (p == dot + 1)
		return;
	memcpy(sh->class_name[sh->nclass], dot + 1, (size_t)(p - dot - 1));
	sh->class_name[sh->nclass][p - dot - 1] = '\0';
	sh->class_hide[sh->nclass++] = (uint16_t)why;
}

/* One rule "sel, sel { decls }": a rule that hides records its selectors
 * that are a single class ("x.name" or ".name"). */
static void sheet_rule(struct css_sheet *sh, const char *sel, const char *sel_end, const char *d,
                       const char *d_end)
{
	struct css_style y;
	unsigned why;

	style_init(&y);
	css_decls(&y, d, (size_t)(d_end - d));
	why =
	    (y.none || y.vis == 1 ? HTML_F_DISPLAY_NONE : 0) | (y.tiny == 1 ? HTML_F_TINY_FONT : 0);
	while (why && sel < sel_end) {
		const char *comma = memchr(sel, ',', (size_t)(sel_end - sel));
		const char *e = comma ? comma : sel_end;

		sheet_class(sh, sel, (size_t)(e - sel), why);
		sel = e + (comma != NULL);
	}
}

/* Skips the block that opens at p ('{'), nested blocks included. */
static const char *sheet_skip_block(const char *p, const char *end)
{
	unsigned depth = 0;

	for (; p < end; p++) {
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p + 1;
	}
	return end;
}

static void sheet_rules(struct css_sheet *sh, const char *p, const char *end)
{
	while (p < end) {
		const char *ob = memchr(p, '{', (size_t)(end - p)), *cb, *q;

		if (!ob)
			return;
		for (q = ob; q > p && q[-1] != ';' && q[-1] != '}'; q--)
			;
		q = skip_ws(q, ob);
		if (q < ob && *q == '@') {
			p = sheet_skip_block(ob, end);
			continue;
		}
		cb = memchr(ob, '}', (size_t)(end - ob));
		if (!cb)
			cb = end;
		sheet_rule(sh, q, ob, ob + 1, cb);
		p = cb < end ? cb + 1 : end;
	}
}

int css_sheet_read(struct css_sheet *sh, char *s, size_t n)
{
	const char *e = s + css_norm(s, n), *c;
	int fg = 0, changed = 0;

	for (c = s; !fg && (c = memmem(c, (size_t)(e - c), "color", 5)); c += 5)
		fg = c == s || c[-1] != '-';
	if ((fg && !sh->fg) || (memmem(s, (size_t)(e - s), "background", 10) && !sh->bg)) {
		sh->fg |= (uint8_t)fg;
		sh->bg |= memmem(s, (size_t)(e - s), "background", 10) != NULL;
		changed = 1;
	}
	sheet_rules(sh, s, e);
	return changed;
}

unsigned css_class_hide(const struct css_sheet *sh, const char *p, size_t n)
{
	const char *end = p + n;
	unsigned h = 0, i;

	while (p < end) {
		const char *w;

		p = skip_ws(p, end);
		for (w = p; p < end && !is_ws(*p); p++)
			;
		for (i = 0; p > w && i < sh->nclass; i++)
			if (span_is(w, (size_t)(p - w), sh->class_name[i]))
				h |= sh->class_hide[i];
	}
	return h;
}

/* ---- setup ---- */

void css_index_build(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(html_colors); i++)
		index_add(color_slots, COLOR_SLOTS, html_colors[i].name, i);
}
