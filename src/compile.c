/* compile.c -- the compile pipeline (see compile.h).
 *
 * Moved out of main.c so every subcommand runs the same stages in the same
 * order.  The one addition is the preloaded source set: a file already in
 * c->ss is used instead of the disk copy, for top-level scripts here and
 * for `.`/`source` in the shell evaluator (which looks in the set first).
 * A generation stores every file of its source set, so `masqc rollback`
 * and the confirm watcher rebuild the exact ruleset even when the scripts
 * were edited or removed since.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "compile.h"
#include "util.h"
#include "parser/cmd.h"
#include "parser/shell.h"
#include "parser/dialect.h"
#include "parser/legacy-parse.h"

static struct src_file *source_get(struct source_set *ss, const char *path)
{
	for (struct src_file *f = ss->head; f; f = f->next)
		if (!f->included_from && !strcmp(f->path, path))
			return f;
	for (struct src_file *f = ss->head; f; f = f->next)
		if (!strcmp(f->path, path))
			return f;
	return source_load(ss, path, NULL);
}

int compile_scripts(const struct compile_opts *o, struct compiled *c)
{
	struct parse_ctx pc = { .dq = &c->dq, .ss = &c->ss, .strict = o->strict };
	struct shell_opts so = {
		.defines = o->defines, .ndefines = o->ndefines,
		.args = o->args, .nargs = o->nargs, .serial_parse = o->serial_parse,
	};

	c->rs = ir_ruleset_new();
	c->dq.werror = o->strict;
	pc.rs = c->rs;
	for (unsigned i = 0; i < o->nscripts; i++) {
		struct src_file *f = source_get(&c->ss, o->scripts[i]);
		enum compile_dialect d = o->dialect;

		if (!f) {
			fprintf(stderr, "masqc: cannot read %s: %s\n", o->scripts[i], strerror(errno));
			lg_state_free(pc.legacy);
			return -1;
		}
		/* an ipchains-save dump (":input ACCEPT", "-A input ...") */
		if (d == DIALECT_AUTO && ipchains_save_detect(f)) {
			ipchains_save_parse(&pc, f);
			continue;
		}
		if (d == DIALECT_AUTO)
			d = iptsave_detect(f) ? DIALECT_SAVE : DIALECT_SHELL;
		if (d == DIALECT_SAVE) {
			iptsave_parse(&pc, f, o->ipv6_save ? IR_FAM_IPV6 : IR_FAM_IPV4);
		} else {
			struct cmd_stream cs;
			struct dispatcher *dp = dispatcher_new(&pc);

			/* commands go to the dialect parsers as they are made */
			cmd_stream_init(&cs);
			cs.sink = dispatcher_sink;
			cs.sink_ctx = dp;
			shell_eval(&c->ss, f, &so, &c->dq, &cs);
			dispatcher_free(dp);
			cmd_stream_free(&cs);
		}
	}
	/* ipfwadm/ipchains edits were replayed on a model of the old chains;
	 * lowered only now, with the whole picture (docs/legacy.md) */
	for (unsigned k = 0; k < o->ndefines; k++)
		lg_define(&pc, o->defines[k]);
	lg_lower(&pc, o->legacy_gen);
	lg_state_free(pc.legacy);
	ir_resolve(c->rs, &c->dq);
	return 0;
}

/* Freeing a 100k-rule IR node by node costs a tenth of the whole run, and
 * the kernel takes the memory back at exit anyway.  Sanitizer builds (and
 * MASQC_FREE_AT_EXIT=1, for valgrind) free everything, so leaks in the
 * code paths stay visible; otherwise the structures are parked, still
 * reachable, and left to exit(). */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT_DEFAULT true
#else
#define FREE_AT_EXIT_DEFAULT false
#endif

static VEC(struct compiled) parked;

bool compile_free_at_exit(void)
{
	const char *e = getenv("MASQC_FREE_AT_EXIT");

	return e ? *e == '1' : FREE_AT_EXIT_DEFAULT;
}

void compiled_free(struct compiled *c)
{
	diag_queue_free(&c->dq);
	if (compile_free_at_exit()) {
		ir_ruleset_free(c->rs);
		source_set_free(&c->ss);
	} else {
		vec_push(&parked, *c);
	}
	memset(c, 0, sizeof(*c));
}

void compile_sysctl_lines(const struct ir_ruleset *rs, bool locations, FILE *out)
{
	/* the last assignment of a key is the one that stays (as in the
	 * script); listed where the key was first set */
	for (const struct ir_sysctl *s = rs->sysctls; s; s = s->next) {
		const struct ir_sysctl *last = s, *t;
		bool seen = false;

		for (t = rs->sysctls; t != s; t = t->next)
			if (!strcmp(t->key, s->key))
				seen = true;
		if (seen)
			continue;
		for (t = s->next; t; t = t->next)
			if (!strcmp(t->key, s->key))
				last = t;
		fprintf(out, "sysctl %s = %s", last->key, last->value);
		if (locations && last->loc.file)
			fprintf(out, "  # %s:%u", last->loc.file->path, last->loc.line);
		fputc('\n', out);
	}
}

bool compile_color(void)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(STDERR_FILENO) && !(nc && *nc);
}

void phase_mark(const char *what)
{
	static double last;
	static int on = -1;
	struct timespec ts;
	double now;

	if (on < 0) {
		const char *e = getenv("MASQC_TIMES");

		on = e && *e == '1';
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (on && what) {
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr, "masqc: time: %-24s %.3f s  (peak %ld MB)\n", what, now - last,
			ru.ru_maxrss / 1024);
	}
	last = now;
}

const char *kernel_backend_name(enum kernel_backend b)
{
	switch (b) {
	case KB_DEFAULT:
	case KB_NFT:
		return "nft";
	case KB_IPTABLES_LEGACY:
		return "iptables-legacy";
	}
	return "nft";
}

int kernel_backend_parse(const char *s, enum kernel_backend *b)
{
	if (!strcmp(s, "nft") || !strcmp(s, "nftables"))
		*b = KB_NFT;
	else if (!strcmp(s, "iptables-legacy") || !strcmp(s, "iptables") || !strcmp(s, "legacy"))
		*b = KB_IPTABLES_LEGACY;
	else
		return -1;
	return 0;
}
