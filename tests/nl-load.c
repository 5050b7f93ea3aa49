/* nl-load.c -- test driver for the netlink backend (not installed).
 *
 *   nl-load dump [RENDER]                  render masqc's tables as the kernel has them
 *   nl-load render [RENDER] [ARGS] SCRIPT  render the batch compiled from SCRIPT
 *   nl-load load [-c] [ARGS] SCRIPT        commit it (-c: check only, no commit)
 *   nl-load stats [ARGS] SCRIPT            batch size and message count
 *
 * RENDER: --loc (source lines), --inline (sets inside the rules).
 * ARGS also take --anon-sets / --shared-sets / --keyed-sets (nl_batch_build flags).
 * ARGS are masqc's -D NAME=VALUE and --arg WORD.  The pipeline is masqc's
 * own, compile_scripts() of src/compile.c; diagnostics go to stderr.  Exit 0 ok, 1 errors (input or kernel), 2 trouble.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "compile.h"
#include "backends/netlink.h"

struct tool_opts {
	bool check;
	unsigned build, render;
	VEC(const char *) defines;
	VEC(const char *) args;
	const char *script;
};

/* The pipeline of masqc itself (compile.c), for one script. */
static int tool_compile(const struct tool_opts *o, struct compiled *c)
{
	const char *scripts[1] = { o->script };
	struct compile_opts co = {
		.defines = o->defines.v, .ndefines = (unsigned)o->defines.n,
		.args = o->args.v, .nargs = (unsigned)o->args.n,
		.scripts = scripts, .nscripts = 1,
	};

	if (compile_scripts(&co, c) < 0)
		return -1;
	return diag_has_errors(&c->dq) ? -1 : 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_args(int argc, char **argv, struct tool_opts *o)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--loc"))
			o->render |= NL_RENDER_LOCATIONS;
		else if (!strcmp(argv[i], "--inline"))
			o->render |= NL_RENDER_INLINE_SETS;
		else if (!strcmp(argv[i], "--anon-sets"))
			o->build |= NL_BUILD_ANON_SETS;
		else if (!strcmp(argv[i], "--shared-sets"))
			o->build |= NL_BUILD_SHARED_SETS;
		else if (!strcmp(argv[i], "--keyed-sets"))
			o->build |= NL_BUILD_KEYED_SETS;
		else if (!strcmp(argv[i], "-c"))
			o->check = true;
		else if (!strcmp(argv[i], "-D") && i + 1 < argc)
			vec_push(&o->defines, argv[++i]);
		else if ((!strcmp(argv[i], "--arg") || !strcmp(argv[i], "-a")) && i + 1 < argc)
			vec_push(&o->args, argv[++i]);
		else if (argv[i][0] == '-' && argv[i][1])
			return -1;
		else
			o->script = argv[i];
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tool_opts o = { 0 };
	struct compiled c = { 0 };
	struct nl_batch *b = NULL;
	const char *cmd = argc > 1 ? argv[1] : "";
	int rc = 0;
	char *text;

	if (parse_args(argc, argv, &o) < 0 || !*cmd) {
		fputs("usage: nl-load dump|render|load|stats [--loc] [--inline] [--anon-sets|--shared-sets|--keyed-sets] [-c] [-D N=V] [--arg W] [SCRIPT]\n",
		      stderr);
		return 2;
	}
	if (!strcmp(cmd, "dump")) {
		struct nl_ruleset *k;
		int err = nl_ruleset_read(&k);

		if (err < 0) {
			fprintf(stderr, "nl-load: reading the ruleset: %s\n", strerror(-err));
			return 2;
		}
		text = nl_render(k, o.render);
		fputs(text, stdout);
		free(text);
		nl_ruleset_free(k);
		return 0;
	}
	if (!o.script) {
		fputs("nl-load: no script\n", stderr);
		return 2;
	}
	if (tool_compile(&o, &c) == 0) {
		double t0 = now(), t1;

		b = nl_batch_build(c.rs, o.build, &c.dq);
		t1 = now();
		if (!b) {
			rc = 1;
		} else if (!strcmp(cmd, "render")) {
			text = nl_render(nl_batch_ruleset(b), o.render);
			fputs(text, stdout);
			free(text);
		} else if (!strcmp(cmd, "load")) {
			double t2, t3;

			t2 = now();
			rc = nl_batch_commit(b, o.check, &c.dq) < 0 ? 1 : 0;
			t3 = now();
			if (getenv("NL_LOAD_TIMES"))
				fprintf(stderr, "build %.3f s, commit %.3f s, %zu messages, %zu bytes\n",
					t1 - t0, t3 - t2, nl_batch_messages(b), nl_batch_bytes(b));
		} else if (!strcmp(cmd, "stats")) {
			printf("%zu messages, %zu bytes, built in %.3f s\n", nl_batch_messages(b),
			       nl_batch_bytes(b), t1 - t0);
		} else {
			fprintf(stderr, "nl-load: unknown command '%s'\n", cmd);
			rc = 2;
		}
	} else {
		rc = 1;
	}
	diag_print(&c.dq, stderr, false);
	nl_batch_free(b);
	compiled_free(&c);
	vec_free(&o.defines);
	vec_free(&o.args);
	return rc;
}
