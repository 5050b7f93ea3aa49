/* cli.h -- the parsed command line, shared by the subcommands.
 *
 * main.c parses; compile/check/explain run in main.c, diff in diff.c,
 * apply/confirm/rollback/load and check --kernel in apply.c.
 */
#ifndef MASQC_CLI_H
#define MASQC_CLI_H

#include <stdbool.h>
#include "util.h"
#include "compile.h"

/* Exit codes (documented in masqc(8), EXIT STATUS). */
enum exit_code {
	EXIT_OK = 0,
	EXIT_INPUT = 1,		/* errors in the input, or the kernel refused the
				 * ruleset (nothing changed); diff: differences */
	EXIT_TROUBLE = 2,	/* usage, I/O, system trouble */
	EXIT_NOTHING = 3,	/* confirm: nothing pending; rollback: no generation */
	EXIT_BUSY = 4,		/* another masqc holds the lock, or a confirmation is pending */
};

enum target { TARGET_NFT, TARGET_IPTABLES, TARGET_IP6TABLES, TARGET_RENDER };

struct cli {
	const char *cmd;
	enum target target;
	struct compile_opts co;		/* defines/args/scripts point into the vectors below */
	VEC(const char *) defines;
	VEC(const char *) args;
	const char *output;
	const char *sysctl_out;
	bool locations;
	bool kernel;			/* check --kernel */
	long confirm;			/* apply --confirm SECONDS; -1: none */
	const char *against;		/* diff --against FILE */
	VEC(const char *) old;		/* diff --old FILE / OLD... -- NEW... */
	bool json;			/* diff --json */
	bool list;			/* rollback --list */
	bool force;			/* rollback --force */
	unsigned steps;			/* rollback N */
	char **scripts;
	unsigned nscripts;
};

/* The canonical rendering of a compiled ruleset for a backend (nl_render,
 * or iptc_set_render for iptables-legacy) plus its sysctl lines (diff,
 * apply, compile -t render).  NULL with errors queued. */
char *render_compiled(const struct ir_ruleset *rs, enum kernel_backend kb, struct diag_queue *dq);

/* The backend of the generation in the kernel (nft when none). */
enum kernel_backend current_backend(void);
/* What masqc owns in the iptables-legacy tables (iptc.h), NULL: nothing. */
char *iptc_owned_read(void);

int cmd_diff(struct cli *o);
int cmd_apply(struct cli *o);
int cmd_check_kernel(struct cli *o);
int cmd_confirm(struct cli *o);
int cmd_rollback(struct cli *o);
int cmd_load(struct cli *o);
int cmd_watch(int argc, char **argv);

#endif
