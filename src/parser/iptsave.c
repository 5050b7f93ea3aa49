/* iptsave.c -- the iptables-save / iptables-restore format.
 *
 *     *filter
 *     :INPUT DROP [0:0]
 *     :tcp_in - [0:0]
 *     -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
 *     COMMIT
 *
 * Each rule line is tokenized the way iptables-restore does it (blanks
 * separate words, double quotes group, a backslash escapes the next
 * character) and handed to the same parser as an iptables command line,
 * with `-t TABLE` in front, so both forms give the same IR and the same
 * diagnostics.  Like iptables-restore without --noflush, a `*table` section
 * replaces whatever the table held; rules of a section without COMMIT are
 * an error, because iptables-restore would not load them.
 *
 * The family is the caller's choice (iptables-restore vs ip6tables-restore);
 * iptsave_guess_family() looks at the addresses and ICMPv6 words of a dump
 * for a caller that has nothing else to go on.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "dialect.h"
#include "../util.h"

static const char *skip_blank(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

static bool line_get(const struct src_file *f, unsigned n, const char **s, const char **end)
{
	size_t len;

	*s = src_line(f, n, &len);
	if (!*s)
		return false;
	*end = *s + len;
	return true;
}

/* A dump's lines are tables (*filter), chains (:INPUT ACCEPT [0:0]),
 * rules (-A ..., [0:0] -A ... with counters), COMMIT and comments; a
 * script that feeds iptables-restore from a here-document holds such
 * lines too, but also its own commands (and usually a #! line). */
bool iptsave_detect(const struct src_file *f)
{
	bool star = false, commit = false, first = true;

	if (f->len >= 2 && f->text[0] == '#' && f->text[1] == '!')
		return false;
	for (unsigned n = 1; n <= f->nlines; n++) {
		const char *s, *end;

		if (!line_get(f, n, &s, &end))
			break;
		s = skip_blank(s, end);
		if (s == end || *s == '#')
			continue;
		if (first && (*s == '*' || *s == ':'))
			return true;
		first = false;
		if (*s == '*' && s + 1 < end && isalpha((unsigned char)s[1]))
			star = true;
		else if (end - s >= 6 && !strncmp(s, "COMMIT", 6) && skip_blank(s + 6, end) == end)
			commit = true;
		else if (*s != ':' && *s != '-' && *s != '[')
			return false;	/* a command of a script */
	}
	return star && commit;
}

enum ir_family iptsave_guess_family(const struct src_file *f)
{
	static const char *const v6words[] = {
		"ipv6-icmp", "icmpv6", "--icmpv6-type", "icmp6-", "-m icmp6", "--hl-", "-j HL",
	};

	for (unsigned n = 1; n <= f->nlines; n++) {
		const char *s, *end;
		char buf[1024];
		size_t len;

		if (!line_get(f, n, &s, &end))
			break;
		len = (size_t)(end - s) < sizeof(buf) - 1 ? (size_t)(end - s) : sizeof(buf) - 1;
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (buf[0] != '-')
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(v6words); i++)
			if (strstr(buf, v6words[i]))
				return IR_FAM_IPV6;
		/* an address argument with "::" or hex groups is IPv6 */
		for (char *p = buf; (p = strstr(p, " -")) != NULL; p++) {
			char *a = p + 2;

			if (!(a[0] == 's' || a[0] == 'd') || a[1] != ' ')
				continue;
			a += 2;
			if (*a == '!')
				continue;
			for (; *a && *a != ' '; a++)
				if (*a == ':')
					return IR_FAM_IPV6;
		}
	}
	return IR_FAM_IPV4;
}

/* ---- tokenizer ------------------------------------------------------------- */

struct tokens {
	VEC(struct word) w;
};

static void tokens_free(struct tokens *t)
{
	for (size_t i = 0; i < t->w.n; i++)
		free(t->w.v[i].text);
	vec_free(&t->w);
}

static struct word word_make(const char *text, struct loc loc)
{
	struct word w = { 0 };

	w.kind = WORD_LITERAL;
	w.text = xstrdup(text);
	w.loc = loc;
	return w;
}

static int tokenize(struct parse_ctx *pc, const struct src_file *f, unsigned line,
		    const char *s, const char *end, struct tokens *t)
{
	const char *base = s;

	for (;;) {
		struct strbuf sb = { 0 };
		const char *start;
		bool quoted = false, any = false;
		struct loc l;

		s = skip_blank(s, end);
		if (s >= end)
			return 0;
		start = s;
		while (s < end) {
			if (*s == '\\' && s + 1 < end) {
				sb_addc(&sb, s[1]);
				s += 2;
				any = true;
				continue;
			}
			if (*s == '"') {
				quoted = !quoted;
				s++;
				any = true;
				continue;
			}
			if (!quoted && (*s == ' ' || *s == '\t' || *s == '\r'))
				break;
			sb_addc(&sb, *s++);
			any = true;
		}
		l.file = f;
		l.line = line;
		l.col = (unsigned)(start - base) + 1;
		l.len = (unsigned)(s - start);
		if (quoted) {
			sb_free(&sb);
			return diag_error(pc->dq, &l, "unterminated quote");
		}
		if (any)
			vec_push(&t->w, word_make(sb_str(&sb), l));
		sb_free(&sb);
	}
}

/* ---- sections ----------------------------------------------------------------- */

static void table_reset(struct ir_table *t)
{
	for (struct ir_chain *c = t->chains; c; c = c->next)
		ir_chain_flush(c);
	for (struct ir_chain *c = t->chains, *n; c; c = n) {
		n = c->next;
		if (!c->builtin) {
			c->refs = 0;
			ir_chain_delete(c);
		} else {
			c->policy = IR_POLICY_ACCEPT;
			c->policy_loc = loc_internal;
		}
	}
}

static int chain_line(struct parse_ctx *pc, struct ir_table *t, const struct tokens *tk)
{
	const struct word *name = &tk->w.v[0];
	const char *cname = name->text + 1;
	struct ir_chain *c;
	struct loc l = name->loc;

	if (!*cname)
		return diag_error(pc->dq, &l, "chain name missing after ':'");
	if (tk->w.n < 2)
		return diag_error(pc->dq, &l, "':%s' needs a policy (ACCEPT, DROP, or '-' for a user chain)", cname);
	c = ir_chain_find(t, cname);
	if (c && c->builtin) {
		const struct word *pol = &tk->w.v[1];

		if (!strcmp(pol->text, "ACCEPT")) {
			c->policy = IR_POLICY_ACCEPT;
		} else if (!strcmp(pol->text, "DROP")) {
			if (!strcmp(t->name, "nat"))
				return diag_error(pc->dq, &pol->loc, "the nat table is not for filtering: "
						  "iptables refuses a DROP policy there");
			c->policy = IR_POLICY_DROP;
		} else {
			return diag_error(pc->dq, &pol->loc, "bad policy '%s' for builtin chain %s "
					  "(ACCEPT or DROP)", pol->text, cname);
		}
		c->policy_loc = loc_span(l, pol->loc);
		if (!c->loc.file)
			c->loc = c->policy_loc;
		return 0;
	}
	if (strcmp(tk->w.v[1].text, "-") != 0)
		return diag_error(pc->dq, &tk->w.v[1].loc, "a user chain has no policy; write '-'");
	if (c) {
		/* iptables-restore -n: an existing user chain is flushed */
		ir_chain_flush(c);
		return 0;
	}
	if (strlen(cname) > 28)
		return diag_error(pc->dq, &l, "chain name '%s' is longer than 28 characters", cname);
	ir_chain_new_user(t, cname, &l);
	return 0;
}

static int rule_line(struct parse_ctx *pc, const struct src_file *f, unsigned line, enum ir_family fam,
		     const char *table, const struct loc *table_loc, struct tokens *tk, size_t first,
		     const char *s, const char *end)
{
	struct command cmd = { 0 };
	VEC(struct word) argv = { 0 };
	struct loc lineloc = { f, line, 1, (unsigned)(end - s) };
	int r;

	vec_push(&argv, word_make(fam == IR_FAM_IPV4 ? "iptables" : "ip6tables", lineloc));
	vec_push(&argv, word_make("-t", *table_loc));
	vec_push(&argv, word_make(table, *table_loc));
	for (size_t i = first; i < tk->w.n; i++)
		vec_push(&argv, tk->w.v[i]);
	cmd.argv = argv.v;
	cmd.argc = (unsigned)argv.n;
	cmd.loc = lineloc;
	if (tk->w.n > first)
		cmd.loc = loc_span(tk->w.v[first].loc, tk->w.v[tk->w.n - 1].loc);
	r = ipt_command(pc, &cmd, fam);
	for (size_t i = 0; i < 3; i++)
		free(argv.v[i].text);
	vec_free(&argv);
	return r;
}

int iptsave_parse(struct parse_ctx *pc, const struct src_file *f, enum ir_family fam)
{
	struct ir_table *t = NULL;
	struct loc table_loc = loc_internal;
	bool counters_noted = false;
	int ret = 0;

	for (unsigned n = 1; n <= f->nlines; n++) {
		struct tokens tk = { { 0 } };
		const char *s, *end, *ls;
		const struct word *w0;

		if (!line_get(f, n, &ls, &end))
			break;
		s = skip_blank(ls, end);
		if (s == end || *s == '#')
			continue;
		if (tokenize(pc, f, n, ls, end, &tk)) {
			ret = -1;
			tokens_free(&tk);
			continue;
		}
		if (!tk.w.n) {
			tokens_free(&tk);
			continue;
		}
		w0 = &tk.w.v[0];
		if (w0->text[0] == '*') {
			if (t) {
				ret = diag_error(pc->dq, &w0->loc, "new table '%s' before COMMIT of table %s "
						 "(iptables-restore would stop here)", w0->text + 1, t->name);
			}
			t = ir_table_get(pc->rs, fam, w0->text + 1);
			if (!t) {
				static const char *const tabs[] = { "filter", "nat", "mangle", "raw" };
				const char *sug = suggest(w0->text + 1, tabs, 4);
				char *hint = sug ? xasprintf("did you mean '*%s'?", sug) : NULL;

				diag_add(pc->dq, DIAG_ERROR, &w0->loc, hint, "unknown or unsupported table '%s'",
					 w0->text + 1);
				free(hint);
				ret = -1;
			} else {
				table_loc = w0->loc;
				if (!pc->noflush)
					table_reset(t);
			}
		} else if (!strcmp(w0->text, "COMMIT")) {
			if (!t)
				ret = diag_error(pc->dq, &w0->loc, "COMMIT without a table ('*filter' ...) before it");
			t = NULL;
		} else if (!t) {
			ret = diag_error(pc->dq, &w0->loc, "line outside a table: a '*filter' (or *nat, *mangle, "
					 "*raw) line must come first");
		} else if (w0->text[0] == ':') {
			if (chain_line(pc, t, &tk))
				ret = -1;
		} else {
			size_t first = 0;

			/* iptables-save -c: "[packets:bytes] -A ..." */
			if (w0->text[0] == '[') {
				if (!counters_noted)
					diag_note(pc->dq, &w0->loc, "packet/byte counters are not carried over; "
						  "the new ruleset starts at zero");
				counters_noted = true;
				first = 1;
			}
			if (first >= tk.w.n || tk.w.v[first].text[0] != '-') {
				ret = diag_error(pc->dq, &tk.w.v[first < tk.w.n ? first : 0].loc,
						 "expected a rule (-A CHAIN ...), a chain (:NAME POLICY) or COMMIT");
			} else if (rule_line(pc, f, n, fam, t->name, &table_loc, &tk, first, ls, end)) {
				ret = -1;
			}
		}
		tokens_free(&tk);
	}
	if (t) {
		struct loc l = table_loc;

		ret = diag_error(pc->dq, &l, "table %s has no COMMIT: iptables-restore would load none "
				 "of its rules", t->name);
	}
	return ret;
}
