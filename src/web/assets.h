/*
 * assets.h: the web page's files, built into the binary by src/web/embed.sh
 * from src/web/assets/ (index.html is served at /, the rest at their path
 * under /: /app.js, /style.css, /i18n/en.json...).
 */
#ifndef SS_WEB_ASSETS_H
#define SS_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
	const char *path; /* "/", "/app.js" */
	const char *type; /* its Content-Type */
	const unsigned char *data;
	size_t len;
} web_asset;

/* The files, ended by an entry whose path is NULL. */
extern const web_asset web_assets[];

#endif
