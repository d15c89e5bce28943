/*
 * html.c: HTML to visible text, hidden text and links (see html.h).
 *
 * One pass over the bytes, no DOM. Text between tags is scanned only for
 * white space and '&'; runs of ordinary bytes are appended in bulk. A tag is
 * parsed into the handful of attributes this module reads (the first of a
 * duplicated name wins). A fixed-depth stack of open elements carries what
 * decides whether text can be seen: display:none, visibility, opacity:0,
 * zero-sized boxes with overflow hidden, tiny fonts, text colour against
 * the background colour. Past HTML_MAX_DEPTH elements are only counted;
 * their text keeps the state of the deepest tracked (or hidden) element.
 *
 * Choices made here:
 * - <title> text is dropped with the rest of <head>: a mail reader shows
 *   the Subject, not the title. <noscript> text is kept: scripts do not run.
 * - Colour rules of <style> blocks are not applied. A stylesheet that sets
 *   colours makes HTML attribute and default colours uncertain, so then only
 *   inline style colours can make text "same colour". Without one, text is
 *   black on white unless the HTML says otherwise. Nearly equal colours
 *   count as equal (#fefefe on white; see html_css.c).
 * - Simple ".name { display:none }" rules (also visibility:hidden, tiny
 *   font-size) of <style> blocks are applied to elements of that class;
 *   rules inside @media and other @-blocks are not.
 * - <font size=0> is tiny, <font size=1> is not (it is x-small, readable).
 * - &nbsp; is a space that collapses with its neighbours; control
 *   characters are dropped.
 * - Links inside hidden text are kept (they matter to a filter); links in
 *   <head> and <template> are not. max_links counts the links of one call.
 *   Besides <a>, <area>, <img> and <form>, iframe/frame/embed src and
 *   background= images are HTML_LINK_OTHER.
 * - HTML_F_MALFORMED means the input ended inside a tag, a comment, a
 *   <!...> declaration or a script/style/textarea; elements left open at
 *   the end, or closed out of order, are normal HTML and not flagged.
 * - Implied end tags follow the HTML parsing rules in the common cases (a
 *   block closes an open <p>, <li> closes <li>, cells and rows close cells)
 *   but formatting elements are not reopened after a block closes them.
 */
#include "mime/html.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "mime/html_css.h"
#include "util/utf8.h"

#define HTML_MAX_DEPTH 64       /* open elements whose style is tracked */
#define HTML_LINK_TEXT_MAX 1024 /* bytes of anchor text kept per link */
#define HTML_NO_LINK ((size_t)-1)

#define COLOR_LINK 0x0000eeu /* a browser's default link colour */

/* ---- characters ---- */

/* Sets of ASCII bytes below 64 (see in_set() in html_css.h). */
#define SET_NAME_END (SET_WS | BIT('/') | BIT('>')) /* ends a tag name */
#define SET_ATTR_END (SET_NAME_END | BIT('='))      /* ends an attribute name */
#define SET_VALUE_END (SET_WS | BIT('>'))           /* ends an unquoted value */
#define SET_TEXT_STOP (0x1FFFFFFFFull | BIT('&'))   /* bytes 0-32 and '&' */

/* Hash indexes over the tag and entity name tables (see index_find() in
 * html_css.h), built once by html_index_build(). */
#define TAG_SLOTS 256
#define ENT_SLOTS 1024
static uint16_t tag_slots[TAG_SLOTS];
static uint16_t ent_slots[ENT_SLOTS];
static pthread_once_t html_once = PTHREAD_ONCE_INIT;

static size_t utf8_put(unsigned cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* ---- character references ---- */

struct html_entity {
	const char *name;
	unsigned cp;
};

/* HTML 4's named character references (HTML 5 keeps them all), plus &apos;
 * and the upper-case legacy spellings. */
static const struct html_entity html_entities[] = {
    {"AElig", 0xC6},     {"AMP", 0x26},      {"Aacute", 0xC1},    {"Acirc", 0xC2},
    {"Agrave", 0xC0},    {"Alpha", 0x391},   {"Aring", 0xC5},     {"Atilde", 0xC3},
    {"Auml", 0xC4},      {"Beta", 0x392},    {"COPY", 0xA9},      {"Ccedil", 0xC7},
    {"Chi", 0x3A7},      {"Dagger", 0x2021}, {"Delta", 0x394},    {"ETH", 0xD0},
    {"Eacute", 0xC9},    {"Ecirc", 0xCA},    {"Egrave", 0xC8},    {"Epsilon", 0x395},
    {"Eta", 0x397},      {"Euml", 0xCB},     {"GT", 0x3E},        {"Gamma", 0x393},
    {"Iacute", 0xCD},    {"Icirc", 0xCE},    {"Igrave", 0xCC},    {"Iota", 0x399},
    {"Iuml", 0xCF},      {"Kappa", 0x39A},   {"LT", 0x3C},        {"Lambda", 0x39B},
    {"Mu", 0x39C},       {"Ntilde", 0xD1},   {"Nu", 0x39D},       {"OElig", 0x152},
    {"Oacute", 0xD3},    {"Ocirc", 0xD4},    {"Ograve", 0xD2},    {"Omega", 0x3A9},
    {"Omicron", 0x39F},  {"Oslash", 0xD8},   {"Otilde", 0xD5},    {"Ouml", 0xD6},
    {"Phi", 0x3A6},      {"Pi", 0x3A0},      {"Prime", 0x2033},   {"Psi", 0x3A8},
    {"QUOT", 0x22},      {"REG", 0xAE},      {"Rho", 0x3A1},      {"Scaron", 0x160},
    {"Sigma", 0x3A3},    {"THORN", 0xDE},    {"Tau", 0x3A4},      {"Theta", 0x398},
    {"Uacute", 0xDA},    {"Ucirc", 0xDB},    {"Ugrave", 0xD9},    {"Upsilon", 0x3A5},
    {"Uuml", 0xDC},      {"Xi", 0x39E},      {"Yacute", 0xDD},    {"Yuml", 0x178},
    {"Zeta", 0x396},     {"aacute", 0xE1},   {"acirc", 0xE2},     {"acute", 0xB4},
    {"aelig", 0xE6},     {"agrave", 0xE0},   {"alefsym", 0x2135}, {"alpha", 0x3B1},
    {"amp", 0x26},       {"and", 0x2227},    {"ang", 0x2220},     {"apos", 0x27},
    {"aring", 0xE5},     {"asymp", 0x2248},  {"atilde", 0xE3},    {"auml", 0xE4},
    {"bdquo", 0x201E},   {"beta", 0x3B2},    {"brvbar", 0xA6},    {"bull", 0x2022},
    {"cap", 0x2229},     {"ccedil", 0xE7},   {"cedil", 0xB8},     {"cent", 0xA2},
    {"chi", 0x3C7},      {"circ", 0x2C6},    {"clubs", 0x2663},   {"cong", 0x2245},
    {"copy", 0xA9},      {"crarr", 0x21B5},  {"cup", 0x222A},     {"curren", 0xA4},
    {"dArr", 0x21D3},    {"dagger", 0x2020}, {"darr", 0x2193},    {"deg", 0xB0},
    {"delta", 0x3B4},    {"diams", 0x2666},  {"divide", 0xF7},    {"eacute", 0xE9},
    {"ecirc", 0xEA},     {"egrave", 0xE8},   {"empty", 0x2205},   {"emsp", 0x2003},
    {"ensp", 0x2002},    {"epsilon", 0x3B5}, {"equiv", 0x2261},   {"eta", 0x3B7},
    {"eth", 0xF0},       {"euml", 0xEB},     {"euro", 0x20AC},    {"exist", 0x2203},
    {"fnof", 0x192},     {"forall", 0x2200}, {"frac12", 0xBD},    {"frac14", 0xBC},
    {"frac34", 0xBE},    {"frasl", 0x2044},  {"gamma", 0x3B3},    {"ge", 0x2265},
    {"gt", 0x3E},        {"hArr", 0x21D4},   {"harr", 0x2194},    {"hearts", 0x2665},
    {"hellip", 0x2026},  {"iacute", 0xED},   {"icirc", 0xEE},     {"iexcl", 0xA1},
    {"igrave", 0xEC},    {"image", 0x2111},  {"infin", 0x221E},   {"int", 0x222B},
    {"iota", 0x3B9},     {"iquest", 0xBF},   {"isin", 0x2208},    {"iuml", 0xEF},
    {"kappa", 0x3BA},    {"lArr", 0x21D0},   {"lambda", 0x3BB},   {"lang", 0x2329},
    {"laquo", 0xAB},     {"larr", 0x2190},   {"lceil", 0x2308},   {"ldquo", 0x201C},
    {"le", 0x2264},      {"lfloor", 0x230A}, {"lowast", 0x2217},  {"loz", 0x25CA},
    {"lrm", 0x200E},     {"lsaquo", 0x2039}, {"lsquo", 0x2018},   {"lt", 0x3C},
    {"macr", 0xAF},      {"mdash", 0x2014},  {"micro", 0xB5},     {"middot", 0xB7},
    {"minus", 0x2212},   {"mu", 0x3BC},      {"nabla", 0x2207},   {"nbsp", 0xA0},
    {"ndash", 0x2013},   {"ne", 0x2260},     {"ni", 0x220B},      {"not", 0xAC},
    {"notin", 0x2209},   {"nsub", 0x2284},   {"ntilde", 0xF1},    {"nu", 0x3BD},
    {"oacute", 0xF3},    {"ocirc", 0xF4},    {"oelig", 0x153},    {"ograve", 0xF2},
    {"oline", 0x203E},   {"omega", 0x3C9},   {"omicron", 0x3BF},  {"oplus", 0x2295},
    {"or", 0x2228},      {"ordf", 0xAA},     {"ordm", 0xBA},      {"oslash", 0xF8},
    {"otilde", 0xF5},    {"otimes", 0x2297}, {"ouml", 0xF6},      {"para", 0xB6},
    {"part", 0x2202},    {"permil", 0x2030}, {"perp", 0x22A5},    {"phi", 0x3C6},
    {"pi", 0x3C0},       {"piv", 0x3D6},     {"plusmn", 0xB1},    {"pound", 0xA3},
    {"prime", 0x2032},   {"prod", 0x220F},   {"prop", 0x221D},    {"psi", 0x3C8},
    {"quot", 0x22},      {"rArr", 0x21D2},   {"radic", 0x221A},   {"rang", 0x232A},
    {"raquo", 0xBB},     {"rarr", 0x2192},   {"rceil", 0x2309},   {"rdquo", 0x201D},
    {"real", 0x211C},    {"reg", 0xAE},      {"rfloor", 0x230B},  {"rho", 0x3C1},
    {"rlm", 0x200F},     {"rsaquo", 0x203A}, {"rsquo", 0x2019},   {"sbquo", 0x201A},
    {"scaron", 0x161},   {"sdot", 0x22C5},   {"sect", 0xA7},      {"shy", 0xAD},
    {"sigma", 0x3C3},    {"sigmaf", 0x3C2},  {"sim", 0x223C},     {"spades", 0x2660},
    {"sub", 0x2282},     {"sube", 0x2286},   {"sum", 0x2211},     {"sup", 0x2283},
    {"sup1", 0xB9},      {"sup2", 0xB2},     {"sup3", 0xB3},      {"supe", 0x2287},
    {"szlig", 0xDF},     {"tau", 0x3C4},     {"there4", 0x2234},  {"theta", 0x3B8},
    {"thetasym", 0x3D1}, {"thinsp", 0x2009}, {"thorn", 0xFE},     {"tilde", 0x2DC},
    {"times", 0xD7},     {"trade", 0x2122},  {"uArr", 0x21D1},    {"uacute", 0xFA},
    {"uarr", 0x2191},    {"ucirc", 0xFB},    {"ugrave", 0xF9},    {"uml", 0xA8},
    {"upsih", 0x3D2},    {"upsilon", 0x3C5}, {"uuml", 0xFC},      {"weierp", 0x2118},
    {"xi", 0x3BE},       {"yacute", 0xFD},   {"yen", 0xA5},       {"yuml", 0xFF},
    {"zeta", 0x3B6},     {"zwj", 0x200D},    {"zwnj", 0x200C},
};

/* What browsers make of &#128; to &#159;: the windows-1252 characters
 * (HTML's numeric character reference replacement table). */
static const uint16_t html_c1[32] = {
    0x20AC, 0x81,   0x201A, 0x192,  0x201E, 0x2026, 0x2020, 0x2021, 0x2C6,  0x2030, 0x160,
    0x2039, 0x152,  0x8D,   0x17D,  0x8F,   0x90,   0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x2DC,  0x2122, 0x161,  0x203A, 0x153,  0x9D,   0x17E,  0x178,
};

static const struct html_entity *ent_find(const char *s, size_t n)
{
	long i = index_find(ent_slots, ENT_SLOTS, html_entities, sizeof(html_entities[0]), s, n,
	                    name_hash(s, n));

	return i < 0 ? NULL : &html_entities[i];
}

static unsigned num_fix(unsigned long v)
{
	if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0xFFFD;
	if (v >= 0x80 && v <= 0x9F)
		return html_c1[v - 0x80];
	return (unsigned)v;
}

/* Decodes "&#NNN;" or "&#xHH;" at p (the ';' is optional). */
static size_t ent_numeric(const char *p, const char *end, unsigned *cp)
{
	const char *q = p + 2, *digits;
	int hex = q < end && (*q == 'x' || *q == 'X');
	unsigned long v = 0;

	q += hex;
	for (digits = q; q < end; q++) {
		int x = hex ? hex_val(*q) : (is_digit(*q) ? *q - '0' : -1);

		if (x < 0)
			break;
		if (v <= 0x10FFFF)
			v = v * (hex ? 16 : 10) + (unsigned)x;
	}
	if (q == digits)
		return 0;
	if (q < end && *q == ';')
		q++;
	*cp = num_fix(v);
	return (size_t)(q - p);
}

/* Decodes a named reference at p. With the ';' any name counts; without it
 * only the legacy Latin-1 names do (the longest that fits, as browsers do),
 * and in an attribute not when a letter, digit or '=' follows. */
static size_t ent_named(const char *p, const char *end, int in_attr, unsigned *cp)
{
	const char *s = p + 1;
	const struct html_entity *e;
	size_t n = 0, k;

	while (n < 32 && s + n < end && is_alnum(s[n]))
		n++;
	if (s + n < end && s[n] == ';' && n && (e = ent_find(s, n))) {
		*cp = e->cp;
		return n + 2;
	}
	for (k = n < 8 ? n : 8; k >= 2; k--) {
		e = ent_find(s, k);
		if (!e || e->cp > 0xFF || e->cp == '\'')
			continue;
		if (in_attr && s + k < end && (is_alnum(s[k]) || s[k] == '='))
			return 0;
		*cp = e->cp;
		return k + 1;
	}
	return 0;
}

/* Decodes the character reference at p (p[0] == '&') into *cp and returns
 * its length, or 0 when there is none (the '&' is plain text). */
static size_t ent_decode(const char *p, const char *end, int in_attr, unsigned *cp)
{
	if (p + 1 < end && p[1] == '#')
		return ent_numeric(p, end, cp);
	return ent_named(p, end, in_attr, cp);
}

/* Appends the value v[0..n) with its character references decoded. */
static int attr_decode(const char *v, size_t n, sbuf *b)
{
	const char *end = v + n;
	char u[4];

	sbuf_reset(b);
	if (sbuf_add(b, "", 0))
		return SS_ENOMEM;
	while (v < end) {
		const char *amp = memchr(v, '&', (size_t)(end - v));
		unsigned cp;
		size_t k;

		if (sbuf_add(b, v, (size_t)((amp ? amp : end) - v)))
			return SS_ENOMEM;
		if (!amp)
			break;
		k = ent_decode(amp, end, 1, &cp);
		if (k ? sbuf_add(b, u, utf8_put(cp, u)) : sbuf_add(b, "&", 1))
			return SS_ENOMEM;
		v = amp + (k ? k : 1);
	}
	return 0;
}
/* ---- tags ---- */

enum {
	T_VOID = 1 << 0,     /* no content, no end tag */
	T_BR1 = 1 << 1,      /* a line break before and after */
	T_BR2 = 1 << 2,      /* a blank line before and after */
	T_CELL = 1 << 3,     /* a space before and after */
	T_SPECIAL = 1 << 4,  /* block-ish: an inline end tag does not close past it */
	T_FMT = 1 << 5,      /* formatting: its end tag closes past blocks */
	T_DROP = 1 << 6,     /* raw text that is not shown (script, style...) */
	T_RAWTEXT = 1 << 7,  /* raw text that is shown (textarea, xmp) */
	T_HEAD = 1 << 8,     /* may appear in <head> without closing it */
	T_CLOSEP = 1 << 9,   /* closes an open <p> */
	T_BGCOLOR = 1 << 10, /* honours bgcolor= and background= */
	T_SCOPE = 1 << 11,   /* bounds the search for an open <p>, <li>, <dd> */
	T_LSCOPE = 1 << 12,  /* also bounds the search for <li> */
	T_TSCOPE = 1 << 13,  /* bounds the search for <td>, <tr> */
	T_TPART = 1 << 14,   /* a part of a table: its end tag looks up to T_TSCOPE */
};

#define BLK (T_BR1 | T_SPECIAL | T_CLOSEP)
#define PARA (T_BR2 | T_SPECIAL | T_CLOSEP)
#define CELL (T_CELL | T_SPECIAL | T_BGCOLOR | T_SCOPE | T_TPART)

/* Known elements. */
/* clang-format off */
#define HTML_TAGS(X)                                                                              \
	X(A, "a", T_FMT) X(ADDRESS, "address", BLK) X(AREA, "area", T_VOID)                       \
	X(ARTICLE, "article", BLK) X(ASIDE, "aside", BLK) X(B, "b", T_FMT)                        \
	X(BASE, "base", T_VOID | T_HEAD) X(BASEFONT, "basefont", T_VOID | T_HEAD)                 \
	X(BIG, "big", T_FMT) X(BLOCKQUOTE, "blockquote", PARA)                                    \
	X(BODY, "body", T_SPECIAL | T_BGCOLOR) X(BR, "br", T_VOID)                                \
	X(BUTTON, "button", T_SPECIAL | T_SCOPE)                                                  \
	X(CAPTION, "caption", T_BR1 | T_SPECIAL | T_SCOPE | T_TPART) X(CENTER, "center", BLK)     \
	X(CODE, "code", T_FMT) X(COL, "col", T_VOID) X(COLGROUP, "colgroup", T_SPECIAL)           \
	X(DD, "dd", T_BR1 | T_SPECIAL) X(DETAILS, "details", BLK) X(DIALOG, "dialog", BLK)        \
	X(DIR, "dir", BLK) X(DIV, "div", BLK) X(DL, "dl", BLK) X(DT, "dt", T_BR1 | T_SPECIAL)     \
	X(EM, "em", T_FMT) X(EMBED, "embed", T_VOID) X(FIELDSET, "fieldset", BLK)                 \
	X(FIGCAPTION, "figcaption", BLK) X(FIGURE, "figure", BLK) X(FONT, "font", T_FMT)          \
	X(FOOTER, "footer", BLK) X(FORM, "form", BLK) X(FRAME, "frame", T_VOID)                   \
	X(FRAMESET, "frameset", T_SPECIAL) X(H1, "h1", PARA) X(H2, "h2", PARA)                    \
	X(H3, "h3", PARA) X(H4, "h4", PARA) X(H5, "h5", PARA) X(H6, "h6", PARA)                   \
	X(HEAD, "head", T_SPECIAL | T_HEAD) X(HEADER, "header", BLK) X(HGROUP, "hgroup", BLK)     \
	X(HR, "hr", T_VOID | T_BR2 | T_CLOSEP)                                                    \
	X(HTML, "html", T_SPECIAL | T_HEAD | T_SCOPE | T_TSCOPE) X(I, "i", T_FMT)                 \
	X(IFRAME, "iframe", T_DROP) X(IMG, "img", T_VOID) X(INPUT, "input", T_VOID)               \
	X(KEYGEN, "keygen", T_VOID) X(LABEL, "label", 0) X(LEGEND, "legend", T_BR1)               \
	X(LI, "li", T_BR1 | T_SPECIAL) X(LINK, "link", T_VOID | T_HEAD)                           \
	X(LISTING, "listing", PARA) X(MAIN, "main", BLK)                                          \
	X(MARQUEE, "marquee", T_SPECIAL | T_SCOPE) X(MENU, "menu", BLK)                           \
	X(META, "meta", T_VOID | T_HEAD) X(NAV, "nav", BLK) X(NOBR, "nobr", T_FMT)                \
	X(NOEMBED, "noembed", T_DROP) X(NOFRAMES, "noframes", T_DROP | T_HEAD)                    \
	X(NOSCRIPT, "noscript", T_HEAD) X(OBJECT, "object", T_SPECIAL | T_SCOPE)                  \
	X(OL, "ol", BLK | T_LSCOPE) X(OPTGROUP, "optgroup", T_BR1) X(OPTION, "option", T_BR1)     \
	X(P, "p", PARA) X(PARAM, "param", T_VOID) X(PLAINTEXT, "plaintext", BLK)                  \
	X(PRE, "pre", PARA) X(S, "s", T_FMT) X(SCRIPT, "script", T_DROP | T_HEAD)                 \
	X(SECTION, "section", BLK) X(SELECT, "select", 0) X(SMALL, "small", T_FMT)                \
	X(SOURCE, "source", T_VOID) X(SPAN, "span", 0) X(STRIKE, "strike", T_FMT)                 \
	X(STRONG, "strong", T_FMT) X(STYLE, "style", T_DROP | T_HEAD)                             \
	X(SUMMARY, "summary", BLK)                                                                \
	X(TABLE, "table", BLK | T_BGCOLOR | T_SCOPE | T_TSCOPE | T_TPART)                         \
	X(TBODY, "tbody", T_SPECIAL | T_TPART) X(TD, "td", CELL)                                  \
	X(TEMPLATE, "template", T_SPECIAL | T_HEAD | T_SCOPE | T_TSCOPE)                          \
	X(TEXTAREA, "textarea", T_RAWTEXT) X(TFOOT, "tfoot", T_SPECIAL | T_TPART)                 \
	X(TH, "th", CELL) X(THEAD, "thead", T_SPECIAL | T_TPART) X(TITLE, "title", T_DROP | T_HEAD) \
	X(TR, "tr", T_BR1 | T_SPECIAL | T_BGCOLOR | T_TPART) X(TRACK, "track", T_VOID)            \
	X(TT, "tt", T_FMT) X(U, "u", T_FMT) X(UL, "ul", BLK | T_LSCOPE) X(WBR, "wbr", T_VOID)     \
	X(XMP, "xmp", T_RAWTEXT | T_CLOSEP)
/* clang-format on */

#define TAG_ENUM(id, name, flags) TAG_##id,
enum { TAG_UNKNOWN = 0, HTML_TAGS(TAG_ENUM) TAG_COUNT };

static const struct {
	const char *name;
	unsigned flags;
} html_tags[] = {
#define TAG_ROW(id, name, flags) {name, flags},
    HTML_TAGS(TAG_ROW)
#undef TAG_ROW
};

/* Attributes this module reads. */
enum {
	A_STYLE,
	A_HIDDEN,
	A_CLASS,
	A_HREF,
	A_SRC,
	A_ALT,
	A_ACTION,
	A_COLOR,
	A_BGCOLOR,
	A_TEXT,
	A_SIZE,
	A_BACKGROUND,
	A_COUNT
};

struct html_span {
	const char *p; /* NULL: absent */
	size_t n;
};

struct html_tag {
	unsigned id;    /* TAG_*, TAG_UNKNOWN */
	uint32_t key;   /* id, or a hash of an unknown name with the top bit set */
	unsigned flags; /* T_* */
	unsigned have;  /* bit A_* set: attr[A_*] was seen */
	struct html_span attr[A_COUNT];
};

/* Returns attribute `id` of t, {NULL, 0} when absent. */
static struct html_span tag_attr(const struct html_tag *t, int id)
{
	struct html_span none = {NULL, 0};

	return (t->have >> id) & 1 ? t->attr[id] : none;
}

static int tag_has(const struct html_tag *t, int id)
{
	return (t->have >> id) & 1;
}

static int attr_id(const char *s, size_t n)
{
	static const char *const names[A_COUNT] = {
	    "style",  "hidden", "class",   "href", "src",  "alt",
	    "action", "color",  "bgcolor", "text", "size", "background",
	};
	/* Candidates by name length, as A_* + 1 (0: none). */
	static const unsigned char by_len[11][3] = {
	    [3] = {A_SRC + 1, A_ALT + 1},
	    [4] = {A_HREF + 1, A_TEXT + 1, A_SIZE + 1},
	    [5] = {A_STYLE + 1, A_CLASS + 1, A_COLOR + 1},
	    [6] = {A_HIDDEN + 1, A_ACTION + 1},
	    [7] = {A_BGCOLOR + 1},
	    [10] = {A_BACKGROUND + 1},
	};
	int i, id;

	if (n < 3 || n > 10)
		return -1;
	for (i = 0; i < 3 && by_len[n][i]; i++) {
		id = by_len[n][i] - 1;
		if (to_lower(s[0]) == names[id][0] && span_is(s, n, names[id]))
			return id;
	}
	return -1;
}

static void tag_name(struct html_tag *t, const char *s, size_t n)
{
	char b[16];
	uint32_t h = 2166136261u;
	size_t i;
	long k = -1;

	for (i = 0; i < n; i++) {
		unsigned char c = to_lower(s[i]);

		h = (h ^ c) * 16777619u;
		if (i < sizeof(b))
			b[i] = (char)c;
	}
	if (n <= sizeof(b))
		k = index_find(tag_slots, TAG_SLOTS, html_tags, sizeof(html_tags[0]), b, n, h);
	if (k >= 0) {
		t->id = t->key = (unsigned)k + 1;
		t->flags = html_tags[k].flags;
		return;
	}
	t->id = TAG_UNKNOWN;
	t->key = h | 0x80000000u;
	t->flags = 0;
}

/* Parses one attribute at p (not white space, '/' or '>'); keeps it when
 * it is one we read and the first of its name. Returns the next byte, or
 * `end` when the input ends inside a quoted value. */
static const char *attr_parse(const char *p, const char *end, struct html_tag *t)
{
	const char *name = p++, *v = p;
	size_t vn = 0;
	int id;

	while (p < end && !in_set(*p, SET_ATTR_END))
		p++;
	id = attr_id(name, (size_t)(p - name));
	p = skip_ws(p, end);
	if (p < end && *p == '=') {
		p = skip_ws(p + 1, end);
		if (p < end && (*p == '"' || *p == '\'')) {
			const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));
			if (!q)
				return end;
			v = p + 1;
			vn = (size_t)(q - v);
			p = q + 1;
		} else {
			for (v = p; p < end && !in_set(*p, SET_VALUE_END); p++)
				;
			vn = (size_t)(p - v);
		}
	}
	if (id >= 0 && !tag_has(t, id)) {
		t->have |= 1u << id;
		t->attr[id].p = v;
		t->attr[id].n = vn;
	}
	return p;
}

/* Parses the tag whose name starts at p; returns the byte after its '>',
 * or NULL when the input ends inside the tag. */
static const char *tag_parse(const char *p, const char *end, struct html_tag *t)
{
	const char *name = p;

	while (p < end && !in_set(*p, SET_NAME_END))
		p++;
	tag_name(t, name, (size_t)(p - name));
	t->have = 0;
	while (p < end) {
		if (*p == '>')
			return p + 1;
		if (is_ws(*p) || *p == '/')
			p++;
		else
			p = attr_parse(p, end, t);
	}
	return NULL;
}

/* ---- state ---- */

/* Where text goes; pending separators are written only before more text,
 * so the output never starts or ends with white space. */
struct html_sink {
	sbuf *b;
	size_t start;     /* b->len when this call began */
	size_t cap;       /* most bytes past start (anchor text), 0: no limit */
	unsigned char nl; /* pending line breaks, 0-2 */
	unsigned char sp; /* pending space */
};

/* What an open element passes on to its content. */
struct html_elem {
	uint32_t key;    /* see html_tag.key; 0 for the root */
	uint32_t fg, bg; /* text and background colour, 0xRRGGBB or CSS_COLOR_* */
	uint16_t tflags; /* T_* */
	uint16_t hide;   /* HTML_F_* reasons the text is hidden, 0: visible */
	uint8_t none;    /* display:none and the like: descendants cannot undo it */
	uint8_t vis;     /* visibility:hidden (a descendant may say visible) */
	uint8_t tiny;    /* tiny font (a descendant may set a readable size) */
	uint8_t drop;    /* content not rendered at all (<head>, <template>) */
	uint8_t pre;     /* line breaks kept */
	uint8_t fg_src;  /* 0 default, 1 HTML attribute, 2 inline style */
	uint8_t bg_src;
};

struct html_state {
	ss_arena *a;
	html_out *out;
	int err;
	struct html_sink text, hidden, ltext;
	sbuf abuf;         /* decoded attribute values, style sheets */
	sbuf lbuf;         /* text of the open link */
	size_t cur_link;   /* index in out->links of the open <a>, or HTML_NO_LINK */
	size_t link_first; /* out->nlinks when this call began */
	size_t max_links;
	uint8_t last_hidden;  /* the last text went to `hidden` */
	unsigned depth;       /* entries used in stack, the root included */
	unsigned head_at;     /* index of the open <head>, 0: none */
	size_t overflow;      /* open elements past the stack */
	size_t ovf_at;        /* overflow level of the hidden element in ovf, 0: none */
	struct html_elem ovf; /* the first hidden element past the stack */
	struct html_elem stack[HTML_MAX_DEPTH];
	struct css_sheet sheet; /* what <style> sheets said */
};

static const struct html_elem *cur(const struct html_state *st)
{
	return st->ovf_at ? &st->ovf : &st->stack[st->depth - 1];
}

static int link_open(const struct html_state *st)
{
	return st->cur_link != HTML_NO_LINK;
}

/* ---- output ---- */

/* Appends p[0..n) to the sink, after the pending separator if the sink
 * already holds text of this call. */
static void sink_put(struct html_state *st, struct html_sink *k, const char *p, size_t n)
{
	sbuf *b = k->b;
	size_t ns = (k->nl || k->sp) && b->len > k->start ? (k->nl ? k->nl : 1) : 0;
	char sep = k->nl ? '\n' : ' ', *o;

	k->nl = k->sp = 0;
	if (k->cap) {
		size_t used = b->len - k->start, room = k->cap > used ? k->cap - used : 0;

		if (ns >= room)
			return;
		if (n > room - ns)
			n = utf8_trim_partial(p, room - ns);
	}
	if (!n)
		return;
	if (b->cap - b->len <= ns + n && sbuf_reserve(b, ns + n)) {
		st->err = SS_ENOMEM;
		return;
	}
	o = b->p + b->len;
	if (ns)
		o[0] = o[ns - 1] = sep;
	memcpy(o + ns, p, n);
	b->len += ns + n;
	b->p[b->len] = '\0';
}

static void sink_block(struct html_sink *k, unsigned n)
{
	if (k->nl < n)
		k->nl = (unsigned char)n;
}

static void sink_br(struct html_sink *k, unsigned n)
{
	k->nl = (unsigned char)(k->nl + n > 2 ? 2 : k->nl + n);
}

/* Sends a run of text to where the current element's text goes. */
static void emit(struct html_state *st, const char *p, size_t n)
{
	const struct html_elem *e = cur(st);

	if (e->drop)
		return;
	if (e->hide) {
		st->out->facts |= HTML_F_HIDDEN_TEXT | e->hide;
		st->hidden.sp |= !st->last_hidden; /* hidden pieces do not glue together */
		st->last_hidden = 1;
		sink_put(st, &st->hidden, p, n);
		return;
	}
	st->last_hidden = 0;
	sink_put(st, &st->text, p, n);
	if (link_open(st))
		sink_put(st, &st->ltext, p, n);
}

/* White space in text: a space, or line breaks inside <pre>. */
static void emit_space(struct html_state *st, unsigned nl)
{
	const struct html_elem *e = cur(st);
	struct html_sink *k = e->hide ? &st->hidden : &st->text;

	if (e->drop)
		return;
	if (e->pre && nl)
		sink_br(k, nl);
	else
		k->sp = 1;
	if (!e->hide && link_open(st))
		st->ltext.sp = 1;
}

/* The break element e makes (T_BR1, T_BR2, T_CELL in flags); an element
 * that is hidden breaks only the hidden text, a dropped one nothing. */
static void emit_break(struct html_state *st, unsigned flags, const struct html_elem *e)
{
	unsigned n = (flags & T_BR2) ? 2 : (flags & T_BR1) ? 1 : 0;

	if (!(flags & (T_BR1 | T_BR2 | T_CELL)) || e->drop)
		return;
	if (n) {
		sink_block(&st->hidden, n);
		if (!e->hide)
			sink_block(&st->text, n);
	} else {
		st->hidden.sp = 1;
		if (!e->hide)
			st->text.sp = 1;
	}
	if (!e->hide)
		st->ltext.sp = 1;
}

static void emit_br(struct html_state *st)
{
	const struct html_elem *e = cur(st);

	if (e->drop)
		return;
	sink_br(&st->hidden, 1);
	if (!e->hide) {
		sink_br(&st->text, 1);
		st->ltext.sp = 1;
	}
}

/* ---- links ---- */

/* Cleans a decoded URL in place (s[n] is a NUL): no tab or line break
 * anywhere (browsers drop them), no space or control character at either
 * end. */
static size_t url_clean(char *s, size_t n)
{
	size_t i = strcspn(s, "\t\n\r"), o = i;

	for (; i < n; i++)
		if (s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			s[o++] = s[i];
	while (o && (unsigned char)s[o - 1] <= ' ')
		o--;
	for (i = 0; i < o && (unsigned char)s[i] <= ' '; i++)
		;
	memmove(s, s + i, o - i);
	return o - i;
}

/* Collapses runs of white space and control characters to one space in
 * place, trims both ends and cuts the result to HTML_LINK_TEXT_MAX bytes. */
static size_t ws_collapse(char *s, size_t n)
{
	size_t i, o = 0;
	int sp = 0;

	for (i = 0; i < n && o < HTML_LINK_TEXT_MAX; i++) {
		if ((unsigned char)s[i] <= ' ') {
			sp = o > 0;
			continue;
		}
		if (sp)
			s[o++] = ' ';
		sp = 0;
		s[o++] = s[i];
	}
	o = utf8_trim_partial(s, o < HTML_LINK_TEXT_MAX ? o : HTML_LINK_TEXT_MAX);
	while (o && s[o - 1] == ' ')
		o--;
	return o;
}

static ss_str arena_span(struct html_state *st, const char *p, size_t n)
{
	ss_str s = arena_str(st->a, p ? p : "", n);

	if (!s.p)
		st->err = SS_ENOMEM;
	return s;
}

/* Adds a link for the attribute value `href` (and the raw text `alt`, may
 * be absent); returns its index or HTML_NO_LINK. */
static size_t link_add(struct html_state *st, int kind, struct html_span href, struct html_span alt)
{
	html_out *out = st->out;
	html_link *l;

	if (!href.p || out->nlinks - st->link_first >= st->max_links)
		return HTML_NO_LINK;
	if (attr_decode(href.p, href.n, &st->abuf))
		goto oom;
	st->abuf.len = url_clean(st->abuf.p, st->abuf.len);
	if (!st->abuf.len)
		return HTML_NO_LINK;
	if (arena_grow(st->a, (void **)&out->links, &out->caplinks, out->nlinks, sizeof(html_link)))
		goto oom;
	l = &out->links[out->nlinks];
	l->kind = kind;
	l->href = arena_span(st, st->abuf.p, st->abuf.len);
	l->text = (ss_str){"", 0};
	if (alt.p && attr_decode(alt.p, alt.n, &st->abuf))
		goto oom;
	if (alt.p)
		l->text = arena_span(st, st->abuf.p, ws_collapse(st->abuf.p, st->abuf.len));
	return st->err ? HTML_NO_LINK : out->nlinks++;
oom:
	st->err = SS_ENOMEM;
	return HTML_NO_LINK;
}

/* Ends the open <a>: its text is what was seen since it opened. */
static void link_finish(struct html_state *st)
{
	if (!link_open(st))
		return;
	st->out->links[st->cur_link].text = arena_span(st, st->lbuf.p, st->lbuf.len);
	st->cur_link = HTML_NO_LINK;
}

static void link_begin(struct html_state *st, const struct html_tag *t)
{
	struct html_span none = {NULL, 0};

	link_finish(st);
	st->cur_link = link_add(st, HTML_LINK_A, tag_attr(t, A_HREF), none);
	sbuf_reset(&st->lbuf);
	st->ltext.nl = st->ltext.sp = 0;
}

/* Records the links a start tag carries. */
static void tag_links(struct html_state *st, const struct html_tag *t)
{
	struct html_span none = {NULL, 0};

	switch (t->id) {
	case TAG_A:
		link_begin(st, t);
		break;
	case TAG_AREA:
		link_add(st, HTML_LINK_AREA, tag_attr(t, A_HREF), tag_attr(t, A_ALT));
		break;
	case TAG_IMG:
		link_add(st, HTML_LINK_IMG, tag_attr(t, A_SRC), tag_attr(t, A_ALT));
		break;
	case TAG_FORM:
		link_add(st, HTML_LINK_FORM, tag_attr(t, A_ACTION), none);
		break;
	case TAG_IFRAME:
	case TAG_FRAME:
	case TAG_EMBED:
		link_add(st, HTML_LINK_OTHER, tag_attr(t, A_SRC), none);
		break;
	}
	if (t->flags & T_BGCOLOR)
		link_add(st, HTML_LINK_OTHER, tag_attr(t, A_BACKGROUND), none);
}

/* ---- elements ---- */

static unsigned elem_hide(const struct html_state *st, const struct html_elem *e)
{
	unsigned h = 0;
	int fg_sure = e->fg_src == 2 || !st->sheet.fg, bg_sure = e->bg_src == 2 || !st->sheet.bg;

	if (e->none || e->vis)
		h |= HTML_F_DISPLAY_NONE;
	if (e->tiny)
		h |= HTML_F_TINY_FONT;
	if (e->fg == CSS_COLOR_CLEAR ||
	    (fg_sure && bg_sure && e->bg != CSS_COLOR_UNKNOWN && css_color_near(e->fg, e->bg)))
		h |= HTML_F_SAME_COLOR;
	return h;
}

/* Recomputes every open element's hiding after a <style> sheet changed
 * how sure colours are. */
static void stack_rehide(struct html_state *st)
{
	unsigned i;

	for (i = 0; i < st->depth; i++)
		st->stack[i].hide = (uint16_t)elem_hide(st, &st->stack[i]);
	st->ovf.hide = (uint16_t)elem_hide(st, &st->ovf);
}

static void elem_attr_colors(struct html_elem *e, const struct html_tag *t)
{
	struct html_span color = tag_attr(t, t->id == TAG_BODY ? A_TEXT : A_COLOR);
	struct html_span bg = tag_attr(t, A_BGCOLOR), size = tag_attr(t, A_SIZE);
	uint32_t c;

	if (t->id == TAG_A && tag_has(t, A_HREF))
		e->fg = COLOR_LINK, e->fg_src = 1;
	if ((t->id == TAG_FONT || t->id == TAG_BODY) && color.p &&
	    css_color_legacy(color.p, color.n, &c))
		e->fg = c, e->fg_src = 1;
	if ((t->flags & T_BGCOLOR) && bg.p && css_color_legacy(bg.p, bg.n, &c))
		e->bg = c, e->bg_src = 1;
	if ((t->flags & T_BGCOLOR) && tag_attr(t, A_BACKGROUND).n)
		e->bg = CSS_COLOR_UNKNOWN, e->bg_src = 1;
	if (t->id == TAG_FONT && size.p) {
		trim(&size.p, &size.n);
		if (size.n && is_digit(size.p[0]))
			e->tiny = span_is(size.p, size.n, "0");
	}
}

static void elem_style(struct html_state *st, struct html_elem *e, struct html_span v)
{
	struct css_style y;

	if (attr_decode(v.p, v.n, &st->abuf)) {
		st->err = SS_ENOMEM;
		return;
	}
	css_style_parse(&y, st->abuf.p, st->abuf.len);
	e->none |= y.none;
	if (y.vis >= 0)
		e->vis = (uint8_t)y.vis;
	if (y.tiny >= 0)
		e->tiny = (uint8_t)y.tiny;
	if (y.has_fg)
		e->fg = y.fg, e->fg_src = 2;
	if (y.has_bg && y.bg != CSS_COLOR_CLEAR)
		e->bg = y.bg, e->bg_src = 2;
}

/* Works out what element t passes on to its content, from `up`. */
static void elem_derive(struct html_state *st, struct html_elem *e, const struct html_elem *up,
                        const struct html_tag *t)
{
	unsigned ch;

	*e = *up;
	e->key = t->key;
	e->tflags = (uint16_t)t->flags;
	e->drop |= t->id == TAG_HEAD || t->id == TAG_TEMPLATE;
	e->pre |= t->id == TAG_PRE || t->id == TAG_LISTING || t->id == TAG_TEXTAREA;
	e->none |= tag_has(t, A_HIDDEN);
	if (st->sheet.nclass && tag_has(t, A_CLASS)) {
		ch = css_class_hide(&st->sheet, t->attr[A_CLASS].p, t->attr[A_CLASS].n);
		e->none |= (ch & HTML_F_DISPLAY_NONE) != 0;
		e->tiny |= (ch & HTML_F_TINY_FONT) != 0;
	}
	elem_attr_colors(e, t);
	if (tag_has(t, A_STYLE))
		elem_style(st, e, tag_attr(t, A_STYLE));
	e->hide = (uint16_t)elem_hide(st, e);
}

/* Closes the open elements from the top down to stack[i] included, with
 * the breaks they make. */
static void stack_pop_to(struct html_state *st, unsigned i)
{
	while (st->depth > i) {
		const struct html_elem *e = &st->stack[--st->depth];

		emit_break(st, e->tflags, e);
		if (e->key == TAG_A)
			link_finish(st);
	}
	if (st->head_at >= st->depth)
		st->head_at = 0;
}

/* Finds the open element a or b, searching down from the top and giving up
 * at an element with a flag in `stop`; returns its index or 0. */
static unsigned stack_find(const struct html_state *st, uint32_t a, uint32_t b, unsigned stop)
{
	unsigned i;

	for (i = st->depth - 1; i > 0; i--) {
		if (st->stack[i].key == a || st->stack[i].key == b)
			return i;
		if (st->stack[i].tflags & stop)
			return 0;
	}
	return 0;
}

static void stack_close(struct html_state *st, uint32_t a, uint32_t b, unsigned stop)
{
	unsigned i = stack_find(st, a, b, stop);

	if (i)
		stack_pop_to(st, i);
}

/* The end tags a start tag implies: <p> before a block, <li> before <li>,
 * a cell before a cell, an <a> before an <a>... */
static void implied_close(struct html_state *st, const struct html_tag *t)
{
	if (t->id == TAG_A)
		link_finish(st);
	if (st->overflow)
		return;
	if (t->flags & T_CLOSEP)
		stack_close(st, TAG_P, TAG_P, T_SCOPE);
	switch (t->id) {
	case TAG_LI:
		stack_close(st, TAG_LI, TAG_LI, T_SCOPE | T_LSCOPE);
		break;
	case TAG_DD:
	case TAG_DT:
		stack_close(st, TAG_DD, TAG_DT, T_SCOPE);
		break;
	case TAG_TD:
	case TAG_TH:
		stack_close(st, TAG_TD, TAG_TH, T_TSCOPE);
		break;
	case TAG_TR:
		stack_close(st, TAG_TR, TAG_TR, T_TSCOPE);
		break;
	case TAG_OPTION:
		stack_close(st, TAG_OPTION, TAG_OPTION, ~0u);
		break;
	case TAG_A:
		stack_close(st, TAG_A, TAG_A, 0);
		break;
	case TAG_BODY:
		if (st->head_at)
			stack_pop_to(st, st->head_at);
		break;
	}
}

static void stack_push(struct html_state *st, const struct html_tag *t)
{
	struct html_elem e;

	elem_derive(st, &e, cur(st), t);
	emit_break(st, t->flags, &e);
	if (st->overflow || st->depth == HTML_MAX_DEPTH) {
		st->overflow++;
		if (!st->ovf_at && (e.hide || e.drop)) {
			st->ovf = e;
			st->ovf_at = st->overflow;
		}
		return;
	}
	if (t->id == TAG_HEAD)
		st->head_at = st->depth;
	st->stack[st->depth++] = e;
}

/* ---- <style> sheets ---- */

/* Reads a <style> sheet: whether it sets colours, and its hiding classes. */
static void style_sheet(struct html_state *st, const char *p, const char *end)
{
	sbuf_reset(&st->abuf);
	if (sbuf_add(&st->abuf, p, (size_t)(end - p))) {
		st->err = SS_ENOMEM;
		return;
	}
	if (css_sheet_read(&st->sheet, st->abuf.p, st->abuf.len))
		stack_rehide(st);
}

/* ---- tags in the flow ---- */

static void tag_facts(struct html_state *st, const struct html_tag *t)
{
	switch (t->id) {
	case TAG_SCRIPT:
		st->out->facts |= HTML_F_SCRIPT;
		break;
	case TAG_FORM:
		st->out->facts |= HTML_F_FORM;
		break;
	case TAG_IFRAME:
	case TAG_FRAME:
		st->out->facts |= HTML_F_IFRAME;
		break;
	case TAG_IMG:
		st->out->facts |= HTML_F_IMAGES;
		break;
	}
}

static void tag_open(struct html_state *st, const struct html_tag *t)
{
	tag_facts(st, t);
	if (st->head_at && !(t->flags & T_HEAD) && !st->overflow)
		stack_pop_to(st, st->head_at);
	implied_close(st, t);
	if (!cur(st)->drop)
		tag_links(st, t);
	if (t->id == TAG_BR)
		emit_br(st);
	else if (t->flags & (T_VOID | T_DROP | T_RAWTEXT))
		emit_break(st, t->flags, cur(st));
	else
		stack_push(st, t);
}

static void overflow_pop(struct html_state *st)
{
	if (st->ovf_at == st->overflow)
		st->ovf_at = 0;
	st->overflow--;
}

/* Where the search for the element an end tag closes gives up: a table
 * part looks inside its table, a block inside its cell, a formatting
 * element anywhere, anything else inside its block. */
static unsigned close_stop(unsigned flags)
{
	if (flags & T_TPART)
		return T_TSCOPE;
	if (flags & T_FMT)
		return 0;
	return (flags & T_SPECIAL) ? T_SCOPE : T_SPECIAL;
}

static void tag_close(struct html_state *st, const struct html_tag *t)
{
	unsigned i;

	if (t->id == TAG_BR) {
		emit_br(st);
		return;
	}
	if (t->flags & (T_VOID | T_DROP | T_RAWTEXT) || t->id == TAG_BODY || t->id == TAG_HTML)
		return;
	if (t->id == TAG_A)
		link_finish(st);
	if (st->overflow) {
		emit_break(st, t->flags, cur(st));
		overflow_pop(st);
		return;
	}
	i = stack_find(st, t->key, t->key, close_stop(t->flags));
	if (i)
		stack_pop_to(st, i);
	else if (t->id == TAG_P) /* a stray </p> is an empty paragraph */
		emit_break(st, t->flags, cur(st));
}

/* Finds the end tag "</name" of a raw text element; returns its '<', or
 * `end` when there is none. */
static const char *raw_end(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	while (p < end && (p = memchr(p, '<', (size_t)(end - p)))) {
		if ((size_t)(end - p) > n + 2 && p[1] == '/' && span_is(p + 2, n, name) &&
		    (is_ws(p[2 + n]) || p[2 + n] == '/' || p[2 + n] == '>'))
			return p;
		p++;
	}
	return end;
}

static void text_segment(struct html_state *st, const char *p, const char *end);

/* The content of script, style, textarea...: up to the matching end tag. */
static const char *raw_content(struct html_state *st, const struct html_tag *t, const char *p,
                               const char *end)
{
	const char *close = raw_end(p, end, html_tags[t->id - 1].name);

	if (close == end)
		st->out->facts |= HTML_F_MALFORMED;
	if (t->id == TAG_STYLE)
		style_sheet(st, p, close);
	if (t->flags & T_RAWTEXT) {
		stack_push(st, t);
		text_segment(st, p, close);
		if (st->overflow)
			overflow_pop(st);
		else
			stack_pop_to(st, st->depth - 1);
	}
	return close;
}

/* ---- text ---- */

/* A run of white space (and control characters, which are dropped). */
static const char *text_space(struct html_state *st, const char *p, const char *end)
{
	unsigned nl = 0;
	int ws = 0;

	for (; p < end && (unsigned char)*p <= ' '; p++) {
		ws |= is_ws(*p);
		nl += *p == '\n';
	}
	if (ws)
		emit_space(st, nl > 2 ? 2 : nl);
	return p;
}

static const char *text_entity(struct html_state *st, const char *p, const char *end)
{
	unsigned cp;
	char u[4];
	size_t k = ent_decode(p, end, 0, &cp);

	if (!k) {
		emit(st, p, 1);
		return p + 1;
	}
	if (cp == 0xA0 || (cp < 0x80 && is_ws((unsigned char)cp)))
		emit_space(st, cp == '\n');
	else if (cp >= 0x20 && cp != 0x7F)
		emit(st, u, utf8_put(cp, u));
	return p + k;
}

/* Returns the first byte of [p, end) in SET_TEXT_STOP, or end. */
static const char *text_stop(const char *p, const char *end)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	for (; end - p >= 8; p += 8) {
		uint64_t w, amp, m;

		memcpy(&w, p, 8);
		amp = w ^ (ones * '&');
		/* The lowest flagged byte is exact: bytes below 0x21, or '&'. */
		m = ((w - ones * 0x21) & ~w & highs) | ((amp - ones) & ~amp & highs);
		if (m)
			return p + (__builtin_ctzll(m) >> 3);
	}
#endif
	while (p < end && !in_set(*p, SET_TEXT_STOP))
		p++;
	return p;
}

/* Returns the end of the run of ordinary text that starts at `run`: the
 * first byte in SET_TEXT_STOP, but a single space between two ordinary
 * bytes stays in the run. */
static const char *text_run_end(const char *run, const char *end)
{
	const char *p = run;

	for (;;) {
		p = text_stop(p, end);
		if (p + 1 < end && *p == ' ' && p > run && !in_set(p[1], SET_TEXT_STOP))
			p += 2;
		else
			return p;
	}
}

/* Text between tags: ordinary bytes go out in runs, white space collapses,
 * character references are decoded. */
static void text_segment(struct html_state *st, const char *p, const char *end)
{
	if (st->head_at && !st->overflow) {
		if (skip_ws(p, end) == end)
			return;
		stack_pop_to(st, st->head_at);
	}
	while (p < end) {
		const char *q = text_run_end(p, end);

		if (q > p)
			emit(st, p, (size_t)(q - p));
		if (q == end)
			return;
		p = *q == '&' ? text_entity(st, q, end) : text_space(st, q, end);
	}
}

/* ---- markup ---- */

/* Skips a bogus comment (<!DOCTYPE>, <?xml?>, <![CDATA[...) up to '>'. */
static const char *bogus_comment(struct html_state *st, const char *p, const char *end)
{
	const char *q = memchr(p, '>', (size_t)(end - p));

	if (!q) {
		st->out->facts |= HTML_F_MALFORMED;
		return end;
	}
	return q + 1;
}

/* Skips "<!-- ... -->" (also "--!>", "<!-->"); p is after "<!". */
static const char *comment(struct html_state *st, const char *p, const char *end)
{
	const char *q = p + 2;

	while (q < end && (q = memchr(q, '>', (size_t)(end - q)))) {
		if ((q[-1] == '-' && q[-2] == '-') ||
		    (q - p >= 3 && q[-1] == '!' && q[-2] == '-' && q[-3] == '-'))
			return q + 1;
		q++;
	}
	st->out->facts |= HTML_F_MALFORMED;
	return end;
}

static const char *start_tag(struct html_state *st, const char *p, const char *end)
{
	struct html_tag t;
	const char *r = tag_parse(p, end, &t);

	if (!r) {
		st->out->facts |= HTML_F_MALFORMED;
		return end;
	}
	tag_open(st, &t);
	if (t.flags & (T_DROP | T_RAWTEXT))
		r = raw_content(st, &t, r, end);
	return r;
}

static const char *end_tag(struct html_state *st, const char *p, const char *end)
{
	struct html_tag t;
	const char *r;

	if (p + 2 >= end) {
		text_segment(st, p, end);
		return end;
	}
	if (p[2] == '>')
		return p + 3;
	if (!is_alpha(p[2]))
		return bogus_comment(st, p + 2, end);
	r = tag_parse(p + 2, end, &t);
	if (!r) {
		st->out->facts |= HTML_F_MALFORMED;
		return end;
	}
	tag_close(st, &t);
	return r;
}

/* Handles the markup at p (p[0] == '<'); returns where text resumes. */
static const char *markup(struct html_state *st, const char *p, const char *end)
{
	unsigned char c = p + 1 < end ? (unsigned char)p[1] : 0;

	if (is_alpha(c))
		return start_tag(st, p + 1, end);
	if (c == '/')
		return end_tag(st, p, end);
	if (c == '!' && end - p >= 4 && p[2] == '-' && p[3] == '-')
		return comment(st, p + 2, end);
	if (c == '!' || c == '?')
		return bogus_comment(st, p + 2, end);
	text_segment(st, p, p + 1); /* a '<' that opens nothing is text */
	return p + 1;
}

/* ---- entry points ---- */

static void html_index_build(void)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(html_tags); i++)
		index_add(tag_slots, TAG_SLOTS, html_tags[i].name, i);
	for (i = 0; i < ARRAY_LEN(html_entities); i++)
		index_add(ent_slots, ENT_SLOTS, html_entities[i].name, i);
	css_index_build();
}

void html_out_init(html_out *out)
{
	sbuf_init(&out->text);
	sbuf_init(&out->hidden);
	out->links = NULL;
	out->nlinks = 0;
	out->caplinks = 0;
	out->facts = 0;
}

void html_out_release(html_out *out)
{
	sbuf_release(&out->text);
	sbuf_release(&out->hidden);
	html_out_init(out);
}

static void state_init(struct html_state *st, ss_arena *a, size_t max_links, html_out *out)
{
	memset(st, 0, sizeof(*st));
	st->a = a;
	st->out = out;
	st->text.b = &out->text;
	st->text.start = out->text.len;
	st->hidden.b = &out->hidden;
	st->hidden.start = out->hidden.len;
	st->ltext.b = &st->lbuf;
	st->ltext.cap = HTML_LINK_TEXT_MAX;
	st->cur_link = HTML_NO_LINK;
	st->link_first = out->nlinks;
	st->max_links = max_links;
	st->stack[0].fg = 0x000000;
	st->stack[0].bg = 0xffffff;
	st->depth = 1;
	st->ovf = st->stack[0];
}

int html_to_text(ss_arena *a, const char *html, size_t len, size_t max_links, html_out *out)
{
	struct html_state st;
	const char *p = html, *end;

	if (!len)
		return 0;
	pthread_once(&html_once, html_index_build);
	state_init(&st, a, max_links, out);
	end = html + len;
	while (p < end && !st.err) {
		const char *lt = memchr(p, '<', (size_t)(end - p));

		text_segment(&st, p, lt ? lt : end);
		p = lt ? markup(&st, lt, end) : end;
	}
	link_finish(&st);
	sbuf_release(&st.abuf);
	sbuf_release(&st.lbuf);
	return st.err;
}
