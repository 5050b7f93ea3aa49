/* main.c -- the masqc driver.
 *
 * Runs the stages in one direction -- load, evaluate (shell) or read
 * (iptables-save), dispatch to the dialect parsers, resolve, emit -- then
 * prints the queued diagnostics once and frees everything.  Output is built
 * in memory and written only when no error was found, so a failed compile
 * never leaves half a ruleset on stdout or in the -o file.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "loc.h"
#include "diag.h"
#include "ir.h"
#include "parser/cmd.h"
#include "parser/shell.h"
#include "parser/dialect.h"
#include "parser/legacy-parse.h"
#include "backends/backend.h"
#include "explain.h"
#include "legacy.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_INPUT = 1,		/* errors in the input */
	EXIT_TROUBLE = 2,	/* usage, I/O */
};

enum target { TARGET_NFT, TARGET_IPTABLES, TARGET_IP6TABLES };
enum dialect { DIALECT_AUTO, DIALECT_SHELL, DIALECT_SAVE };

struct options {
	const char *cmd;
	enum target target;
	enum dialect dialect;
	bool ipv6_save;
	const char *output;
	const char *sysctl_out;
	bool strict;
	bool locations;
	enum lg_generation legacy_gen;	/* --legacy-generation */
	VEC(const char *) defines;
	VEC(const char *) args;
	char **scripts;
	unsigned nscripts;
};

static void usage(FILE *out)
{
	fputs("usage: masqc compile [options] SCRIPT...   compile to nftables (or iptables) rules\n"
	      "       masqc check   [options] SCRIPT...   diagnostics only; exit 0 clean, 1 errors\n"
	      "       masqc explain [options] SCRIPT...   each source line beside what it became\n"
	      "       masqc --help | --version\n"
	      "\n"
	      "options:\n"
	      "  -t, --target nft|iptables|ip6tables  output format (default nft)\n"
	      "  -o, --output FILE          write the ruleset to FILE (only if there were no errors)\n"
	      "  -D NAME=VALUE              give a value the script computes at run time\n"
	      "  -a, --arg WORD             positional parameter for the script ($1, $2, ...);\n"
	      "                             default: one argument, \"start\"\n"
	      "      --dialect auto|shell|iptables-save   input kind (default auto)\n"
	      "  -6, --ipv6                 iptables-save input is an ip6tables-save dump\n"
	      "      --sysctl-out FILE      write the script's sysctls as a sysctl.d fragment\n"
	      "      --strict               warnings are errors; unknown commands are errors\n"
	      "      --no-locations         no '# file:line' comment before each rule\n"
	      "      --legacy-generation 2.0|2.2|2.4|auto  kernel whose ipfwadm/ipchains\n"
	      "                             behaviour to reproduce (default auto: 2.0 for\n"
	      "                             ipfwadm, 2.2 for ipchains)\n"
	      "\n"
	      "exit status: 0 ok, 1 errors in the input, 2 usage or I/O trouble\n"
	      "see masqc(8)\n", out);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "define", required_argument, NULL, 'D' },
		{ "arg", required_argument, NULL, 'a' },
		{ "dialect", required_argument, NULL, 'L' },
		{ "ipv6", no_argument, NULL, '6' },
		{ "sysctl-out", required_argument, NULL, 'S' },
		{ "strict", no_argument, NULL, 's' },
		{ "no-locations", no_argument, NULL, 'n' },
		{ "legacy-generation", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:D:a:6h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "nft") || !strcmp(optarg, "nftables"))
				o->target = TARGET_NFT;
			else if (!strcmp(optarg, "iptables"))
				o->target = TARGET_IPTABLES;
			else if (!strcmp(optarg, "ip6tables"))
				o->target = TARGET_IP6TABLES;
			else {
				fprintf(stderr, "masqc: unknown target '%s' (nft, iptables or ip6tables)\n", optarg);
				return -1;
			}
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'D':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr, "masqc: -D wants NAME=VALUE, not '%s'\n", optarg);
				return -1;
			}
			vec_push(&o->defines, optarg);
			break;
		case 'a':
			vec_push(&o->args, optarg);
			break;
		case 'L':
			if (!strcmp(optarg, "auto"))
				o->dialect = DIALECT_AUTO;
			else if (!strcmp(optarg, "shell"))
				o->dialect = DIALECT_SHELL;
			else if (!strcmp(optarg, "iptables-save") || !strcmp(optarg, "save"))
				o->dialect = DIALECT_SAVE;
			else {
				fprintf(stderr, "masqc: unknown dialect '%s' (auto, shell or iptables-save)\n", optarg);
				return -1;
			}
			break;
		case '6':
			o->ipv6_save = true;
			break;
		case 'S':
			o->sysctl_out = optarg;
			break;
		case 's':
			o->strict = true;
			break;
		case 'n':
			o->locations = false;
			break;
		case 'G':
			if (!strcmp(optarg, "2.0"))
				o->legacy_gen = LG_GEN_20;
			else if (!strcmp(optarg, "2.2"))
				o->legacy_gen = LG_GEN_22;
			else if (!strcmp(optarg, "2.4"))
				o->legacy_gen = LG_GEN_24;
			else if (!strcmp(optarg, "auto"))
				o->legacy_gen = LG_GEN_AUTO;
			else {
				fprintf(stderr, "masqc: unknown legacy generation '%s' (2.0, 2.2, 2.4 or auto)\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_OK);
		default:
			return -1;
		}
	}
	o->scripts = argv + optind;
	o->nscripts = (unsigned)(argc - optind);
	if (o->nscripts == 0) {
		fprintf(stderr, "masqc: %s: no script given\n", o->cmd);
		return -1;
	}
	return 0;
}

/* Reads every script into the ruleset. Returns -1 on I/O trouble. */
static int load_scripts(const struct options *o, struct source_set *ss,
			struct diag_queue *dq, struct ir_ruleset *rs)
{
	struct parse_ctx pc = { .rs = rs, .dq = dq, .ss = ss, .strict = o->strict };
	struct shell_opts so = {
		.defines = o->defines.v, .ndefines = (unsigned)o->defines.n,
		.args = o->args.v, .nargs = (unsigned)o->args.n,
	};
	unsigned i;

	for (i = 0; i < o->nscripts; i++) {
		struct src_file *f = source_load(ss, o->scripts[i], NULL);
		enum dialect d = o->dialect;

		if (!f) {
			fprintf(stderr, "masqc: cannot read %s: %s\n", o->scripts[i], strerror(errno));
			lg_state_free(pc.legacy);
			return -1;
		}
		/* --- legacy parsers: an ipchains-save dump (":input ACCEPT", "-A input ...") --- */
		if (d == DIALECT_AUTO && ipchains_save_detect(f)) {
			ipchains_save_parse(&pc, f);
			continue;
		}
		/* --- end legacy parsers --- */
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
			shell_eval(ss, f, &so, dq, &cs);
			dispatcher_free(dp);
			cmd_stream_free(&cs);
		}
	}
	/* ipfwadm/ipchains edits were replayed on a model of the old chains;
	 * lowered only now, with the whole picture (docs/legacy.md) */
	for (size_t k = 0; k < o->defines.n; k++)
		lg_define(&pc, o->defines.v[k]);
	lg_lower(&pc, o->legacy_gen);
	lg_state_free(pc.legacy);
	return 0;
}

static int emit(const struct options *o, const struct ir_ruleset *rs,
		struct diag_queue *dq, FILE *out)
{
	struct emit_opts eo = {
		.locations = o->locations,
		.inputs = (const char *const *)o->scripts,
		.ninputs = o->nscripts,
	};

	switch (o->target) {
	case TARGET_NFT:
		return nft_emit(rs, out, &eo, dq);
	case TARGET_IPTABLES:
		return ipt_emit(rs, IR_FAM_IPV4, out, &eo, dq);
	case TARGET_IP6TABLES:
		return ipt_emit(rs, IR_FAM_IPV6, out, &eo, dq);
	}
	return -1;
}

/* explain shows the diagnostics inline, next to their lines; with errors
 * there is no ruleset to show, only what went wrong where. */
static int run_explain(const struct options *o, struct ir_ruleset *rs,
		       const struct source_set *ss, struct diag_queue *dq)
{
	struct emit_opts eo = {
		.locations = false,
		.inputs = (const char *const *)o->scripts,
		.ninputs = o->nscripts,
	};
	bool errors = diag_has_errors(dq);
	struct ir_ruleset *empty = errors ? ir_ruleset_new() : NULL;

	explain_emit(errors ? empty : rs, ss, dq, &eo, stdout);
	if (empty)
		ir_ruleset_free(empty);
	if (fflush(stdout) != 0)
		return EXIT_TROUBLE;
	return diag_has_errors(dq) ? EXIT_INPUT : EXIT_OK;
}

static int write_out(const char *path, const char *buf, size_t len)
{
	FILE *f = path ? fopen(path, "w") : stdout;

	if (!f) {
		fprintf(stderr, "masqc: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
		fprintf(stderr, "masqc: write error on %s: %s\n", path ? path : "stdout", strerror(errno));
		if (path)
			fclose(f);
		return -1;
	}
	if (path && fclose(f) != 0) {
		fprintf(stderr, "masqc: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Freeing a 100k-rule IR node by node costs a tenth of the whole run, and
 * the kernel takes the memory back at exit anyway.  Sanitizer builds (and
 * MASQC_FREE_AT_EXIT=1, for valgrind) free everything, so leaks in the
 * code paths stay visible; otherwise the structures are parked here, still
 * reachable, and left to exit(). */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT_DEFAULT true
#else
#define FREE_AT_EXIT_DEFAULT false
#endif

static struct {
	struct ir_ruleset *rs;
	struct source_set ss;
} parked;

static bool free_at_exit(void)
{
	const char *e = getenv("MASQC_FREE_AT_EXIT");

	return e ? *e == '1' : FREE_AT_EXIT_DEFAULT;
}

static int run(struct options *o)
{
	struct source_set ss = { 0 };
	struct diag_queue dq = { 0 };
	struct ir_ruleset *rs = ir_ruleset_new();
	bool compile = !strcmp(o->cmd, "compile");
	char *buf = NULL, *sbuf = NULL;
	size_t len = 0, slen = 0;
	int rc = EXIT_OK;
	FILE *mem;
	const char *nc = getenv("NO_COLOR");
	bool color = isatty(STDERR_FILENO) && !(nc && *nc);

	dq.werror = o->strict;
	if (load_scripts(o, &ss, &dq, rs) < 0) {
		rc = EXIT_TROUBLE;
		goto out;
	}
	ir_resolve(rs, &dq);
	if (!strcmp(o->cmd, "explain")) {
		rc = run_explain(o, rs, &ss, &dq);
		goto out_quiet;
	}
	/* check runs the backend too: what it cannot express is an error */
	mem = open_memstream(&buf, &len);
	if (!mem) {
		rc = EXIT_TROUBLE;
		goto out;
	}
	if (!diag_has_errors(&dq))
		emit(o, rs, &dq, mem);
	fclose(mem);
	if (!diag_has_errors(&dq) && o->sysctl_out) {
		mem = open_memstream(&sbuf, &slen);
		if (!mem) {
			rc = EXIT_TROUBLE;
			goto out;
		}
		sysctl_emit(rs, mem);
		fclose(mem);
	}
	if (diag_has_errors(&dq)) {
		rc = EXIT_INPUT;
		goto out;
	}
	if (compile && write_out(o->output, buf, len) < 0)
		rc = EXIT_TROUBLE;
	if (rc == EXIT_OK && o->sysctl_out && write_out(o->sysctl_out, sbuf, slen) < 0)
		rc = EXIT_TROUBLE;
out:
	diag_print(&dq, stderr, color);
out_quiet:
	free(buf);
	free(sbuf);
	diag_queue_free(&dq);
	if (free_at_exit()) {
		ir_ruleset_free(rs);
		source_set_free(&ss);
	} else {
		parked.rs = rs;
		parked.ss = ss;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { .target = TARGET_NFT, .locations = true };
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("masqc %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	o.cmd = argv[1];
	if (strcmp(o.cmd, "compile") && strcmp(o.cmd, "check") && strcmp(o.cmd, "explain")) {
		static const char *const cmds[] = { "compile", "check", "explain" };
		const char *s = suggest(o.cmd, cmds, ARRAY_SIZE(cmds));

		fprintf(stderr, "masqc: unknown command '%s'%s%s%s\n", o.cmd,
			s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		usage(stderr);
		return EXIT_TROUBLE;
	}
	if (parse_options(argc - 1, argv + 1, &o) < 0) {
		fputs("try 'masqc --help'\n", stderr);
		rc = EXIT_TROUBLE;
	} else {
		rc = run(&o);
	}
	vec_free(&o.defines);
	vec_free(&o.args);
	return rc;
}
