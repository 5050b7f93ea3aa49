/* shell.c -- the symbolic shell evaluator.
 *
 * Walks the tree of grammar.y line by line as the parser hands it over,
 * keeping variables, positional parameters and functions, and appends to
 * the command stream every simple command the script would have run.
 * Nothing is executed.  What a real run would learn from the machine
 * (command substitutions, file tests, lsmod) follows the fixed policy of
 * docs/shell.md and is reported with a note where it is assumed.
 *
 * Values are strings.  A value the evaluator cannot know travels inside
 * the string as a marker, SYM_START kind name SYM_END, kind 'I' for "the
 * address of interface <name>" (the ifconfig|awk idiom) and 'U' for
 * "unknown, from <name>".  Markers survive concatenation, assignment and
 * word splitting unchanged (names hold no blanks); a test reads an 'U'
 * marker as the empty string, and a command word holding one becomes a
 * WORD_IFADDR or WORD_UNKNOWN word (cmd.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"
#include "shast.h"
#include "../util.h"

#define SYM_START '\001'
#define SYM_END '\002'
#define FUNC_DEPTH_MAX 100
#define SOURCE_DEPTH_MAX 32

struct var {
	char *name;
	char *value;		/* NULL: not set */
	bool exported, readonly;
	bool fixed;		/* from -D: script assignments are skipped */
	bool noted;		/* "not set" note already given */
	struct var *next;
};

struct vartab {
	struct var **b;
	size_t nb, n;
};

struct fn {
	struct sh_func *f;
	struct fn *next;
};

/* A variable value saved by `local`, restored when the function returns. */
struct saved_var {
	char *name;
	char *value;
	bool was_set;
};

struct frame_locals {
	VEC(struct saved_var) saved;
};

enum flow { FLOW_NONE, FLOW_BREAK, FLOW_CONTINUE, FLOW_RETURN, FLOW_EXIT };

/* One field of an expanded word. */
struct field {
	char *s;
	struct loc loc;
	const char *var;	/* the variable that produced it, or NULL */
};

typedef VEC(struct field) fieldvec;

struct unset_ref {
	const char *name;
	struct loc loc;
};

struct shell {
	struct source_set *ss;
	struct diag_queue *dq;
	const struct shell_opts *o;
	struct cmd_stream *out;
	struct vartab vars;
	struct fn *funcs;
	char **pos;
	unsigned npos;
	char *arg0;
	int status;
	enum flow flow;
	unsigned nflow;
	unsigned fdepth, sdepth, loop_bound;
	struct frame_locals *locals;
	const struct src_file *file;
	VEC(struct unset_ref) unset;
	bool in_pipeline;
	int err;
};

static void eval_list(struct shell *sh, const struct sh_list *l);
static void eval_node(struct shell *sh, const struct sh_node *n);

/* ---- variables ---------------------------------------------------------- */

static size_t hash_str(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static struct var *var_find(const struct vartab *t, const char *name)
{
	struct var *v;

	if (!t->nb)
		return NULL;
	for (v = t->b[hash_str(name) & (t->nb - 1)]; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static void vartab_grow(struct vartab *t)
{
	size_t nb = t->nb ? 2 * t->nb : 64, i;
	struct var **b = xzalloc(nb * sizeof(*b));

	for (i = 0; i < t->nb; i++) {
		struct var *v, *next;

		for (v = t->b[i]; v; v = next) {
			size_t h = hash_str(v->name) & (nb - 1);

			next = v->next;
			v->next = b[h];
			b[h] = v;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static struct var *var_get(struct vartab *t, const char *name)
{
	struct var *v = var_find(t, name);
	size_t h;

	if (v)
		return v;
	if (t->n >= t->nb)
		vartab_grow(t);
	v = xzalloc(sizeof(*v));
	v->name = xstrdup(name);
	h = hash_str(name) & (t->nb - 1);
	v->next = t->b[h];
	t->b[h] = v;
	t->n++;
	return v;
}

static void vartab_free(struct vartab *t)
{
	size_t i;

	for (i = 0; i < t->nb; i++) {
		struct var *v, *next;

		for (v = t->b[i]; v; v = next) {
			next = v->next;
			free(v->name);
			free(v->value);
			free(v);
		}
	}
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

static void vartab_copy(struct vartab *dst, const struct vartab *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	for (i = 0; i < src->nb; i++) {
		const struct var *v;

		for (v = src->b[i]; v; v = v->next) {
			struct var *c = var_get(dst, v->name);

			c->value = v->value ? xstrdup(v->value) : NULL;
			c->exported = v->exported;
			c->readonly = v->readonly;
			c->fixed = v->fixed;
			c->noted = v->noted;
		}
	}
}

static const char *var_value(struct shell *sh, const char *name)
{
	struct var *v = var_find(&sh->vars, name);

	return v ? v->value : NULL;
}

/* Assigns unless -D fixed the variable; unknown markers without a name
 * take the variable's, so a later error can say "give -D NAME=...". */
static void var_set(struct shell *sh, const char *name, const char *value,
		    const struct loc *loc)
{
	struct var *v = var_get(&sh->vars, name);
	struct strbuf sb = { 0 };
	const char *s;

	if (v->fixed)
		return;
	if (v->readonly) {
		diag_error(sh->dq, loc, "'%s' is read-only; the assignment is ignored", name);
		return;
	}
	for (s = value; *s; s++) {
		sb_addc(&sb, *s);
		if (s[0] == SYM_START && s[1] == 'U' && s[2] == SYM_END) {
			sb_addc(&sb, 'U');
			sb_add(&sb, name);
			s++;
		}
	}
	free(v->value);
	v->value = sb_steal(&sb);
}

static void var_unset(struct shell *sh, const char *name, const struct loc *loc)
{
	struct var *v = var_find(&sh->vars, name);

	if (!v || v->fixed)
		return;
	if (v->readonly) {
		diag_error(sh->dq, loc, "'%s' is read-only; unset is ignored", name);
		return;
	}
	free(v->value);
	v->value = NULL;
}

static bool is_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return false;
	while (*++s)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* ---- symbolic markers ------------------------------------------------- */

static bool has_marker(const char *s)
{
	return strchr(s, SYM_START) != NULL;
}

/* The value as a test sees it: unknowns are empty, interface addresses
 * stay as an opaque non-empty string. */
static char *test_value(const char *s)
{
	struct strbuf sb = { 0 };

	while (*s) {
		if (s[0] == SYM_START && s[1] == 'U') {
			const char *e = strchr(s, SYM_END);

			s = e ? e + 1 : s + strlen(s);
			continue;
		}
		sb_addc(&sb, *s++);
	}
	return sb_steal(&sb);
}

static char *marker(char kind, const char *name)
{
	return xasprintf("%c%c%s%c", SYM_START, kind, name, SYM_END);
}

/* ---- arithmetic ------------------------------------------------------- */

struct arith {
	struct shell *sh;
	const char *s;
	const struct loc *loc;
	bool err;
};

static long arith_expr(struct arith *a);

static void arith_ws(struct arith *a)
{
	while (isspace((unsigned char)*a->s))
		a->s++;
}

static long arith_num(struct arith *a, const char *v)
{
	char *end;
	long n;
	char *tv = test_value(v);

	errno = 0;
	n = strtol(*tv ? tv : "0", &end, 0);
	if (*end || errno) {
		diag_error(a->sh->dq, a->loc, "arithmetic: '%s' is not a number", tv);
		a->err = true;
		n = 0;
	}
	free(tv);
	return n;
}

static long arith_primary(struct arith *a)
{
	arith_ws(a);
	if (*a->s == '(') {
		long v;

		a->s++;
		v = arith_expr(a);
		arith_ws(a);
		if (*a->s == ')')
			a->s++;
		else if (!a->err) {
			diag_error(a->sh->dq, a->loc, "arithmetic: ')' expected");
			a->err = true;
		}
		return v;
	}
	if (*a->s == '-' || *a->s == '+' || *a->s == '!' || *a->s == '~') {
		char c = *a->s++;
		long v = arith_primary(a);

		return c == '-' ? -v : c == '+' ? v : c == '!' ? !v : ~v;
	}
	if (isdigit((unsigned char)*a->s)) {
		char *end;
		long v = strtol(a->s, &end, 0);

		a->s = end;
		return v;
	}
	if (*a->s == '$' || isalpha((unsigned char)*a->s) || *a->s == '_') {
		char name[128];
		size_t n = 0;
		bool brace = false;
		const char *v;

		if (*a->s == '$') {
			a->s++;
			if (*a->s == '{') {
				brace = true;
				a->s++;
			}
		}
		while ((isalnum((unsigned char)*a->s) || *a->s == '_' || *a->s == '#') &&
		       n < sizeof(name) - 1)
			name[n++] = *a->s++;
		name[n] = '\0';
		if (brace && *a->s == '}')
			a->s++;
		if (isdigit((unsigned char)name[0])) {
			unsigned i = (unsigned)atoi(name);

			v = i == 0 ? a->sh->arg0 : i <= a->sh->npos ? a->sh->pos[i - 1] : "";
		} else if (!strcmp(name, "#")) {
			static char buf[16];

			snprintf(buf, sizeof(buf), "%u", a->sh->npos);
			v = buf;
		} else {
			v = var_value(a->sh, name);
		}
		return arith_num(a, v ? v : "0");
	}
	if (!a->err) {
		diag_error(a->sh->dq, a->loc, "arithmetic: unexpected '%s'", *a->s ? a->s : "end");
		a->err = true;
	}
	if (*a->s)
		a->s++;
	return 0;
}

/* Binary operators by precedence, lowest first. */
static const char *const arith_ops[][4] = {
	{ "||" }, { "&&" }, { "|" }, { "^" }, { "&" }, { "==", "!=" },
	{ "<=", ">=", "<", ">" }, { "<<", ">>" }, { "+", "-" }, { "*", "/", "%" },
};

static long arith_level(struct arith *a, unsigned lvl)
{
	long l;

	if (lvl == ARRAY_SIZE(arith_ops))
		return arith_primary(a);
	l = arith_level(a, lvl + 1);
	for (;;) {
		const char *op = NULL;
		unsigned i;
		long r;

		arith_ws(a);
		for (i = 0; i < 4 && arith_ops[lvl][i]; i++) {
			size_t n = strlen(arith_ops[lvl][i]);

			if (!strncmp(a->s, arith_ops[lvl][i], n) &&
			    /* "<" is not "<<", "|" is not "||", "&" is not "&&" */
			    !(n == 1 && a->s[1] == a->s[0] && strchr("<>|&", a->s[0]))) {
				op = arith_ops[lvl][i];
				a->s += n;
				break;
			}
		}
		if (!op)
			return l;
		r = arith_level(a, lvl + 1);
		if (!strcmp(op, "||")) l = l || r;
		else if (!strcmp(op, "&&")) l = l && r;
		else if (!strcmp(op, "|")) l = l | r;
		else if (!strcmp(op, "^")) l = l ^ r;
		else if (!strcmp(op, "&")) l = l & r;
		else if (!strcmp(op, "==")) l = l == r;
		else if (!strcmp(op, "!=")) l = l != r;
		else if (!strcmp(op, "<=")) l = l <= r;
		else if (!strcmp(op, ">=")) l = l >= r;
		else if (!strcmp(op, "<")) l = l < r;
		else if (!strcmp(op, ">")) l = l > r;
		else if (!strcmp(op, "<<")) l = (long)((unsigned long)l << (r & 63));
		else if (!strcmp(op, ">>")) l = l >> (r & 63);
		else if (!strcmp(op, "+")) l = (long)((unsigned long)l + (unsigned long)r);
		else if (!strcmp(op, "-")) l = (long)((unsigned long)l - (unsigned long)r);
		else if (!strcmp(op, "*")) l = (long)((unsigned long)l * (unsigned long)r);
		else if (r == 0 || (l == LONG_MIN && r == -1)) {
			if (!a->err)
				diag_error(a->sh->dq, a->loc, "arithmetic: division by zero");
			a->err = true;
			l = 0;
		} else if (!strcmp(op, "/")) l = l / r;
		else l = l % r;
	}
}

static long arith_expr(struct arith *a)
{
	return arith_level(a, 0);
}

static char *arith_eval(struct shell *sh, const char *text, const struct loc *loc)
{
	struct arith a = { sh, text, loc, false };
	long v = arith_expr(&a);

	arith_ws(&a);
	if (*a.s && !a.err)
		diag_error(sh->dq, loc, "arithmetic: unexpected '%s'", a.s);
	return xasprintf("%ld", v);
}

/* ---- expansion ------------------------------------------------------ */

enum exp_mode {
	EXP_FIELDS,	/* command words: split unquoted expansions */
	EXP_STRING,	/* assignments, case subjects, targets: one string */
	EXP_PATTERN,	/* case patterns: quoted glob characters escaped */
};

struct expander {
	struct shell *sh;
	enum exp_mode mode;
	bool quiet;		/* analysing a substitution: no notes */
	bool track_unset;	/* remember unset variables for the "not set" note */
	fieldvec *out;
	const struct sh_word *w;
	struct strbuf cur;
	bool started;		/* cur is a field even if empty ("") */
	unsigned contrib;	/* parts that went into cur */
	struct loc exp_loc;	/* the expansion that produced cur */
	bool from_exp;
	const char *var;
};

static char *word_string(struct shell *sh, const struct sh_word *w, size_t skip, bool quiet);
static char *cmdsub_value(struct shell *sh, struct sh_part *p, bool quiet);

static void field_end(struct expander *e)
{
	struct field f;

	if (!e->started)
		return;
	f.s = sb_steal(&e->cur);
	f.loc = (e->contrib == 1 && e->from_exp) ? e->exp_loc : e->w->loc;
	f.var = e->var;
	vec_push(e->out, f);
	e->started = false;
	e->contrib = 0;
	e->from_exp = false;
	e->var = NULL;
}

static void field_note(struct expander *e, const struct sh_part *p)
{
	e->contrib++;
	if (p->kind != SHP_LIT) {
		e->from_exp = true;
		e->exp_loc = p->loc;
	}
}

static void add_text(struct expander *e, const char *s, bool quoted)
{
	if (e->mode == EXP_PATTERN && quoted) {
		for (; *s; s++) {
			if (strchr("*?[]\\", *s))
				sb_addc(&e->cur, '\\');
			sb_addc(&e->cur, *s);
		}
	} else {
		sb_add(&e->cur, s);
	}
	e->started = true;
}

/* An unquoted expansion's value is split into fields on blanks; every
 * field after the first comes from the same expansion. */
static void add_split(struct expander *e, const char *s, const char *var)
{
	static const char ifs[] = " \t\n";

	while (*s) {
		size_t n = strcspn(s, ifs);

		if (n) {
			sb_addn(&e->cur, s, n);
			e->started = true;
			s += n;
		}
		if (*s) {
			field_end(e);
			s += strspn(s, ifs);
			if (*s) {
				e->contrib = 1;
				e->from_exp = true;
				e->var = var;
			}
		}
	}
}

static char *positional_join(const struct shell *sh)
{
	struct strbuf sb = { 0 };
	unsigned i;

	for (i = 0; i < sh->npos; i++) {
		if (i)
			sb_addc(&sb, ' ');
		sb_add(&sb, sh->pos[i]);
	}
	return sb_steal(&sb);
}

/* The raw value of a parameter, NULL when unset. *owned gets a copy to free. */
static const char *param_lookup(struct shell *sh, const char *name, char **owned)
{
	*owned = NULL;
	if (isdigit((unsigned char)name[0])) {
		unsigned i = (unsigned)atoi(name);

		if (i == 0)
			return sh->arg0;
		return i <= sh->npos ? sh->pos[i - 1] : NULL;
	}
	if (!name[1] && strchr("#?@*$!-", name[0])) {
		switch (name[0]) {
		case '#':
			return *owned = xasprintf("%u", sh->npos);
		case '?':
			return *owned = xasprintf("%d", sh->status);
		case '@':
		case '*':
			return *owned = positional_join(sh);
		case '-':
			return "";
		default:
			return *owned = marker('U', name[0] == '$' ? "$$" : "$!");
		}
	}
	return var_value(sh, name);
}

/* Glob-removes a prefix or suffix: ${X#p} ${X##p} ${X%p} ${X%%p}. */
static char *trim(const char *v, const char *pat, bool suffix, bool longest)
{
	size_t n = strlen(v), i;
	char *tmp = xmalloc(n + 1);

	for (i = 0; i <= n; i++) {
		size_t k = longest ? (suffix ? i : n - i) : (suffix ? n - i : i);

		if (suffix) {
			if (!fnmatch(pat, v + k, 0)) {
				memcpy(tmp, v, k);
				tmp[k] = '\0';
				return tmp;
			}
		} else {
			memcpy(tmp, v, k);
			tmp[k] = '\0';
			if (!fnmatch(pat, tmp, 0)) {
				free(tmp);
				return xstrdup(v + k);
			}
		}
	}
	free(tmp);
	return xstrdup(v);
}

static char *param_value(struct expander *e, struct sh_part *p)
{
	struct shell *sh = e->sh;
	char *owned, *r = NULL;
	const char *v = param_lookup(sh, p->text, &owned);
	bool set = v && !(p->colon && !*v);

	if (!v && e->track_unset && p->op == SHOP_NONE && is_name(p->text)) {
		struct unset_ref u = { p->text, p->loc };

		vec_push(&sh->unset, u);
	}
	switch (p->op) {
	case SHOP_NONE:
		r = xstrdup(v ? v : "");
		break;
	case SHOP_LENGTH:
		r = xasprintf("%zu", v ? strlen(v) : (size_t)0);
		break;
	case SHOP_DEFAULT:
	case SHOP_ASSIGN:
		if (set) {
			r = xstrdup(v);
			break;
		}
		r = word_string(sh, p->arg, 0, e->quiet);
		if (p->op == SHOP_ASSIGN && is_name(p->text))
			var_set(sh, p->text, r, &p->loc);
		break;
	case SHOP_ALT:
		r = set ? word_string(sh, p->arg, 0, e->quiet) : xstrdup("");
		break;
	case SHOP_ERROR:
		if (set) {
			r = xstrdup(v);
			break;
		}
		r = word_string(sh, p->arg, 0, true);
		diag_error(sh->dq, &p->loc, "%s: %s", p->text, *r ? r : "parameter not set");
		free(r);
		r = xstrdup("");
		break;
	case SHOP_RM_PREFIX:
	case SHOP_RM_SUFFIX: {
		char *pat = word_string(sh, p->arg, 0, e->quiet);

		r = trim(v ? v : "", pat, p->op == SHOP_RM_SUFFIX, p->colon);
		free(pat);
		break;
	}
	}
	free(owned);
	if (p->op == SHOP_NONE && is_name(p->text))
		e->var = p->text;
	return r;
}

static void expand_parts(struct expander *e, const struct sh_word *w, size_t skip)
{
	unsigned i;

	for (i = 0; i < w->nparts; i++) {
		struct sh_part *p = &w->parts[i];
		char *v = NULL;

		switch (p->kind) {
		case SHP_LIT:
			add_text(e, p->text + (i == 0 ? skip : 0), p->quoted);
			field_note(e, p);
			continue;
		case SHP_PARAM:
			if (p->quoted && !strcmp(p->text, "@") && p->op == SHOP_NONE &&
			    e->mode == EXP_FIELDS) {
				unsigned k;

				/* "$@": one field per parameter */
				for (k = 0; k < e->sh->npos; k++) {
					if (k)
						field_end(e);
					add_text(e, e->sh->pos[k], false);
					field_note(e, p);
				}
				continue;
			}
			v = param_value(e, p);
			break;
		case SHP_CMDSUB:
			v = cmdsub_value(e->sh, p, e->quiet);
			break;
		case SHP_ARITH:
			v = arith_eval(e->sh, p->text, &p->loc);
			break;
		}
		field_note(e, p);
		if (p->quoted || e->mode != EXP_FIELDS)
			add_text(e, v, p->quoted);
		else
			add_split(e, v, e->var);
		free(v);
	}
}

static void expand_word(struct shell *sh, const struct sh_word *w, enum exp_mode mode,
			size_t skip, bool quiet, bool track_unset, fieldvec *out)
{
	struct expander e;

	/* most words are one literal: the field is its text, as the general
	 * path below would build it (location: the word's; no variable) */
	if (w->nparts == 1 && w->parts[0].kind == SHP_LIT && !skip &&
	    (mode != EXP_PATTERN || !w->parts[0].quoted)) {
		vec_push(out, ((struct field){ .s = xstrdup(w->parts[0].text), .loc = w->loc }));
		return;
	}
	memset(&e, 0, sizeof(e));
	e.sh = sh;
	e.mode = mode;
	e.quiet = quiet;
	e.track_unset = track_unset;
	e.out = out;
	e.w = w;
	expand_parts(&e, w, skip);
	if (mode != EXP_FIELDS)
		e.started = true;
	field_end(&e);
	sb_free(&e.cur);
}

static void fields_free(fieldvec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i].s);
	vec_free(v);
}

/* The word as one string (no splitting); skip: bytes of "NAME=" to drop. */
static char *word_string(struct shell *sh, const struct sh_word *w, size_t skip, bool quiet)
{
	fieldvec v = { 0 };
	char *s;

	expand_word(sh, w, EXP_STRING, skip, quiet, false, &v);
	s = v.v[0].s;
	v.v[0].s = NULL;
	fields_free(&v);
	return s;
}

/* ---- command substitution ------------------------------------------- */

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');

	return b ? b + 1 : s;
}

static bool in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

static void pipe_stages(const struct sh_node *n, const struct sh_node **v, unsigned *k, unsigned max)
{
	if (n->kind == SHN_PIPE) {
		pipe_stages(n->u.bin.left, v, k, max);
		pipe_stages(n->u.bin.right, v, k, max);
	} else if (*k < max) {
		v[(*k)++] = n;
	} else {
		(*k)++;
	}
}

/* The interface of `ifconfig IF` or `ip [-4|-o|-f inet]... addr|address|a
 * show|list|s|ls [dev] IF`, or NULL. */
static const char *ifaddr_iface(const fieldvec *a)
{
	const char *prog = base_name(a->v[0].s);
	size_t i = 1;

	if (!strcmp(prog, "ifconfig"))
		return a->n >= 2 && a->v[1].s[0] != '-' ? a->v[1].s : NULL;
	if (strcmp(prog, "ip"))
		return NULL;
	while (i < a->n && a->v[i].s[0] == '-') {
		if (!strcmp(a->v[i].s, "-f") || !strcmp(a->v[i].s, "-family"))
			i++;
		i++;
	}
	if (i >= a->n || !in_set(a->v[i].s, (const char *const[]){ "addr", "address", "a", NULL }))
		return NULL;
	i++;
	if (i < a->n && in_set(a->v[i].s, (const char *const[]){ "show", "list", "s", "ls", "sh", NULL }))
		i++;
	if (i < a->n && !strcmp(a->v[i].s, "dev"))
		i++;
	return i < a->n ? a->v[i].s : NULL;
}

static char *cmdsub_text(const fieldvec *a, size_t from)
{
	struct strbuf sb = { 0 };
	size_t i;

	for (i = from; i < a->n; i++) {
		char *t = test_value(a->v[i].s);

		if (i > from)
			sb_addc(&sb, ' ');
		sb_add(&sb, t);
		free(t);
	}
	return sb_steal(&sb);
}

static void note_unknown(struct shell *sh, const struct sh_part *p, bool quiet)
{
	if (!quiet)
		diag_note(sh->dq, &p->loc,
			  "command substitution is not run (masqc never executes the script): "
			  "its value is unknown; a test sees it as empty, a command word as "
			  "unknown (give -D NAME=VALUE for the variable it sets)");
}
/* `expr A OP B` as old scripts counted with it (port=`expr $port + 1`):
 * pure integer arithmetic and comparisons, computed like $((...)).  Any
 * other form, or an operand that is not a plain integer, stays unknown. */
static bool expr_int(const char *s, long *v)
{
	char *end;

	if (!*s || has_marker(s))
		return false;
	errno = 0;
	*v = strtol(s, &end, 10);
	return !*end && !errno;
}

static char *expr_eval(const fieldvec *a)
{
	const char *op;
	long x, y, r;
	bool num;

	if (a->n == 2 && !has_marker(a->v[1].s))
		return xstrdup(a->v[1].s);
	if (a->n != 4)
		return NULL;
	op = a->v[2].s;
	num = expr_int(a->v[1].s, &x) && expr_int(a->v[3].s, &y);
	if (!strcmp(op, "=") || !strcmp(op, "!=")) {
		if (has_marker(a->v[1].s) || has_marker(a->v[3].s))
			return NULL;
		r = num ? x == y : !strcmp(a->v[1].s, a->v[3].s);
		return xasprintf("%ld", op[0] == '!' ? !r : r);
	}
	if (!num)
		return NULL;
	if (!strcmp(op, "+"))
		r = x + y;
	else if (!strcmp(op, "-"))
		r = x - y;
	else if (!strcmp(op, "*"))
		r = x * y;
	else if ((!strcmp(op, "/") || !strcmp(op, "%")) && y != 0)
		r = op[0] == '/' ? x / y : x % y;
	else if (!strcmp(op, "<"))
		r = x < y;
	else if (!strcmp(op, "<="))
		r = x <= y;
	else if (!strcmp(op, ">"))
		r = x > y;
	else if (!strcmp(op, ">="))
		r = x >= y;
	else
		return NULL;
	return xasprintf("%ld", r);
}


/* The value of $(...) / `...` by the policy of docs/shell.md. */
static char *cmdsub_value(struct shell *sh, struct sh_part *p, bool quiet)
{
	const struct sh_node *st[16];
	unsigned k = 0, i;
	fieldvec a0 = { 0 };
	char *r = NULL;
	const char *prog;

	if (!p->sub_done) {
		struct sh_parse_args pa = {
			.file = p->loc.file, .text = p->text, .len = strlen(p->text),
			.line = p->in_line, .col = p->in_col, .dq = sh->dq,
		};

		p->sub_done = true;
		p->sub = xzalloc(sizeof(*p->sub));
		sh_parse_text(&pa, p->sub);
	}
	if (!p->sub->head || p->sub->head != p->sub->tail) {
		note_unknown(sh, p, quiet);
		return marker('U', "");
	}
	pipe_stages(p->sub->head, st, &k, ARRAY_SIZE(st));
	for (i = 0; i < k && i < ARRAY_SIZE(st); i++)
		if (st[i]->kind != SHN_SIMPLE || !st[i]->u.simple.nwords)
			break;
	if (i < k || k > ARRAY_SIZE(st)) {
		note_unknown(sh, p, quiet);
		return marker('U', "");
	}
	for (i = 0; i < st[0]->u.simple.nwords; i++)
		expand_word(sh, st[0]->u.simple.words[i], EXP_FIELDS, 0, true, false, &a0);
	if (!a0.n) {
		fields_free(&a0);
		return xstrdup("");
	}
	prog = base_name(a0.v[0].s);
	if (k >= 2 && ifaddr_iface(&a0)) {
		static const char *const filters[] = { "grep", "egrep", "fgrep", "awk", "gawk",
			"mawk", "nawk", "sed", "cut", "tr", "head", "tail", NULL };
		fieldvec ai = { 0 };

		for (i = 1; i < k; i++) {
			expand_word(sh, st[i]->u.simple.words[0], EXP_STRING, 0, true, false, &ai);
			if (!in_set(base_name(ai.v[0].s), filters)) {
				fields_free(&ai);
				break;
			}
			fields_free(&ai);
		}
		if (i == k)
			r = marker('I', ifaddr_iface(&a0));
	} else if (!strcmp(prog, "lsmod")) {
		if (!quiet)
			diag_note(sh->dq, &p->loc, "'lsmod' is not run: its output is taken as "
				  "empty (no module loaded), so the script loads what it needs");
		r = xstrdup("");
	} else if (k == 1 && (!strcmp(prog, "which") || (!strcmp(prog, "type") && a0.n == 3) ||
			      (!strcmp(prog, "command") && a0.n == 3 && !strcmp(a0.v[1].s, "-v"))) &&
		   a0.n >= 2) {
		r = xstrdup(a0.v[a0.n - 1].s);
		if (!quiet)
			diag_note(sh->dq, &p->loc, "'%s' is not run: the program is assumed to "
				  "exist and '%s' stands for it", prog, r);
	} else if (k == 1 && !strcmp(prog, "echo")) {
		r = cmdsub_text(&a0, 1);
	} else if (k == 1 && !strcmp(prog, "expr")) {
		r = expr_eval(&a0);
	} else if (k == 1 && (!strcmp(prog, "basename") || !strcmp(prog, "dirname")) && a0.n >= 2) {
		char *t = test_value(a0.v[1].s), *s;
		size_t n = strlen(t);

		while (n > 1 && t[n - 1] == '/')
			t[--n] = '\0';
		s = strrchr(t, '/');
		if (prog[0] == 'b') {
			r = xstrdup(s ? s + 1 : t);
			if (a0.n >= 3) {
				size_t rl = strlen(r), sl = strlen(a0.v[2].s);

				if (sl < rl && !strcmp(r + rl - sl, a0.v[2].s))
					r[rl - sl] = '\0';
			}
		} else {
			r = !s ? xstrdup(".") : s == t ? xstrdup("/") : xstrndup(t, (size_t)(s - t));
		}
		free(t);
	}
	fields_free(&a0);
	if (!r) {
		note_unknown(sh, p, quiet);
		r = marker('U', "");
	}
	/* $(...) drops trailing newlines: nothing to do, values hold none */
	return r;
}

/* ---- from fields to the command stream -------------------------------- */

/* A literal field's string moves into the word (f->s is NULL after). */
static void field_to_word(struct field *f, struct word *w)
{
	const char *s = f->s, *m = strchr(s, SYM_START), *e;
	char kind;

	memset(w, 0, sizeof(*w));
	w->loc = f->loc;
	w->var = f->var ? xstrdup(f->var) : NULL;
	if (!m) {
		w->kind = WORD_LITERAL;
		w->text = f->s;
		f->s = NULL;
		return;
	}
	kind = m[1];
	e = strchr(m, SYM_END);
	if (!e)
		e = m + strlen(m);
	if (kind == 'I' && m == s && !has_marker(e + (*e ? 1 : 0))) {
		w->kind = WORD_IFADDR;
		w->sym = xstrndup(m + 2, (size_t)(e - m - 2));
		w->text = xstrdup(*e ? e + 1 : "");
		return;
	}
	w->kind = WORD_UNKNOWN;
	w->text = xstrdup("");
	if (kind == 'U' && e > m + 2)
		w->sym = xstrndup(m + 2, (size_t)(e - m - 2));
	else if (f->var)
		w->sym = xstrdup(f->var);
	else if (kind == 'I')
		w->sym = xasprintf("address of %.*s inside a longer word", (int)(e - m - 2), m + 2);
	else
		w->sym = xstrdup("command substitution");
}

/* $NAME and ${NAME} in an unquoted here-document body. */
static char *heredoc_expand(struct shell *sh, const char *s)
{
	struct strbuf sb = { 0 };

	while (*s) {
		if (s[0] == '\\' && (s[1] == '$' || s[1] == '\\' || s[1] == '`')) {
			sb_addc(&sb, s[1]);
			s += 2;
		} else if (s[0] == '$' && (isalpha((unsigned char)s[1]) || s[1] == '_' ||
					   (s[1] == '{' && (isalpha((unsigned char)s[2]) || s[2] == '_')))) {
			bool brace = s[1] == '{';
			const char *n = s + 1 + brace, *e = n, *v;
			char *name;

			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			if (brace && *e != '}') {
				sb_addc(&sb, *s++);
				continue;
			}
			name = xstrndup(n, (size_t)(e - n));
			v = var_value(sh, name);
			if (v) {
				char *t = test_value(v);

				sb_add(&sb, t);
				free(t);
			}
			free(name);
			s = e + brace;
		} else {
			sb_addc(&sb, *s++);
		}
	}
	return sb_steal(&sb);
}

static void redirs_apply(struct shell *sh, const struct sh_redir *r, struct command *c)
{
	for (; r; r = r->next) {
		char *t;
		fieldvec v = { 0 };

		switch (r->kind) {
		case SHR_DUP:
			break;
		case SHR_HEREDOC:
			free(c->heredoc);
			c->heredoc = r->hd->quoted ? xstrdup(sb_str(&r->hd->body))
				: heredoc_expand(sh, sb_str(&r->hd->body));
			break;
		case SHR_IN:
		case SHR_OUT:
		case SHR_APPEND:
		case SHR_RDWR:
			if (!r->target || (r->fd != 0 && r->fd != 1) || r->kind == SHR_RDWR)
				break;
			expand_word(sh, r->target, EXP_STRING, 0, false, false, &v);
			t = v.v[0].s;
			if (r->fd == 1 && !strcmp(t, "/dev/null")) {
				/* output thrown away: nothing the dialects care about */
				if (c->redir != REDIR_IN && c->redir != REDIR_NONE) {
					word_free(&c->redir_target);
					c->redir = REDIR_NONE;
				}
			} else {
				if (c->redir != REDIR_NONE)
					word_free(&c->redir_target);
				c->redir = r->kind == SHR_IN ? REDIR_IN :
					r->kind == SHR_APPEND ? REDIR_APPEND : REDIR_OUT;
				field_to_word(&v.v[0], &c->redir_target);
				c->redir_target.loc = r->target->loc;
			}
			fields_free(&v);
			break;
		}
	}
}

/* The fields' literal strings move into the command (a is freed after). */
static void emit(struct shell *sh, fieldvec *a, const struct sh_node *n)
{
	struct command *c = xzalloc(sizeof(*c));
	size_t i;

	c->argv = xmalloc(a->n * sizeof(*c->argv));
	c->argc = (unsigned)a->n;
	for (i = 0; i < a->n; i++)
		field_to_word(&a->v[i], &c->argv[i]);
	c->loc = a->v[0].loc;
	c->in_pipeline = sh->in_pipeline;
	redirs_apply(sh, n->redirs, c);
	if (sh->out->sink) {
		sh->out->sink(sh->out->sink_ctx, c);
		command_free(c);
		return;
	}
	*sh->out->tail = c;
	sh->out->tail = &c->next;
}

/* ---- test / [ ---------------------------------------------------------- */

struct tester {
	struct shell *sh;
	char **a;		/* test values (unknowns already empty) */
	const struct field *f;	/* for locations */
	size_t n, i;
	bool err;
};

static bool test_or(struct tester *t);

static bool test_int(struct tester *t, size_t i, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(t->a[i], &end, 10);
	if (!*t->a[i] || *end || errno) {
		diag_warning(t->sh->dq, &t->f[i].loc,
			     "test: integer expected, got '%s'; the test is false", t->a[i]);
		t->err = true;
		return false;
	}
	return true;
}

static const char *const file_true[] = { "-e", "-f", "-x", "-r", "-d", "-s", "-w", NULL };
static const char *const file_false[] = { "-L", "-h", "-b", "-c", "-p", "-S", "-t",
	"-g", "-u", "-k", "-O", "-G", "-N", NULL };

static bool test_primary(struct tester *t)
{
	const char *op;

	if (t->i >= t->n)
		return false;
	if (!strcmp(t->a[t->i], "!")) {
		t->i++;
		return !test_primary(t);
	}
	if (!strcmp(t->a[t->i], "(") && t->i + 1 < t->n) {
		bool r;

		t->i++;
		r = test_or(t);
		if (t->i < t->n && !strcmp(t->a[t->i], ")"))
			t->i++;
		return r;
	}
	/* binary operators first: [ "$x" = -n ] compares */
	if (t->i + 2 < t->n) {
		static const char *const bin[] = { "=", "==", "!=", "-eq", "-ne", "-lt", "-le",
			"-gt", "-ge", "-nt", "-ot", "-ef", NULL };

		op = t->a[t->i + 1];
		if (in_set(op, bin)) {
			const char *l = t->a[t->i], *r = t->a[t->i + 2];
			size_t li = t->i;
			long x, y;

			t->i += 3;
			if (!strcmp(op, "=") || !strcmp(op, "=="))
				return !strcmp(l, r);
			if (!strcmp(op, "!="))
				return strcmp(l, r) != 0;
			if (op[1] == 'n' && op[2] == 't')
				return false;
			if (op[1] == 'o' || (op[1] == 'e' && op[2] == 'f'))
				return false;
			if (!test_int(t, li, &x) || !test_int(t, li + 2, &y))
				return false;
			if (!strcmp(op, "-eq")) return x == y;
			if (!strcmp(op, "-ne")) return x != y;
			if (!strcmp(op, "-lt")) return x < y;
			if (!strcmp(op, "-le")) return x <= y;
			if (!strcmp(op, "-gt")) return x > y;
			return x >= y;
		}
	}
	op = t->a[t->i];
	if (t->i + 1 < t->n && op[0] == '-' && op[1] && !op[2]) {
		const char *arg = t->a[t->i + 1];
		const struct loc *l = &t->f[t->i + 1].loc;

		if (!strcmp(op, "-z") || !strcmp(op, "-n")) {
			t->i += 2;
			return (op[1] == 'z') == !*arg;
		}
		if (in_set(op, file_true)) {
			t->i += 2;
			diag_note(t->sh->dq, l, "file test '%s %s' is not run: taken as true "
				  "(the script runs on the machine it was written for)", op, arg);
			return true;
		}
		if (in_set(op, file_false)) {
			t->i += 2;
			diag_note(t->sh->dq, l, "file test '%s %s' is not run: taken as false", op, arg);
			return false;
		}
	}
	/* a lone string: true when not empty */
	return *t->a[t->i++] != '\0';
}

static bool test_and(struct tester *t)
{
	bool r = test_primary(t);

	while (t->i < t->n && !strcmp(t->a[t->i], "-a")) {
		t->i++;
		r = test_primary(t) && r;
	}
	return r;
}

static bool test_or(struct tester *t)
{
	bool r = test_and(t);

	while (t->i < t->n && !strcmp(t->a[t->i], "-o")) {
		t->i++;
		r = test_and(t) || r;
	}
	return r;
}

/* args: the fields after `test` / `[` (the closing `]` removed). */
static int test_eval(struct shell *sh, const struct field *f, size_t n)
{
	struct tester t = { sh, xmalloc((n + 1) * sizeof(char *)), f, n, 0, false };
	bool r;
	size_t i;

	for (i = 0; i < n; i++)
		t.a[i] = test_value(f[i].s);
	r = test_or(&t);
	if (t.i < t.n && !t.err)
		diag_warning(sh->dq, &f[t.i].loc, "test: unexpected '%s'; the test is false", t.a[t.i]);
	for (i = 0; i < n; i++)
		free(t.a[i]);
	free(t.a);
	if (t.err || t.i < t.n)
		return 2;
	return r ? 0 : 1;
}

/* ---- builtins --------------------------------------------------------- */

static void positional_set(struct shell *sh, const struct field *f, size_t n)
{
	unsigned i;

	for (i = 0; i < sh->npos; i++)
		free(sh->pos[i]);
	free(sh->pos);
	sh->pos = xmalloc((n + 1) * sizeof(*sh->pos));
	for (i = 0; i < n; i++)
		sh->pos[i] = xstrdup(f[i].s);
	sh->npos = (unsigned)n;
}

static void local_save(struct shell *sh, const char *name)
{
	struct saved_var s;
	const char *v = var_value(sh, name);
	size_t i;

	if (!sh->locals)
		return;
	for (i = 0; i < sh->locals->saved.n; i++)
		if (!strcmp(sh->locals->saved.v[i].name, name))
			return;
	s.name = xstrdup(name);
	s.value = v ? xstrdup(v) : NULL;
	s.was_set = v != NULL;
	vec_push(&sh->locals->saved, s);
}

/* export/readonly/local/declare: their NAME=value words are assignments
 * (no splitting), so they work on the words, not on split fields. */
static int builtin_declare(struct shell *sh, const char *cmd, const struct loc *cmdloc,
			   struct sh_word *const *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *plain = sh_word_plain(w[i]);
		char *name;

		if (plain && plain[0] == '-')
			continue;
		if (w[i]->assign) {
			char *v = word_string(sh, w[i], w[i]->assign + 1, false);

			name = xstrndup(w[i]->parts[0].text, w[i]->assign);
			if (!strcmp(cmd, "local"))
				local_save(sh, name);
			var_set(sh, name, v, &w[i]->loc);
			free(v);
		} else {
			name = word_string(sh, w[i], 0, false);
			if (!is_name(name)) {
				diag_warning(sh->dq, &w[i]->loc, "%s: '%s' is not a variable name",
					     cmd, name);
				free(name);
				continue;
			}
			if (!strcmp(cmd, "local")) {
				local_save(sh, name);
				var_unset(sh, name, &w[i]->loc);
			}
		}
		if (!strcmp(cmd, "export"))
			var_get(&sh->vars, name)->exported = true;
		else if (!strcmp(cmd, "readonly"))
			var_get(&sh->vars, name)->readonly = true;
		free(name);
	}
	if (!strcmp(cmd, "local") && !sh->locals)
		diag_warning(sh->dq, cmdloc, "'local' outside a function: the variables are global");
	return 0;
}

static long num_arg(struct shell *sh, const fieldvec *a, size_t i, long dflt)
{
	char *end;
	long v;

	if (i >= a->n)
		return dflt;
	v = strtol(a->v[i].s, &end, 10);
	if (*end || !*a->v[i].s) {
		diag_warning(sh->dq, &a->v[i].loc, "%s: numeric argument expected, got '%s'",
			     a->v[0].s, a->v[i].s);
		return dflt;
	}
	return v;
}

static void source_file(struct shell *sh, const fieldvec *a, const struct sh_node *n);

static const char *const builtins_ignored[] = { "cd", "umask", "trap", "alias", "unalias",
	"wait", "hash", "ulimit", NULL };

/* Runs a builtin; false when name is not one. */
static bool builtin_run(struct shell *sh, const fieldvec *a, const struct sh_node *n)
{
	const char *name = a->v[0].s;

	if (!strcmp(name, ":") || !strcmp(name, "true")) {
		sh->status = 0;
	} else if (!strcmp(name, "false")) {
		sh->status = 1;
	} else if (!strcmp(name, "test") || !strcmp(name, "[") || !strcmp(name, "[[")) {
		size_t k = a->n - 1;

		if (name[0] == '[') {
			const char *close = name[1] ? "]]" : "]";

			if (!k || strcmp(a->v[k].s, close)) {
				diag_error(sh->dq, &a->v[0].loc, "'%s' without its closing '%s'", name, close);
				sh->status = 2;
				return true;
			}
			k--;
		}
		sh->status = test_eval(sh, a->v + 1, k);
	} else if (!strcmp(name, "shift")) {
		long k = num_arg(sh, a, 1, 1);

		if (k < 0 || (unsigned long)k > sh->npos) {
			diag_warning(sh->dq, &a->v[0].loc, "shift: only %u positional parameters", sh->npos);
			sh->status = 1;
		} else {
			long i;

			for (i = 0; i < k; i++)
				free(sh->pos[i]);
			memmove(sh->pos, sh->pos + k, (sh->npos - (size_t)k) * sizeof(*sh->pos));
			sh->npos -= (unsigned)k;
			sh->status = 0;
		}
	} else if (!strcmp(name, "set")) {
		size_t i = 1;

		while (i < a->n && (a->v[i].s[0] == '-' || a->v[i].s[0] == '+') &&
		       strcmp(a->v[i].s, "--")) {
			if (!strcmp(a->v[i].s, "-o") || !strcmp(a->v[i].s, "+o"))
				i++;
			i++;
		}
		if (i < a->n && !strcmp(a->v[i].s, "--"))
			positional_set(sh, a->v + i + 1, a->n - i - 1);
		else if (i < a->n)
			positional_set(sh, a->v + i, a->n - i);
		sh->status = 0;
	} else if (!strcmp(name, "unset")) {
		size_t i;

		for (i = 1; i < a->n; i++)
			if (a->v[i].s[0] != '-')
				var_unset(sh, a->v[i].s, &a->v[i].loc);
		sh->status = 0;
	} else if (!strcmp(name, "return")) {
		sh->status = (int)num_arg(sh, a, 1, sh->status) & 255;
		sh->flow = FLOW_RETURN;
	} else if (!strcmp(name, "exit")) {
		sh->status = (int)num_arg(sh, a, 1, sh->status) & 255;
		sh->flow = FLOW_EXIT;
		/* A script that gives up (usage message, a guard that found
		 * no address) has not set up its firewall: compiling what came
		 * before would install a partial ruleset, at boot a fail-open
		 * one. */
		if (sh->status != 0)
			diag_add(sh->dq, DIAG_ERROR, &a->v[0].loc,
				 "check the values the script tests (-D NAME=VALUE, --arg WORD)",
				 "the script exits with status %d here, before its ruleset is complete",
				 sh->status);
	} else if (!strcmp(name, "break") || !strcmp(name, "continue")) {
		long k = num_arg(sh, a, 1, 1);

		sh->flow = name[0] == 'b' ? FLOW_BREAK : FLOW_CONTINUE;
		sh->nflow = k < 1 ? 1 : (unsigned)k;
		sh->status = 0;
	} else if (!strcmp(name, ".") || !strcmp(name, "source")) {
		source_file(sh, a, n);
	} else if (!strcmp(name, "read")) {
		diag_note(sh->dq, &a->v[0].loc, "'read' has no input when the script is "
			  "evaluated: it fails, as at the end of its input");
		sh->status = 1;
	} else if (in_set(name, builtins_ignored)) {
		sh->status = 0;
	} else {
		return false;
	}
	return true;
}

/* ---- functions -------------------------------------------------------- */

static struct sh_func *func_find(const struct shell *sh, const char *name)
{
	const struct fn *f;

	for (f = sh->funcs; f; f = f->next)
		if (!strcmp(f->f->name, name))
			return f->f;
	return NULL;
}

static void func_define(struct shell *sh, struct sh_func *fd)
{
	struct fn *f;

	sh_func_get(fd);
	for (f = sh->funcs; f; f = f->next) {
		if (!strcmp(f->f->name, fd->name)) {
			sh_func_put(f->f);
			f->f = fd;
			return;
		}
	}
	f = xzalloc(sizeof(*f));
	f->f = fd;
	f->next = sh->funcs;
	sh->funcs = f;
}

static void func_call(struct shell *sh, struct sh_func *fd, const fieldvec *a)
{
	char **opos = sh->pos;
	unsigned onpos = sh->npos, i;
	struct frame_locals fl = { 0 }, *ol = sh->locals;

	if (sh->fdepth >= FUNC_DEPTH_MAX) {
		diag_error(sh->dq, &a->v[0].loc, "function '%s' calls itself more than %u deep; "
			   "the call is not followed", fd->name, FUNC_DEPTH_MAX);
		sh->status = 1;
		return;
	}
	sh->fdepth++;
	sh_func_get(fd);		/* the body must survive a redefinition inside it */
	sh->pos = NULL;
	sh->npos = 0;
	positional_set(sh, a->v + 1, a->n - 1);
	sh->locals = &fl;
	eval_node(sh, fd->body);
	if (sh->flow == FLOW_RETURN)
		sh->flow = FLOW_NONE;
	for (i = 0; i < fl.saved.n; i++) {
		struct saved_var *s = &fl.saved.v[i];
		struct var *v = var_get(&sh->vars, s->name);

		if (!v->fixed) {
			free(v->value);
			v->value = s->was_set ? s->value : NULL;
			if (s->was_set)
				s->value = NULL;
		}
		free(s->value);
		free(s->name);
	}
	vec_free(&fl.saved);
	sh->locals = ol;
	for (i = 0; i < sh->npos; i++)
		free(sh->pos[i]);
	free(sh->pos);
	sh->pos = opos;
	sh->npos = onpos;
	sh->fdepth--;
	sh_func_put(fd);
}

/* ---- . / source ------------------------------------------------------- */

static bool eval_line(void *ctx, struct sh_list *l);

static struct src_file *source_find(struct source_set *ss, const char *path)
{
	struct src_file *f;

	for (f = ss->head; f; f = f->next)
		if (!strcmp(f->path, path))
			return f;
	return NULL;
}

static void source_file(struct shell *sh, const fieldvec *a, const struct sh_node *n)
{
	const struct src_file *ofile = sh->file;
	struct src_file *f;
	char *path;
	const char *slash;
	struct sh_list none = { 0 };

	if (a->n < 2) {
		diag_error(sh->dq, &a->v[0].loc, "'%s' needs a file name", a->v[0].s);
		sh->status = 2;
		return;
	}
	if (has_marker(a->v[1].s)) {
		diag_error(sh->dq, &a->v[1].loc, "cannot source a file whose name is not known "
			   "before the script runs");
		sh->status = 1;
		return;
	}
	/* relative to the including script's directory */
	slash = ofile && ofile->path ? strrchr(ofile->path, '/') : NULL;
	if (a->v[1].s[0] != '/' && slash)
		path = xasprintf("%.*s/%s", (int)(slash - ofile->path), ofile->path, a->v[1].s);
	else
		path = xstrdup(a->v[1].s);
	if (sh->sdepth >= SOURCE_DEPTH_MAX) {
		diag_error(sh->dq, &a->v[0].loc, "files source each other more than %u deep; "
			   "'%s' is not read", SOURCE_DEPTH_MAX, path);
		free(path);
		sh->status = 1;
		return;
	}
	f = source_find(sh->ss, path);
	if (!f) {
		/* source_load keeps its own copy of the include location */
		f = source_load(sh->ss, path, &a->v[0].loc);
		if (!f) {
			/* An absolute path is the original machine's own
			 * configuration (/etc/sysconfig/network, the init
			 * functions library): not having it here is expected,
			 * and what it defined shows up as unset variables or
			 * unknown commands, each reported where used. A
			 * relative path is part of the firewall itself. */
			if (a->v[1].s[0] == '/') {
				diag_add(sh->dq, DIAG_WARNING, &a->v[1].loc,
					 "give its values with -D NAME=VALUE if the script depends on them",
					 "cannot read '%s': %s; continuing without it",
					 path, strerror(errno));
				free(path);
				sh->status = 1;
				return;
			}
			diag_error(sh->dq, &a->v[1].loc, "cannot read '%s': %s", path, strerror(errno));
			free(path);
			sh->status = 1;
			return;
		}
	}
	free(path);
	{
		struct sh_parse_args pa = {
			.file = f, .text = f->text, .len = f->len, .line = 1, .col = 1,
			.dq = sh->dq, .on_line = eval_line, .ctx = sh,
		};

		sh->sdepth++;
		sh->file = f;
		sh->status = 0;
		sh_parse_text(&pa, &none);
		sh->file = ofile;
		sh->sdepth--;
	}
	if (sh->flow == FLOW_RETURN)
		sh->flow = FLOW_NONE;
}

/* ---- evaluation ------------------------------------------------------- */

static const char *const quiet_cmds[] = { "echo", "printf", NULL };

static void unset_notes(struct shell *sh, const char *cmd)
{
	size_t i;

	if (in_set(base_name(cmd), quiet_cmds))
		return;
	for (i = 0; i < sh->unset.n; i++) {
		struct var *v = var_get(&sh->vars, sh->unset.v[i].name);

		if (v->noted)
			continue;
		v->noted = true;
		diag_note(sh->dq, &sh->unset.v[i].loc, "variable %s is not set; expands to empty",
			  v->name);
	}
}

static bool is_declare(const char *s)
{
	static const char *const d[] = { "export", "readonly", "local", "declare", "typeset", NULL };

	return in_set(s, d);
}

static void eval_simple(struct shell *sh, const struct sh_node *n)
{
	struct sh_word *const *w = n->u.simple.words;
	size_t nw = n->u.simple.nwords, i, nassign = 0;
	fieldvec a = { 0 };
	const char *plain;
	struct sh_func *fd;

	while (nassign < nw && w[nassign]->assign)
		nassign++;
	if (nassign < nw && (plain = sh_word_plain(w[nassign])) && is_declare(plain)) {
		for (i = 0; i < nassign; i++) {
			char *v = word_string(sh, w[i], w[i]->assign + 1, false);
			char *name = xstrndup(w[i]->parts[0].text, w[i]->assign);

			var_set(sh, name, v, &w[i]->loc);
			free(name);
			free(v);
		}
		sh->status = builtin_declare(sh, plain, &w[nassign]->loc, w + nassign + 1,
					     nw - nassign - 1);
		return;
	}
	sh->unset.n = 0;
	for (i = nassign; i < nw; i++)
		expand_word(sh, w[i], EXP_FIELDS, 0, false, true, &a);
	if (!a.n) {
		/* assignments only: they set shell variables */
		for (i = 0; i < nassign; i++) {
			char *v = word_string(sh, w[i], w[i]->assign + 1, false);
			char *name = xstrndup(w[i]->parts[0].text, w[i]->assign);

			var_set(sh, name, v, &w[i]->loc);
			free(name);
			free(v);
		}
		sh->status = 0;
		fields_free(&a);
		return;
	}
	if ((fd = func_find(sh, a.v[0].s))) {
		func_call(sh, fd, &a);
	} else if (!builtin_run(sh, &a, n)) {
		/* VAR=x cmd: the assignment is for cmd's environment only */
		unset_notes(sh, a.v[0].s);
		emit(sh, &a, n);
		sh->status = 0;
	}
	fields_free(&a);
}

static bool pipeline_lsmod(struct shell *sh, const struct sh_node *n)
{
	const struct sh_node *st[2];
	unsigned k = 0;
	const char *p;

	pipe_stages(n, st, &k, 1);
	if (st[0]->kind != SHN_SIMPLE || !st[0]->u.simple.nwords)
		return false;
	p = sh_word_plain(st[0]->u.simple.words[0]);
	if (!p) {
		char *s = word_string(sh, st[0]->u.simple.words[0], 0, true);
		bool r = !strcmp(base_name(s), "lsmod");

		free(s);
		return r;
	}
	return !strcmp(base_name(p), "lsmod");
}

static void eval_pipe(struct shell *sh, const struct sh_node *n)
{
	bool op = sh->in_pipeline;

	sh->in_pipeline = true;
	eval_node(sh, n->u.bin.left);
	if (sh->flow == FLOW_NONE)
		eval_node(sh, n->u.bin.right);
	sh->in_pipeline = op;
	if (!op && pipeline_lsmod(sh, n)) {
		diag_note(sh->dq, &n->loc, "'lsmod' is not run: a pipeline reading its output "
			  "finds nothing (no module loaded)");
		sh->status = 1;
	}
}

static bool loop_flow(struct shell *sh)
{
	if (sh->flow == FLOW_BREAK || sh->flow == FLOW_CONTINUE) {
		enum flow f = sh->flow;

		if (--sh->nflow == 0)
			sh->flow = FLOW_NONE;
		return f == FLOW_BREAK || sh->flow != FLOW_NONE;
	}
	return sh->flow != FLOW_NONE;
}

static void eval_for(struct shell *sh, const struct sh_node *n)
{
	fieldvec a = { 0 };
	size_t i;
	char *var = word_string(sh, n->u.loop.var, 0, true);

	if (!is_name(var))
		diag_error(sh->dq, &n->u.loop.var->loc, "for: '%s' is not a variable name", var);
	if (n->u.loop.has_in) {
		for (i = 0; i < n->u.loop.nwords; i++)
			expand_word(sh, n->u.loop.words[i], EXP_FIELDS, 0, false, false, &a);
	} else {
		for (i = 0; i < sh->npos; i++) {
			struct field f = { xstrdup(sh->pos[i]), n->loc, NULL };

			vec_push(&a, f);
		}
	}
	sh->status = 0;
	for (i = 0; i < a.n && is_name(var); i++) {
		var_set(sh, var, a.v[i].s, &a.v[i].loc);
		eval_list(sh, &n->u.loop.body);
		if (loop_flow(sh))
			break;
	}
	free(var);
	fields_free(&a);
}

static void eval_while(struct shell *sh, const struct sh_node *n)
{
	unsigned iter = 0;
	bool until = n->kind == SHN_UNTIL;

	for (;;) {
		eval_list(sh, &n->u.cond.cond);
		if (sh->flow != FLOW_NONE || (sh->status == 0) == until)
			break;
		if (++iter > sh->loop_bound) {
			diag_error(sh->dq, &n->loc, "this loop is still running after %u iterations; "
				   "masqc stops it here (its condition depends on something "
				   "masqc cannot know, or it never ends)", sh->loop_bound);
			break;
		}
		eval_list(sh, &n->u.cond.body);
		if (loop_flow(sh))
			break;
	}
	sh->status = 0;
}

static void eval_case(struct shell *sh, const struct sh_node *n)
{
	char *raw = word_string(sh, n->u.kase.subject, 0, false);
	char *subj = test_value(raw);
	const struct sh_case_item *ci;

	free(raw);
	sh->status = 0;
	for (ci = n->u.kase.items; ci; ci = ci->next) {
		unsigned i;

		for (i = 0; i < ci->npats; i++) {
			fieldvec p = { 0 };
			bool m;

			expand_word(sh, ci->pats[i], EXP_PATTERN, 0, false, false, &p);
			m = !fnmatch(p.v[0].s, subj, 0);
			fields_free(&p);
			if (m) {
				eval_list(sh, &ci->body);
				free(subj);
				return;
			}
		}
	}
	free(subj);
}

static void eval_subshell(struct shell *sh, const struct sh_node *n)
{
	struct vartab saved = sh->vars;
	char **opos = sh->pos;
	unsigned onpos = sh->npos, i;
	enum flow fl;

	/* the subshell works on copies: nothing it sets leaks out */
	vartab_copy(&sh->vars, &saved);
	sh->pos = NULL;
	sh->npos = 0;
	{
		fieldvec a = { 0 };

		for (i = 0; i < onpos; i++) {
			struct field f = { opos[i], n->loc, NULL };

			vec_push(&a, f);
		}
		positional_set(sh, a.v, a.n);
		vec_free(&a);
	}
	eval_list(sh, &n->u.group);
	fl = sh->flow;
	vartab_free(&sh->vars);
	sh->vars = saved;
	for (i = 0; i < sh->npos; i++)
		free(sh->pos[i]);
	free(sh->pos);
	sh->pos = opos;
	sh->npos = onpos;
	/* exit in a subshell leaves the subshell only */
	if (fl == FLOW_EXIT || fl == FLOW_RETURN)
		sh->flow = FLOW_NONE;
}

static void eval_node(struct shell *sh, const struct sh_node *n)
{
	switch (n->kind) {
	case SHN_SIMPLE:
		eval_simple(sh, n);
		break;
	case SHN_PIPE:
		eval_pipe(sh, n);
		break;
	case SHN_AND:
	case SHN_OR:
		eval_node(sh, n->u.bin.left);
		if (sh->flow == FLOW_NONE && (sh->status == 0) == (n->kind == SHN_AND))
			eval_node(sh, n->u.bin.right);
		break;
	case SHN_NOT:
		eval_node(sh, n->u.bin.left);
		sh->status = !sh->status;
		break;
	case SHN_IF:
		eval_list(sh, &n->u.cond.cond);
		if (sh->flow != FLOW_NONE)
			break;
		if (sh->status == 0) {
			eval_list(sh, &n->u.cond.body);
		} else {
			sh->status = 0;
			eval_list(sh, &n->u.cond.alt);
		}
		break;
	case SHN_FOR:
		eval_for(sh, n);
		break;
	case SHN_WHILE:
	case SHN_UNTIL:
		eval_while(sh, n);
		break;
	case SHN_CASE:
		eval_case(sh, n);
		break;
	case SHN_GROUP:
		eval_list(sh, &n->u.group);
		break;
	case SHN_SUBSHELL:
		eval_subshell(sh, n);
		break;
	case SHN_FUNCDEF:
		func_define(sh, n->u.func);
		sh->status = 0;
		break;
	}
}

static void eval_list(struct shell *sh, const struct sh_list *l)
{
	const struct sh_node *n;

	for (n = l->head; n && sh->flow == FLOW_NONE; n = n->next)
		eval_node(sh, n);
}

/* Evaluates a top-level line; says whether to go on. */
static bool eval_line_keep(struct shell *sh, const struct sh_list *l)
{
	eval_list(sh, l);
	if (sh->flow == FLOW_BREAK || sh->flow == FLOW_CONTINUE)
		sh->flow = FLOW_NONE;	/* break outside a loop: ignored, as sh does */
	return sh->flow == FLOW_NONE;
}

/* on_line of sh_parse_args: evaluates, frees, says whether to go on. */
static bool eval_line(void *ctx, struct sh_list *l)
{
	bool go = eval_line_keep(ctx, l);

	sh_list_free(l);
	return go;
}

/* ---- a big script's top level, parsed a line ahead ------------------------ */

/* The parse of a top-level line does not depend on the evaluation of the
 * lines before it (no aliases; a sourced file or a substitution is parsed
 * by the evaluator, when it runs), so a big script is parsed by a thread
 * of its own and its lines handed over in order, each with the parser's
 * diagnostics since the previous line: they are queued where the serial
 * parse would have put them (after the previous line's evaluation), and
 * after an `exit` neither the later lines nor their diagnostics exist,
 * as when the parse stops there. */
#define PIPE_MIN_BYTES (256 * 1024)	/* below this a thread is not worth it */
#define PIPE_BATCH 32			/* lines handed over at a time */
#define PIPE_MAX_LINES 256		/* parsed, not yet evaluated */

struct pline {
	struct sh_list l;
	struct diag_queue dq;
};

typedef VEC(struct pline) plines;
typedef VEC(struct sh_list) shlists;

struct pipe_q {
	pthread_mutex_t mu;
	pthread_cond_t items, space;
	plines v;			/* handed over, not yet taken */
	shlists ret;			/* evaluated: freed by the parser, whose
					 * arena they are from */
	bool done, stop;
	/* the parser's own */
	plines batch;
	struct diag_queue pdq;		/* its diagnostics since its last line */
	struct sh_parse_args pa;
};

static void pline_free(struct pline *pl)
{
	sh_list_free(&pl->l);
	diag_queue_free(&pl->dq);
}

static void lists_free(shlists *v)
{
	for (size_t i = 0; i < v->n; i++)
		sh_list_free(&v->v[i]);
	vec_free(v);
}

static void diag_move(struct diag_queue *dst, struct diag_queue *src)
{
	for (size_t i = 0; i < src->n; i++)
		diag_add(dst, src->v[i].level, &src->v[i].loc, src->v[i].hint, "%s", src->v[i].msg);
	diag_queue_free(src);
}

/* The parser's end: a line (NULL at the end, with what the parser said
 * after the last one); false (stop) once the evaluator ran exit. */
static bool pipe_put(struct pipe_q *q, struct sh_list *l, bool last)
{
	struct pline pl = { l ? *l : (struct sh_list){ 0 }, q->pdq };
	shlists ret;
	bool go;

	q->pdq = (struct diag_queue){ .werror = pl.dq.werror };
	vec_push(&q->batch, pl);
	if (!last && q->batch.n < PIPE_BATCH)
		return true;
	pthread_mutex_lock(&q->mu);
	while (!last && q->v.n >= PIPE_MAX_LINES && !q->stop)
		pthread_cond_wait(&q->space, &q->mu);
	go = !q->stop;
	if (go)
		for (size_t i = 0; i < q->batch.n; i++)
			vec_push(&q->v, q->batch.v[i]);
	ret = q->ret;
	memset(&q->ret, 0, sizeof(q->ret));
	if (last)
		q->done = true;
	pthread_cond_signal(&q->items);
	pthread_mutex_unlock(&q->mu);
	if (!go)
		for (size_t i = 0; i < q->batch.n; i++)
			pline_free(&q->batch.v[i]);
	q->batch.n = 0;
	lists_free(&ret);
	return go;
}

static bool pipe_on_line(void *ctx, struct sh_list *l)
{
	return pipe_put(ctx, l, false);
}

static void *pipe_parse(void *arg)
{
	struct pipe_q *q = arg;
	struct sh_list none = { 0 };

	sh_parse_text(&q->pa, &none);
	pipe_put(q, NULL, true);
	vec_free(&q->batch);
	sh_pool_trim();		/* this thread's spare pools go with it */
	return NULL;
}

static bool eval_line_keep(struct shell *sh, const struct sh_list *l);

/* MASQC_TEST_PARSE_THREAD (tests only): 1 whatever the size, 0 never */
static bool parse_thread_wanted(const struct src_file *f, const struct shell_opts *o)
{
	const char *e = getenv("MASQC_TEST_PARSE_THREAD");

	if (o && o->serial_parse)
		return false;
	if (e && (*e == '0' || *e == '1'))
		return *e == '1';
	return f->len >= PIPE_MIN_BYTES;
}

/* Evaluates pa's text with the parse in a thread; false if none started
 * (nothing was parsed or evaluated then). */
static bool eval_pipelined(struct shell *sh, const struct sh_parse_args *pa)
{
	struct pipe_q q = { .pa = *pa, .pdq = { .werror = pa->dq->werror } };
	shlists done_lists = { 0 };
	pthread_t th;
	bool stopped = false, done = false;

	pthread_mutex_init(&q.mu, NULL);
	pthread_cond_init(&q.items, NULL);
	pthread_cond_init(&q.space, NULL);
	q.pa.dq = &q.pdq;
	q.pa.on_line = pipe_on_line;
	q.pa.ctx = &q;
	if (pthread_create(&th, NULL, pipe_parse, &q) != 0) {
		pthread_cond_destroy(&q.items);
		pthread_cond_destroy(&q.space);
		pthread_mutex_destroy(&q.mu);
		return false;
	}
	while (!stopped && !done) {
		plines take;

		pthread_mutex_lock(&q.mu);
		while (!q.v.n && !q.done)
			pthread_cond_wait(&q.items, &q.mu);
		take = q.v;
		done = q.done;
		memset(&q.v, 0, sizeof(q.v));
		for (size_t i = 0; i < done_lists.n; i++)
			vec_push(&q.ret, done_lists.v[i]);
		done_lists.n = 0;
		pthread_cond_signal(&q.space);
		pthread_mutex_unlock(&q.mu);
		for (size_t i = 0; i < take.n; i++) {
			if (stopped) {
				pline_free(&take.v[i]);
				continue;
			}
			diag_move(sh->dq, &take.v[i].dq);
			if (!eval_line_keep(sh, &take.v[i].l))
				stopped = true;
			vec_push(&done_lists, take.v[i].l);
		}
		vec_free(&take);
	}
	if (stopped) {
		pthread_mutex_lock(&q.mu);
		q.stop = true;
		pthread_cond_signal(&q.space);
		pthread_mutex_unlock(&q.mu);
	}
	pthread_join(th, NULL);
	for (size_t i = 0; i < q.v.n; i++)
		pline_free(&q.v.v[i]);
	vec_free(&q.v);
	lists_free(&q.ret);
	lists_free(&done_lists);
	diag_queue_free(&q.pdq);
	pthread_cond_destroy(&q.items);
	pthread_cond_destroy(&q.space);
	pthread_mutex_destroy(&q.mu);
	return true;
}

int shell_eval(struct source_set *ss, struct src_file *f, const struct shell_opts *o,
	       struct diag_queue *dq, struct cmd_stream *out)
{
	static const char *const dflt_args[] = { "start" };
	struct shell sh;
	unsigned errs = dq->nerrors, i;
	struct fn *fn, *next;
	struct sh_list none = { 0 };
	struct sh_parse_args pa = {
		.file = f, .text = f->text, .len = f->len, .line = 1, .col = 1,
		.dq = dq, .on_line = eval_line,
	};
	const char *const *args = o && o->nargs ? o->args : dflt_args;
	unsigned nargs = o && o->nargs ? o->nargs : 1;

	memset(&sh, 0, sizeof(sh));
	sh.ss = ss;
	sh.dq = dq;
	sh.o = o;
	sh.out = out;
	sh.file = f;
	sh.arg0 = f->path;
	sh.loop_bound = o && o->loop_bound ? o->loop_bound : 10000;
	sh.pos = xmalloc(nargs * sizeof(*sh.pos));
	for (i = 0; i < nargs; i++)
		sh.pos[i] = xstrdup(args[i]);
	sh.npos = nargs;
	for (i = 0; o && i < o->ndefines; i++) {
		const char *eq = strchr(o->defines[i], '=');
		char *name = eq ? xstrndup(o->defines[i], (size_t)(eq - o->defines[i]))
			: xstrdup(o->defines[i]);
		struct var *v;

		if (!is_name(name)) {
			diag_error(dq, NULL, "-D %s: '%s' is not a variable name", o->defines[i], name);
			free(name);
			continue;
		}
		v = var_get(&sh.vars, name);
		free(v->value);
		v->value = xstrdup(eq ? eq + 1 : "");
		v->fixed = true;
		v->exported = true;
		free(name);
	}
	pa.ctx = &sh;
	if (!parse_thread_wanted(f, o) || !eval_pipelined(&sh, &pa))
		sh_parse_text(&pa, &none);

	for (i = 0; i < sh.npos; i++)
		free(sh.pos[i]);
	free(sh.pos);
	for (fn = sh.funcs; fn; fn = next) {
		next = fn->next;
		sh_func_put(fn->f);
		free(fn);
	}
	sh_pool_trim();		/* what the lines freed here left */
	vartab_free(&sh.vars);
	vec_free(&sh.unset);
	return dq->nerrors > errs ? -1 : 0;
}
