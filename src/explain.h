/* explain.h -- masqc explain: each source line beside what it became. */
#ifndef MASQC_EXPLAIN_H
#define MASQC_EXPLAIN_H

#include <stdio.h>
#include "ir.h"
#include "diag.h"
#include "backends/backend.h"

/* Emits rs as nft text (through o, whose on_rule is taken over), then
 * prints every source line of every loaded file that produced a rule or a
 * diagnostic, followed by the rules it became and its diagnostics.
 * Returns nft_emit's result. */
int explain_emit(const struct ir_ruleset *rs, const struct source_set *ss,
		 struct diag_queue *dq, struct emit_opts *o, FILE *out);

#endif
