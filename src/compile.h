/* compile.h -- the compile pipeline, shared by every subcommand.
 *
 * load -> evaluate (shell) or read (iptables-save, ipchains-save) ->
 * dispatch -> legacy lowering -> resolve.  compile, check, explain, diff,
 * apply, load and rollback all run exactly this, so what `masqc compile`
 * prints is what `masqc apply` installs.
 */
#ifndef MASQC_COMPILE_H
#define MASQC_COMPILE_H

#include <stdbool.h>
#include <stdio.h>
#include "ir.h"
#include "loc.h"
#include "diag.h"
#include "legacy.h"

enum compile_dialect { DIALECT_AUTO, DIALECT_SHELL, DIALECT_SAVE };

/* Where apply, load, check --kernel and diff put or find the ruleset.
 * Not part of what the scripts compile to, but recorded with them in a
 * generation, so rollback and a confirm timeout restore through the same
 * backend.  KB_DEFAULT: nft, except that diff against the running kernel
 * uses the backend of the generation in the kernel. */
enum kernel_backend { KB_DEFAULT, KB_NFT, KB_IPTABLES_LEGACY };
const char *kernel_backend_name(enum kernel_backend b);	/* "nft", "iptables-legacy" */
int kernel_backend_parse(const char *s, enum kernel_backend *b);

/* Everything that decides what a set of scripts compiles to.  A
 * generation records exactly these (state.c), so it can be rebuilt. */
struct compile_opts {
	enum compile_dialect dialect;
	bool ipv6_save;			/* -6: iptables-save input is ip6tables-save */
	bool strict;
	enum lg_generation legacy_gen;
	const char *const *defines;	/* "NAME=VALUE" */
	unsigned ndefines;
	const char *const *args;	/* positional parameters */
	unsigned nargs;
	const char *const *scripts;
	unsigned nscripts;
	enum kernel_backend backend;	/* --backend, masqc.conf "backend" */
	/* not what it compiles to, how: a big script's parse in a thread of
	 * its own is off (diff, whose other core reads the kernel meanwhile) */
	bool serial_parse;
};

struct compiled {
	struct source_set ss;	/* may be preloaded (a generation's snapshot) */
	struct diag_queue dq;
	struct ir_ruleset *rs;
};

/* Compiles o->scripts into c->rs (allocated here).  A script or sourced
 * file already in c->ss (same path) is taken from there instead of the
 * disk: that is how a generation is rebuilt without the original files.
 * Returns 0 (diagnostics may be queued; check diag_has_errors), or -1 on
 * I/O trouble (message printed on stderr). */
int compile_scripts(const struct compile_opts *o, struct compiled *c);

/* Frees c, unless the process is about to exit anyway (see main.c's
 * note on freeing at exit); sanitizer builds always free. */
void compiled_free(struct compiled *c);
bool compile_free_at_exit(void);

/* The sysctls of rs as the diff/generation lines "sysctl KEY = VALUE",
 * last assignment of each key, keys in first-assignment order, with
 * "  # file:line" when locations is set. */
void compile_sysctl_lines(const struct ir_ruleset *rs, bool locations, FILE *out);

/* MASQC_TIMES=1: "masqc: time: WHAT S" on stderr, the seconds since the
 * previous mark (benchmarks: where an apply or a diff spends its time). */
void phase_mark(const char *what);

/* Whether stderr wants colours (a terminal and no NO_COLOR). */
bool compile_color(void);

#endif
