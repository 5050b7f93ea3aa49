/* diag.c -- queued diagnostics.
 *
 * Records are queued by whatever stage finds a problem and printed once by
 * the driver: sorted by file, line and column (queue order breaks ties),
 * exact duplicates removed (a rule cloned per context must not repeat its
 * error), and capped so a wrong-dialect file does not bury the first,
 * usually most useful, message.
 */
#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_PRINT_CAP 100

int diag_vadd(struct diag_queue *q, enum diag_level lvl, const struct loc *loc,
	      const char *hint, const char *fmt, va_list ap)
{
	struct diag *d;
	struct strbuf sb = { 0 };

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	sb_vaddf(&sb, fmt, ap);
	d = &q->v[q->n];
	d->level = lvl;
	d->loc = loc ? *loc : loc_internal;
	d->msg = sb_steal(&sb);
	d->hint = hint ? xstrdup(hint) : NULL;
	d->seq = (unsigned)q->n++;
	if (lvl == DIAG_ERROR)
		q->nerrors++;
	else if (lvl == DIAG_WARNING)
		q->nwarnings++;
	return -1;
}

int diag_add(struct diag_queue *q, enum diag_level lvl, const struct loc *loc,
	     const char *hint, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(q, lvl, loc, hint, fmt, ap);
	va_end(ap);
	return -1;
}

bool diag_has_errors(const struct diag_queue *q)
{
	return q->nerrors > 0 || (q->werror && q->nwarnings > 0);
}

static int diag_cmp(const void *pa, const void *pb)
{
	const struct diag *a = pa, *b = pb;
	int c;

	/* internal (file-less) records first: they concern the whole run */
	if (!a->loc.file != !b->loc.file)
		return a->loc.file ? 1 : -1;
	if (a->loc.file && b->loc.file && a->loc.file != b->loc.file) {
		c = strcmp(a->loc.file->path, b->loc.file->path);
		if (c)
			return c;
	}
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static bool diag_same(const struct diag *a, const struct diag *b)
{
	return a->level == b->level && a->loc.file == b->loc.file &&
	       a->loc.line == b->loc.line && a->loc.col == b->loc.col &&
	       !strcmp(a->msg, b->msg);
}

static const char *level_name(enum diag_level l)
{
	switch (l) {
	case DIAG_NOTE:
		return "note";
	case DIAG_WARNING:
		return "warning";
	case DIAG_ERROR:
		return "error";
	}
	return "?";
}

static const char *level_color(enum diag_level l)
{
	switch (l) {
	case DIAG_NOTE:
		return "\033[1;36m";
	case DIAG_WARNING:
		return "\033[1;35m";
	case DIAG_ERROR:
		return "\033[1;31m";
	}
	return "";
}

static void print_where(FILE *out, const struct loc *l)
{
	if (l->file)
		fprintf(out, "%s:%u:%u: ", l->file->path, l->line, l->col);
	else
		fputs("masqc: ", out);
}

/* The source line, then a caret line that copies the line's tabs so the
 * caret stands under the culprit whatever the tab width. */
static void print_caret(FILE *out, const struct loc *l, bool color)
{
	size_t len, i, col;
	const char *s;

	if (!l->file || !l->line)
		return;
	s = src_line(l->file, l->line, &len);
	fprintf(out, "%.*s\n", (int)len, s);
	col = l->col ? l->col - 1 : 0;
	if (color)
		fputs("\033[1;32m", out);
	for (i = 0; i < col && i < len; i++)
		fputc(s[i] == '\t' ? '\t' : ' ', out);
	fputc('^', out);
	for (i = 1; i < l->len && col + i < len; i++)
		fputc('~', out);
	if (color)
		fputs("\033[0m", out);
	fputc('\n', out);
}

static void print_one(FILE *out, const struct diag *d, bool color)
{
	const struct loc *inc;

	print_where(out, &d->loc);
	if (color)
		fprintf(out, "%s%s:\033[0m %s\n", level_color(d->level),
			level_name(d->level), d->msg);
	else
		fprintf(out, "%s: %s\n", level_name(d->level), d->msg);
	print_caret(out, &d->loc, color);
	if (d->hint) {
		print_where(out, &d->loc);
		fprintf(out, "note: %s\n", d->hint);
	}
	for (inc = d->loc.file ? d->loc.file->included_from : NULL; inc;
	     inc = inc->file ? inc->file->included_from : NULL) {
		print_where(out, inc);
		fputs("note: in the file sourced from here\n", out);
	}
}

void diag_sort(struct diag_queue *q)
{
	if (q->n)
		qsort(q->v, q->n, sizeof(*q->v), diag_cmp);
}

bool diag_quiet;

void diag_print(struct diag_queue *q, FILE *out, bool color)
{
	size_t i, shown = 0, hidden = 0;
	const struct diag *prev = NULL;

	diag_sort(q);
	for (i = 0; i < q->n; i++) {
		const struct diag *d = &q->v[i];

		if (diag_quiet && d->level == DIAG_NOTE)
			continue;
		if (prev && diag_same(prev, d))
			continue;
		prev = d;
		if (shown >= DIAG_PRINT_CAP) {
			hidden++;
			continue;
		}
		print_one(out, d, color);
		shown++;
	}
	if (hidden)
		fprintf(out, "masqc: note: %zu more diagnostics not shown\n", hidden);
}

void diag_queue_free(struct diag_queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free(q->v[i].msg);
		free(q->v[i].hint);
	}
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
	q->nerrors = q->nwarnings = 0;
}
