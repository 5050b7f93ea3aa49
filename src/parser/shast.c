/* shast.c -- constructors and destructors of the shell syntax tree. */
#include <stdlib.h>
#include <string.h>
#include "shast.h"

/* ---- pools (see shast.h) ------------------------------------------------ */

#define POOL_SIZE 4096		/* a pool with its first block: a typical line */
#define POOL_BLOCK 4096		/* the first extra block; each next one twice */
#define POOL_ALIGN 16
#define POOL_SPARE 16		/* freed pools a thread keeps for its next lines */

struct pool_block {
	struct pool_block *next;
	_Alignas(POOL_ALIGN) char data[];
};

struct sh_pool {
	unsigned refs;		/* atomic */
	struct pool_block *blocks;	/* extra blocks, newest first */
	size_t last;		/* bytes of the newest block */
	char *cur, *end;
	struct sh_pool *next_spare;
	_Alignas(POOL_ALIGN) char first[];
};

static _Thread_local struct sh_pool_state here;
/* A pool a line goes with is used again for a later line: a malloc of a
 * page-sized block per line made glibc consolidate its small free chunks
 * each time, which cost more than the parse. */
static _Thread_local struct sh_pool *spare;
static _Thread_local unsigned nspare;

static struct sh_pool *pool_new(void)
{
	struct sh_pool *p = spare;

	if (p) {
		spare = p->next_spare;
		nspare--;
	} else {
		p = xmalloc(POOL_SIZE);
	}
	p->refs = 1;
	p->blocks = NULL;
	p->cur = p->first;
	p->end = (char *)p + POOL_SIZE;
	p->last = (size_t)(p->end - p->cur);
	p->next_spare = NULL;
	return p;
}

static void pool_get(struct sh_pool *p)
{
	if (p)
		__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
}

static void pool_put(struct sh_pool *p)
{
	struct pool_block *b, *next;

	if (!p || __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (b = p->blocks; b; b = next) {
		next = b->next;
		free(b);
	}
	if (nspare < POOL_SPARE) {
		p->next_spare = spare;
		spare = p;
		nspare++;
	} else {
		free(p);
	}
}

void sh_pool_trim(void)
{
	while (spare) {
		struct sh_pool *p = spare;

		spare = p->next_spare;
		free(p);
	}
	nspare = 0;
}

/* n zeroed bytes of the current pool. */
static void *pool_alloc(struct sh_pool *p, size_t n)
{
	char *r;

	n = (n + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	if ((size_t)(p->end - p->cur) < n) {
		size_t size = p->blocks ? 2 * p->last : POOL_BLOCK;
		struct pool_block *b;

		if (size > 16 * POOL_BLOCK)
			size = 16 * POOL_BLOCK;
		if (size < n)
			size = n;
		b = xmalloc(sizeof(*b) + size);
		b->next = p->blocks;
		p->blocks = b;
		p->last = size;
		p->cur = b->data;
		p->end = b->data + size;
	}
	r = p->cur;
	p->cur += n;
	memset(r, 0, n);
	return r;
}

/* Zeroed memory for a new object: pooled when this thread's parse is. */
static void *obj_alloc(size_t n, bool *pooled)
{
	*pooled = here.cur != NULL;
	return here.cur ? pool_alloc(here.cur, n) : xzalloc(n);
}

/* Memory that belongs with an object (pooled or not).  A pooled object
 * is only ever changed by the parse making it, while its pool is current
 * (sh_scan_end frees the word in progress before sh_pool_leave). */
static void *with_alloc(bool pooled, size_t n)
{
	return pooled ? pool_alloc(here.cur, n) : xmalloc(n);
}

struct sh_pool_state sh_pool_enter(bool pooled)
{
	struct sh_pool_state saved = here;

	here.cur = pooled ? pool_new() : NULL;
	here.prev = NULL;
	return saved;
}

void sh_pool_leave(struct sh_pool_state saved)
{
	pool_put(here.cur);
	pool_put(here.prev);
	here = saved;
	if (!here.cur)		/* the outermost pooled parse of this thread */
		sh_pool_trim();
}

void sh_pool_take(struct sh_pool_refs *r)
{
	r->p[0] = here.cur;
	r->p[1] = here.prev;
	pool_get(r->p[0]);
	pool_get(r->p[1]);
}

void sh_pool_next(void)
{
	if (!here.cur)
		return;
	pool_put(here.prev);
	here.prev = here.cur;
	here.cur = pool_new();
}

void sh_pool_refs_put(struct sh_pool_refs *r)
{
	pool_put(r->p[0]);
	pool_put(r->p[1]);
	r->p[0] = r->p[1] = NULL;
}

char *sh_word_strndup(const struct sh_word *w, const char *s, size_t n)
{
	char *t;

	if (!w->pooled)
		return xstrndup(s, n);
	t = with_alloc(true, n + 1);
	memcpy(t, s, n);
	return t;
}

char *sh_word_take_sb(const struct sh_word *w, struct strbuf *sb)
{
	char *t;

	if (!w->pooled)
		return sb_steal(sb);
	t = sh_word_strndup(w, sb_str(sb), sb->len);
	sb_free(sb);
	return t;
}

/* ---- the tree ----------------------------------------------------------- */

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
	bool pooled;
	struct sh_word *w = obj_alloc(sizeof(*w) + WORD_INLINE_PARTS * sizeof(struct sh_part),
				      &pooled);

	w->pooled = pooled;
	w->parts = (struct sh_part *)(void *)(w + 1);
	w->cap = WORD_INLINE_PARTS;
	w->loc = loc;
	return w;
}

struct sh_part *sh_word_add_part(struct sh_word *w, enum sh_part_kind kind, bool quoted)
{
	struct sh_part *p;

	if (w->nparts == w->cap) {
		struct sh_part *np = with_alloc(w->pooled, 2 * w->cap * sizeof(*np));

		memcpy(np, w->parts, w->nparts * sizeof(*np));
		if (!parts_inline(w) && !w->pooled)
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
		char *t = with_alloc(w->pooled, old + n + 1);

		memcpy(t, p->text, old);
		memcpy(t + old, s, n);
		t[old + n] = '\0';
		if (!w->pooled)
			free(p->text);
		p->text = t;
		return;
	}
	p = sh_word_add_part(w, SHP_LIT, quoted);
	p->text = sh_word_strndup(w, s, n);
}

void sh_word_free(struct sh_word *w)
{
	unsigned i;

	if (!w)
		return;
	for (i = 0; i < w->nparts; i++) {
		struct sh_part *p = &w->parts[i];

		if (!w->pooled)
			free(p->text);
		sh_word_free(p->arg);
		if (p->sub) {
			/* parsed by the evaluator: never pooled */
			sh_list_free(p->sub);
			free(p->sub);
		}
	}
	if (w->pooled)
		return;
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
	bool pooled;
	struct sh_node *n = obj_alloc(sizeof(*n), &pooled);

	n->pooled = pooled;
	n->kind = kind;
	n->loc = loc;
	return n;
}

/* The array is pooled when the parse making it is (see sh_words_release). */
void sh_words_add(struct sh_word ***v, unsigned *n, unsigned *cap, struct sh_word *w)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		if (here.cur) {
			struct sh_word **nv = pool_alloc(here.cur, *cap * sizeof(**v));

			if (*n)
				memcpy(nv, *v, *n * sizeof(**v));
			*v = nv;
		} else {
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
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

static void words_free(struct sh_word **v, unsigned n, bool pooled)
{
	unsigned i;

	for (i = 0; i < n; i++)
		sh_word_free(v[i]);
	if (!pooled)
		free(v);
}

/* An array of sh_words_add not yet given to an object (parse errors). */
void sh_words_release(struct sh_word **v, unsigned n)
{
	words_free(v, n, here.cur != NULL);
}

struct sh_case_item *sh_case_item_new(struct loc loc)
{
	bool pooled;
	struct sh_case_item *ci = obj_alloc(sizeof(*ci), &pooled);

	ci->pooled = pooled;
	ci->loc = loc;
	return ci;
}

void sh_case_item_free(struct sh_case_item *ci)
{
	struct sh_case_item *next;

	for (; ci; ci = next) {
		next = ci->next;
		words_free(ci->pats, ci->npats, ci->pooled);
		sh_list_free(&ci->body);
		if (!ci->pooled)
			free(ci);
	}
}

/* Never pooled: the function table keeps it past its line, holding the
 * pools its body is in. */
struct sh_func *sh_func_new(const char *name, struct sh_node *body, struct loc loc)
{
	struct sh_func *f = xzalloc(sizeof(*f));

	f->refs = 1;
	f->name = xstrdup(name);
	f->body = body;
	f->loc = loc;
	sh_pool_take(&f->pools);
	return f;
}

void sh_func_get(struct sh_func *f)
{
	__atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
}

void sh_func_put(struct sh_func *f)
{
	if (!f || __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL))
		return;
	free(f->name);
	sh_node_free(f->body);
	sh_pool_refs_put(&f->pools);
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
		words_free(n->u.simple.words, n->u.simple.nwords, n->pooled);
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
		words_free(n->u.loop.words, n->u.loop.nwords, n->pooled);
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
	if (!n->pooled)
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
	sh_pool_refs_put(&l->pools);
}

struct sh_redir *sh_redir_new(enum sh_redir_kind kind, int fd, struct loc loc)
{
	bool pooled;
	struct sh_redir *r = obj_alloc(sizeof(*r), &pooled);

	r->pooled = pooled;
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
	if (!r->pooled)
		free(r);
}
