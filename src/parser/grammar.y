/* grammar.y -- the shell grammar (pure bison parser over lexer.l).
 *
 * A POSIX-shaped grammar for the subset in docs/shell.md.  Actions are
 * thin constructors (shast.c); meaning is shell.c's business.  Each
 * top-level line is handed to the caller as soon as it is reduced (see
 * sh_parse_args.on_line), so memory stays flat on huge scripts and `exit`
 * can stop the parse.  A syntax error skips to the end of its line and
 * parsing goes on, in a compound body as at the top level.
 */
%define api.pure full
%define api.prefix {sh_}
%define api.token.prefix {TOK_}
%define api.location.type {struct loc}
%define parse.error custom
%locations
%param {void *scanner}
%expect 0

%code requires {
#include "shast.h"

struct sh_pos {
	size_t off;
	unsigned line, col;
};

/* Where the lexer stands, for reserved words (see lexer.l). */
enum lx_pos {
	LX_CMD,		/* a command name may come: keywords are reserved */
	LX_ARG,		/* arguments */
	LX_FOR_NAME,	/* after `for` */
	LX_FOR_IN,	/* after `for NAME`: `in` or `do` */
	LX_CASE_WORD,	/* after `case` */
	LX_CASE_IN,	/* after `case WORD`: `in` */
	LX_PAT,		/* case patterns: only `esac` */
	LX_FUNC_NAME,	/* after `function` */
};

enum sh_frame_kind { FR_DQ, FR_PARAM, FR_CMDSUB, FR_BQ, FR_ARITH };

/* A nesting level inside a word (lexer.l). */
struct sh_frame {
	enum sh_frame_kind kind;
	bool dq;			/* parts added are double-quoted */
	struct sh_word *w;		/* DQ, PARAM: where parts go */
	struct sh_word *pw;		/* PARAM: the word holding the ${ part */
	unsigned pidx;			/* ... and its index */
	struct strbuf raw;		/* CMDSUB BQ ARITH: inner text */
	unsigned depth;			/* parentheses inside CMDSUB/ARITH */
	struct loc start;		/* the opener, for "unterminated ..." */
	size_t start_off;
	unsigned in_line, in_col;
};

struct sh_open {
	int tok;
	struct loc loc;
};

/* One parse: the lexer's and the parser's state. */
struct sh_parser {
	const struct sh_parse_args *a;
	struct sh_list *out;
	void *scanner;
	struct sh_pos pos, tok, word_start;
	struct sh_word *cur;		/* word being built */
	struct sh_frame *frames;
	size_t nframes, fcap;
	enum lx_pos lpos;
	bool redir_target;		/* next word is a redirection target */
	struct sh_heredoc **pending;	/* here-documents whose body comes next */
	size_t npending, pending_i, pcap;
	struct loc nl_loc;
	struct sh_open *open;		/* open if/for/while/case/{ */
	size_t nopen, ocap;
	int last_tok;
	bool eof, stop;
	bool truncated;			/* the file ended inside a quote: the last line is not a command */
	bool line_bad;			/* need_list refused a part of this line */
	unsigned nerr;
};

int sh_scan_begin(struct sh_parser *p);
void sh_scan_end(struct sh_parser *p);
}

%code provides {
int sh_lex(SH_STYPE *lval, SH_LTYPE *lloc, void *scanner);
struct sh_parser *sh_get_extra(void *scanner);
}

%code {
#include <stdlib.h>
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N) do { \
		if (N) \
			(Cur) = YYRHSLOC(Rhs, 1); \
		else \
			(Cur) = YYRHSLOC(Rhs, 0); \
	} while (0)

static void sh_error(const struct loc *l, void *scanner, const char *msg);
static bool deliver(struct sh_parser *p, struct sh_list *l);
static struct sh_node *node_bin(enum sh_node_kind k, struct sh_node *a,
				struct sh_node *b, struct loc l);
static struct sh_case_item *case_append(struct sh_case_item *l, struct sh_case_item *i);
static void need_list(void *scanner, const struct sh_list *l, const struct loc *at,
		      const char *what);
}

%union {
	struct sh_word *word;
	struct sh_redir *redir;
	struct sh_node *node;
	struct sh_list list;
	struct sh_case_item *item;
	struct {
		struct sh_word **v;
		unsigned n, cap;
	} words;
}

%token <word> WORD "word"
%token <redir> REDIR "redirection" DUP "'>&'" HEREDOC "'<<'"
%token NEWLINE "newline" SEMI "';'" AMP "'&'" AND_IF "'&&'" OR_IF "'||'"
%token PIPE "'|'" LPAREN "'('" RPAREN "')'" DSEMI "';;'"
%token IF "'if'" THEN "'then'" ELSE "'else'" ELIF "'elif'" FI "'fi'"
%token DO "'do'" DONE "'done'" CASE "'case'" ESAC "'esac'" WHILE "'while'"
%token UNTIL "'until'" FOR "'for'" IN "'in'" FUNCTION "'function'"
%token LBRACE "'{'" RBRACE "'}'" BANG "'!'"

%type <list> list stmts body else_part
%type <node> and_or pipeline pipe_seq command simple compound funcdef
%type <node> brace_group if_clause for_clause while_clause case_clause
%type <redir> redirection redirs
%type <item> case_item case_list
%type <words> pattern wordlist

%destructor { sh_word_free($$); } <word>
%destructor { sh_redir_free($$); } <redir>
%destructor { sh_node_free($$); } <node>
%destructor { sh_list_free(&$$); } <list>
%destructor { sh_case_item_free($$); } <item>
%destructor { sh_words_release($$.v, $$.n); } <words>

%%

program:	%empty
	|	program line
	;

line:		NEWLINE
	|	list NEWLINE
		{
			struct sh_parser *p = sh_get_extra(scanner);

			if (!deliver(p, &$1))
				YYACCEPT;
		}
	|	error NEWLINE		{ yyerrok; sh_get_extra(scanner)->line_bad = false; }
	;

list:		and_or			{ $$ = (struct sh_list){ 0 }; sh_list_add(&$$, $1); }
	|	list sep and_or		{ $$ = $1; sh_list_add(&$$, $3); }
	|	list sep		{ $$ = $1; }
	;

sep:		SEMI | AMP ;

/* A compound body: newlines separate too; the last command may be
 * unterminated (`( a )`, `a) cmd ;;`). */
stmts:		%empty			{ $$ = (struct sh_list){ 0 }; }
	|	stmts NEWLINE		{ $$ = $1; }
	|	stmts and_or sep	{ $$ = $1; sh_list_add(&$$, $2); }
	|	stmts and_or NEWLINE	{ $$ = $1; sh_list_add(&$$, $2); }
	|	stmts error NEWLINE	{ $$ = $1; yyerrok; }
	;

body:		stmts
	|	stmts and_or		{ $$ = $1; sh_list_add(&$$, $2); }
	;

and_or:		pipeline
	|	and_or AND_IF linebreak pipeline	{ $$ = node_bin(SHN_AND, $1, $4, @2); }
	|	and_or OR_IF linebreak pipeline		{ $$ = node_bin(SHN_OR, $1, $4, @2); }
	;

pipeline:	pipe_seq
	|	BANG pipe_seq		{ $$ = node_bin(SHN_NOT, $2, NULL, @1); }
	;

pipe_seq:	command
	|	pipe_seq PIPE linebreak command		{ $$ = node_bin(SHN_PIPE, $1, $4, @2); }
	;

linebreak:	%empty
	|	linebreak NEWLINE
	;

command:	simple
	|	compound
	|	compound redirs
		{
			struct sh_redir *r;

			$$ = $1;
			while ((r = $2)) {
				$2 = r->next;
				r->next = NULL;
				sh_node_add_redir($$, r);
			}
		}
	|	funcdef
	;

redirs:		redirection
	|	redirs redirection	{ $$ = $2; $$->next = $1; }
	;

simple:		WORD			{ $$ = sh_node_new(SHN_SIMPLE, @1); sh_simple_add_word($$, $1); }
	|	redirection		{ $$ = sh_node_new(SHN_SIMPLE, @1); sh_node_add_redir($$, $1); }
	|	simple WORD		{ $$ = $1; sh_simple_add_word($$, $2); }
	|	simple redirection	{ $$ = $1; sh_node_add_redir($$, $2); }
	;

redirection:	REDIR WORD		{ $$ = $1; $$->target = $2; }
	|	DUP
	|	HEREDOC
	;

compound:	brace_group
	|	LPAREN body RPAREN
		{
			need_list(scanner, &$2, &@1, "no command between '(' and ')'");
			$$ = sh_node_new(SHN_SUBSHELL, @1);
			$$->u.group = $2;
		}
	|	if_clause
	|	for_clause
	|	while_clause
	|	case_clause
	;

brace_group:	LBRACE body RBRACE
		{
			need_list(scanner, &$2, &@1, "no command between '{' and '}'");
			$$ = sh_node_new(SHN_GROUP, @1);
			$$->u.group = $2;
		}
	;

if_clause:	IF body THEN body else_part FI
		{
			need_list(scanner, &$2, &@3, "'if' has no condition before 'then'");
			need_list(scanner, &$4, &@3, "no command after 'then'");
			$$ = sh_node_new(SHN_IF, @1);
			$$->u.cond.cond = $2;
			$$->u.cond.body = $4;
			$$->u.cond.alt = $5;
		}
	;

else_part:	%empty			{ $$ = (struct sh_list){ 0 }; }
	|	ELSE body
		{
			need_list(scanner, &$2, &@1, "no command after 'else'");
			$$ = $2;
		}
	|	ELIF body THEN body else_part
		{
			struct sh_node *n;

			need_list(scanner, &$2, &@3, "'elif' has no condition before 'then'");
			need_list(scanner, &$4, &@3, "no command after 'then'");
			n = sh_node_new(SHN_IF, @1);

			n->u.cond.cond = $2;
			n->u.cond.body = $4;
			n->u.cond.alt = $5;
			$$ = (struct sh_list){ 0 };
			sh_list_add(&$$, n);
		}
	;

for_clause:	FOR WORD linebreak DO body DONE
		{
			need_list(scanner, &$5, &@4, "no command between 'do' and 'done'");
			$$ = sh_node_new(SHN_FOR, @1);
			$$->u.loop.var = $2;
			$$->u.loop.body = $5;
		}
	|	FOR WORD SEMI linebreak DO body DONE
		{
			need_list(scanner, &$6, &@5, "no command between 'do' and 'done'");
			$$ = sh_node_new(SHN_FOR, @1);
			$$->u.loop.var = $2;
			$$->u.loop.body = $6;
		}
	|	FOR WORD linebreak IN wordlist for_sep linebreak DO body DONE
		{
			need_list(scanner, &$9, &@8, "no command between 'do' and 'done'");
			$$ = sh_node_new(SHN_FOR, @1);
			$$->u.loop.var = $2;
			$$->u.loop.has_in = true;
			$$->u.loop.words = $5.v;
			$$->u.loop.nwords = $5.n;
			$$->u.loop.cap = $5.cap;
			$$->u.loop.body = $9;
		}
	;

for_sep:	SEMI | NEWLINE ;

wordlist:	%empty			{ $$.v = NULL; $$.n = $$.cap = 0; }
	|	wordlist WORD		{ $$ = $1; sh_words_add(&$$.v, &$$.n, &$$.cap, $2); }
	;

while_clause:	WHILE body DO body DONE
		{
			need_list(scanner, &$2, &@3, "'while' has no condition before 'do'");
			need_list(scanner, &$4, &@3, "no command between 'do' and 'done'");
			$$ = sh_node_new(SHN_WHILE, @1);
			$$->u.cond.cond = $2;
			$$->u.cond.body = $4;
		}
	|	UNTIL body DO body DONE
		{
			need_list(scanner, &$2, &@3, "'until' has no condition before 'do'");
			need_list(scanner, &$4, &@3, "no command between 'do' and 'done'");
			$$ = sh_node_new(SHN_UNTIL, @1);
			$$->u.cond.cond = $2;
			$$->u.cond.body = $4;
		}
	;

case_clause:	CASE WORD linebreak IN linebreak case_list ESAC
		{
			$$ = sh_node_new(SHN_CASE, @1);
			$$->u.kase.subject = $2;
			$$->u.kase.items = $6;
		}
	|	CASE WORD linebreak IN linebreak case_list case_item ESAC
		{
			$$ = sh_node_new(SHN_CASE, @1);
			$$->u.kase.subject = $2;
			$$->u.kase.items = case_append($6, $7);
		}
	;

case_list:	%empty			{ $$ = NULL; }
	|	case_list case_item DSEMI linebreak	{ $$ = case_append($1, $2); }
	;

case_item:	pattern RPAREN body
		{
			$$ = sh_case_item_new(@1);
			$$->pats = $1.v;
			$$->npats = $1.n;
			$$->body = $3;
		}
	|	LPAREN pattern RPAREN body
		{
			$$ = sh_case_item_new(@2);
			$$->pats = $2.v;
			$$->npats = $2.n;
			$$->body = $4;
		}
	;

pattern:	WORD			{ $$.v = NULL; $$.n = $$.cap = 0; sh_words_add(&$$.v, &$$.n, &$$.cap, $1); }
	|	pattern PIPE WORD	{ $$ = $1; sh_words_add(&$$.v, &$$.n, &$$.cap, $3); }
	;

funcdef:	WORD LPAREN RPAREN linebreak compound
		{
			$$ = sh_node_new(SHN_FUNCDEF, @1);
			$$->u.func = sh_func_new(sh_word_plain($1) ? sh_word_plain($1) : "",
						 $5, @1);
			sh_word_free($1);
		}
	|	FUNCTION WORD linebreak brace_group
		{
			$$ = sh_node_new(SHN_FUNCDEF, @2);
			$$->u.func = sh_func_new(sh_word_plain($2) ? sh_word_plain($2) : "",
						 $4, @2);
			sh_word_free($2);
		}
	|	FUNCTION WORD LPAREN RPAREN linebreak compound
		{
			$$ = sh_node_new(SHN_FUNCDEF, @2);
			$$->u.func = sh_func_new(sh_word_plain($2) ? sh_word_plain($2) : "",
						 $6, @2);
			sh_word_free($2);
		}
	;

%%

static struct sh_node *node_bin(enum sh_node_kind k, struct sh_node *a,
				struct sh_node *b, struct loc l)
{
	struct sh_node *n = sh_node_new(k, a ? a->loc : l);

	n->u.bin.left = a;
	n->u.bin.right = b;
	return n;
}

static struct sh_case_item *case_append(struct sh_case_item *l, struct sh_case_item *i)
{
	struct sh_case_item **pp = &l;

	while (*pp)
		pp = &(*pp)->next;
	*pp = i;
	return l;
}

/* sh refuses an empty command list where the grammar wants one (`if
 * then`, `do done`, `{ }`): a syntax error at the keyword. */
static void need_list(void *scanner, const struct sh_list *l, const struct loc *at,
		      const char *what)
{
	struct sh_parser *p = sh_get_extra(scanner);

	if (l->head)
		return;
	p->nerr++;
	p->line_bad = true;
	diag_add(p->a->dq, DIAG_ERROR, at, "sh refuses this; write ':' (the command that does "
		 "nothing) where nothing is meant", "syntax error: %s", what);
}

static bool deliver(struct sh_parser *p, struct sh_list *l)
{
	/* A quote left open swallowed the rest of the file: running what it
	 * swallowed would only add errors about a command the author never
	 * wrote. */
	if (p->truncated) {
		sh_list_free(l);
		return true;
	}
	/* like any syntax error, it takes its line with it */
	if (p->line_bad) {
		p->line_bad = false;
		sh_list_free(l);
		return true;
	}
	if (p->a->on_line) {
		bool go;

		/* the line goes with its pools; the next one gets a new pool */
		sh_pool_take(&l->pools);
		go = p->a->on_line(p->a->ctx, l);
		sh_pool_next();
		if (!go)
			p->stop = true;
		return !p->stop;
	}
	if (!l->head)
		return true;
	if (p->out->tail)
		p->out->tail->next = l->head;
	else
		p->out->head = l->head;
	p->out->tail = l->tail;
	return true;
}

static const char *closer_of(int tok)
{
	switch (tok) {
	case TOK_IF: return "fi";
	case TOK_CASE: return "esac";
	case TOK_LBRACE: return "}";
	default: return "done";
	}
}

static const char *opener_name(int tok)
{
	switch (tok) {
	case TOK_IF: return "if";
	case TOK_CASE: return "case";
	case TOK_LBRACE: return "{";
	case TOK_FOR: return "for";
	case TOK_WHILE: return "while";
	default: return "until";
	}
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner)
{
	struct sh_parser *p = sh_get_extra(scanner);
	yysymbol_kind_t tok = yypcontext_token(ctx);
	const struct loc *l = yypcontext_location(ctx);
	yysymbol_kind_t exp[4];
	int n = yypcontext_expected_tokens(ctx, exp, 4);
	bool closer = tok == YYSYMBOL_YYEOF || tok == YYSYMBOL_FI ||
		tok == YYSYMBOL_DONE || tok == YYSYMBOL_ESAC ||
		tok == YYSYMBOL_RBRACE || tok == YYSYMBOL_RPAREN;
	struct strbuf sb = { 0 };

	p->nerr++;
	if (closer && p->nopen) {
		const struct sh_open *o = &p->open[p->nopen - 1];

		if (tok == YYSYMBOL_YYEOF)
			diag_add(p->a->dq, DIAG_ERROR, l, NULL,
				 "'%s' expected to close '%s' at line %u, found the end of the file",
				 closer_of(o->tok), opener_name(o->tok), o->loc.line);
		else
			diag_add(p->a->dq, DIAG_ERROR, l, NULL,
				 "'%s' expected to close '%s' at line %u, found %s",
				 closer_of(o->tok), opener_name(o->tok), o->loc.line,
				 yysymbol_name(tok));
		/* one report per construct: error recovery may meet it again */
		p->nopen--;
		return 0;
	}
	sb_addf(&sb, "syntax error: unexpected %s", yysymbol_name(tok));
	if (n > 0) {
		int i;

		sb_add(&sb, ", expected ");
		for (i = 0; i < n; i++)
			sb_addf(&sb, "%s%s", i ? (i == n - 1 ? " or " : ", ") : "",
				yysymbol_name(exp[i]));
	}
	diag_add(p->a->dq, DIAG_ERROR, l, NULL, "%s", sb_str(&sb));
	sb_free(&sb);
	return 0;
}

static void sh_error(const struct loc *l, void *scanner, const char *msg)
{
	struct sh_parser *p = sh_get_extra(scanner);

	p->nerr++;
	diag_add(p->a->dq, DIAG_ERROR, l, NULL, "%s", msg);
}

int sh_parse_text(const struct sh_parse_args *a, struct sh_list *out)
{
	struct sh_parser p;
	int r;

	struct sh_pool_state saved;

	memset(&p, 0, sizeof(p));
	p.a = a;
	p.out = out;
	if (sh_scan_begin(&p))
		return -1;
	/* lines handed over one by one are each built in a pool; a tree
	 * kept whole ($(...), *out) is not (see shast.h) */
	saved = sh_pool_enter(a->on_line != NULL);
	r = sh_parse(p.scanner);
	sh_scan_end(&p);
	sh_pool_leave(saved);
	return (r || p.nerr) ? -1 : 0;
}
