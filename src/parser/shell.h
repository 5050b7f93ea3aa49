/* shell.h -- the symbolic shell evaluator (see docs/shell.md). */
#ifndef MASQC_SHELL_H
#define MASQC_SHELL_H

#include "cmd.h"
#include "../diag.h"

struct shell_opts {
	const char *const *defines;	/* "NAME=VALUE" from -D, override script assignments */
	unsigned ndefines;
	const char *const *args;	/* positional parameters $1..; NULL/0 -> { "start" } */
	unsigned nargs;
	unsigned loop_bound;		/* max iterations of one while/until loop; 0 -> 10000 */
	bool serial_parse;		/* no parse thread, whatever the size */
	/* Optional: called before the evaluator reads or adds to the source
	 * set (`.`/source), which the sink may add to from another thread
	 * (compile.c's dispatch thread: it waits until that one is idle). */
	void (*sync)(void *ctx);
	void *sync_ctx;
};

/* Whether shell_eval will parse f a line ahead in a thread of its own
 * (big files; MASQC_TEST_PARSE_THREAD=1/0 forces it on/off): the caller
 * then dispatches the commands in a thread too (compile.c). */
bool shell_pipelined(const struct src_file *f, const struct shell_opts *o);

/* Evaluates f symbolically, appending every simple command it would run to
 * out.  Sourced files are loaded into ss.  Returns 0, or -1 if an error was
 * queued in dq (evaluation continues past errors where it safely can). */
int shell_eval(struct source_set *ss, struct src_file *f, const struct shell_opts *o,
	       struct diag_queue *dq, struct cmd_stream *out);

#endif
