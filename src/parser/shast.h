/* shast.h -- the shell syntax tree: what grammar.y builds and shell.c walks.
 *
 * Words keep their quoting as a list of parts, because expansion and word
 * splitting depend on it: in  "$A"x$B  the value of A is one field glued to
 * "x" while the value of B is split on blanks.  Command substitutions and
 * arithmetic keep their inner source text; shell.c parses a substitution
 * (once, cached on the part) only when it evaluates it.
 *
 * Ownership: a node owns its children, words, redirections.  Here-documents
 * and function bodies are reference counted because the lexer (filling a
 * here-document body after the command's line) and the function table
 * (keeping a body after the defining file's tree is gone) hold them too.
 *
 * Pools: a parse that hands its lines to on_line builds each top-level
 * line in a pool of its own (a few blocks, freed at once): a 100,000-line
 * script is millions of small words, parts and texts, and allocating and
 * freeing them one by one was most of the parse's time.  An object made in
 * a pool says so (pooled); its parts, texts and arrays are in the same
 * pool.  The destructors walk a pooled tree as any other, releasing what
 * is not in the pool (here-documents, functions, substitutions parsed
 * later), and free nothing else.  The line (struct sh_list.pools) and each
 * function defined in it (struct sh_func.pools) hold the pool; it goes
 * with the last of them.  Other parses ($(...), lines collected in *out)
 * use malloc as before.
 */
#ifndef MASQC_SHAST_H
#define MASQC_SHAST_H

#include <stdbool.h>
#include <stddef.h>
#include "../loc.h"
#include "../diag.h"
#include "../util.h"

enum sh_part_kind {
	SHP_LIT,	/* literal text */
	SHP_PARAM,	/* $X ${X} ${X:-w} ... */
	SHP_CMDSUB,	/* $(...) or `...` */
	SHP_ARITH,	/* $((...)) */
};

enum sh_param_op {
	SHOP_NONE,
	SHOP_DEFAULT,		/* ${X:-w} (nc: ${X-w}) */
	SHOP_ASSIGN,		/* ${X:=w} */
	SHOP_ALT,		/* ${X:+w} */
	SHOP_ERROR,		/* ${X:?w} */
	SHOP_LENGTH,		/* ${#X} */
	SHOP_RM_PREFIX,		/* ${X#w}  (longest: ${X##w}) */
	SHOP_RM_SUFFIX,		/* ${X%w}  (longest: ${X%%w}) */
};

struct sh_word;
struct sh_list;
struct sh_pool;

/* The pools a line or a function body was built in: its own, and the one
 * before it (where a token read ahead of the line's start would be). */
struct sh_pool_refs {
	struct sh_pool *p[2];
};

struct sh_part {
	enum sh_part_kind kind;
	bool quoted;		/* inside '', "" or after \: never split */
	enum sh_param_op op;
	bool colon;		/* ${X:-w}: also when X is empty; ## / %% longest */
	char *text;		/* LIT: text; PARAM: name; CMDSUB/ARITH: inner source */
	struct sh_word *arg;	/* PARAM with an operator: the word after it */
	struct loc loc;		/* the whole part: $X, ${...}, $(...), `...` */
	unsigned in_line, in_col; /* CMDSUB: where the inner source starts */
	bool backquote;		/* CMDSUB written `...` (inner text unescaped) */
	struct sh_list *sub;	/* CMDSUB: parsed inner text, cached */
	bool sub_done;
};

struct sh_word {
	struct sh_part *parts;	/* the first ones right after the word itself
				 * (sh_word_new: one allocation a word) */
	unsigned nparts, cap;
	struct loc loc;
	unsigned assign;	/* NAME=...: length of NAME, else 0 */
	bool pooled;		/* made in a pool, with its parts and texts */
};

struct sh_heredoc {
	unsigned refs;
	char *delim;
	bool strip_tabs;	/* <<- */
	bool quoted;		/* <<'EOF': body is not expanded */
	bool done;
	struct strbuf body;
};

enum sh_redir_kind {
	SHR_IN,			/* <  */
	SHR_OUT,		/* >, >| */
	SHR_APPEND,		/* >> */
	SHR_RDWR,		/* <> */
	SHR_DUP,		/* n>&m, n<&m, n>&- */
	SHR_HEREDOC,		/* <<, <<- */
};

struct sh_redir {
	enum sh_redir_kind kind;
	int fd;			/* the redirected descriptor (default 0 or 1) */
	int dupfd;		/* SHR_DUP: target descriptor, -1 for '-' */
	struct sh_word *target;	/* IN/OUT/APPEND/RDWR */
	struct sh_heredoc *hd;	/* HEREDOC */
	struct loc loc;
	bool pooled;
	struct sh_redir *next;
};

enum sh_node_kind {
	SHN_SIMPLE,
	SHN_PIPE,		/* left | right */
	SHN_AND,		/* left && right */
	SHN_OR,			/* left || right */
	SHN_NOT,		/* ! left */
	SHN_IF,			/* if cond then body [else alt] (elif nests in alt) */
	SHN_FOR,
	SHN_WHILE,
	SHN_UNTIL,
	SHN_CASE,
	SHN_GROUP,		/* { body; } */
	SHN_SUBSHELL,		/* ( body ) */
	SHN_FUNCDEF,
};

struct sh_node;

/* A sequence of commands (a compound body, a line, a substitution). */
struct sh_list {
	struct sh_node *head, *tail;
	struct sh_pool_refs pools;	/* a top-level line from on_line: its pools */
};

struct sh_case_item {
	struct sh_word **pats;
	unsigned npats;
	struct sh_list body;
	struct loc loc;
	bool pooled;
	struct sh_case_item *next;
};

struct sh_func {
	unsigned refs;		/* atomic: lines may be freed by the parse thread */
	char *name;
	struct sh_node *body;
	struct loc loc;
	struct sh_pool_refs pools;	/* where body was built */
};

struct sh_node {
	enum sh_node_kind kind;
	bool pooled;			/* and its arrays of words */
	struct loc loc;
	struct sh_redir *redirs;	/* SIMPLE and compound commands */
	struct sh_node *next;		/* in a struct sh_list */
	union {
		struct {
			struct sh_word **words;
			unsigned nwords, cap;
		} simple;
		struct {
			struct sh_node *left, *right;
		} bin;				/* PIPE AND OR NOT(left) */
		struct {
			struct sh_list cond, body, alt;
		} cond;				/* IF WHILE UNTIL */
		struct {
			struct sh_word *var;
			struct sh_word **words;	/* NULL: "$@" */
			unsigned nwords, cap;
			bool has_in;
			struct sh_list body;
		} loop;				/* FOR */
		struct {
			struct sh_word *subject;
			struct sh_case_item *items;
		} kase;				/* CASE */
		struct sh_list group;		/* GROUP SUBSHELL */
		struct sh_func *func;		/* FUNCDEF */
	} u;
};

/* Constructors used by the grammar; the lexer builds words. */
struct sh_word *sh_word_new(struct loc loc);
struct sh_part *sh_word_add_part(struct sh_word *w, enum sh_part_kind kind, bool quoted);
void sh_word_add_lit(struct sh_word *w, const char *s, size_t n, bool quoted);
void sh_word_free(struct sh_word *w);

struct sh_node *sh_node_new(enum sh_node_kind kind, struct loc loc);
void sh_simple_add_word(struct sh_node *n, struct sh_word *w);
void sh_node_add_redir(struct sh_node *n, struct sh_redir *r);
void sh_node_free(struct sh_node *n);
void sh_list_add(struct sh_list *l, struct sh_node *n);
void sh_list_free(struct sh_list *l);
void sh_words_add(struct sh_word ***v, unsigned *n, unsigned *cap, struct sh_word *w);

struct sh_redir *sh_redir_new(enum sh_redir_kind kind, int fd, struct loc loc);
void sh_redir_free(struct sh_redir *r);
void sh_heredoc_put(struct sh_heredoc *hd);
struct sh_func *sh_func_new(const char *name, struct sh_node *body, struct loc loc);
void sh_func_get(struct sh_func *f);
void sh_func_put(struct sh_func *f);
struct sh_case_item *sh_case_item_new(struct loc loc);
void sh_case_item_free(struct sh_case_item *ci);	/* the whole chain */
void sh_words_release(struct sh_word **v, unsigned n);	/* an unowned array */

/* Text for a part of w: in w's pool when w is pooled (sb is emptied). */
char *sh_word_strndup(const struct sh_word *w, const char *s, size_t n);
char *sh_word_take_sb(const struct sh_word *w, struct strbuf *sb);

/* The parser's side of the pools (per thread).  sh_pool_enter starts a
 * parse: with pooled, its objects go to a fresh pool, else to malloc; the
 * state it returns goes back to sh_pool_leave.  A line handed to on_line
 * takes its pools (sh_pool_take) and the parse moves on to a new pool
 * (sh_pool_next). */
struct sh_pool_state {
	struct sh_pool *cur, *prev;
};
struct sh_pool_state sh_pool_enter(bool pooled);
void sh_pool_leave(struct sh_pool_state saved);
void sh_pool_take(struct sh_pool_refs *r);
void sh_pool_next(void);
void sh_pool_refs_put(struct sh_pool_refs *r);
/* Frees the pools this thread kept for later lines (lines freed after the
 * parse ended leave theirs here too). */
void sh_pool_trim(void);

/* The literal text of a word with no expansions (quotes removed), or NULL. */
const char *sh_word_plain(const struct sh_word *w);

/*
 * Parsing.  A parse runs over text[start, end) of a source file, with
 * locations starting at (line, col).  Each complete top-level line is handed
 * to on_line (which takes ownership of the list) as soon as it is parsed,
 * so a 100,000-line script never exists as one tree; without on_line, the
 * lines are collected in *out.  on_line returning false stops the parse
 * (the script ran `exit`).
 */
struct sh_parse_args {
	const struct src_file *file;
	const char *text;	/* usually file->text; the unescaped text of `...` */
	size_t len;
	unsigned line, col;
	struct diag_queue *dq;
	bool (*on_line)(void *ctx, struct sh_list *line);
	void *ctx;
};

/* Returns 0, or -1 if a syntax error was queued. */
int sh_parse_text(const struct sh_parse_args *a, struct sh_list *out);

#endif
