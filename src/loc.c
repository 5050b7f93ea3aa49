/* loc.c -- source files and locations. */
#include "loc.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct loc loc_internal = { NULL, 0, 0, 0 };

static void index_lines(struct src_file *f)
{
	size_t cap = 64, i;

	f->line_off = xmalloc(cap * sizeof(*f->line_off));
	f->nlines = 0;
	f->line_off[f->nlines++] = 0;
	for (i = 0; i < f->len; i++) {
		if (f->text[i] != '\n' || i + 1 >= f->len)
			continue;
		if (f->nlines == cap) {
			cap *= 2;
			f->line_off = xrealloc(f->line_off, cap * sizeof(*f->line_off));
		}
		f->line_off[f->nlines++] = i + 1;
	}
}

/* The file keeps its own copy: the caller's location may be on its stack. */
static void source_set_included(struct src_file *f, const struct loc *from)
{
	if (!from)
		return;
	f->inc_loc = *from;
	f->included_from = &f->inc_loc;
}

static struct src_file *source_link(struct source_set *ss, struct src_file *f)
{
	struct src_file **pp = &ss->head;

	/* keep load order: diagnostics sort by it */
	while (*pp)
		pp = &(*pp)->next;
	*pp = f;
	index_lines(f);
	return f;
}

struct src_file *source_add(struct source_set *ss, const char *name,
			    const char *text, size_t len,
			    const struct loc *included_from)
{
	struct src_file *f = xzalloc(sizeof(*f));

	f->path = xstrdup(name);
	f->text = xstrndup(text, len);
	f->len = len;
	source_set_included(f, included_from);
	return source_link(ss, f);
}

struct src_file *source_load(struct source_set *ss, const char *path,
			     const struct loc *included_from)
{
	struct src_file *f;
	size_t len;
	char *text = read_file(path, &len);

	if (!text)
		return NULL;
	f = xzalloc(sizeof(*f));
	f->path = xstrdup(path);
	f->text = text;
	f->len = len;
	source_set_included(f, included_from);
	return source_link(ss, f);
}

void source_set_free(struct source_set *ss)
{
	struct src_file *f, *next;

	for (f = ss->head; f; f = next) {
		next = f->next;
		free(f->path);
		free(f->text);
		free(f->line_off);
		free(f);
	}
	ss->head = NULL;
}

const char *src_line(const struct src_file *f, unsigned n, size_t *len)
{
	const char *s, *e;

	if (!f || n == 0 || n > f->nlines) {
		*len = 0;
		return "";
	}
	s = f->text + f->line_off[n - 1];
	e = memchr(s, '\n', (size_t)(f->text + f->len - s));
	*len = e ? (size_t)(e - s) : (size_t)(f->text + f->len - s);
	return s;
}

struct loc loc_at(const struct src_file *f, size_t off)
{
	struct loc l = { f, 1, 1, 1 };
	size_t lo = 0, hi = f->nlines;

	/* binary search: the last line starting at or before off */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (f->line_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	l.line = (unsigned)lo + 1;
	l.col = (unsigned)(off - f->line_off[lo]) + 1;
	return l;
}

struct loc loc_span(struct loc a, struct loc b)
{
	if (a.file != b.file || a.line != b.line || !a.file)
		return a;
	if (b.col < a.col) {
		struct loc t = a;

		a = b;
		b = t;
	}
	a.len = b.col + b.len - a.col;
	return a;
}
