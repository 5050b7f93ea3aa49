/* backend.h -- emitters from the IR. */
#ifndef MASQC_BACKEND_H
#define MASQC_BACKEND_H

#include <stdio.h>
#include <stdbool.h>
#include "../ir.h"
#include "../diag.h"

struct emit_opts {
	bool locations;		/* "# file:line" comment before each rule (default on) */
	const char *const *inputs;	/* script paths, for the header comment */
	unsigned ninputs;
	/* Optional: called by nft_emit for every rule it prints, with the
	 * rule's source location, the nft chain it is in and its one-line
	 * text (masqc explain). */
	void (*on_rule)(void *ctx, const struct loc *loc, const char *chain, const char *text);
	void *on_rule_ctx;
};

/* nft -f text: only masqc's own tables ("table ip masqc", "table ip6 masqc"),
 * replaced atomically with the `table x; delete table x; table x { }` idiom.
 * Returns 0, or -1 if something could not be expressed (errors queued at the
 * IR node's location; nothing useful was written). */
int nft_emit(const struct ir_ruleset *rs, FILE *out, const struct emit_opts *o,
	     struct diag_queue *dq);

/* iptables-restore text (IPv4 tables; ip6tables-restore text via fam). */
int ipt_emit(const struct ir_ruleset *rs, enum ir_family fam, FILE *out,
	     const struct emit_opts *o, struct diag_queue *dq);

/* sysctl.d fragment for the sysctls the script set. */
void sysctl_emit(const struct ir_ruleset *rs, FILE *out);

#endif
