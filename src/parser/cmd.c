/* cmd.c -- the command stream (cmd.h). */
#include <stdlib.h>
#include "cmd.h"

void cmd_stream_init(struct cmd_stream *s)
{
	s->head = NULL;
	s->tail = &s->head;
	s->sink = NULL;
	s->sink_ctx = NULL;
}

void word_free(struct word *w)
{
	if (!w)
		return;
	free(w->text);
	free(w->sym);
	free(w->var);
	w->text = w->sym = w->var = NULL;
}

void command_free(struct command *c)
{
	unsigned i;

	if (!c)
		return;
	for (i = 0; i < c->argc; i++)
		word_free(&c->argv[i]);
	free(c->argv);
	if (c->redir != REDIR_NONE)
		word_free(&c->redir_target);
	free(c->heredoc);
	free(c);
}

void cmd_stream_free(struct cmd_stream *s)
{
	struct command *c, *next;

	for (c = s->head; c; c = next) {
		next = c->next;
		command_free(c);
	}
	s->head = NULL;
	s->tail = &s->head;
}
