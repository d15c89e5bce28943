/*
 * test_rules.c: the rule set (src/rules): the parser's errors with
 * FILE:LINE and its limits, each rule kind on a message, Hyperscan with
 * the PCRE2 fallback, metas, scores and per-user/per-domain overrides,
 * allow and deny lists, the checks' configuration, the embedded default
 * set, and the engine's symbols from rules.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "harness.h"
#include "rules/load.h"
#include "rules/rules.h"
#include "samples.h"

/* Builds a set from one file's text (no defaults); NULL on error, with
 * the message in err. */
static ruleset *build(const char *text, rules_error *err)
{
	ruleset *rs = rules_new();

	if (!rs)
		return NULL;
	if (rules_parse(rs, "t.rules", text, strlen(text), err) || rules_compile(rs, err)) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

/* Checks that text is refused with an error containing want. */
static void refused(const char *file, int line, const char *text, const char *want)
{
	rules_error err;
	ruleset *rs = build(text, &err);
	char m[700];

	if (rs || !strstr(err.msg, want)) {
		snprintf(m, sizeof(m), "refused(\"%.80s\") wanted \"%s\", got \"%s\"", text, want,
		         rs ? "accepted" : err.msg);
		test_fail(file, line, m);
	}
	rules_free(rs);
}
#define REFUSED(text, want) refused(__FILE__, __LINE__, text, want)

typedef struct run {
	ss_arena a;
	ss_hits h;
	ss_message *m;
} run;

/* Runs rs on msg for user and rcpt (may be NULL) with an envelope. */
static int run_msg(run *r, const ruleset *rs, const char *msg, const char *user, const char *rcpt,
                   const char *ip, const char *mail_from)
{
	rules_scratch *s = NULL;
	rules_scope sc;
	rules_input in;
	const char *rcpts[1] = {rcpt};
	int err;

	arena_init(&r->a);
	hits_init(&r->h, &r->a);
	r->m = NULL;
	if ((err = ss_parse(msg, strlen(msg), NULL, &r->m)) || (err = rules_scratch_new(rs, &s)))
		return err;
	in = (rules_input){r->m, msg, strlen(msg), ip, NULL, mail_from};
	rules_scope_of(rs, user, rcpts, rcpt ? 1 : 0, &sc);
	err = rules_run(rs, s, &in, &sc, &r->h);
	rules_scratch_free(s);
	return err;
}

static void run_end(run *r)
{
	ss_message_free(r->m);
	arena_release(&r->a);
}

static int fired(const run *r, const char *name)
{
	return hits_find(&r->h, name) != NULL;
}

static const char msg1[] = "From: Ann Example <ann@example.com>\n"
                           "To: bob@example.org\n"
                           "Subject: Cheap PILLS today\n"
                           "X-Mailer: MassMailer 2.0\n"
                           "Message-ID: <123>\n"
                           "\n"
                           "Hello friend,\nbuy cheap pills at http://pills.example.top/buy?x=1\n"
                           "Price: aaaaaaaaaa!\n";

TEST(rules_header_rules_match_targets)
{
	rules_error err;
	run r;
	ruleset *rs = build("header SUBJ_PILLS Subject =~ /pills/i\n"
	                    "header SUBJ_CASE Subject =~ /pills/\n"
	                    "header FROM_EXAMPLE From:addr =~ /@example\\.com$/\n"
	                    "header FROM_NAME From:name =~ /^Ann Example$/\n"
	                    "header NO_DATE !exists:Date\n"
	                    "header HAS_MAILER exists:X-Mailer\n"
	                    "header ALL_MAILER ALL =~ /^X-Mailer: Mass/m\n"
	                    "header NOT_SUBJ Subject !~ /pills/i\n"
	                    "header NO_REPLYTO Reply-To !~ /./\n"
	                    "header MSGID_NODOM Message-ID =~ /^<[^@]*>$/\n",
	                    &err);

	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "SUBJ_PILLS") && !fired(&r, "SUBJ_CASE"));
	CHECK(fired(&r, "FROM_EXAMPLE") && fired(&r, "FROM_NAME"));
	CHECK(fired(&r, "NO_DATE") && fired(&r, "HAS_MAILER") && fired(&r, "ALL_MAILER"));
	CHECK(!fired(&r, "NOT_SUBJ") && fired(&r, "NO_REPLYTO") && fired(&r, "MSGID_NODOM"));
	run_end(&r);
	rules_free(rs);
}

TEST(rules_body_rawbody_uri_full_and_flags)
{
	rules_error err;
	run r;
	ruleset *rs = build("body B_FRIEND /^hello friend/im\n"
	                    "body B_DOTALL /friend,.buy/s\n"
	                    "body B_NODOT /friend,.buy/\n"
	                    "rawbody RB_PRICE /Price: a+/\n"
	                    "rawbody RB_NOHDR /X-Mailer/\n"
	                    "full F_MAILER /X-Mailer: MassMailer/\n"
	                    "uri U_TOP /\\.top\\//\n"
	                    "uri U_NONE /nothing\\.example/\n",
	                    &err);

	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "B_FRIEND") && fired(&r, "B_DOTALL") && !fired(&r, "B_NODOT"));
	CHECK(fired(&r, "RB_PRICE") && !fired(&r, "RB_NOHDR") && fired(&r, "F_MAILER"));
	CHECK(fired(&r, "U_TOP") && !fired(&r, "U_NONE"));
	CHECK(hits_find(&r.h, "U_TOP")->detail &&
	      strstr(hits_find(&r.h, "U_TOP")->detail, "pills.example.top"));
	run_end(&r);
	rules_free(rs);
}

/* rawbody starts after the first empty line, LF or CRLF; a message with
 * no empty line has no raw body. */
TEST(rules_rawbody_starts_after_the_empty_line)
{
	static const char *const msgs[] = {
	    "Subject: a\r\nX-Mailer: M\r\n\r\nPrice: aa\r\n",
	    "Subject: a\nX-Mailer: M\n\nPrice: aa\n",
	    "Subject: a\r\nX-Mailer: M\r\n",
	    "\nPrice: aa X-Mailer",
	};
	static const int price[] = {1, 1, 0, 1}, mailer[] = {0, 0, 0, 1};
	rules_error err;
	ruleset *rs = build("rawbody RB_PRICE /^Price: a+/m\n"
	                    "rawbody RB_MAILER /X-Mailer/\n",
	                    &err);

	CHECK(rs != NULL);
	if (!rs)
		return;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		run r;
		CHECK(run_msg(&r, rs, msgs[i], NULL, NULL, NULL, NULL) == 0);
		CHECK(fired(&r, "RB_PRICE") == price[i]);
		CHECK(fired(&r, "RB_MAILER") == mailer[i]);
		run_end(&r);
	}
	rules_free(rs);
}

/* Three patterns Hyperscan refuses (a back-reference, lookaheads) and one
 * it takes. */
static const char pcre_set[] = "body LETTER_RUN /([a-z])\\1{7,}/\n"
                               "body LOOKAHEAD /cheap(?= pills)/\n"
                               "body LOOKAHEAD_NO /cheap(?! pills)/\n"
                               "body PLAIN /cheap/\n";

/* Checks that rs (built from pcre_set) left three patterns to PCRE2 and
 * fires as they say on msg1; frees it. */
static void check_pcre_set(ruleset *rs)
{
	run r;

	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(rules_count(rs) == 4 && rules_count_pcre(rs) == 3);
	CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "LETTER_RUN") && fired(&r, "LOOKAHEAD") && !fired(&r, "LOOKAHEAD_NO"));
	CHECK(fired(&r, "PLAIN"));
	run_end(&r);
	rules_free(rs);
}

TEST(rules_pcre_fallback_for_what_hyperscan_refuses)
{
	rules_error err;

	check_pcre_set(build(pcre_set, &err));
}

TEST(rules_metas_boolean_and_counting)
{
	rules_error err;
	run r;
	ruleset *rs = build("header S Subject =~ /pills/i\n"
	                    "body __B /cheap/\n"
	                    "body N /nothing here/\n"
	                    "meta AND_OK S && __B\n"
	                    "meta AND_NO S && N\n"
	                    "meta OR_OK (N || S) && !N\n"
	                    "meta COUNT2 S + __B + N >= 2\n"
	                    "meta COUNT3 S + __B + N >= 3\n"
	                    "meta ON_META AND_OK && COUNT2 && !COUNT3\n"
	                    "meta ON_CHECK SPF_FAIL || DKIM_INVALID\n"
	                    "meta ARITH S * 2\n",
	                    &err);

	CHECK(rs == NULL && strstr(err.msg, "t.rules:11: meta: unexpected text"));
	rs = build("header S Subject =~ /pills/i\n"
	           "body __B /cheap/\n"
	           "body N /nothing here/\n"
	           "meta AND_OK S && __B\n"
	           "meta AND_NO S && N\n"
	           "meta OR_OK (N || S) && !N\n"
	           "meta COUNT2 S + __B + N >= 2\n"
	           "meta COUNT3 S + __B + N >= 3\n"
	           "meta ON_META AND_OK && COUNT2 && !COUNT3\n"
	           "meta ON_CHECK SPF_FAIL || DKIM_INVALID\n",
	           &err);
	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "AND_OK") && !fired(&r, "AND_NO") && fired(&r, "OR_OK"));
	CHECK(fired(&r, "COUNT2") && !fired(&r, "COUNT3") && fired(&r, "ON_META"));
	CHECK(!fired(&r, "__B") && !fired(&r, "ON_CHECK")); /* sub-rules are not listed */
	run_end(&r);
	/* A meta sees the hits of the built-in checks already in the list. */
	{
		rules_scratch *s = NULL;
		rules_input in;
		ss_arena a;
		ss_hits h;
		ss_message *m = NULL;
		arena_init(&a);
		hits_init(&h, &a);
		CHECK(ss_parse(msg1, strlen(msg1), NULL, &m) == 0);
		CHECK(rules_scratch_new(rs, &s) == 0);
		CHECK(hits_add(&h, "DKIM_INVALID", "d=example.com") == 0);
		in = (rules_input){m, msg1, strlen(msg1), NULL, NULL, NULL};
		CHECK(rules_run(rs, s, &in, NULL, &h) == 0);
		CHECK(hits_find(&h, "ON_CHECK") != NULL);
		rules_scratch_free(s);
		ss_message_free(m);
		arena_release(&a);
	}
	rules_free(rs);
}

TEST(rules_errors_name_file_and_line)
{
	REFUSED("# c\n\nfrobnicate X y\n", "t.rules:3: unknown directive 'frobnicate'");
	REFUSED("body X /a(b/\n", "t.rules:1: bad regex /a(b/: missing closing parenthesis");
	REFUSED("body X /a(b/\n", "Hyperscan:");
	REFUSED("body X /ab/q\n", "t.rules:1: unknown regex flag 'q'");
	REFUSED("body X ab\n", "t.rules:1: expected /regex/flags");
	REFUSED("body X /a/\nmeta M X && NOPE\n", "t.rules:2: meta M: unknown symbol NOPE");
	REFUSED("body X /a/\n\nbody X /b/\n",
	        "t.rules:3: rule X defined twice (first at t.rules:1)");
	REFUSED("meta A B\nmeta B C\nmeta C A\n", "meta A: is part of a cycle");
	REFUSED("meta A A\n", "t.rules:1: meta A: is part of a cycle");
	REFUSED("score X 1.5x\n", "t.rules:1: bad score '1.5x'");
	REFUSED("score X nan\n", "bad score");
	REFUSED("score X 1e9\n", "bad score");
	REFUSED("body lower /a/\n", "t.rules:1: 'lower' is not a symbol name");
	REFUSED("header X Subject ~= /a/\n", "t.rules:1: expected 'Header =~ /regex/'");
	REFUSED("header X Subject:foo =~ /a/\n", "unknown header modifier ':foo'");
	REFUSED("meta X (A\n", "t.rules:1: meta: expected ')'");
	REFUSED("user a@example.com\nbody X /a/\nend\n",
	        "t.rules:2: 'body' is not allowed in a user or domain block");
	REFUSED("user a@example.com\nscore X 1\n", "t.rules:1: block without its 'end'");
	REFUSED("end\n", "t.rules:1: 'end' without a user or domain block");
	REFUSED("add_header_at 5\n", "t.rules:1: add_header_at only in a user or domain block");
	REFUSED("allow_ip 10.0.0.0/33\n", "t.rules:1: bad network");
	REFUSED("deny_from example.com\n", "t.rules:1: 'example.com' is not an address");
	REFUSED("dnslist_code NOPE 127.0.0.2 X\n", "no dnsbl or uribl named NOPE");
	REFUSED("dnsbl L zen.example.org\ndnslist_code L 127.0.0.300 X\n",
	        "t.rules:2: bad answer code");
	REFUSED("dnsbl L zen.example.org\ndnsbl L other.example\n", "DNS list L defined twice");
	REFUSED("fact X Not-A-Fact\n", "is not a fact name");
	{
		rules_error err;
		ruleset *rs = rules_new();
		CHECK(rules_parse(rs, "n.rules", "body X /a/\0\n", 12, &err) == SS_ESYNTAX);
		CHECK(strstr(err.msg, "n.rules:1: NUL byte") != NULL);
		rules_free(rs);
	}
}

TEST(rules_limit_line_length)
{
	size_t n = RULES_MAX_LINE + 10;
	char *t = malloc(n + 20);

	strcpy(t, "body X /");
	memset(t + 8, 'a', n);
	strcpy(t + 8 + n, "/\n");
	REFUSED(t, "t.rules:1: line longer than 4096 bytes");
	/* Just under the limit is fine. */
	memset(t, 0, n + 20);
	strcpy(t, "body X /");
	memset(t + 8, 'a', RULES_MAX_LINE - 10);
	strcat(t, "/\n");
	{
		rules_error err;
		ruleset *rs = build(t, &err);
		CHECK(rs != NULL);
		rules_free(rs);
	}
	free(t);
}

TEST(rules_limit_rule_count)
{
	size_t cap = (RULES_MAX_RULES + 2) * 24;
	char *t = malloc(cap), *p = t;
	rules_error err;
	ruleset *rs = rules_new();

	for (int i = 0; i <= RULES_MAX_RULES; i++)
		p += sprintf(p, "fact R%d html_form\n", i);
	CHECK(rules_parse(rs, "t.rules", t, (size_t)(p - t), &err) == SS_ESYNTAX);
	CHECK(strstr(err.msg, "t.rules:20001: more than 20000 rules") != NULL);
	rules_free(rs);
	free(t);
}

TEST(rules_limit_meta_depth_and_terms)
{
	char t[8192], *p = t;
	rules_error err;
	ruleset *rs;

	p += sprintf(p, "body M0 /a/\n");
	for (int i = 1; i <= RULES_MAX_META_DEPTH + 1; i++)
		p += sprintf(p, "meta M%d M%d\n", i, i - 1);
	REFUSED(t, "metas nested more than 16 deep");
	/* 16 levels are fine. */
	p = t;
	p += sprintf(p, "body M0 /a/\n");
	for (int i = 1; i <= RULES_MAX_META_DEPTH; i++)
		p += sprintf(p, "meta M%d M%d\n", i, i - 1);
	rs = build(t, &err);
	CHECK(rs != NULL);
	rules_free(rs);
	/* Terms of one expression. */
	p = t;
	p += sprintf(p, "body A /a/\nmeta M A");
	for (int i = 0; i < RULES_MAX_META_TERMS; i++)
		p += sprintf(p, " + A");
	sprintf(p, "\n");
	REFUSED(t, "t.rules:2: meta: more than 256 terms");
	p = t;
	p += sprintf(p, "body A /a/\nmeta M ");
	for (int i = 0; i < 300; i++)
		*p++ = '(';
	sprintf(p, "A\n");
	REFUSED(t, "t.rules:2: meta:");
}

TEST(rules_scores_describe_and_overrides)
{
	rules_error err;
	ruleset *rs = build("body X /cheap/\n"
	                    "score X 1.5\n"
	                    "score X 2.5\n" /* a later line wins */
	                    "describe X Cheap things\n"
	                    "user alice@example.org\n"
	                    "  score X 4\n"
	                    "  add_header_at 3\n"
	                    "  reject_at 10\n"
	                    "end\n"
	                    "domain example.org\n"
	                    "  score X -1\n"
	                    "  reject_at 20\n"
	                    "end\n"
	                    "domain other.example\n"
	                    "  score SPF_FAIL 7\n"
	                    "end\n",
	                    &err);
	rules_scope sc;
	const char *rc[2] = {"<carol@other.example>", "dave@example.org"};
	double add = 0, rej = 6.9;

	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(rules_score(rs, NULL, "X") == 2.5);
	CHECK(rules_score(rs, NULL, "UNKNOWN_SYMBOL") == 0);
	CHECK(!strcmp(rules_describe(rs, "X"), "Cheap things"));
	rules_scope_of(rs, "alice@example.org", NULL, 0, &sc);
	CHECK(sc.user && sc.domain && rules_score(rs, &sc, "X") == 4);
	rules_thresholds(rs, &sc, &add, &rej);
	CHECK(add == 3 && rej == 10); /* the user's block wins over the domain's */
	rules_scope_of(rs, "ALICE@Example.ORG", NULL, 0, &sc);
	CHECK(sc.user != NULL); /* case does not matter */
	rules_scope_of(rs, "bob@example.org", NULL, 0, &sc);
	CHECK(!sc.user && sc.domain && rules_score(rs, &sc, "X") == -1);
	rules_scope_of(rs, NULL, rc, 2, &sc);
	CHECK(sc.domain && rules_score(rs, &sc, "SPF_FAIL") == 7 &&
	      rules_score(rs, &sc, "X") == 2.5);
	rules_scope_of(rs, "", rc + 1, 1, &sc);
	CHECK(sc.domain && rules_score(rs, &sc, "X") == -1);
	rules_free(rs);
}

static const char listmsg[] = "Received: from mx.example.net (mx.example.net [192.0.2.7])\n"
                              "\tby mail.example.org; Mon, 1 Jan 2024 10:00:00 +0000\n"
                              "From: Spam King <king@spam.example>\n"
                              "Subject: hi\n\nhello\n";

TEST(rules_allow_and_deny_lists)
{
	rules_error err;
	run r;
	ruleset *rs = build("deny_from *@spam.example\n"
	                    "allow_from friend@ok.example KING@spam.example\n"
	                    "deny_domain example\n"
	                    "allow_domain ok.example\n"
	                    "deny_ip 192.0.2.0/24 2001:db8::/32\n"
	                    "allow_ip 198.51.100.1\n"
	                    "user bob@example.org\n"
	                    "  deny_from someone@else.example\n"
	                    "end\n",
	                    &err);

	CHECK(rs != NULL);
	if (!rs)
		return;
	/* No envelope: the From address and the first untrusted hop. */
	CHECK(run_msg(&r, rs, listmsg, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "DENY_FROM") && fired(&r, "ALLOW_FROM") && fired(&r, "DENY_DOMAIN"));
	CHECK(!fired(&r, "ALLOW_DOMAIN") && fired(&r, "DENY_IP") && !fired(&r, "ALLOW_IP"));
	CHECK(!strcmp(hits_find(&r.h, "DENY_IP")->detail, "192.0.2.7"));
	run_end(&r);
	/* The envelope's client and MAIL FROM, and a user's own list. */
	CHECK(run_msg(&r, rs, listmsg, "bob@example.org", NULL, "198.51.100.1",
	              "<someone@else.example>") == 0);
	CHECK(fired(&r, "ALLOW_IP") && !fired(&r, "DENY_IP") && fired(&r, "DENY_FROM"));
	CHECK(strstr(hits_find(&r.h, "DENY_FROM")->detail, "someone@else.example") != NULL);
	run_end(&r);
	CHECK(run_msg(&r, rs, listmsg, NULL, NULL, "2001:db8::5", "x@sub.ok.example") == 0);
	CHECK(fired(&r, "DENY_IP") && fired(&r, "ALLOW_DOMAIN"));
	run_end(&r);
	rules_free(rs);
}

TEST(rules_checks_configuration)
{
	rules_error err;
	ruleset *rs = build("dnsbl RBL_EX zen.Example.org\n"
	                    "dnslist_code RBL_EX 127.0.0.2 RBL_EX_SBL\n"
	                    "dnslist_code RBL_EX 127.0.0.4/30 RBL_EX_XBL\n"
	                    "uribl URIBL_EX multi.uribl.example\n"
	                    "dnslist_code URIBL_EX &4 URIBL_EX_GREY\n"
	                    "dnslist_code URIBL_EX &0x2 URIBL_EX_BLACK\n"
	                    "brand PayPal.com apple.com\n"
	                    "shortener bit.ly\nshortener t.co\n"
	                    "meta BOTH RBL_EX_SBL && URIBL_EX_BLACK\n"
	                    "score RBL_EX_XBL 2\n",
	                    &err);
	const ss_checks_config *c;

	CHECK(rs != NULL);
	if (!rs)
		return;
	c = rules_checks(rs);
	CHECK(c->ndnslists == 2 && c->nbrands == 2 && c->nshorteners == 2);
	CHECK(!strcmp(c->dnslists[0].symbol, "RBL_EX") && c->dnslists[0].kind == SS_DNSLIST_IP);
	CHECK(!strcmp(c->dnslists[0].zone, "zen.example.org") && c->dnslists[0].ncodes == 2);
	CHECK(c->dnslists[0].codes[0].value == 0x7f000002 &&
	      c->dnslists[0].codes[0].mask == 0xffffffff && !c->dnslists[0].codes[0].bits);
	CHECK(!strcmp(c->dnslists[0].codes[0].symbol, "RBL_EX_SBL"));
	CHECK(c->dnslists[0].codes[1].value == 0x7f000004 &&
	      c->dnslists[0].codes[1].mask == 0xfffffffc);
	CHECK(c->dnslists[1].kind == SS_DNSLIST_DOMAIN && c->dnslists[1].ncodes == 2);
	CHECK(c->dnslists[1].codes[0].bits && c->dnslists[1].codes[0].value == 4);
	CHECK(c->dnslists[1].codes[1].bits && c->dnslists[1].codes[1].value == 2);
	CHECK(!strcmp(c->brands[0], "paypal.com") && !strcmp(c->shorteners[1], "t.co"));
	CHECK(rules_score(rs, NULL, "RBL_EX_XBL") == 2);
	rules_free(rs);
}

TEST(rules_facts)
{
	static const char html[] = "From: a@b.example\nSubject: x\nContent-Type: text/html\n\n"
	                           "<p>Hi</p><div style=\"display:none\">hidden words</div>"
	                           "<form action=\"http://x.example/\"><input></form>\n";
	rules_error err;
	run r;
	ruleset *rs = build("fact HIDDEN html_hidden_text\nfact FORM html_form\n"
	                    "fact SCRIPT html_script\n",
	                    &err);

	CHECK(rs != NULL);
	if (!rs)
		return;
	CHECK(run_msg(&r, rs, html, NULL, NULL, NULL, NULL) == 0);
	CHECK(fired(&r, "HIDDEN") && fired(&r, "FORM") && !fired(&r, "SCRIPT"));
	run_end(&r);
	rules_free(rs);
}

TEST(rules_default_set_compiles_and_is_quiet_on_ham)
{
	static const char ham[] = "From: Ann <ann@example.com>\nTo: bob@example.org\n"
	                          "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
	                          "Message-ID: <abc@example.com>\nSubject: Project notes\n\n"
	                          "Hi Bob,\nthe notes of Monday's review are attached.\nAnn\n";
	ruleset *rs = NULL;
	rules_error err;
	run r;

	CHECK(rules_build(NULL, 0, 0, &rs, &err) == 0);
	if (!rs)
		return;
	CHECK(rules_count(rs) >= 30 && rules_default_nfiles >= 3);
	CHECK(rules_score(rs, NULL, "DMARC_FAIL_REJECT") > 0 &&
	      rules_score(rs, NULL, "SPF_PASS") < 0);
	CHECK(rules_score(rs, NULL, "ALLOW_FROM") <= -10 && rules_score(rs, NULL, "DENY_IP") >= 10);
	CHECK(rules_describe(rs, "ATTACH_DOUBLE_EXT") != NULL);
	CHECK(rules_checks(rs)->nshorteners > 0 && rules_checks(rs)->nbrands > 0);
	CHECK(run_msg(&r, rs, ham, NULL, NULL, NULL, NULL) == 0);
	CHECK(r.h.n == 0);
	run_end(&r);
	rules_free(rs);
}

TEST(rules_load_paths_and_errors)
{
	char dir[64], path[128];
	ruleset *rs = NULL;
	rules_error err;
	const char *paths[1] = {dir};
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/ss-rules-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/b.rules", dir);
	f = fopen(path, "w");
	fputs("body B /b/\nmeta AB A && B\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/a.rules", dir);
	f = fopen(path, "w");
	fputs("body A /a/\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ignored.txt", dir);
	f = fopen(path, "w");
	fputs("junk\n", f);
	fclose(f);
	CHECK(rules_build(paths, 1, 1, &rs, &err) == 0 && rules_count(rs) == 3);
	rules_free(rs);
	snprintf(path, sizeof(path), "%s/c.rules", dir);
	f = fopen(path, "w");
	fputs("\nscore X y\n", f);
	fclose(f);
	CHECK(rules_build(paths, 1, 1, &rs, &err) == SS_ESYNTAX && rs == NULL);
	CHECK(strstr(err.msg, "/c.rules:2: bad score") != NULL);
	paths[0] = "/nonexistent/x.rules";
	CHECK(rules_build(paths, 1, 0, &rs, &err) == SS_EIO);
	CHECK(strstr(err.msg, "/nonexistent/x.rules: ") != NULL);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

TEST(rules_engine_symbols_scores_and_envelope)
{
	char dir[64], cmd[128];
	engine_config c;
	engine *e = NULL;
	ss_arena a;
	engine_result r;
	rules_error err;
	ruleset *rs = build("body CHEAP /cheap/\nscore CHEAP 1.25\ndescribe CHEAP Says cheap\n"
	                    "uri TOP /\\.top\\//\nscore TOP 0.5\n"
	                    "body NOSCORE /pills/\n"
	                    "deny_ip 203.0.113.0/24\nscore DENY_IP 20\n"
	                    "domain example.org\n score CHEAP 3\n reject_at 100\nend\n"
	                    "dnsbl RBL_X zen.example\n",
	                    &err);
	const char *rcpt[1] = {"bob@example.org"};
	engine_envelope env = {"203.0.113.9", "helo.example", "x@y.example", rcpt, 1};
	double sum = 0;

	CHECK(rs != NULL);
	snprintf(dir, sizeof(dir), "/tmp/ss-erules-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	engine_config_default(&c);
	c.db = dir;
	c.rules = rs;
	CHECK(engine_new(&c, &e) == 0);
	if (!e || !rs)
		goto out;
	CHECK(engine_rules(e) == rs && engine_checks(e)->ndnslists == 1);
	arena_init(&a);
	CHECK(engine_scan(e, NULL, NULL, msg1, strlen(msg1), &a, &r) == 0);
	CHECK(r.nsymbols == 4 && !strcmp(r.symbols[0].name, "SPAMSIFT_BAYES"));
	CHECK(!strcmp(r.symbols[1].name, "TOP") && r.symbols[1].score == 0.5);
	CHECK(strstr(r.symbols[1].description, "pills.example.top") != NULL);
	CHECK(!strcmp(r.symbols[2].name, "CHEAP") && r.symbols[2].score == 1.25);
	CHECK(!strcmp(r.symbols[2].description, "Says cheap"));
	CHECK(!strcmp(r.symbols[3].name, "NOSCORE") && r.symbols[3].score == 0);
	for (size_t i = 0; i < r.nsymbols; i++)
		sum += r.symbols[i].score;
	CHECK(fabs(r.score - sum) < 1e-9);
	arena_release(&a);
	/* The envelope: the IP is listed, the recipient's domain rescores. */
	arena_init(&a);
	CHECK(engine_scan(e, NULL, &env, msg1, strlen(msg1), &a, &r) == 0);
	CHECK(r.nsymbols == 5 && !strcmp(r.symbols[4].name, "DENY_IP"));
	CHECK(r.symbols[4].score == 20 && r.symbols[2].score == 3);
	CHECK(r.score > 20 && r.action == ENGINE_ADD_HEADER); /* reject_at 100 there */
	arena_release(&a);
	/* A broken file: engine_new refuses with FILE:LINE. */
	{
		char why[300] = "";
		const char *paths[1] = {"/nonexistent.rules"};
		engine *bad = NULL;
		engine_config_default(&c);
		c.db = dir;
		c.rule_paths = paths;
		c.nrule_paths = 1;
		c.error = why;
		c.error_len = sizeof(why);
		CHECK(engine_new(&c, &bad) == SS_EIO && !bad);
		CHECK(strstr(why, "/nonexistent.rules: ") != NULL);
	}
out:
	engine_free(e);
	rules_free(rs);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

/* Builds a set from text with its databases cached in dir. */
static ruleset *build_cached(const char *text, const char *dir)
{
	ruleset *rs = rules_new();
	rules_error err;

	if (!rs || rules_set_cache_dir(rs, dir) ||
	    rules_parse(rs, "t.rules", text, strlen(text), &err) || rules_compile(rs, &err)) {
		rules_free(rs);
		return NULL;
	}
	return rs;
}

/* The inode of the one cached database in dir (0: not exactly one). */
static ino_t cached_inode(const char *dir, char *path, size_t len)
{
	struct dirent *e;
	struct stat st;
	ino_t ino = 0;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "hs-", 3) && !strstr(e->d_name, ".tmp")) {
			snprintf(path, len, "%s/%s", dir, e->d_name);
			ino = stat(path, &st) ? 0 : st.st_ino;
			n++;
		}
	closedir(d);
	return n == 1 ? ino : 0;
}

/* The cached databases in dir. */
static size_t count_files(const char *dir)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	while (d && (e = readdir(d)))
		n += !strncmp(e->d_name, "hs-", 3);
	if (d)
		closedir(d);
	return n;
}

/* A compiled database is stored once, loaded (not compiled and stored
 * again) by the next build of the same patterns, replaced when damaged,
 * and the folder stays bounded. */
TEST(rules_compiled_databases_cached)
{
	char dir[] = "/tmp/ss-hscache-XXXXXX", sub[300], path[600], text[200];
	const char *set = "body PLAIN /cheap pills/i\nbody FRIEND /^hello friend/im\n";
	ruleset *rs;
	ino_t first;
	run r;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(sub, sizeof(sub), "%s/a/b", dir); /* made as needed */
	CHECK((rs = build_cached(set, sub)) != NULL);
	rules_free(rs);
	CHECK((first = cached_inode(sub, path, sizeof(path))) != 0);
	for (int i = 0; i < 2; i++) {
		CHECK((rs = build_cached(set, sub)) != NULL);
		if (!rs)
			break;
		CHECK(cached_inode(sub, path, sizeof(path)) == first); /* loaded, not rewritten */
		CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
		CHECK(fired(&r, "PLAIN") && fired(&r, "FRIEND"));
		run_end(&r);
		rules_free(rs);
	}
	/* damaged in place: refused, compiled again, replaced */
	FILE *f = fopen(path, "r+b");
	CHECK(f != NULL);
	if (f) {
		fseek(f, 40, SEEK_SET);
		fputs("garbage garbage garbage garbage", f);
		fclose(f);
	}
	CHECK((rs = build_cached(set, sub)) != NULL);
	if (rs) {
		CHECK(run_msg(&r, rs, msg1, NULL, NULL, NULL, NULL) == 0);
		CHECK(fired(&r, "PLAIN") && fired(&r, "FRIEND"));
		run_end(&r);
		rules_free(rs);
	}
	CHECK(cached_inode(sub, path, sizeof(path)) != first);
	/* many different sets: at most 64 databases kept */
	for (int i = 0; i < 70; i++) {
		snprintf(text, sizeof(text), "body R%d /word%dx/\n", i, i);
		rules_free(build_cached(text, sub));
	}
	CHECK(count_files(sub) == 64);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

static off_t file_size(const char *path, ino_t *ino)
{
	struct stat st;

	*ino = 0;
	if (stat(path, &st))
		return -1;
	*ino = st.st_ino;
	return st.st_size;
}

/* Hyperscan's verdicts on single patterns are kept in the cache folder:
 * written once (a header and one 17-byte record a pattern), read and not
 * rewritten by the next load of the same rules, which match as before;
 * a damaged file is ignored and replaced. */
TEST(rules_pattern_verdicts_cached)
{
	char dir[] = "/tmp/ss-hsv-XXXXXX", path[300];
	ino_t first = 0, now = 0;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/verdicts", dir);
	check_pcre_set(build_cached(pcre_set, dir));
	CHECK(file_size(path, &first) == 24 + 4 * 17);
	check_pcre_set(build_cached(pcre_set, dir));
	CHECK(file_size(path, &now) == 24 + 4 * 17 && now == first);
	if ((f = fopen(path, "r+b"))) {
		fseek(f, 30, SEEK_SET);
		fputs("garbage", f);
		fclose(f);
	}
	check_pcre_set(build_cached(pcre_set, dir));
	CHECK(file_size(path, &now) == 24 + 4 * 17 && now != first);
	check_pcre_set(build_cached(pcre_set, dir));
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}
