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
};

/* Evaluates f symbolically, appending every simple command it would run to
 * out.  Sourced files are loaded into ss.  Returns 0, or -1 if an error was
 * queued in dq (evaluation continues past errors where it safely can). */
int shell_eval(struct source_set *ss, struct src_file *f, const struct shell_opts *o,
	       struct diag_queue *dq, struct cmd_stream *out);

#endif
