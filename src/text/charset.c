/*
 * charset.c: bytes in any charset to UTF-8 NFC text (see charset.h).
 *
 * The work is split in four steps:
 *   1. the label is reduced to a key (lower-case letters and digits) and
 *      looked up in a table of aliases, which maps every label onto the
 *      superset the mail world actually means (gb2312 -> gb18030,
 *      ks_c_5601-1987 -> windows-949, latin1 -> windows-1252, ...);
 *   2. the bytes are checked against the label (BOM, pure ASCII, valid
 *      UTF-8, 8-bit bytes under a 7-bit label) and, when the label is
 *      missing, unknown or plainly wrong, ICU's charset detector decides;
 *   3. the bytes are decoded: UTF-8 is validated in place, legacy charsets go
 *      through ICU (ucnv, streamed into a small UTF-16 buffer; single- and
 *      double-byte text mostly through tables asked of ICU once) or, for
 *      the few that ICU lacks, through glibc iconv;
 *   4. the text is put in NFC: runs below U+0300 and runs that pass ICU's
 *      quick check are copied as they are, the rest is normalised.
 * Valid UTF-8 is also checked for mojibake (UTF-8 once decoded as
 * windows-1252 and encoded again), which is undone when the whole text
 * round-trips.
 *
 * Converters and the detector are costly to open, so each thread keeps a
 * few of them (plus its scratch buffers) in thread-local storage. Nothing is
 * freed at thread exit; everything stays reachable from those variables.
 */
#include "text/charset.h"

#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ucsdet.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "spamsift.h"
#include "util/utf8.h"

/* What kind of encoding a charset is. */
enum {
	CSK_ASCII = 1 << 0, /* ASCII-compatible: pure ASCII input is copied */
	CSK_7BIT = 1 << 1,  /* 7-bit stateful (ISO-2022, HZ, UTF-7) */
	CSK_WEST = 1 << 2,  /* us-ascii/latin-1/windows-1252: valid UTF-8 wins */
	CSK_GUESS = 1 << 3, /* us-ascii: 8-bit bytes mean the label is wrong */
	CSK_UTF8 = 1 << 4,
	CSK_ICONV = 1 << 5, /* decoded by glibc iconv: ICU lacks it */
	CSK_DBCS = 1 << 6,  /* ASCII plus lead 0x81-0xFE pairs: see cs_dec_dbcs */
	CSK_SBCS = 1 << 7,  /* one byte, one character (ICU): see cs_dec_sbcs */
};

struct cs_charset {
	const char *name; /* canonical name reported to the caller */
	const char *conv; /* ICU converter name, or iconv name with CSK_ICONV */
	unsigned kind;
};

/* The tables below read best in columns. */
/* clang-format off */
enum cs_id {
	CS_ASCII, CS_UTF8, CS_UTF16, CS_UTF16LE, CS_UTF16BE, CS_UTF7,
	CS_W1250, CS_W1251, CS_W1252, CS_W1253, CS_W1254, CS_W1255, CS_W1256,
	CS_W1257, CS_W1258, CS_W874,
	CS_8859_2, CS_8859_3, CS_8859_4, CS_8859_5, CS_8859_6, CS_8859_7,
	CS_8859_8, CS_8859_10, CS_8859_13, CS_8859_14, CS_8859_15, CS_8859_16,
	CS_KOI8R, CS_KOI8U, CS_IBM866, CS_MAC, CS_MACCYR,
	CS_GB18030, CS_BIG5, CS_W949, CS_W31J, CS_EUCJP,
	CS_2022JP, CS_2022KR, CS_2022CN, CS_HZ,
	CS_VISCII, CS_TCVN,
	CS_COUNT
};

#define A CSK_ASCII
static const struct cs_charset cs_sets[CS_COUNT] = {
	[CS_ASCII] = {"us-ascii", "ibm-5348_P100-1997", A | CSK_WEST | CSK_GUESS | CSK_SBCS},
	[CS_UTF8] = {"utf-8", "UTF-8", A | CSK_UTF8},
	[CS_UTF16] = {"utf-16", "UTF-16", 0},
	[CS_UTF16LE] = {"utf-16le", "UTF-16LE", 0},
	[CS_UTF16BE] = {"utf-16be", "UTF-16BE", 0},
	[CS_UTF7] = {"utf-7", "UTF-7", CSK_7BIT},
	[CS_W1250] = {"windows-1250", "ibm-5346_P100-1998", A | CSK_SBCS},
	[CS_W1251] = {"windows-1251", "ibm-5347_P100-1998", A | CSK_SBCS},
	[CS_W1252] = {"windows-1252", "ibm-5348_P100-1997", A | CSK_WEST | CSK_SBCS},
	[CS_W1253] = {"windows-1253", "ibm-5349_P100-1998", A | CSK_SBCS},
	[CS_W1254] = {"windows-1254", "ibm-5350_P100-1998", A | CSK_SBCS},
	[CS_W1255] = {"windows-1255", "ibm-9447_P100-2002", A | CSK_SBCS},
	[CS_W1256] = {"windows-1256", "ibm-9448_X100-2005", A | CSK_SBCS},
	[CS_W1257] = {"windows-1257", "ibm-9449_P100-2002", A | CSK_SBCS},
	[CS_W1258] = {"windows-1258", "ibm-5354_P100-1998", A | CSK_SBCS},
	[CS_W874] = {"windows-874", "windows-874-2000", A | CSK_SBCS},
	[CS_8859_2] = {"iso-8859-2", "iso-8859-2", A | CSK_SBCS},
	[CS_8859_3] = {"iso-8859-3", "iso-8859-3", A | CSK_SBCS},
	[CS_8859_4] = {"iso-8859-4", "iso-8859-4", A | CSK_SBCS},
	[CS_8859_5] = {"iso-8859-5", "iso-8859-5", A | CSK_SBCS},
	[CS_8859_6] = {"iso-8859-6", "iso-8859-6", A | CSK_SBCS},
	[CS_8859_7] = {"iso-8859-7", "iso-8859-7", A | CSK_SBCS},
	[CS_8859_8] = {"iso-8859-8", "iso-8859-8", A | CSK_SBCS},
	[CS_8859_10] = {"iso-8859-10", "iso-8859-10", A | CSK_SBCS},
	[CS_8859_13] = {"iso-8859-13", "iso-8859-13", A | CSK_SBCS},
	[CS_8859_14] = {"iso-8859-14", "iso-8859-14", A | CSK_SBCS},
	[CS_8859_15] = {"iso-8859-15", "iso-8859-15", A | CSK_SBCS},
	[CS_8859_16] = {"iso-8859-16", "ISO-8859-16", A | CSK_ICONV},
	[CS_KOI8R] = {"koi8-r", "koi8-r", A | CSK_SBCS},
	[CS_KOI8U] = {"koi8-u", "koi8-u", A | CSK_SBCS},
	[CS_IBM866] = {"ibm866", "ibm-866_P100-1995", A | CSK_SBCS},
	[CS_MAC] = {"macintosh", "macos-0_2-10.2", A | CSK_SBCS},
	[CS_MACCYR] = {"x-mac-cyrillic", "macos-7_3-10.2", A | CSK_SBCS},
	[CS_GB18030] = {"gb18030", "gb18030", A | CSK_DBCS},
	[CS_BIG5] = {"big5-hkscs", "ibm-1375_P100-2008", A | CSK_DBCS},
	[CS_W949] = {"windows-949", "windows-949-2000", A | CSK_DBCS},
	[CS_W31J] = {"windows-31j", "ibm-943_P15A-2003", A},
	[CS_EUCJP] = {"euc-jp", "euc-jp-2007", A},
	[CS_2022JP] = {"iso-2022-jp", "ISO_2022,locale=ja,version=0", CSK_7BIT},
	[CS_2022KR] = {"iso-2022-kr", "ISO_2022,locale=ko,version=0", CSK_7BIT},
	[CS_2022CN] = {"iso-2022-cn", "ISO_2022,locale=zh,version=1", CSK_7BIT},
	[CS_HZ] = {"hz-gb-2312", "HZ", CSK_7BIT},
	[CS_VISCII] = {"viscii", "VISCII", A | CSK_ICONV},
	[CS_TCVN] = {"tcvn-5712", "TCVN5712-1", A | CSK_ICONV},
};
#undef A

/* Label keys: the label lower-cased with everything but letters and digits
 * dropped, so "ISO_8859-1", "iso-8859-1" and "iso88591" are one key. */
static const struct cs_alias {
	const char *key;
	unsigned char id;
} cs_aliases[] = {
	{"usascii", CS_ASCII}, {"ascii", CS_ASCII}, {"ansix341968", CS_ASCII},
	{"iso646us", CS_ASCII}, {"us", CS_ASCII}, {"csascii", CS_ASCII},
	{"cp367", CS_ASCII}, {"ibm367", CS_ASCII},
	{"utf8", CS_UTF8}, {"unicode11utf8", CS_UTF8}, {"xunicode20utf8", CS_UTF8},
	{"unicode20utf8", CS_UTF8},
	{"utf16", CS_UTF16}, {"unicode", CS_UTF16}, {"ucs2", CS_UTF16},
	{"utf16le", CS_UTF16LE}, {"utf16be", CS_UTF16BE}, {"utf7", CS_UTF7},
	{"iso88591", CS_W1252}, {"latin1", CS_W1252}, {"l1", CS_W1252},
	{"iso885911987", CS_W1252}, {"isoir100", CS_W1252}, {"cp819", CS_W1252},
	{"ibm819", CS_W1252}, {"csisolatin1", CS_W1252}, {"windows1252", CS_W1252},
	{"cp1252", CS_W1252}, {"xcp1252", CS_W1252}, {"win1252", CS_W1252},
	{"windows1250", CS_W1250}, {"cp1250", CS_W1250}, {"xcp1250", CS_W1250},
	{"windows1251", CS_W1251}, {"cp1251", CS_W1251}, {"xcp1251", CS_W1251},
	{"win1251", CS_W1251},
	{"windows1253", CS_W1253}, {"cp1253", CS_W1253}, {"xcp1253", CS_W1253},
	{"windows1254", CS_W1254}, {"cp1254", CS_W1254}, {"xcp1254", CS_W1254},
	{"iso88599", CS_W1254}, {"latin5", CS_W1254}, {"l5", CS_W1254},
	{"isoir148", CS_W1254}, {"csisolatin5", CS_W1254},
	{"windows1255", CS_W1255}, {"cp1255", CS_W1255}, {"xcp1255", CS_W1255},
	{"windows1256", CS_W1256}, {"cp1256", CS_W1256}, {"xcp1256", CS_W1256},
	{"windows1257", CS_W1257}, {"cp1257", CS_W1257}, {"xcp1257", CS_W1257},
	{"windows1258", CS_W1258}, {"cp1258", CS_W1258}, {"xcp1258", CS_W1258},
	{"windows874", CS_W874}, {"cp874", CS_W874}, {"tis620", CS_W874},
	{"iso885911", CS_W874}, {"dos874", CS_W874},
	{"iso88592", CS_8859_2}, {"latin2", CS_8859_2}, {"l2", CS_8859_2},
	{"csisolatin2", CS_8859_2}, {"isoir101", CS_8859_2},
	{"iso88593", CS_8859_3}, {"latin3", CS_8859_3}, {"l3", CS_8859_3},
	{"iso88594", CS_8859_4}, {"latin4", CS_8859_4}, {"l4", CS_8859_4},
	{"iso88595", CS_8859_5}, {"cyrillic", CS_8859_5},
	{"csisolatincyrillic", CS_8859_5},
	{"iso88596", CS_8859_6}, {"arabic", CS_8859_6}, {"asmo708", CS_8859_6},
	{"iso88596i", CS_8859_6}, {"iso88596e", CS_8859_6}, {"ecma114", CS_8859_6},
	{"iso88597", CS_8859_7}, {"greek", CS_8859_7}, {"greek8", CS_8859_7},
	{"elot928", CS_8859_7}, {"ecma118", CS_8859_7},
	{"iso88598", CS_8859_8}, {"hebrew", CS_8859_8}, {"iso88598i", CS_8859_8},
	{"iso88598e", CS_8859_8}, {"visual", CS_8859_8}, {"logical", CS_8859_8},
	{"iso885910", CS_8859_10}, {"latin6", CS_8859_10}, {"l6", CS_8859_10},
	{"iso885913", CS_8859_13}, {"latin7", CS_8859_13},
	{"iso885914", CS_8859_14}, {"latin8", CS_8859_14},
	{"iso885915", CS_8859_15}, {"latin9", CS_8859_15}, {"l9", CS_8859_15},
	{"iso885916", CS_8859_16}, {"latin10", CS_8859_16},
	{"koi8r", CS_KOI8R}, {"koi8", CS_KOI8R}, {"cskoi8r", CS_KOI8R},
	{"koi8u", CS_KOI8U}, {"koi8ru", CS_KOI8U},
	{"ibm866", CS_IBM866}, {"cp866", CS_IBM866}, {"866", CS_IBM866},
	{"macintosh", CS_MAC}, {"mac", CS_MAC}, {"xmacroman", CS_MAC},
	{"macroman", CS_MAC}, {"xmaccyrillic", CS_MACCYR}, {"xmacukrainian", CS_MACCYR},
	{"gb18030", CS_GB18030}, {"gb2312", CS_GB18030}, {"gbk", CS_GB18030},
	{"xgbk", CS_GB18030}, {"cp936", CS_GB18030}, {"ms936", CS_GB18030},
	{"windows936", CS_GB18030}, {"euccn", CS_GB18030}, {"xeuccn", CS_GB18030},
	{"csgb2312", CS_GB18030}, {"gb231280", CS_GB18030}, {"chinese", CS_GB18030},
	{"isoir58", CS_GB18030}, {"csiso58gb231280", CS_GB18030},
	{"big5", CS_BIG5}, {"big5hkscs", CS_BIG5}, {"cp950", CS_BIG5},
	{"windows950", CS_BIG5}, {"xxbig5", CS_BIG5}, {"cnbig5", CS_BIG5},
	{"csbig5", CS_BIG5}, {"xbig5", CS_BIG5},
	{"euckr", CS_W949}, {"cseuckr", CS_W949}, {"ksc56011987", CS_W949},
	{"ksc5601", CS_W949}, {"ksc56011989", CS_W949}, {"windows949", CS_W949},
	{"cp949", CS_W949}, {"ms949", CS_W949}, {"uhc", CS_W949}, {"korean", CS_W949},
	{"isoir149", CS_W949}, {"csksc56011987", CS_W949},
	{"shiftjis", CS_W31J}, {"sjis", CS_W31J}, {"xsjis", CS_W31J},
	{"mskanji", CS_W31J}, {"csshiftjis", CS_W31J}, {"windows31j", CS_W31J},
	{"cp932", CS_W31J}, {"ms932", CS_W31J}, {"xmscp932", CS_W31J},
	{"cswindows31j", CS_W31J},
	{"eucjp", CS_EUCJP}, {"xeucjp", CS_EUCJP}, {"ujis", CS_EUCJP},
	{"cseucpkdfmtjapanese", CS_EUCJP},
	{"iso2022jp", CS_2022JP}, {"csiso2022jp", CS_2022JP}, {"iso2022jp1", CS_2022JP},
	{"iso2022jp2", CS_2022JP}, {"iso2022kr", CS_2022KR}, {"csiso2022kr", CS_2022KR},
	{"iso2022cn", CS_2022CN}, {"iso2022cnext", CS_2022CN},
	{"hzgb2312", CS_HZ}, {"hz", CS_HZ},
	{"viscii", CS_VISCII}, {"csviscii", CS_VISCII},
	{"tcvn", CS_TCVN}, {"tcvn3", CS_TCVN}, {"tcvn5712", CS_TCVN},
	{"tcvn57121", CS_TCVN}, {"tcvn571211993", CS_TCVN}, {"xviettcvn5712", CS_TCVN},
};
/* clang-format on */

#define CS_KEY_MAX 32      /* longest label key looked up */
#define CS_CHUNK 8192      /* UTF-8 bytes normalised at a time */
#define CS_U16_CAP 8192    /* UTF-16 units decoded at a time */
#define CS_CUT_BACK 32     /* code points searched back for an NFC boundary */
#define CS_SLOTS 8         /* converters cached per thread */
#define CS_DETECT_MAX 1024 /* bytes given to the charset detector (it is slow) */
#define CS_DETECT_BACK 64  /* of which before the first telling byte */
#define CS_DETECT_CJK 128  /* window for dense double-byte text (see cs_ucsdet) */
#define CS_CJK_SURE 50     /* confidence needed to trust that short window */
#define CS_GB_HAN 8        /* ideographs cs_gb_sure() needs */
#define CS_SPRINKLE 64     /* bytes per 8-bit byte, at least, in cs_latin_sprinkle() */
#define CS_SHORT_HIGH 32   /* fewer 8-bit bytes than this: a short text */
#define CS_SHORT_CONF 30   /* confidence needed for a short text */
#define CS_DETECT_CONF 20  /* detector confidence (0-100) worth believing */
#define CS_UTF8_SURE 4     /* multi-byte sequences that make UTF-8 certain */
#define CS_MOJI_ROUNDS 2   /* layers of mojibake undone at most */
#define CS_MAX_MARKS 30    /* non-starters in a row that we still normalise */
#define CS_SCAN_BAD 64     /* bad bytes that settle "is this UTF-8 damaged?" */
#define CS_DB_SETS 3       /* charsets with a pair table (CSK_DBCS) */

struct cs_slot {
	const struct cs_charset *cs;
	UConverter *ucnv;
	iconv_t icv;
	unsigned long tick;
};

/* Per-thread state: reachable until the thread exits. */
static __thread struct cs_slot cs_slots[CS_SLOTS];
static __thread unsigned long cs_tick;
static __thread UCharsetDetector *cs_det;
static __thread UChar *cs_u16; /* CS_U16_CAP + CS_CUT_BACK * 2 units */
static __thread UChar *cs_norm;
static __thread size_t cs_norm_cap;
static __thread uint64_t cs_inert_bits[65536 / 64]; /* see cs_inert() */
static __thread unsigned char cs_inert_done[256];   /* 1: filled, 2: all inert */
static __thread struct cs_dbtab *cs_dbtabs[CS_DB_SETS];
static __thread struct cs_sbtab *cs_sbtabs[CS_COUNT]; /* see cs_dec_sbcs() */
static __thread int cs_dbcs_off;                      /* see cs_dbcs_fast() */

/* ---- labels ---- */

/* Builds the lookup key of a label into key[CS_KEY_MAX + 1]; returns its
 * length, 0 for an empty label, or CS_KEY_MAX + 1 when it is too long. */
static size_t cs_label_key(const char *label, size_t len, char *key)
{
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)label[i];
		if (c == ';' || c == '*' || c == '\0')
			break;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (k == CS_KEY_MAX)
			return CS_KEY_MAX + 1;
		key[k++] = (char)c;
	}
	key[k] = '\0';
	return k;
}

#define CS_NALIASES (sizeof(cs_aliases) / sizeof(cs_aliases[0]))

/* cs_aliases sorted by key (filled once), for binary search. */
static const struct cs_alias *cs_sorted[CS_NALIASES];
static pthread_once_t cs_sorted_once = PTHREAD_ONCE_INIT;

static int cs_alias_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cs_alias *const *)a)->key,
	              (*(const struct cs_alias *const *)b)->key);
}

static void cs_sort_aliases(void)
{
	for (size_t i = 0; i < CS_NALIASES; i++)
		cs_sorted[i] = &cs_aliases[i];
	qsort(cs_sorted, CS_NALIASES, sizeof(cs_sorted[0]), cs_alias_cmp);
}

static const struct cs_charset *cs_find_key(const char *key)
{
	struct cs_alias want = {key, 0};
	const struct cs_alias *pw = &want, *const * hit;

	pthread_once(&cs_sorted_once, cs_sort_aliases);
	hit = bsearch(&pw, cs_sorted, CS_NALIASES, sizeof(cs_sorted[0]), cs_alias_cmp);
	return hit ? &cs_sets[(*hit)->id] : NULL;
}

static const struct cs_charset *cs_find(const char *label, size_t len)
{
	char key[CS_KEY_MAX + 1];
	size_t k = cs_label_key(label, len, key);

	return k && k <= CS_KEY_MAX ? cs_find_key(key) : NULL;
}

/* ---- per-thread converters ---- */

static void cs_slot_close(struct cs_slot *s)
{
	if (s->ucnv)
		ucnv_close(s->ucnv);
	if (s->icv != (iconv_t)-1 && s->icv)
		iconv_close(s->icv);
	memset(s, 0, sizeof(*s));
}

static int cs_slot_open(struct cs_slot *s, const struct cs_charset *cs)
{
	UErrorCode e = U_ZERO_ERROR;

	s->cs = cs;
	s->icv = (iconv_t)-1;
	if (cs->kind & CSK_ICONV) {
		s->icv = iconv_open("UTF-8", cs->conv);
		if (s->icv == (iconv_t)-1)
			return errno == ENOMEM ? SS_ENOMEM : -1;
		return 0;
	}
	s->ucnv = ucnv_open(cs->conv, &e);
	if (U_FAILURE(e))
		return e == U_MEMORY_ALLOCATION_ERROR ? SS_ENOMEM : -1;
	ucnv_setFallback(s->ucnv, 1);
	return 0;
}

void cs_thread_release(void)
{
	for (int i = 0; i < CS_SLOTS; i++)
		if (cs_slots[i].cs)
			cs_slot_close(&cs_slots[i]);
	if (cs_det)
		ucsdet_close(cs_det);
	cs_det = NULL;
	free(cs_u16);
	cs_u16 = NULL;
	free(cs_norm);
	cs_norm = NULL;
	cs_norm_cap = 0;
	for (int i = 0; i < CS_DB_SETS; i++) {
		free(cs_dbtabs[i]);
		cs_dbtabs[i] = NULL;
	}
	for (int i = 0; i < CS_COUNT; i++) {
		free(cs_sbtabs[i]);
		cs_sbtabs[i] = NULL;
	}
}

/* Returns this thread's converter for `cs`, opening it (and closing the
 * least recently used one) when needed. NULL: *err is SS_ENOMEM or -1 (the
 * converter does not exist here). */
static struct cs_slot *cs_slot_get(const struct cs_charset *cs, int *err)
{
	struct cs_slot *old = &cs_slots[0];

	for (int i = 0; i < CS_SLOTS; i++) {
		struct cs_slot *s = &cs_slots[i];
		if (s->cs == cs) {
			s->tick = ++cs_tick;
			return s;
		}
		if (s->tick < old->tick)
			old = s;
	}
	cs_slot_close(old);
	*err = cs_slot_open(old, cs);
	if (*err) {
		cs_slot_close(old);
		return NULL;
	}
	old->tick = ++cs_tick;
	return old;
}

/* ---- NFC ---- */

static const UNormalizer2 *cs_nfc_inst(void)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *n = unorm2_getNFCInstance(&e);

	return U_SUCCESS(e) ? n : NULL;
}

/* Code points below U+0300 are NFC starters that never combine backwards. */
static int cs_boundary_before(const UNormalizer2 *nfc, UChar32 c)
{
	return c < 0x300 || !nfc || unorm2_hasBoundaryBefore(nfc, c);
}

static int cs_scratch(void)
{
	if (!cs_u16)
		cs_u16 = malloc((CS_U16_CAP + 4 * CS_CUT_BACK) * sizeof(UChar));
	return cs_u16 ? 0 : SS_ENOMEM;
}

static int cs_norm_reserve(size_t n)
{
	UChar *p;

	if (n <= cs_norm_cap)
		return 0;
	p = realloc(cs_norm, n * sizeof(UChar));
	if (!p)
		return SS_ENOMEM;
	cs_norm = p;
	cs_norm_cap = n;
	return 0;
}

/* Appends u[0..n) as UTF-8; unpaired surrogates become U+FFFD. */
static int cs_put16(sbuf *out, const UChar *u, size_t n, size_t *subs)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t olen = 0, nsub = 0;

	if (!n)
		return 0;
	if (sbuf_reserve(out, n * 3))
		return SS_ENOMEM;
	u_strToUTF8WithSub(out->p + out->len, (int32_t)(n * 3), &olen, u, (int32_t)n, 0xFFFD, &nsub,
	                   &e);
	if (U_FAILURE(e))
		olen = 0;
	out->len += (size_t)olen;
	out->p[out->len] = '\0';
	*subs += (size_t)nsub;
	return 0;
}

/* Returns 1 when u[0..n) holds more than CS_MAX_MARKS non-starters in a
 * row. Reordering such a run costs time quadratic in its length (UAX #15
 * "stream-safe" text has at most 30), so such text is left as it is. */
static int cs_long_marks(const UNormalizer2 *nfc, const UChar *u, size_t n)
{
	size_t i = 0, run = 0;

	while (i < n) {
		UChar32 c;
		U16_NEXT(u, i, n, c);
		run = unorm2_getCombiningClass(nfc, c) ? run + 1 : 0;
		if (run > CS_MAX_MARKS)
			return 1;
	}
	return 0;
}

/* Normalises u[0..n) (n <= CS_U16_CAP + slack) into cs_norm; returns the
 * length, or -1 when ICU fails (the text is then used as it is). */
static int32_t cs_normalize16(const UNormalizer2 *nfc, const UChar *u, size_t n, int *err)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t m;

	*err = 0;
	if (cs_long_marks(nfc, u, n))
		return -1;
	*err = cs_norm_reserve(n * 3 + 16);
	if (*err)
		return -1;
	m = unorm2_normalize(nfc, u, (int32_t)n, cs_norm, (int32_t)cs_norm_cap, &e);
	if (e == U_BUFFER_OVERFLOW_ERROR) {
		*err = cs_norm_reserve((size_t)m + 16);
		if (*err)
			return -1;
		e = U_ZERO_ERROR;
		m = unorm2_normalize(nfc, u, (int32_t)n, cs_norm, (int32_t)cs_norm_cap, &e);
	}
	return U_SUCCESS(e) ? m : -1;
}

/* Fills the bits of block blk (code units blk*256 ..) of the inert table. */
static void cs_inert_fill(const UNormalizer2 *nfc, unsigned blk)
{
	uint64_t *bits = cs_inert_bits + blk * 4;

	memset(bits, 0, 4 * sizeof(*bits));
	for (unsigned k = 0; k < 256; k++) {
		UErrorCode e = U_ZERO_ERROR;
		UChar c = (UChar)(blk * 256 + k);
		if (U16_IS_SURROGATE(c))
			continue;
		/* isInert (a cheap lookup) settles most of them, CJK included */
		if (unorm2_isInert(nfc, c) ||
		    (!unorm2_getCombiningClass(nfc, c) &&
		     unorm2_quickCheck(nfc, &c, 1, &e) == UNORM_YES && U_SUCCESS(e)))
			bits[k / 64] |= 1ULL << (k % 64);
	}
	cs_inert_done[blk] = (bits[0] & bits[1] & bits[2] & bits[3]) == ~0ULL ? 2 : 1;
}

/* Whether BMP code unit c (>= U+0300) is a starter (combining class 0)
 * whose NFC quick check is "yes": a string of such units is in NFC, since
 * only characters whose quick check is "maybe" compose with what precedes
 * them. Surrogates are not. The table is built from ICU a block of 256 at
 * a time, when text first uses the block. */
static inline int cs_inert(const UNormalizer2 *nfc, unsigned c)
{
	unsigned char done = cs_inert_done[c >> 8];

	if (done == 2) /* the whole block (e.g. CJK ideographs) */
		return 1;
	if (!done)
		cs_inert_fill(nfc, c >> 8);
	return (int)(cs_inert_bits[c >> 6] >> (c & 63)) & 1;
}

/* The fast path of cs_emit16 for the common case (Chinese, Cyrillic,
 * Latin text): when every unit of u[0..n) is below U+0300 or inert, the
 * text is already NFC and has no surrogates, so it is encoded to UTF-8
 * here in one pass (instead of ICU's quick check and u_strToUTF8) and 1
 * is returned. Returns 0, having appended nothing, at the first unit that
 * is not, or SS_ENOMEM. */
static int cs_put16_inert(sbuf *out, const UChar *u, size_t n, const UNormalizer2 *nfc)
{
	unsigned char *o;

	if (sbuf_reserve(out, n * 3))
		return SS_ENOMEM;
	o = (unsigned char *)out->p + out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned c = u[i];
		uint64_t w;
		if (c < 0x80) {
			*o++ = (unsigned char)c;
			/* then four ASCII units at a time (the mask reads the
			 * same in either byte order) */
			while (i + 5 <= n &&
			       (memcpy(&w, u + i + 1, 8), !(w & 0xFF80FF80FF80FF80ULL))) {
				o[0] = (unsigned char)u[i + 1];
				o[1] = (unsigned char)u[i + 2];
				o[2] = (unsigned char)u[i + 3];
				o[3] = (unsigned char)u[i + 4];
				o += 4;
				i += 4;
			}
		} else if (c < 0x800) {
			if (c >= 0x300 && !cs_inert(nfc, c))
				return 0;
			*o++ = (unsigned char)(0xC0 | (c >> 6));
			*o++ = (unsigned char)(0x80 | (c & 0x3F));
		} else {
			if (!cs_inert(nfc, c))
				return 0;
			o[0] = (unsigned char)(0xE0 | (c >> 12));
			o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
			o[2] = (unsigned char)(0x80 | (c & 0x3F));
			o += 3;
		}
	}
	out->len = (size_t)((char *)o - out->p);
	out->p[out->len] = '\0';
	return 1;
}

/* Appends u[0..n), which starts and ends on NFC boundaries, in NFC. */
static int cs_emit16(sbuf *out, const UChar *u, size_t n, size_t *subs)
{
	const UNormalizer2 *nfc = cs_nfc_inst();
	UErrorCode e = U_ZERO_ERROR;
	int32_t m;
	int err = 0;

	if (nfc && n && (err = cs_put16_inert(out, u, n, nfc)) != 0)
		return err < 0 ? err : 0;
	if (!nfc || unorm2_spanQuickCheckYes(nfc, u, (int32_t)n, &e) == (int32_t)n)
		return cs_put16(out, u, n, subs);
	m = cs_normalize16(nfc, u, n, &err);
	if (err)
		return err;
	if (m < 0)
		return cs_put16(out, u, n, subs);
	return cs_put16(out, cs_norm, (size_t)m, subs);
}

/* Returns where to cut u[0..n) so that the cut is an NFC boundary, looking
 * back a bounded distance; never 0, never inside a surrogate pair. */
static size_t cs_cut16(const UChar *u, size_t n)
{
	const UNormalizer2 *nfc = cs_nfc_inst();
	size_t i = n;

	for (int k = 0; k < CS_CUT_BACK && i > 1; k++) {
		UChar32 c;
		i--;
		if (U16_IS_TRAIL(u[i]) && U16_IS_LEAD(u[i - 1]))
			i--;
		U16_GET(u, 0, i, n, c);
		if (i > 0 && cs_boundary_before(nfc, c))
			return i;
	}
	return U16_IS_LEAD(u[n - 1]) && n > 1 ? n - 1 : n;
}

/* Returns 1 when s[0..len) holds a byte >= 0xCC, i.e. a code point that
 * may be at or above U+0300. */
static int cs_has_high(const unsigned char *s, size_t len)
{
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (!(w & 0x8080808080808080ULL))
			continue;
		for (int k = 0; k < 8; k++)
			if (s[i + k] >= 0xCC)
				return 1;
	}
	for (; i < len; i++)
		if (s[i] >= 0xCC)
			return 1;
	return 0;
}

/* Returns the start of the code point before position i (> 0). */
static size_t cs_prev8(const unsigned char *s, size_t i)
{
	size_t k = 0;

	do
		i--;
	while (i > 0 && (s[i] & 0xC0) == 0x80 && ++k < 4);
	return i;
}

/* Picks the end of the chunk starting at `start` of valid UTF-8 s[0..len):
 * an NFC boundary near start + CS_CHUNK. */
static size_t cs_cut8(const unsigned char *s, size_t start, size_t len)
{
	const UNormalizer2 *nfc = cs_nfc_inst();
	size_t end, i;

	if (len - start <= CS_CHUNK)
		return len;
	end = start + CS_CHUNK;
	while (end > start + 1 && (s[end] & 0xC0) == 0x80)
		end--;
	i = end;
	for (int k = 0; k < CS_CUT_BACK && i > start + 4; k++) {
		size_t n;
		UChar32 c = (UChar32)utf8_decode((const char *)s + i, len - i, &n);
		if (cs_boundary_before(nfc, c))
			return i;
		i = cs_prev8(s, i);
	}
	return end;
}

/* Appends the NFC form of one chunk of valid UTF-8. */
static int cs_nfc_chunk(sbuf *out, const char *s, size_t len)
{
	UErrorCode e = U_ZERO_ERROR;
	const UNormalizer2 *nfc = cs_nfc_inst();
	int32_t n = 0, m;
	size_t subs = 0;
	int err = 0;

	if (!nfc || !cs_has_high((const unsigned char *)s, len))
		return sbuf_add(out, s, len);
	if (cs_scratch())
		return SS_ENOMEM;
	u_strFromUTF8WithSub(cs_u16, CS_U16_CAP, &n, s, (int32_t)len, 0xFFFD, NULL, &e);
	if (U_FAILURE(e))
		return sbuf_add(out, s, len);
	if (unorm2_spanQuickCheckYes(nfc, cs_u16, n, &e) == n)
		return sbuf_add(out, s, len);
	m = cs_normalize16(nfc, cs_u16, (size_t)n, &err);
	if (err)
		return err;
	if (m < 0)
		return sbuf_add(out, s, len);
	return cs_put16(out, cs_norm, (size_t)m, &subs);
}

/* cs_nfc() for input already known to be valid UTF-8. */
static int cs_nfc_valid(sbuf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t pos = 0;

	if (utf8_is_ascii(s, len))
		return sbuf_add(out, s, len);
	if (sbuf_reserve(out, len))
		return SS_ENOMEM;
	while (pos < len) {
		size_t end = cs_cut8(u, pos, len);
		int err = cs_nfc_chunk(out, s + pos, end - pos);
		if (err)
			return err;
		pos = end;
	}
	return 0;
}

/* ---- UTF-8 input ---- */

struct cs_stats {
	size_t high;  /* bytes >= 0x80 */
	size_t multi; /* well-formed multi-byte sequences */
	size_t bad;   /* bytes that start no well-formed sequence */
	size_t moji;  /* tell-tale pairs of mojibake (see cs_moji_at) */
	int cp300;    /* some code point may be >= U+0300 (lead byte >= 0xCC) */
};

/* Returns the index of the first byte >= 0x80 in s[i..len), or len. */
static size_t cs_skip_ascii(const unsigned char *s, size_t i, size_t len)
{
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ULL)
			break;
	}
	while (i < len && s[i] < 0x80)
		i++;
	return i;
}

/* utf8_valid_prefix_len() for a non-ASCII byte, with the two- and
 * three-byte cases inline: this is the hot loop for CJK text. */
static inline size_t cs_seq_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0];

	if (c >= 0xC2 && c <= 0xDF)
		return len >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE1 && c <= 0xEF && c != 0xED && len >= 3)
		return (s[1] & 0xC0) == 0x80 && (s[2] & 0xC0) == 0x80 ? 3 : 0;
	return utf8_valid_prefix_len((const char *)s, len);
}

/* Is s (at a C3 byte) a tell-tale pair of mojibake? A UTF-8 lead byte read
 * as windows-1252 is U+00C2..U+00F4 (C3 82..C3 B4); the continuation byte
 * after it reads as U+0080..U+00BF (C2 xx) or as one of the punctuation
 * marks of 0x80-0x9F (C5, C6, CB or E2 xx xx). */
static int cs_moji_at(const unsigned char *s, size_t len)
{
	if (len < 4 || s[1] < 0x82 || s[1] > 0xB4)
		return 0;
	if (s[2] == 0xC2)
		return s[3] >= 0x80 && s[3] <= 0xBF;
	return s[2] == 0xC5 || s[2] == 0xC6 || s[2] == 0xCB || s[2] == 0xE2;
}

/* Returns the number of bytes >= 0x80 in s[0..len). */
static size_t cs_count_high(const unsigned char *s, size_t len)
{
	size_t i = 0, n = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		/* one bit per byte summed by a multiply: no popcount instruction
		 * in the x86-64 baseline, and libgcc's costs ~20 */
		n += (size_t)((((w & 0x8080808080808080ULL) >> 7) * 0x0101010101010101ULL) >> 56);
	}
	for (; i < len; i++)
		n += s[i] >> 7;
	return n;
}

/* One pass over the bytes: what kind of UTF-8 (if any) they are. Once more
 * than max_bad bad bytes are seen, the rest only counts toward st->high:
 * the counts other than high are then those of a prefix. */
static void cs_scan(const char *str, size_t len, size_t max_bad, struct cs_stats *st)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	memset(st, 0, sizeof(*st));
	while ((i = cs_skip_ascii(s, i, len)) < len) {
		n = cs_seq_len(s + i, len - i);
		if (!n) {
			st->high++;
			if (++st->bad > max_bad) {
				st->high += cs_count_high(s + i + 1, len - i - 1);
				return;
			}
			i++;
			continue;
		}
		st->multi++;
		st->high += n;
		if (s[i] >= 0xCC)
			st->cp300 = 1;
		else if (s[i] == 0xC3 && cs_moji_at(s + i, len - i))
			st->moji++;
		i += n;
	}
}

/* Returns the length of the longest well-formed prefix of s[0..len). */
static size_t cs_valid_run(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n;

	while ((i = cs_skip_ascii(s, i, len)) < len && (n = cs_seq_len(s + i, len - i)))
		i += n;
	return i;
}

/* Appends ill-formed UTF-8 in NFC, each bad byte becoming U+FFFD. */
static int cs_utf8_lossy(sbuf *out, const char *s, size_t len, size_t *subs)
{
	size_t pos = 0;

	while (pos < len) {
		size_t run = cs_valid_run(s + pos, len - pos);
		int err = cs_nfc_valid(out, s + pos, run);
		if (err)
			return err;
		pos += run;
		if (pos < len) {
			if (sbuf_add(out, "\xEF\xBF\xBD", 3))
				return SS_ENOMEM;
			(*subs)++;
			pos++;
		}
	}
	return 0;
}

/* ---- mojibake: UTF-8 read as windows-1252, then written as UTF-8 ---- */

static uint16_t cs_w1252_c1[32]; /* what windows-1252 bytes 0x80-0x9F decode to */
static pthread_once_t cs_w1252_once = PTHREAD_ONCE_INIT;

static void cs_w1252_init(void)
{
	UErrorCode e = U_ZERO_ERROR;
	UConverter *c = ucnv_open(cs_sets[CS_W1252].conv, &e);
	char bytes[32];
	UChar u[32];

	if (U_FAILURE(e))
		return;
	for (int i = 0; i < 32; i++)
		bytes[i] = (char)(0x80 + i);
	if (ucnv_toUChars(c, u, 32, bytes, 32, &e) == 32 && U_SUCCESS(e))
		for (int i = 0; i < 32; i++)
			cs_w1252_c1[i] = u[i];
	ucnv_close(c);
}

/* Returns the windows-1252 (or latin-1) byte for code point c, or -1. */
static int cs_w1252_byte(unsigned c)
{
	if (c < 0x100)
		return (int)c;
	for (int i = 0; i < 32; i++)
		if (cs_w1252_c1[i] == c)
			return 0x80 + i;
	return -1;
}

/* Encodes valid UTF-8 s[0..len) to windows-1252 bytes in tmp; returns 1
 * when every code point has a byte. */
static int cs_moji_undo(const char *s, size_t len, sbuf *tmp, int *err)
{
	size_t i = 0;

	sbuf_reset(tmp);
	*err = sbuf_reserve(tmp, len);
	if (*err)
		return 0;
	while (i < len) {
		size_t n;
		int b = cs_w1252_byte(utf8_decode(s + i, len - i, &n));
		if (b < 0)
			return 0;
		tmp->p[tmp->len++] = (char)b;
		i += n;
	}
	tmp->p[tmp->len] = '\0';
	return 1;
}

/* Undoes up to CS_MOJI_ROUNDS layers of mojibake of valid UTF-8 *s, *len
 * (described by *st): on success points them at the repaired text, which
 * *fixed owns, updates *st and returns 1. Text that does not round-trip to
 * valid UTF-8 is left alone (legit French, German, Vietnamese...). */
static int cs_moji_repair(const char **s, size_t *len, struct cs_stats *st, sbuf *fixed, int *err)
{
	sbuf tmp = SBUF_INIT;
	struct cs_stats nst;
	int rounds = 0;

	*err = 0;
	pthread_once(&cs_w1252_once, cs_w1252_init);
	while (rounds < CS_MOJI_ROUNDS && st->moji) {
		if (!cs_moji_undo(*s, *len, &tmp, err))
			break;
		cs_scan(tmp.p, tmp.len, 0, &nst);
		if (nst.bad || !nst.multi)
			break;
		sbuf_release(fixed);
		*fixed = tmp;
		sbuf_init(&tmp);
		*s = fixed->p;
		*len = fixed->len;
		*st = nst;
		rounds++;
	}
	sbuf_release(&tmp);
	return rounds > 0 && !*err;
}

/* ---- decoders ---- */

struct cs_job {
	sbuf *out;
	const char *in;
	size_t len;
	size_t subs; /* U+FFFD substitutions made */
	unsigned flags;
	int scanned; /* st describes in[0..len) */
	struct cs_stats st;
};

/* Decodes valid or ill-formed UTF-8 (BOM dropped), undoing mojibake. */
static int cs_dec_utf8(struct cs_job *j)
{
	const char *s = j->in;
	size_t len = j->len;
	struct cs_stats st = j->st;
	sbuf fixed = SBUF_INIT;
	int err = 0;

	if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		s += 3;
		len -= 3;
		j->scanned = 0;
	}
	if (!j->scanned)
		cs_scan(s, len, 0, &st);
	if (st.bad)
		return cs_utf8_lossy(j->out, s, len, &j->subs);
	if (st.moji && cs_moji_repair(&s, &len, &st, &fixed, &err))
		j->flags |= CS_REPAIRED;
	if (!err)
		err = st.cp300 ? cs_nfc_valid(j->out, s, len) : sbuf_add(j->out, s, len);
	sbuf_release(&fixed);
	return err;
}

static void cs_icu_cb(const void *ctx, UConverterToUnicodeArgs *args, const char *bytes, int32_t n,
                      UConverterCallbackReason why, UErrorCode *e)
{
	static const UChar fffd = 0xFFFD;

	if (why > UCNV_IRREGULAR)
		return;
	(*(size_t *)(uintptr_t)ctx)++;
	*e = U_ZERO_ERROR;
	ucnv_cbToUWriteUChars(args, &fffd, 1, 0, e);
}

/* Decodes with ICU, streaming through the per-thread UTF-16 buffer and
 * normalising between NFC boundaries. */
static int cs_dec_icu(struct cs_job *j, UConverter *cnv)
{
	const char *src = j->in, *end = j->in + j->len;
	UErrorCode e = U_ZERO_ERROR;
	size_t carry = 0;

	if (cs_scratch())
		return SS_ENOMEM;
	ucnv_reset(cnv);
	ucnv_setToUCallBack(cnv, cs_icu_cb, &j->subs, NULL, NULL, &e);
	for (;;) {
		UChar *dst = cs_u16 + carry;
		size_t n, cut;
		int more, err;
		e = U_ZERO_ERROR;
		ucnv_toUnicode(cnv, &dst, cs_u16 + CS_U16_CAP, &src, end, NULL, 1, &e);
		more = e == U_BUFFER_OVERFLOW_ERROR;
		n = (size_t)(dst - cs_u16);
		cut = more ? cs_cut16(cs_u16, n) : n;
		err = cs_emit16(j->out, cs_u16, cut, &j->subs);
		if (err)
			return err;
		carry = n - cut;
		memmove(cs_u16, cs_u16 + cut, carry * sizeof(UChar));
		if (!more)
			break;
	}
	if (U_FAILURE(e))
		j->subs++;
	return 0;
}

/* ---- double-byte fast path ---- */

/* What ICU decodes each two-byte sequence of a double-byte charset to, as
 * far as this thread has asked: u[lead - 0x80][trail] is the UTF-8 of the
 * one BMP character the pair gives (b[0..len), len in b[3]), len 0 when it
 * gives anything else (an error, a surrogate pair, two characters, a
 * character that is not NFC-inert) and len 1 while the row is not asked
 * yet. A row is asked of ICU the first time text uses its lead byte, so
 * the table is ICU's mapping, not a hand-made one. Rows 0x80 and 0xFF
 * (no lead byte) stay len 0. */
struct cs_dbpair {
	unsigned char b[4];
};

struct cs_dbtab {
	struct cs_dbpair u[128][256];
	int ascii_ok; /* bytes 0x00-0x7F decode to themselves */
};

enum { CS_DB_NONE = 0, CS_DB_UNASKED = 1 }; /* b[3] besides a length */

/* Asks ICU for one byte sequence: the single BMP code unit it decodes to
 * with no error, or 0. */
static unsigned cs_db_ask(UConverter *cnv, const char *b, int32_t n)
{
	UErrorCode e = U_ZERO_ERROR;
	UChar u[4];
	int32_t m = ucnv_toUChars(cnv, u, 4, b, n, &e);

	return U_SUCCESS(e) && m == 1 && !U16_IS_SURROGATE(u[0]) ? u[0] : 0;
}

/* Makes the converter stop at the first error, so cs_db_ask sees it
 * (cs_dec_icu sets its own callback again before decoding). */
static void cs_db_stop(UConverter *cnv)
{
	UErrorCode e = U_ZERO_ERROR;

	ucnv_setToUCallBack(cnv, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &e);
}

/* The table entry for BMP code point c (0: none). */
static struct cs_dbpair cs_db_pair(unsigned c, const UNormalizer2 *nfc)
{
	struct cs_dbpair p = {{0, 0, 0, CS_DB_NONE}};

	if (!c || (c >= 0x300 && !cs_inert(nfc, c)) || c < 0x80)
		return p; /* a pair that is ASCII: let ICU say how */
	if (c < 0x800) {
		p.b[0] = (unsigned char)(0xC0 | (c >> 6));
		p.b[1] = (unsigned char)(0x80 | (c & 0x3F));
		p.b[3] = 2;
		return p;
	}
	p.b[0] = (unsigned char)(0xE0 | (c >> 12));
	p.b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
	p.b[2] = (unsigned char)(0x80 | (c & 0x3F));
	p.b[3] = 3;
	return p;
}

/* Fills row `lead` of t from the converter. */
static void cs_db_fill(struct cs_dbtab *t, UConverter *cnv, unsigned lead, const UNormalizer2 *nfc)
{
	struct cs_dbpair *row = t->u[lead - 0x80];

	cs_db_stop(cnv);
	for (unsigned trail = 0; trail < 0x100; trail++) {
		char b[2] = {(char)lead, (char)trail};
		row[trail] = cs_db_pair(trail < 0x40 ? 0 : cs_db_ask(cnv, b, 2), nfc);
	}
}

/* This thread's pair table for `cs` (made on first use), or NULL. */
static struct cs_dbtab *cs_db_table(const struct cs_charset *cs, UConverter *cnv)
{
	int id = cs == &cs_sets[CS_GB18030] ? 0 : cs == &cs_sets[CS_BIG5] ? 1 : 2;
	struct cs_dbtab *t = cs_dbtabs[id];

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	for (unsigned lead = 0x81; lead < 0xFF; lead++)
		for (unsigned trail = 0; trail < 0x100; trail++)
			t->u[lead - 0x80][trail].b[3] = CS_DB_UNASKED;
	t->ascii_ok = 1;
	cs_db_stop(cnv);
	for (unsigned c = 1; c < 0x80; c++) {
		char b = (char)c;
		if (cs_db_ask(cnv, &b, 1) != c)
			t->ascii_ok = 0;
	}
	cs_dbtabs[id] = t;
	return t;
}

/* Copies the ASCII run at s[0..) (up to end) to o; returns its length. */
static size_t cs_db_ascii(const unsigned char *s, const unsigned char *end, unsigned char *o)
{
	const unsigned char *p = s;
	uint64_t w;

	while (end - p >= 8 && (memcpy(&w, p, 8), !(w & 0x8080808080808080ULL))) {
		memcpy(o, p, 8);
		o += 8;
		p += 8;
	}
	while (p < end && *p < 0x80)
		*o++ = *p++;
	return (size_t)(p - s);
}

/* Decodes j->in with a pair table when every byte is ASCII or a pair the
 * table knows: the same UTF-8 as cs_dec_icu gives, at a fraction of the
 * cost (ICU's converter was the largest item of Chinese mail's parse).
 * Returns 1 when done, 0 when some sequence needs ICU (nothing appended),
 * SS_ENOMEM. */
static int cs_dec_dbcs(struct cs_job *j, const struct cs_charset *cs, UConverter *cnv)
{
	const unsigned char *s = (const unsigned char *)j->in, *end = s + j->len;
	const UNormalizer2 *nfc = cs_nfc_inst();
	struct cs_dbtab *t = nfc ? cs_db_table(cs, cnv) : NULL;
	size_t start = j->out->len;
	unsigned char *o;

	if (!t || !t->ascii_ok)
		return 0;
	if (sbuf_reserve(j->out, j->len * 2))
		return SS_ENOMEM;
	o = (unsigned char *)j->out->p + start;
	while (end - s >= 2) {
		const struct cs_dbpair *p;
		if (*s < 0x80) {
			size_t n = cs_db_ascii(s, end, o);
			s += n;
			o += n;
			continue;
		}
		p = &t->u[*s - 0x80][s[1]];
		if (p->b[3] <= CS_DB_UNASKED) {
			if (p->b[3] == CS_DB_NONE)
				goto need_icu;
			cs_db_fill(t, cnv, *s, nfc);
			continue;
		}
		memcpy(o, p->b, 4); /* the 4th byte is overwritten next */
		o += p->b[3];
		s += 2;
	}
	if (s < end && *s >= 0x80)
		goto need_icu; /* a lead byte at the very end */
	if (s < end)
		*o++ = *s;
	j->out->len = (size_t)((char *)o - j->out->p);
	j->out->p[j->out->len] = '\0';
	return 1;
need_icu:
	j->out->p[start] = '\0';
	return 0;
}

/* ---- single-byte fast path ---- */

/* What ICU decodes each byte 0x80-0xFF of a single-byte charset to: u[c -
 * 0x80] as in struct cs_dbtab (len 0: anything but one NFC-inert BMP
 * character, or a character below U+0080). Filled from ICU at once, the
 * first time this thread decodes 8-bit text in the charset. */
struct cs_sbtab {
	struct cs_dbpair u[128];
	int ascii_ok; /* bytes 0x00-0x7F decode to themselves */
};

/* This thread's byte table for single-byte `cs` (made on first use), or
 * NULL. */
static struct cs_sbtab *cs_sb_table(const struct cs_charset *cs, UConverter *cnv,
                                    const UNormalizer2 *nfc)
{
	struct cs_sbtab *t = cs_sbtabs[cs - cs_sets];

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	cs_db_stop(cnv);
	t->ascii_ok = 1;
	for (unsigned c = 1; c < 0x100; c++) {
		char b = (char)c;
		unsigned u = cs_db_ask(cnv, &b, 1);
		if (c < 0x80 && u != c)
			t->ascii_ok = 0;
		else if (c >= 0x80)
			t->u[c - 0x80] = cs_db_pair(u, nfc);
	}
	cs_sbtabs[cs - cs_sets] = t;
	return t;
}

/* Decodes j->in with a byte table when every 8-bit byte is one the table
 * knows: the same UTF-8 as cs_dec_icu gives (each byte is one character,
 * and a text of ASCII and NFC-inert characters is in NFC), without ICU's
 * converter and the UTF-16 step. Returns 1 when done, 0 when some byte
 * needs ICU (nothing appended), SS_ENOMEM. */
static int cs_dec_sbcs(struct cs_job *j, const struct cs_charset *cs, UConverter *cnv)
{
	const unsigned char *s = (const unsigned char *)j->in, *end = s + j->len;
	const UNormalizer2 *nfc = cs_nfc_inst();
	struct cs_sbtab *t = nfc ? cs_sb_table(cs, cnv, nfc) : NULL;
	size_t start = j->out->len;
	unsigned char *o;

	if (!t || !t->ascii_ok)
		return 0;
	if (sbuf_reserve(j->out, j->len * 3 + 1))
		return SS_ENOMEM;
	o = (unsigned char *)j->out->p + start;
	while (s < end) {
		const struct cs_dbpair *p;
		if (*s < 0x80) {
			size_t n = cs_db_ascii(s, end, o);
			s += n;
			o += n;
			continue;
		}
		p = &t->u[*s - 0x80];
		if (p->b[3] == CS_DB_NONE) {
			j->out->p[start] = '\0';
			return 0;
		}
		memcpy(o, p->b, 4); /* the 4th byte is overwritten next */
		o += p->b[3];
		s++;
	}
	j->out->len = (size_t)((char *)o - j->out->p);
	j->out->p[j->out->len] = '\0';
	return 1;
}

/* Runs iconv over the input into tmp, bad bytes becoming U+FFFD. */
static int cs_iconv_run(struct cs_job *j, iconv_t cd, sbuf *tmp)
{
	char *ip = (char *)(uintptr_t)j->in;
	size_t il = j->len, want = il * 3 + 64;

	iconv(cd, NULL, NULL, NULL, NULL);
	for (;;) {
		int flush = il == 0;
		char *op;
		size_t ol, r;
		if (sbuf_reserve(tmp, want))
			return SS_ENOMEM;
		op = tmp->p + tmp->len;
		ol = tmp->cap - tmp->len - 1;
		r = flush ? iconv(cd, NULL, NULL, &op, &ol) : iconv(cd, &ip, &il, &op, &ol);
		tmp->len = (size_t)(op - tmp->p);
		tmp->p[tmp->len] = '\0';
		if (r == (size_t)-1 && errno == E2BIG) {
			want *= 2;
			continue;
		}
		if (flush)
			return 0;
		if (r != (size_t)-1)
			continue;
		if (sbuf_add(tmp, "\xEF\xBF\xBD", 3))
			return SS_ENOMEM;
		j->subs++;
		ip++;
		il--;
	}
}

static int cs_dec_iconv(struct cs_job *j, iconv_t cd)
{
	sbuf tmp = SBUF_INIT;
	int err = cs_iconv_run(j, cd, &tmp);

	if (!err && tmp.len)
		err = utf8_valid(tmp.p, tmp.len) ? cs_nfc_valid(j->out, tmp.p, tmp.len)
		                                 : cs_utf8_lossy(j->out, tmp.p, tmp.len, &j->subs);
	sbuf_release(&tmp);
	return err;
}

/* Last resort when no converter opens: bytes as ISO-8859-1. */
static int cs_dec_latin1(struct cs_job *j)
{
	for (size_t i = 0; i < j->len; i++)
		if (sbuf_add_utf8(j->out, (unsigned char)j->in[i]))
			return SS_ENOMEM;
	return 0;
}

/* Decodes the job's input as `cs`, appending to j->out. */
static int cs_decode(struct cs_job *j, const struct cs_charset *cs)
{
	struct cs_slot *slot;
	int err = 0;

	if (cs->kind & CSK_UTF8)
		return cs_dec_utf8(j);
	slot = cs_slot_get(cs, &err);
	if (!slot && err == SS_ENOMEM)
		return err;
	if (!slot && cs != &cs_sets[CS_W1252])
		return cs_decode(j, &cs_sets[CS_W1252]);
	if (!slot)
		return cs_dec_latin1(j);
	if (slot->ucnv && (cs->kind & CSK_DBCS) && !cs_dbcs_off &&
	    (err = cs_dec_dbcs(j, cs, slot->ucnv)) != 0)
		return err < 0 ? err : 0;
	if (slot->ucnv && (cs->kind & CSK_SBCS) && !cs_dbcs_off &&
	    (err = cs_dec_sbcs(j, cs, slot->ucnv)) != 0)
		return err < 0 ? err : 0;
	if (slot->ucnv)
		return cs_dec_icu(j, slot->ucnv);
	return cs_dec_iconv(j, slot->icv);
}

/* ---- detection ---- */

static const struct cs_charset *cs_bom(const char *s, size_t len)
{
	if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
		return &cs_sets[CS_UTF8];
	if (len >= 2 && (!memcmp(s, "\xFE\xFF", 2) || !memcmp(s, "\xFF\xFE", 2)))
		return &cs_sets[CS_UTF16];
	return NULL;
}

static UCharsetDetector *cs_det_get(void)
{
	UErrorCode e = U_ZERO_ERROR;

	if (!cs_det) {
		cs_det = ucsdet_open(&e);
		if (U_FAILURE(e))
			cs_det = NULL;
		else
			ucsdet_enableInputFilter(cs_det, 1);
	}
	return cs_det;
}

/* Returns 1 when the 8-bit bytes of s[0..len) look like GB2312 (EUC-CN):
 * at least two pairs, each a lead byte 0xA1-0xF7 and a trail 0xA1-0xFE. */
static int cs_euc_shaped(const unsigned char *s, size_t len)
{
	size_t i = 0, pairs = 0;

	while ((i = cs_skip_ascii(s, i, len)) < len) {
		if (i + 1 >= len || s[i] < 0xA1 || s[i] > 0xF7 || s[i + 1] < 0xA1 ||
		    s[i + 1] == 0xFF)
			return 0;
		pairs++;
		i += 2;
	}
	return pairs >= 2;
}

/* Picks among the detector's matches: the first one we decode with enough
 * confidence (7-bit ones only when `seven`, else ASCII-compatible ones).
 * Short texts need more confidence; failing that, GB2312-shaped bytes
 * that the GB18030 recogniser accepts are taken as GB18030 (ICU cannot tell the
 * CJK charsets apart below 11 characters; Chinese is the common case). */
static const struct cs_charset *cs_pick(const UCharsetMatch **m, int32_t n, const char *s,
                                        size_t len, int seven)
{
	UErrorCode e = U_ZERO_ERROR;
	int32_t need = cs_count_high((const unsigned char *)s, len) < CS_SHORT_HIGH
	                   ? CS_SHORT_CONF
	                   : CS_DETECT_CONF;
	int gb = 0;

	for (int32_t i = 0; U_SUCCESS(e) && i < n; i++) {
		const char *name = ucsdet_getName(m[i], &e);
		int32_t conf = ucsdet_getConfidence(m[i], &e);
		const struct cs_charset *cs = U_SUCCESS(e) ? cs_find(name, strlen(name)) : NULL;
		if (!cs || (cs->kind & CSK_UTF8) || !(cs->kind & (seven ? CSK_7BIT : CSK_ASCII)))
			continue;
		if (conf >= need)
			return cs;
		gb |= cs == &cs_sets[CS_GB18030] && conf > 0;
	}
	if (gb && !seven && cs_euc_shaped((const unsigned char *)s, len))
		return &cs_sets[CS_GB18030];
	return NULL;
}

/* Returns 1 when s[0..len) is dense double-byte text: at least 48 8-bit
 * bytes, nearly all in runs of two or more (CJK charsets). */
static int cs_pair_shaped(const unsigned char *s, size_t len)
{
	size_t high = 0, alone = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x80)
			continue;
		high++;
		if ((i == 0 || s[i - 1] < 0x80) && (i + 1 == len || s[i + 1] < 0x80))
			alone++;
	}
	return high >= 48 && alone * 20 < high;
}

/* Runs the detector on s[0..len) and picks a match, or NULL when the best
 * match's confidence is below min_conf (0: any, as cs_pick decides). */
static const struct cs_charset *cs_run_det(UCharsetDetector *det, const char *s, size_t len,
                                           int seven, int32_t min_conf)
{
	UErrorCode e = U_ZERO_ERROR;
	const UCharsetMatch **m;
	int32_t n = 0;

	ucsdet_setText(det, s, (int32_t)len, &e);
	m = ucsdet_detectAll(det, &n, &e);
	if (U_FAILURE(e) || n < 1 || ucsdet_getConfidence(m[0], &e) < min_conf)
		return NULL;
	return cs_pick(m, n, s, len, seven);
}

/* Whether 8-bit text s[0..len) can only be Chinese in GB2312 (or its
 * supersets), so ICU's detector (costly: about 0.4 ms for 1 KiB) can be
 * skipped for the commonest unlabelled CJK mail. Every 8-bit byte must pair
 * as lead 0xA1-0xF7 and trail 0xA1-0xFE (Big5 and Shift_JIS trails go
 * lower; Latin, Greek and Vietnamese letters stand alone or leave odd
 * bytes), with at least CS_GB_HAN ideographs (lead 0xB0 and up), kana rows
 * 0xA4/0xA5 under 5% (EUC-JP shares these rows), at least 1/8 of the
 * ideographs in rows 0xC9 and up (EUC-KR's Hangul fills rows 0xB0-0xC8;
 * Chinese text has 20-60% above) and at least 1/8 of the trails below 0xC0
 * (Cyrillic letter pairs in KOI8-R or windows-1251 have trails of 0xC0 and
 * up; Chinese trails spread evenly over 0xA1-0xFE). ICU's detector takes
 * short Chinese subjects for windows-1252, so this is also the better
 * answer there. Anything else goes to the detector. */
/* What one byte adds to cs_gb_sure's counts, 16 bits a count: as a lead,
 * pairs | kana << 16 | ideographs << 32 | high rows << 48; as a trail,
 * 1 | low trail << 16; 0 where the byte cannot be one. */
static uint64_t cs_gb_lead[256], cs_gb_trail[256];
static pthread_once_t cs_gb_once = PTHREAD_ONCE_INIT;

static void cs_gb_init(void)
{
	for (unsigned c = 0xA1; c <= 0xF7; c++)
		cs_gb_lead[c] = 1 | (uint64_t)(c == 0xA4 || c == 0xA5) << 16 |
		                (uint64_t)(c >= 0xB0) << 32 | (uint64_t)(c >= 0xC9) << 48;
	for (unsigned c = 0xA1; c <= 0xFE; c++)
		cs_gb_trail[c] = 1 | (uint64_t)(c < 0xC0) << 16;
}

static int cs_gb_sure(const unsigned char *s, size_t len)
{
	uint64_t leads = 0, trails = 0;
	size_t i = 0, pairs, kana, han, high_rows, low_trails;

	pthread_once(&cs_gb_once, cs_gb_init);
	if (len > CS_DETECT_MAX)
		len = CS_DETECT_MAX; /* callers pass no more; keeps the counts in 16 bits */
	while (i + 1 < len) {
		uint64_t l, t;
		if (s[i] < 0x80) {
			i = cs_skip_ascii(s, i + 1, len);
			continue;
		}
		l = cs_gb_lead[s[i]];
		t = cs_gb_trail[s[i + 1]];
		if (!l || !t)
			return 0;
		leads += l;
		trails += t;
		i += 2;
	}
	pairs = leads & 0xFFFF;
	kana = (leads >> 16) & 0xFFFF;
	han = (leads >> 32) & 0xFFFF;
	high_rows = leads >> 48;
	low_trails = (trails >> 16) & 0xFFFF;
	return han >= CS_GB_HAN && kana * 20 < pairs && high_rows * 8 >= han &&
	       low_trails * 8 >= pairs;
}

/* Decides the charset of a window of in[0..len) that starts a little
 * before offset `from` (the first telling byte); NULL when unsure. Plain
 * GB2312-shaped Chinese is settled by cs_gb_sure (over the window, or
 * over its dense start when the text goes on with GBK's extra pairs or a
 * stray byte). Otherwise ICU's detector
 * decides; it costs per byte and runs every recogniser, and dense
 * double-byte text (CJK) is usually told apart in far fewer bytes than
 * Latin text, so it first gets a short window, and the long one only when
 * the detector is not sure of the short one. */
static const struct cs_charset *cs_ucsdet(const char *in, size_t len, size_t from, int seven)
{
	size_t start = from > CS_DETECT_BACK ? from - CS_DETECT_BACK : 0;
	UCharsetDetector *det;
	const struct cs_charset *cs;

	if (len - start > CS_DETECT_MAX)
		len = start + CS_DETECT_MAX;
	if (!seven && cs_gb_sure((const unsigned char *)in + from, len - from))
		return &cs_sets[CS_GB18030];
	det = cs_det_get();
	if (!det)
		return NULL;
	if (!seven && len - from > CS_DETECT_CJK &&
	    cs_pair_shaped((const unsigned char *)in + from, CS_DETECT_CJK)) {
		if (cs_gb_sure((const unsigned char *)in + from, CS_DETECT_CJK))
			return &cs_sets[CS_GB18030]; /* GBK's extra pairs come later */
		cs = cs_run_det(det, in + from, CS_DETECT_CJK, 0, CS_CJK_SURE);
		if (cs)
			return cs;
	}
	return cs_run_det(det, in + start, len - start, seven, 0);
}

/* Returns 1 when every 8-bit byte of s[0..len) is one that all windows-125x
 * code pages decode alike: 0x85 (ellipsis), 0x91-0x97 (quotes, bullet,
 * dashes) and 0xA0 (no-break space). Text labelled us-ascii that holds only
 * these (Word's smart punctuation) then needs no detector: windows-1252
 * gives the same characters as any answer the detector could give that
 * decodes them as text. */
static int cs_windows_punct_only(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while ((i = cs_skip_ascii(s, i, len)) < len) {
		unsigned char c = s[i++];
		if (c != 0x85 && c != 0xA0 && (c < 0x91 || c > 0x97))
			return 0;
	}
	return 1;
}

/* Returns 1 when s[0..len) is ASCII text with a sprinkle of 8-bit bytes:
 * each one alone between ASCII bytes, at most one in CS_SPRINKLE bytes, and
 * none that windows-1252 and windows-1254 read differently (the Turkish
 * letters; ICU's detector picks 1254 for Turkish text). English or other
 * western prose with a (c), an accent or a pound sign: the detector (about
 * 0.4 ms for 1 KiB) would answer ISO-8859-1 from the ASCII words, or be
 * unsure and leave windows-1252, which read these bytes alike. */
static int cs_latin_sprinkle(const unsigned char *s, size_t len)
{
	size_t i = 0, high = 0;

	while ((i = cs_skip_ascii(s, i, len)) < len) {
		unsigned char c = s[i];
		if ((i > 0 && s[i - 1] >= 0x80) || (i + 1 < len && s[i + 1] >= 0x80))
			return 0;
		if (c == 0x8E || c == 0x9E || c == 0xD0 || c == 0xDD || c == 0xDE || c == 0xF0 ||
		    c == 0xFD || c == 0xFE)
			return 0;
		high++;
		i++;
	}
	return high && high * CS_SPRINKLE <= len;
}

/* Detects the charset of 8-bit text that is not UTF-8 (windows-1252 when
 * the detector is not sure), looking at the window the detector would. */
static const struct cs_charset *cs_detect_legacy(const char *in, size_t len)
{
	size_t first = cs_skip_ascii((const unsigned char *)in, 0, len), start;
	const struct cs_charset *cs;

	if (cs_windows_punct_only((const unsigned char *)in + first, len - first))
		return &cs_sets[CS_W1252];
	start = first > CS_DETECT_BACK ? first - CS_DETECT_BACK : 0;
	if (cs_latin_sprinkle((const unsigned char *)in + start,
	                      len - start > CS_DETECT_MAX ? CS_DETECT_MAX : len - start))
		return &cs_sets[CS_W1252];
	cs = cs_ucsdet(in, len, first, 0);
	return cs ? cs : &cs_sets[CS_W1252];
}

/* The decision for one input: a charset, and a fallback to use instead
 * when decoding with it replaces more than max_subs sequences. */
struct cs_plan {
	const struct cs_charset *cs;
	const struct cs_charset *guess; /* legacy bytes are this, not detected */
	const struct cs_charset *fallback;
	size_t max_subs;
	unsigned flags;
	int ascii; /* the input is 7-bit */
};

/* Plan for pure 7-bit input: copied, unless ISO-2022 escapes show up. */
static void cs_plan_ascii(struct cs_plan *p, const char *in, size_t len)
{
	const struct cs_charset *cs = p->cs;
	const char *esc = (!cs || (cs->kind & CSK_WEST)) ? memchr(in, 0x1B, len) : NULL;

	if (esc) {
		const struct cs_charset *d = cs_ucsdet(in, len, (size_t)(esc - in), 1);
		if (d) {
			p->cs = d;
			p->flags |= CS_DETECTED;
			return;
		}
	}
	if (!cs)
		p->cs = &cs_sets[CS_ASCII];
}

/* Plan for valid UTF-8 with 8-bit bytes, or nothing if the label stands. */
static int cs_plan_utf8(struct cs_plan *p, const struct cs_stats *st)
{
	const struct cs_charset *cs = p->cs, *u8 = &cs_sets[CS_UTF8];

	if (cs == u8)
		return 1;
	if (!cs || (cs->kind & (CSK_WEST | CSK_7BIT)) || st->multi >= CS_UTF8_SURE) {
		p->cs = u8;
		p->flags |= CS_DETECTED;
		return 1;
	}
	p->fallback = u8; /* a few sequences: UTF-8 only if the label fails */
	p->max_subs = 0;
	return 0;
}

/* Decides how to decode j->in, given the charset the label named (p->cs,
 * NULL for none): a BOM wins; 7-bit text is copied; valid UTF-8 beats
 * western, 7-bit and missing labels; legacy bytes under a missing,
 * us-ascii or UTF-8 label are detected. */
static void cs_plan(struct cs_plan *p, struct cs_job *j)
{
	const struct cs_charset *bom = cs_bom(j->in, j->len), *cs = p->cs;
	const struct cs_stats *st = &j->st;

	if (bom) {
		if (cs != bom && !(bom == &cs_sets[CS_UTF16] && cs &&
		                   (cs == &cs_sets[CS_UTF16LE] || cs == &cs_sets[CS_UTF16BE])))
			p->flags |= CS_DETECTED;
		p->cs = bom;
		return;
	}
	if (cs && !(cs->kind & (CSK_ASCII | CSK_7BIT)))
		return;
	p->ascii = utf8_is_ascii(j->in, j->len);
	if (p->ascii) {
		cs_plan_ascii(p, j->in, j->len);
		return;
	}
	cs_scan(j->in, j->len, cs && (cs->kind & CSK_UTF8) ? CS_SCAN_BAD : 0, &j->st);
	j->scanned = 1;
	if (!st->bad && cs_plan_utf8(p, st))
		return;
	if (st->bad && cs && (cs->kind & CSK_UTF8) && st->multi >= st->bad)
		return; /* damaged UTF-8: keep it, bad bytes become U+FFFD */
	if (!cs || (cs->kind & (CSK_GUESS | CSK_UTF8))) {
		p->cs = p->guess ? p->guess : cs_detect_legacy(j->in, j->len);
		p->flags |= CS_DETECTED;
		p->fallback = &cs_sets[CS_W1252];
		p->max_subs = st->high / 16;
	}
}

/* Decodes again with the plan's fallback, replacing what was appended. */
static int cs_redo(struct cs_plan *p, struct cs_job *j, size_t start)
{
	j->out->len = start;
	if (j->out->p)
		j->out->p[start] = '\0';
	j->subs = 0;
	j->flags = 0;
	p->cs = p->fallback;
	p->flags |= CS_DETECTED;
	return cs_decode(j, p->cs);
}

/* ---- public ---- */

void cs_dbcs_fast(int on)
{
	cs_dbcs_off = !on;
}

/* cs_to_utf8(), with the guess of cs_header_guess_to_utf8() (or NULL). */
static int cs_convert(sbuf *out, const char *in, size_t len, const char *label, size_t label_len,
                      const struct cs_charset *guess, const char **used, unsigned *flags)
{
	struct cs_plan p = {NULL, guess, NULL, 0, 0, 0};
	struct cs_job j = {out, in, len, 0, 0, 0, {0, 0, 0, 0, 0}};
	size_t start = out->len;
	char key[CS_KEY_MAX + 1];
	int err;

	if (label && cs_label_key(label, label_len, key)) {
		p.cs = cs_find_key(key);
		p.flags = p.cs ? 0 : CS_UNKNOWN_LABEL | CS_DETECTED;
	}
	cs_plan(&p, &j);
	if ((p.cs->kind & CSK_ASCII) && p.ascii)
		err = sbuf_add(out, in, len);
	else
		err = cs_decode(&j, p.cs);
	if (!err && p.fallback && j.subs > p.max_subs && p.fallback != p.cs)
		err = cs_redo(&p, &j, start);
	*used = p.cs->name;
	*flags = p.flags | j.flags | (j.subs ? CS_INVALID : 0);
	return err;
}

int cs_to_utf8(sbuf *out, const char *in, size_t len, const char *label, size_t label_len,
               const char **used, unsigned *flags)
{
	return cs_convert(out, in, len, label, label_len, NULL, used, flags);
}

const char *cs_guess(const char *in, size_t len)
{
	struct cs_plan p = {NULL, NULL, NULL, 0, 0, 0};
	struct cs_job j = {NULL, in, len, 0, 0, 0, {0, 0, 0, 0, 0}};

	cs_plan(&p, &j);
	if (!(p.flags & CS_DETECTED) || (p.cs->kind & CSK_UTF8) || !(p.cs->kind & CSK_ASCII))
		return NULL; /* also a BOM or ISO-2022: no guess for other text */
	return p.cs->name;
}

int cs_header_guess_to_utf8(sbuf *out, const char *in, size_t len, const char *guess)
{
	const struct cs_charset *g = guess ? cs_find(guess, strlen(guess)) : NULL;
	const char *used;
	unsigned flags;

	return cs_convert(out, in, len, NULL, 0, g, &used, &flags);
}

int cs_nfc(sbuf *out, const char *s, size_t len)
{
	struct cs_stats st;
	size_t subs = 0;

	cs_scan(s, len, 0, &st);
	if (st.bad)
		return cs_utf8_lossy(out, s, len, &subs);
	return st.cp300 ? cs_nfc_valid(out, s, len) : sbuf_add(out, s, len);
}

int cs_header_to_utf8(sbuf *out, const char *in, size_t len)
{
	return cs_header_guess_to_utf8(out, in, len, NULL);
}

/* ---- <meta charset> ---- */

static int cs_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Finds lower-case `word` in s[from..len) ignoring case; returns its
 * offset or len. */
static size_t cs_find_ci(const char *s, size_t from, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = from; i + wl <= len; i++) {
		size_t k = 0;
		while (k < wl && cs_lower((unsigned char)s[i + k]) == word[k])
			k++;
		if (k == wl)
			return i;
	}
	return len;
}

static int cs_label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == ':' || c == '+';
}

/* Reads the value after "charset" at s[i..end): spaces, '=', spaces,
 * quotes, then the label. Returns its length (0: none) and *at. */
static size_t cs_meta_value(const char *s, size_t i, size_t end, size_t *at)
{
	size_t n = 0;

	while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
		i++;
	if (i >= end || s[i] != '=')
		return 0;
	i++;
	while (i < end && (s[i] == ' ' || s[i] == '\t' || s[i] == '"' || s[i] == '\'' ||
	                   s[i] == '\r' || s[i] == '\n'))
		i++;
	*at = i;
	while (i + n < end && cs_label_char((unsigned char)s[i + n]))
		n++;
	return n;
}

size_t cs_html_meta_charset(const char *html, size_t len, char *label, size_t cap)
{
	size_t pos = 0;

	if (len > 1024)
		len = 1024;
	while ((pos = cs_find_ci(html, pos, len, "<meta")) < len) {
		const char *gt = memchr(html + pos, '>', len - pos);
		size_t end = gt ? (size_t)(gt - html) : len, c = pos, at = 0, n;
		while ((c = cs_find_ci(html, c, end, "charset")) < end) {
			n = cs_meta_value(html, c + 7, end, &at);
			if (n && n < cap) {
				memcpy(label, html + at, n);
				label[n] = '\0';
				return n;
			}
			c += 7;
		}
		pos = end;
	}
	if (cap)
		label[0] = '\0';
	return 0;
}
