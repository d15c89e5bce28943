/*
 * html.h: HTML to visible text, hidden-text facts and links.
 *
 * A tolerant, single-pass tokenizer (no DOM) over UTF-8 HTML: entities
 * decoded, <br> and block elements become line breaks, script/style/head/
 * comments are dropped, white space collapsed as a browser would. Text the
 * reader cannot see (display:none, visibility:hidden, font-size:0 or tiny,
 * colour equal to the background, the hidden attribute) goes to `hidden`
 * instead of `text`. No I/O.
 */
#ifndef SS_MIME_HTML_H
#define SS_MIME_HTML_H

#include <stddef.h>
#include "spamsift.h"
#include "util/arena.h"
#include "util/buf.h"

/* Where a link came from. */
enum { HTML_LINK_A = 1, HTML_LINK_IMG, HTML_LINK_FORM, HTML_LINK_AREA, HTML_LINK_OTHER };

/* A link: href (entities decoded, white space trimmed) and the visible text
 * inside the element (white space collapsed; the alt text for images). */
typedef struct html_link {
	ss_str href;
	ss_str text;
	int kind; /* HTML_LINK_* */
} html_link;

/* Facts about the document, in html_out.facts. */
enum {
	HTML_F_HIDDEN_TEXT = 1 << 0,  /* some text was hidden (any reason below) */
	HTML_F_DISPLAY_NONE = 1 << 1, /* display:none / visibility:hidden / hidden attr */
	HTML_F_TINY_FONT = 1 << 2,    /* font-size 0-2px or <font size=0> */
	HTML_F_SAME_COLOR = 1 << 3,   /* text colour equals the background colour */
	HTML_F_SCRIPT = 1 << 4,       /* has <script> */
	HTML_F_FORM = 1 << 5,         /* has <form> */
	HTML_F_IFRAME = 1 << 6,       /* has <iframe> */
	HTML_F_MALFORMED = 1 << 7,    /* unclosed tags/comments, bad nesting */
	HTML_F_IMAGES = 1 << 8,       /* has <img> */
};

typedef struct html_out {
	sbuf text;        /* visible text, UTF-8 */
	sbuf hidden;      /* hidden text, UTF-8 */
	html_link *links; /* arena array */
	size_t nlinks;
	size_t caplinks;
	unsigned facts; /* HTML_F_* */
} html_out;

/* Prepares `out` (empty buffers, no links). */
void html_out_init(html_out *out);
/* Frees the buffers (links live in the arena). */
void html_out_release(html_out *out);

/* Converts UTF-8 HTML html[0..len) to text, appending to out->text and
 * out->hidden and adding links (strings allocated in `a`), at most
 * `max_links` of them. Returns 0 or SS_ENOMEM. Never fails on bad HTML. */
int html_to_text(ss_arena *a, const char *html, size_t len, size_t max_links, html_out *out);

#endif
