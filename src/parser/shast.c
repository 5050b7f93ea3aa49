/* shast.c -- constructors and destructors of the shell syntax tree. */
#include <stdlib.h>
#include <string.h>
#include "shast.h"

/* Parts a word has room for in its own allocation: most words are one
 * literal, and a 100k-line script has hundreds of thousands of words. */
#define WORD_INLINE_PARTS 2

/* A word and its first parts are one allocation (parts is then w + 1):
 * a word is never copied by value. */
static bool parts_inline(const struct sh_word *w)
{
	return w->parts == (const struct sh_part *)(const void *)(w + 1);
}

struct sh_word *sh_word_new(struct loc loc)
{
	struct sh_word *w = xzalloc(sizeof(*w) + WORD_INLINE_PARTS * sizeof(struct sh_part));

	w->parts = (struct sh_part *)(void *)(w + 1);
	w->cap = WORD_INLINE_PARTS;
	w->loc = loc;
	return w;
}

struct sh_part *sh_word_add_part(struct sh_word *w, enum sh_part_kind kind, bool quoted)
{
	struct sh_part *p;

	if (w->nparts == w->cap) {
		struct sh_part *np = xmalloc(2 * w->cap * sizeof(*np));

		memcpy(np, w->parts, w->nparts * sizeof(*np));
		if (!parts_inline(w))
			free(w->parts);
		w->parts = np;
		w->cap *= 2;
	}
	p = &w->parts[w->nparts++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->quoted = quoted;
	return p;
}

/* Adjacent literals with the same quoting merge: fewer parts to walk. */
void sh_word_add_lit(struct sh_word *w, const char *s, size_t n, bool quoted)
{
	struct sh_part *p = w->nparts ? &w->parts[w->nparts - 1] : NULL;

	if (p && p->kind == SHP_LIT && p->quoted == quoted) {
		size_t old = strlen(p->text);

		p->text = xrealloc(p->text, old + n + 1);
		memcpy(p->text + old, s, n);
		p->text[old + n] = '\0';
		return;
	}
	p = sh_word_add_part(w, SHP_LIT, quoted);
	p->text = xstrndup(s, n);
}

void sh_word_free(struct sh_word *w)
{
	unsigned i;

	if (!w)
		return;
	for (i = 0; i < w->nparts; i++) {
		struct sh_part *p = &w->parts[i];

		free(p->text);
		sh_word_free(p->arg);
		if (p->sub) {
			sh_list_free(p->sub);
			free(p->sub);
		}
	}
	if (!parts_inline(w))
		free(w->parts);
	free(w);
}

const char *sh_word_plain(const struct sh_word *w)
{
	if (w->nparts == 1 && w->parts[0].kind == SHP_LIT)
		return w->parts[0].text;
	if (w->nparts == 0)
		return "";
	return NULL;
}

struct sh_node *sh_node_new(enum sh_node_kind kind, struct loc loc)
{
	struct sh_node *n = xzalloc(sizeof(*n));

	n->kind = kind;
	n->loc = loc;
	return n;
}

void sh_words_add(struct sh_word ***v, unsigned *n, unsigned *cap, struct sh_word *w)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = w;
}

void sh_simple_add_word(struct sh_node *n, struct sh_word *w)
{
	sh_words_add(&n->u.simple.words, &n->u.simple.nwords, &n->u.simple.cap, w);
}

/* Redirections stay in source order: the last one of a kind wins. */
void sh_node_add_redir(struct sh_node *n, struct sh_redir *r)
{
	struct sh_redir **pp = &n->redirs;

	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
}

static void words_free(struct sh_word **v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		sh_word_free(v[i]);
	free(v);
}

void sh_case_item_free(struct sh_case_item *ci)
{
	struct sh_case_item *next;

	for (; ci; ci = next) {
		next = ci->next;
		words_free(ci->pats, ci->npats);
		sh_list_free(&ci->body);
		free(ci);
	}
}

void sh_func_put(struct sh_func *f)
{
	if (!f || --f->refs)
		return;
	free(f->name);
	sh_node_free(f->body);
	free(f);
}

void sh_node_free(struct sh_node *n)
{
	struct sh_redir *r, *rn;

	if (!n)
		return;
	for (r = n->redirs; r; r = rn) {
		rn = r->next;
		sh_redir_free(r);
	}
	switch (n->kind) {
	case SHN_SIMPLE:
		words_free(n->u.simple.words, n->u.simple.nwords);
		break;
	case SHN_PIPE:
	case SHN_AND:
	case SHN_OR:
	case SHN_NOT:
		sh_node_free(n->u.bin.left);
		sh_node_free(n->u.bin.right);
		break;
	case SHN_IF:
	case SHN_WHILE:
	case SHN_UNTIL:
		sh_list_free(&n->u.cond.cond);
		sh_list_free(&n->u.cond.body);
		sh_list_free(&n->u.cond.alt);
		break;
	case SHN_FOR:
		sh_word_free(n->u.loop.var);
		words_free(n->u.loop.words, n->u.loop.nwords);
		sh_list_free(&n->u.loop.body);
		break;
	case SHN_CASE:
		sh_word_free(n->u.kase.subject);
		sh_case_item_free(n->u.kase.items);
		break;
	case SHN_GROUP:
	case SHN_SUBSHELL:
		sh_list_free(&n->u.group);
		break;
	case SHN_FUNCDEF:
		sh_func_put(n->u.func);
		break;
	}
	free(n);
}

void sh_list_add(struct sh_list *l, struct sh_node *n)
{
	n->next = NULL;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

void sh_list_free(struct sh_list *l)
{
	struct sh_node *n, *next;

	for (n = l->head; n; n = next) {
		next = n->next;
		sh_node_free(n);
	}
	l->head = l->tail = NULL;
}

struct sh_redir *sh_redir_new(enum sh_redir_kind kind, int fd, struct loc loc)
{
	struct sh_redir *r = xzalloc(sizeof(*r));

	r->kind = kind;
	r->fd = fd;
	r->loc = loc;
	return r;
}

void sh_heredoc_put(struct sh_heredoc *hd)
{
	if (!hd || --hd->refs)
		return;
	free(hd->delim);
	sb_free(&hd->body);
	free(hd);
}

void sh_redir_free(struct sh_redir *r)
{
	if (!r)
		return;
	sh_word_free(r->target);
	sh_heredoc_put(r->hd);
	free(r);
}
