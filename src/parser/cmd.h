/* cmd.h -- the command stream: what the shell front end hands the dialect
 * parsers.  Nothing in a script is ever executed; the evaluator expands
 * words symbolically and emits one struct command per simple command it
 * would have run, in execution order (loops unrolled, functions inlined,
 * sourced files followed).
 */
#ifndef MASQC_CMD_H
#define MASQC_CMD_H

#include <stdbool.h>
#include "../loc.h"

enum word_kind {
	WORD_LITERAL,	/* text is the exact expanded value */
	WORD_IFADDR,	/* "the IPv4 address of interface <sym>" (ifconfig|awk idiom);
			 * text holds any literal suffix that followed it, e.g. "/32" */
	WORD_UNKNOWN,	/* value only known at run time; sym names what it came from,
			 * e.g. "EXTIP" (the variable to give with -D); text = ""  */
};

struct word {
	enum word_kind kind;
	char *text;		/* never NULL */
	char *sym;		/* WORD_IFADDR: interface name; WORD_UNKNOWN: variable or
				 * description; NULL for literals */
	char *var;		/* the variable whose expansion produced this word (for
				 * "give -D VAR=..." hints), or NULL */
	struct loc loc;		/* where the word (or the expansion producing it) stands */
};

enum redir_kind {
	REDIR_NONE,
	REDIR_OUT,	/* > file  */
	REDIR_APPEND,	/* >> file */
	REDIR_IN,	/* < file  */
};

struct command {
	struct word *argv;	/* argv[0] is the command name as expanded */
	unsigned argc;
	struct loc loc;		/* the whole command (first word .. last word) */
	enum redir_kind redir;	/* the last stdout/stdin redirection, if any */
	struct word redir_target; /* valid when redir != REDIR_NONE */
	char *heredoc;		/* body of a << here-document, or NULL */
	bool in_pipeline;	/* part of a pipeline (its output is consumed) */
	struct command *next;
};

struct cmd_stream {
	struct command *head;
	struct command **tail;	/* init: &head */
	/* Optional: when set, each command is handed to sink as soon as it is
	 * made and freed right after, instead of being queued, so memory stays
	 * flat however long the script (100k-rule scripts). */
	void (*sink)(void *ctx, const struct command *c);
	void *sink_ctx;
};

void cmd_stream_init(struct cmd_stream *s);
void cmd_stream_free(struct cmd_stream *s);
void word_free(struct word *w);
void command_free(struct command *c);

#endif
