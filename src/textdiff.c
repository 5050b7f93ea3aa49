/* textdiff.c -- the line diff behind `masqc diff` (textdiff.h).
 *
 * Rulesets are long and change little: common head and tail are cut
 * first, then Myers' O(ND) algorithm finds a shortest edit script when it
 * is short (at most MYERS_MAX_D edits, whose trace fits in a few MB).
 * Longer ones are split at the lines that occur exactly once on each side
 * (patience diff: the longest increasing run of such anchors), and the gaps
 * between anchors diffed again; a gap with no anchor at all becomes a
 * delete-then-insert.  So 100k identical rules cost one linear pass, and
 * the worst case stays near-linear in time and memory instead of the
 * quadratic a plain LCS would take.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textdiff.h"
#include "util.h"

#define MYERS_MAX_D 1000

struct line {
	const char *s;
	size_t len;	/* without the newline */
	size_t klen;	/* compared part: without "  # file:line" */
	uint64_t h;	/* of the compared part */
};

enum op_kind { OP_EQ, OP_DEL, OP_INS };

struct op {
	enum op_kind kind;
	unsigned a, b;	/* line index in old (EQ, DEL), new (EQ, INS) */
};

typedef VEC(struct line) linevec;
typedef VEC(struct op) opvec;

/* The location suffix the renderings put after a rule: "  # FILE:LINE". */
static size_t key_len(const char *s, size_t len)
{
	for (size_t i = len; i >= 4; i--) {
		const char *p = s + i - 4;
		size_t j;

		if (memcmp(p, "  # ", 4) != 0)
			continue;
		/* FILE:DIGITS up to the end of the line */
		j = len;
		while (j > i && s[j - 1] >= '0' && s[j - 1] <= '9')
			j--;
		if (j < len && j > i + 1 && s[j - 1] == ':')
			return i - 4;
		return len;
	}
	return len;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void split_lines(const char *t, linevec *v)
{
	while (t && *t) {
		const char *nl = strchr(t, '\n');
		size_t len = nl ? (size_t)(nl - t) : strlen(t);
		struct line l = { t, len, key_len(t, len), 0 };

		l.h = hash_bytes(t, l.klen);
		vec_push(v, l);
		t += len + (nl ? 1 : 0);
	}
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->h == b->h && a->klen == b->klen && !memcmp(a->s, b->s, a->klen);
}

struct ctx {
	const struct line *A, *B;
	opvec ops;
};

static void push(struct ctx *c, enum op_kind k, unsigned a, unsigned b)
{
	vec_push(&c->ops, ((struct op){ k, a, b }));
}

/* Myers, forward, with the V arrays of every step kept for the
 * backtrack.  Returns false (and adds nothing) past MYERS_MAX_D edits. */
static bool myers(struct ctx *c, unsigned alo, unsigned ahi, unsigned blo, unsigned bhi)
{
	long n = (long)(ahi - alo), m = (long)(bhi - blo);
	long max = n + m < MYERS_MAX_D ? n + m : MYERS_MAX_D;
	long off = max + 1, dfound = -1;
	long *v = xzalloc((size_t)(2 * max + 3) * sizeof(*v));
	int32_t *trace = xmalloc((size_t)(max + 1) * (size_t)(max + 1) * sizeof(*trace));
	opvec rev = { 0 };
	long x, y;

	for (long d = 0; d <= max && dfound < 0; d++) {
		for (long k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < n && y < m && line_eq(&c->A[alo + x], &c->B[blo + y]))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m)
				dfound = d;
		}
		for (long k = -d; k <= d; k++)
			trace[d * d + k + d] = (int32_t)v[off + k];
	}
	free(v);
	if (dfound < 0) {
		free(trace);
		return false;
	}
	x = n, y = m;
	for (long d = dfound; d > 0; d--) {
		const int32_t *pv = trace + (d - 1) * (d - 1) + (d - 1);	/* index by k */
		long k = x - y, pk, px, py;

		if (k == -d || (k != d && pv[k - 1] < pv[k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		px = pv[pk];
		py = px - pk;
		while (x > px && y > py) {
			x--, y--;
			vec_push(&rev, ((struct op){ OP_EQ, alo + (unsigned)x, blo + (unsigned)y }));
		}
		if (pk == k + 1)
			vec_push(&rev, ((struct op){ OP_INS, 0, blo + (unsigned)(y - 1) }));
		else
			vec_push(&rev, ((struct op){ OP_DEL, alo + (unsigned)(x - 1), 0 }));
		x = px, y = py;
	}
	while (x > 0 && y > 0) {
		x--, y--;
		vec_push(&rev, ((struct op){ OP_EQ, alo + (unsigned)x, blo + (unsigned)y }));
	}
	free(trace);
	for (size_t i = rev.n; i-- > 0;)
		vec_push(&c->ops, rev.v[i]);
	vec_free(&rev);
	return true;
}

static void diff_range(struct ctx *c, unsigned alo, unsigned ahi, unsigned blo, unsigned bhi);

struct slot {
	const struct line *l;	/* NULL: empty */
	unsigned na, nb, ia, ib;
};

/* Patience: anchors are lines unique on both sides; the longest run of
 * them in the same order splits the range. */
static void patience(struct ctx *c, unsigned alo, unsigned ahi, unsigned blo, unsigned bhi)
{
	size_t n = (size_t)(ahi - alo) + (bhi - blo), cap = 16;
	struct slot *tab;
	VEC(struct slot *) uniq = { 0 };
	unsigned *tails, *prev, len = 0, *chain;
	unsigned pa, pb;

	while (cap < 2 * n)
		cap <<= 1;
	tab = xzalloc(cap * sizeof(*tab));
	for (int side = 0; side < 2; side++) {
		unsigned lo = side ? blo : alo, hi = side ? bhi : ahi;
		const struct line *L = side ? c->B : c->A;

		for (unsigned i = lo; i < hi; i++) {
			size_t h = (size_t)L[i].h & (cap - 1);

			while (tab[h].l && !line_eq(tab[h].l, &L[i]))
				h = (h + 1) & (cap - 1);
			if (!tab[h].l) {
				if (side)
					continue;	/* only in new: never an anchor */
				tab[h].l = &L[i];
			}
			if (side)
				tab[h].nb++, tab[h].ib = i;
			else
				tab[h].na++, tab[h].ia = i;
		}
	}
	/* in old order */
	for (unsigned i = alo; i < ahi; i++) {
		size_t h = (size_t)c->A[i].h & (cap - 1);

		while (!line_eq(tab[h].l, &c->A[i]))
			h = (h + 1) & (cap - 1);
		if (tab[h].na == 1 && tab[h].nb == 1)
			vec_push(&uniq, &tab[h]);
	}
	if (uniq.n == 0) {
		for (unsigned i = alo; i < ahi; i++)
			push(c, OP_DEL, i, 0);
		for (unsigned j = blo; j < bhi; j++)
			push(c, OP_INS, 0, j);
		free(tab);
		return;
	}
	/* longest increasing subsequence of ib (patience sorting) */
	tails = xmalloc(uniq.n * sizeof(*tails));
	prev = xmalloc(uniq.n * sizeof(*prev));
	for (unsigned i = 0; i < uniq.n; i++) {
		unsigned lo = 0, hi = len;

		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;

			if (uniq.v[tails[mid]]->ib < uniq.v[i]->ib)
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo ? tails[lo - 1] : UINT32_MAX;
		tails[lo] = i;
		if (lo == len)
			len++;
	}
	chain = xmalloc(len * sizeof(*chain));
	for (unsigned i = len, k = tails[len - 1]; i-- > 0; k = prev[k])
		chain[i] = k;
	pa = alo, pb = blo;
	for (unsigned i = 0; i < len; i++) {
		const struct slot *s = uniq.v[chain[i]];

		diff_range(c, pa, s->ia, pb, s->ib);
		push(c, OP_EQ, s->ia, s->ib);
		pa = s->ia + 1, pb = s->ib + 1;
	}
	diff_range(c, pa, ahi, pb, bhi);
	free(chain);
	free(tails);
	free(prev);
	vec_free(&uniq);
	free(tab);
}

static void diff_range(struct ctx *c, unsigned alo, unsigned ahi, unsigned blo, unsigned bhi)
{
	unsigned tail = 0;

	while (alo < ahi && blo < bhi && line_eq(&c->A[alo], &c->B[blo]))
		push(c, OP_EQ, alo++, blo++);
	while (alo < ahi - tail && blo < bhi - tail &&
	       line_eq(&c->A[ahi - 1 - tail], &c->B[bhi - 1 - tail]))
		tail++;
	ahi -= tail, bhi -= tail;
	if (alo == ahi) {
		for (unsigned j = blo; j < bhi; j++)
			push(c, OP_INS, 0, j);
	} else if (blo == bhi) {
		for (unsigned i = alo; i < ahi; i++)
			push(c, OP_DEL, i, 0);
	} else if (!myers(c, alo, ahi, blo, bhi)) {
		patience(c, alo, ahi, blo, bhi);
	}
	for (unsigned k = 0; k < tail; k++)
		push(c, OP_EQ, ahi + k, bhi + k);
}

static void json_str(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* "  # file:line" of a line, split for JSON. */
static void json_change(FILE *out, const char *op, const struct line *l, bool *first)
{
	fprintf(out, "%s\n    { \"op\": \"%s\", \"object\": ", *first ? "" : ",", op);
	json_str(out, l->s, l->klen);
	if (l->klen < l->len) {
		const char *loc = l->s + l->klen + 4, *colon;
		size_t n = l->len - l->klen - 4;

		colon = loc + n;
		while (colon > loc && colon[-1] != ':')
			colon--;
		fputs(", \"file\": ", out);
		json_str(out, loc, (size_t)(colon - loc - 1));
		fprintf(out, ", \"line\": %.*s", (int)(loc + n - colon), colon);
	}
	fputs(" }", out);
	*first = false;
}

static void print_json(const struct ctx *c, const struct text_diff_opts *o,
		       const struct text_diff_stats *st, FILE *out)
{
	bool first = true;

	fputs("{\n  \"old\": ", out);
	json_str(out, o->old_label, strlen(o->old_label));
	fputs(",\n  \"new\": ", out);
	json_str(out, o->new_label, strlen(o->new_label));
	fprintf(out, ",\n  \"same\": %s,\n  \"added\": %lu,\n  \"removed\": %lu,\n  \"changes\": [",
		st->added || st->removed ? "false" : "true", st->added, st->removed);
	for (size_t i = 0; i < c->ops.n; i++) {
		const struct op *p = &c->ops.v[i];

		if (p->kind == OP_DEL)
			json_change(out, "removed", &c->A[p->a], &first);
		else if (p->kind == OP_INS)
			json_change(out, "added", &c->B[p->b], &first);
	}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
}

static void print_unified(const struct ctx *c, const struct text_diff_opts *o, FILE *out)
{
	size_t n = c->ops.n, i = 0;
	unsigned ctxl = o->context;

	fprintf(out, "--- %s\n+++ %s\n", o->old_label, o->new_label);
	while (i < n) {
		size_t start, end, j;
		unsigned a0, b0, na = 0, nb = 0;

		while (i < n && c->ops.v[i].kind == OP_EQ)
			i++;
		if (i == n)
			break;
		/* the hunk: back ctxl lines, then forward until ctxl*2+1
		 * equal lines in a row (or the end) */
		start = i >= ctxl ? i - ctxl : 0;
		for (j = start; j < i; j++)
			if (c->ops.v[j].kind != OP_EQ)
				start = j + 1;
		end = i;
		for (;;) {
			size_t run = 0;

			while (end < n && c->ops.v[end].kind != OP_EQ)
				end++;
			while (end + run < n && c->ops.v[end + run].kind == OP_EQ && run <= 2 * ctxl)
				run++;
			if (end + run >= n || run > 2 * ctxl) {
				end += run < ctxl ? run : ctxl;
				break;
			}
			end += run;
		}
		/* numbers: the first old/new line of the hunk */
		a0 = b0 = 0;
		{
			unsigned ai = 0, bi = 0;

			for (j = 0; j < start; j++) {
				if (c->ops.v[j].kind != OP_INS)
					ai++;
				if (c->ops.v[j].kind != OP_DEL)
					bi++;
			}
			a0 = ai, b0 = bi;
		}
		for (j = start; j < end; j++) {
			if (c->ops.v[j].kind != OP_INS)
				na++;
			if (c->ops.v[j].kind != OP_DEL)
				nb++;
		}
		fprintf(out, "@@ -%u,%u +%u,%u @@\n", na ? a0 + 1 : a0, na, nb ? b0 + 1 : b0, nb);
		for (j = start; j < end; j++) {
			const struct op *p = &c->ops.v[j];
			const struct line *l = p->kind == OP_DEL ? &c->A[p->a] : &c->B[p->b];

			fputc(p->kind == OP_EQ ? ' ' : p->kind == OP_DEL ? '-' : '+', out);
			fwrite(l->s, 1, l->len, out);
			fputc('\n', out);
		}
		i = end;
	}
}

int text_diff(const char *old, const char *new, const struct text_diff_opts *o,
	      FILE *out, struct text_diff_stats *st)
{
	linevec a = { 0 }, b = { 0 };
	struct ctx c = { 0 };
	struct text_diff_stats s = { 0, 0 };

	/* the usual case right after an apply: nothing to say (JSON still
	 * counts the lines) */
	if (!o->json && strcmp(old, new) == 0) {
		if (st)
			*st = s;
		return 0;
	}
	split_lines(old, &a);
	split_lines(new, &b);
	c.A = a.v, c.B = b.v;
	diff_range(&c, 0, (unsigned)a.n, 0, (unsigned)b.n);
	for (size_t i = 0; i < c.ops.n; i++) {
		if (c.ops.v[i].kind == OP_DEL)
			s.removed++;
		else if (c.ops.v[i].kind == OP_INS)
			s.added++;
	}
	if (o->json)
		print_json(&c, o, &s, out);
	else if (s.added || s.removed)
		print_unified(&c, o, out);
	if (st)
		*st = s;
	vec_free(&c.ops);
	vec_free(&a);
	vec_free(&b);
	return s.added || s.removed ? 1 : 0;
}
