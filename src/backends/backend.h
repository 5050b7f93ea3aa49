/* backend.h -- emitters from the IR. */
#ifndef MASQC_BACKEND_H
#define MASQC_BACKEND_H

#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include "../ir.h"
#include "../diag.h"
#include "../util.h"

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

/* The iptables rules of one family as ipt.c decides them: per table its
 * chain declarations (policy NULL: a user chain) and its lines.  A line is
 * a rule of `chain` (NULL: a comment, text only) as the text that follows
 * "-A chain" in iptables-save output, and as that text's words with the
 * quotes removed (the argv iptables' extension parsers take).  loc: the
 * first line of an IR rule carries a copy of the rule's location, owned by
 * the doc (which may outlive the IR).  Both ipt_emit()
 * and the libiptc backend (iptc.h) consume it. */
struct ipt_doc_chain {
	char *name;
	const char *policy;
};

struct ipt_doc_line {
	char *chain;
	char *text;
	char **argv;
	unsigned argc;
	const struct loc *loc;
};

struct ipt_doc_table {
	char *name;
	VEC(struct ipt_doc_chain) chains;
	VEC(struct ipt_doc_line) lines;
};

struct ipt_doc {
	enum ir_family fam;
	VEC(struct ipt_doc_table) tables;
};

/* Returns 0, or -1 with errors queued (doc left empty). */
int ipt_build(const struct ir_ruleset *rs, enum ir_family fam, struct diag_queue *dq,
	      struct ipt_doc *doc);
/* iptables-restore text of a doc ("# file:line" before each rule with o->locations). */
void ipt_doc_write(const struct ipt_doc *d, FILE *out, const struct emit_opts *o);
void ipt_doc_free(struct ipt_doc *d);

/* The name iptables-save prints for a protocol number (NULL: print the
 * number), and the built-in chains of an iptables table in hook order
 * (NULL-terminated; NULL for a table ipt.c does not write). */
const char *ipt_proto_name(uint8_t p);
const char *const *ipt_table_builtins(const char *table);

/* iptables-restore text (IPv4 tables; ip6tables-restore text via fam). */
int ipt_emit(const struct ir_ruleset *rs, enum ir_family fam, FILE *out,
	     const struct emit_opts *o, struct diag_queue *dq);

/* sysctl.d fragment for the sysctls the script set. */
void sysctl_emit(const struct ir_ruleset *rs, FILE *out);

#endif
