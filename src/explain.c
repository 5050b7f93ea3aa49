/* explain.c -- masqc explain.
 *
 * What an admin reads before trusting a migration: every line of the old
 * script that did something, the nftables rules it became, and, under it,
 * every assumption (note) and approximation (warning) masqc made there.
 * Lines that produced nothing and said nothing (comments, echo) are left
 * out; a line whose command became no rule but drew a diagnostic is shown
 * with it, so nothing the script did is invisible here.
 *
 * The rules come from the nft backend itself (emit_opts.on_rule), so what
 * explain shows is exactly what compile prints.
 */
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "util.h"

struct xrule {
	const struct src_file *file;
	unsigned line;
	unsigned seq;
	char *text;
};

struct xctx {
	VEC(struct xrule) rules;
};

static void on_rule(void *ctx, const struct loc *loc, const char *chain, const char *text)
{
	struct xctx *x = ctx;
	struct xrule r = { loc ? loc->file : NULL, loc ? loc->line : 0,
			   (unsigned)x->rules.n,
			   chain ? xasprintf("%s: %s", chain, text) : xstrdup(text) };

	vec_push(&x->rules, r);
}

static int xrule_cmp(const void *a, const void *b)
{
	const struct xrule *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *level_mark(enum diag_level l)
{
	switch (l) {
	case DIAG_NOTE:
		return "note";
	case DIAG_WARNING:
		return "WARNING (approximation)";
	case DIAG_ERROR:
		return "ERROR";
	}
	return "?";
}

/* Everything attached to one file, walked line by line. */
static void explain_file(const struct src_file *f, struct xctx *x,
			 const struct diag_queue *dq, FILE *out)
{
	VEC(struct xrule) rs = { 0 };
	VEC(const struct diag *) ds = { 0 };
	size_t ri = 0, di = 0;

	for (size_t i = 0; i < x->rules.n; i++)
		if (x->rules.v[i].file == f)
			vec_push(&rs, x->rules.v[i]);
	for (size_t i = 0; i < dq->n; i++)
		if (dq->v[i].loc.file == f)
			vec_push(&ds, &dq->v[i]);
	if (rs.n)
		qsort(rs.v, rs.n, sizeof(*rs.v), xrule_cmp);
	/* diag_print already sorted the queue by file, line and column */
	fprintf(out, "== %s\n", f->path);
	if (f->included_from && f->included_from->file)
		fprintf(out, "   (sourced from %s:%u)\n", f->included_from->file->path,
			f->included_from->line);
	while (ri < rs.n || di < ds.n) {
		unsigned line = ~0u;
		size_t len;
		const char *txt;

		if (ri < rs.n)
			line = rs.v[ri].line;
		if (di < ds.n && ds.v[di]->loc.line < line)
			line = ds.v[di]->loc.line;
		txt = src_line(f, line, &len);
		fprintf(out, "\n%5u | %.*s\n", line, (int)len, txt);
		if (ri >= rs.n || rs.v[ri].line != line)
			fputs("      |   (no rule)\n", out);
		for (; ri < rs.n && rs.v[ri].line == line; ri++)
			fprintf(out, "      | => %s\n", rs.v[ri].text);
		while (di < ds.n && ds.v[di]->loc.line == line) {
			const struct diag *d = ds.v[di];
			unsigned times = 1;

			/* a loop says the same thing on each pass: once, counted */
			for (di++; di < ds.n && ds.v[di]->loc.line == line &&
			     ds.v[di]->level == d->level && !strcmp(ds.v[di]->msg, d->msg); di++)
				times++;
			fprintf(out, "      |    %s: %s", level_mark(d->level), d->msg);
			if (times > 1)
				fprintf(out, " (%u times)", times);
			fputc('\n', out);
			if (d->hint)
				fprintf(out, "      |      (%s)\n", d->hint);
		}
	}
	fputc('\n', out);
	vec_free(&rs);
	vec_free(&ds);
}

int explain_emit(const struct ir_ruleset *rs, const struct source_set *ss,
		 struct diag_queue *dq, struct emit_opts *o, FILE *out)
{
	struct xctx x = { 0 };
	FILE *sink = fopen("/dev/null", "w");
	int ret;

	o->on_rule = on_rule;
	o->on_rule_ctx = &x;
	ret = nft_emit(rs, sink ? sink : stdout, o, dq);
	if (sink)
		fclose(sink);
	/* what the rules alone do not show: policies and sysctls */
	for (const struct ir_table *t = rs->tables; t; t = t->next)
		for (const struct ir_chain *c = t->chains; c; c = c->next)
			if (c->builtin && c->policy_loc.file) {
				char *cn = xasprintf("%s_%s", t->name, c->name);
				char *txt = xasprintf("policy %s (%s)",
						      c->policy == IR_POLICY_DROP ? "drop" : "accept",
						      ir_family_name(t->family));

				on_rule(&x, &c->policy_loc, cn, txt);
				free(cn);
				free(txt);
			}
	for (const struct ir_sysctl *sc = rs->sysctls; sc; sc = sc->next) {
		char *txt = xasprintf("sysctl %s = %s (sysctl.d fragment, --sysctl-out)",
				      sc->key, sc->value);

		on_rule(&x, &sc->loc, NULL, txt);
		free(txt);
	}
	diag_sort(dq);
	for (const struct src_file *f = ss->head; f; f = f->next)
		explain_file(f, &x, dq, out);
	for (size_t i = 0; i < x.rules.n; i++)
		free(x.rules.v[i].text);
	vec_free(&x.rules);
	return ret;
}
