/* main.c -- the masqc driver.
 *
 * Parses the command line and runs one subcommand.  compile, check and
 * explain live here; the kernel-facing commands (apply, confirm, rollback,
 * load, check --kernel) in apply.c and diff in diff.c.  They all compile
 * through compile.c, the one pipeline: load, evaluate (shell) or read
 * (iptables-save), dispatch to the dialect parsers, resolve.
 *
 * Output is built in memory and written only when no error was found, so a
 * failed compile never leaves half a ruleset on stdout or in the -o file.
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
#include "backends/backend.h"
#include "explain.h"
#include "legacy.h"
#include "cli.h"

static void usage(FILE *out)
{
	fputs("usage: masqc compile [options] SCRIPT...   compile to nftables (or iptables) rules\n"
	      "       masqc check   [--kernel] [options] SCRIPT...\n"
	      "                                          diagnostics only; exit 0 clean, 1 errors;\n"
	      "                                          --kernel: the kernel validates, nothing committed\n"
	      "       masqc explain [options] SCRIPT...   each source line beside what it became\n"
	      "       masqc diff    [options] SCRIPT...   compiled vs running ruleset\n"
	      "       masqc diff    [options] OLD... -- NEW...  compiled vs compiled (no root, no kernel)\n"
	      "       masqc diff    [options] --against FILE SCRIPT...  compiled vs a saved rendering\n"
	      "       masqc apply   [--confirm SECONDS] [options] SCRIPT...  install (one transaction)\n"
	      "       masqc confirm                       keep the ruleset applied with --confirm\n"
	      "       masqc rollback [N] | --list         back N generations (default 1)\n"
	      "       masqc load                          boot-time loader (/etc/masqc/masqc.conf)\n"
	      "       masqc --help | --version\n"
	      "\n"
	      "options:\n"
	      "  -t, --target nft|iptables|ip6tables|render  output format (default nft;\n"
	      "                             render: the normalised form diff compares)\n"
	      "  -o, --output FILE          write the ruleset to FILE (only if there were no errors)\n"
	      "  -D NAME=VALUE              give a value the script computes at run time\n"
	      "  -a, --arg WORD             positional parameter for the script ($1, $2, ...);\n"
	      "                             default: one argument, \"start\"\n"
	      "      --dialect auto|shell|iptables-save   input kind (default auto)\n"
	      "  -6, --ipv6                 iptables-save input is an ip6tables-save dump\n"
	      "      --sysctl-out FILE      write the script's sysctls as a sysctl.d fragment\n"
	      "      --strict               warnings are errors; unknown commands are errors\n"
	      "      --no-locations         no '# file:line' comment before each rule\n"
	      "  -q, --quiet                no notes on stderr (warnings and errors stay)\n"
	      "      --legacy-generation 2.0|2.2|2.4|auto  kernel whose ipfwadm/ipchains\n"
	      "                             behaviour to reproduce (default auto: 2.0 for\n"
	      "                             ipfwadm, 2.2 for ipchains)\n"
	      "  diff: --against FILE, --old FILE (same as OLD... --), --json\n"
	      "  apply, diff, check --kernel, compile -t render: --backend nft|iptables-legacy\n"
	      "  rollback: --list, --force (rebuild differs from what was recorded)\n"
	      "\n"
	      "exit status: 0 ok, 1 errors in the input / kernel refused / diff found\n"
	      "differences, 2 usage or I/O trouble, 3 nothing to confirm or roll back,\n"
	      "4 busy (locked, or a confirmation is pending); see masqc(8)\n", out);
}

/* Commands that take no script. */
static bool cmd_takes_scripts(const char *cmd)
{
	return strcmp(cmd, "confirm") && strcmp(cmd, "rollback") && strcmp(cmd, "load");
}

static int parse_options(int argc, char **argv, struct cli *o)
{
	enum { O_DIALECT = 256, O_SYSCTL, O_STRICT, O_NOLOC, O_LEGACY, O_KERNEL,
	       O_CONFIRM, O_AGAINST, O_OLD, O_JSON, O_LIST, O_FORCE, O_BACKEND };
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "define", required_argument, NULL, 'D' },
		{ "arg", required_argument, NULL, 'a' },
		{ "dialect", required_argument, NULL, O_DIALECT },
		{ "ipv6", no_argument, NULL, '6' },
		{ "sysctl-out", required_argument, NULL, O_SYSCTL },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "no-locations", no_argument, NULL, O_NOLOC },
		{ "quiet", no_argument, NULL, 'q' },
		{ "legacy-generation", required_argument, NULL, O_LEGACY },
		{ "kernel", no_argument, NULL, O_KERNEL },
		{ "confirm", required_argument, NULL, O_CONFIRM },
		{ "against", required_argument, NULL, O_AGAINST },
		{ "old", required_argument, NULL, O_OLD },
		{ "json", no_argument, NULL, O_JSON },
		{ "list", no_argument, NULL, O_LIST },
		{ "force", no_argument, NULL, O_FORCE },
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:o:D:a:6qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (!strcmp(optarg, "nft") || !strcmp(optarg, "nftables"))
				o->target = TARGET_NFT;
			else if (!strcmp(optarg, "iptables"))
				o->target = TARGET_IPTABLES;
			else if (!strcmp(optarg, "ip6tables"))
				o->target = TARGET_IP6TABLES;
			else if (!strcmp(optarg, "render"))
				o->target = TARGET_RENDER;
			else {
				fprintf(stderr, "masqc: unknown target '%s' (nft, iptables, ip6tables or render)\n", optarg);
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
		case O_DIALECT:
			if (!strcmp(optarg, "auto"))
				o->co.dialect = DIALECT_AUTO;
			else if (!strcmp(optarg, "shell"))
				o->co.dialect = DIALECT_SHELL;
			else if (!strcmp(optarg, "iptables-save") || !strcmp(optarg, "save"))
				o->co.dialect = DIALECT_SAVE;
			else {
				fprintf(stderr, "masqc: unknown dialect '%s' (auto, shell or iptables-save)\n", optarg);
				return -1;
			}
			break;
		case '6':
			o->co.ipv6_save = true;
			break;
		case O_SYSCTL:
			o->sysctl_out = optarg;
			break;
		case O_STRICT:
			o->co.strict = true;
			break;
		case O_NOLOC:
			o->locations = false;
			break;
		case 'q':
			diag_quiet = true;
			break;
		case O_LEGACY:
			if (!strcmp(optarg, "2.0"))
				o->co.legacy_gen = LG_GEN_20;
			else if (!strcmp(optarg, "2.2"))
				o->co.legacy_gen = LG_GEN_22;
			else if (!strcmp(optarg, "2.4"))
				o->co.legacy_gen = LG_GEN_24;
			else if (!strcmp(optarg, "auto"))
				o->co.legacy_gen = LG_GEN_AUTO;
			else {
				fprintf(stderr, "masqc: unknown legacy generation '%s' (2.0, 2.2, 2.4 or auto)\n", optarg);
				return -1;
			}
			break;
		case O_KERNEL:
			o->kernel = true;
			break;
		case O_CONFIRM:
			errno = 0;
			o->confirm = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o->confirm < 1 || o->confirm > 86400) {
				fprintf(stderr, "masqc: --confirm wants a number of seconds (1 to 86400), not '%s'\n", optarg);
				return -1;
			}
			break;
		case O_AGAINST:
			o->against = optarg;
			break;
		case O_OLD:
			vec_push(&o->old, optarg);
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_LIST:
			o->list = true;
			break;
		case O_FORCE:
			o->force = true;
			break;
		case O_BACKEND:
			if (kernel_backend_parse(optarg, &o->co.backend) < 0) {
				fprintf(stderr, "masqc: unknown backend '%s' (nft or iptables-legacy)\n", optarg);
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
	return 0;
}

/* Which options make sense where: an option a command ignores is a
 * usage error, not a silent no-op. */
static int check_options(const struct cli *o)
{
	const char *bad = NULL;
	bool diff = !strcmp(o->cmd, "diff"), apply = !strcmp(o->cmd, "apply");

	if (o->kernel && strcmp(o->cmd, "check"))
		bad = "--kernel";
	else if (o->confirm >= 0 && !apply)
		bad = "--confirm";
	else if ((o->against || o->old.n || o->json) && !diff)
		bad = o->against ? "--against" : o->old.n ? "--old" : "--json";
	else if ((o->list || o->force) && strcmp(o->cmd, "rollback"))
		bad = o->list ? "--list" : "--force";
	else if (o->output && strcmp(o->cmd, "compile"))
		bad = "-o";
	else if (o->target != TARGET_NFT && strcmp(o->cmd, "compile"))
		bad = "-t";
	else if (o->co.backend != KB_DEFAULT && !apply && !diff && !o->kernel &&
		 !(!strcmp(o->cmd, "compile") && o->target == TARGET_RENDER))
		bad = "--backend";
	if (bad) {
		fprintf(stderr, "masqc: %s: option %s does not apply here\n", o->cmd, bad);
		return -1;
	}
	if (cmd_takes_scripts(o->cmd) && o->nscripts == 0) {
		fprintf(stderr, "masqc: %s: no script given\n", o->cmd);
		return -1;
	}
	if (diff && o->against && o->old.n) {
		fputs("masqc: diff: --against and OLD -- NEW are two different comparisons; give one\n", stderr);
		return -1;
	}
	return 0;
}

static int emit(const struct cli *o, const struct ir_ruleset *rs,
		struct diag_queue *dq, FILE *out)
{
	struct emit_opts eo = {
		.locations = o->locations,
		.inputs = (const char *const *)o->scripts,
		.ninputs = o->nscripts,
	};
	char *text;

	switch (o->target) {
	case TARGET_NFT:
		return nft_emit(rs, out, &eo, dq);
	case TARGET_IPTABLES:
		return ipt_emit(rs, IR_FAM_IPV4, out, &eo, dq);
	case TARGET_IP6TABLES:
		return ipt_emit(rs, IR_FAM_IPV6, out, &eo, dq);
	case TARGET_RENDER:
		text = render_compiled(rs, o->co.backend, dq);
		if (!text)
			return -1;
		fputs(text, out);
		free(text);
		return 0;
	}
	return -1;
}

/* explain shows the diagnostics inline, next to their lines; with errors
 * there is no ruleset to show, only what went wrong where. */
static int run_explain(const struct cli *o, struct compiled *c)
{
	struct emit_opts eo = {
		.locations = false,
		.inputs = (const char *const *)o->scripts,
		.ninputs = o->nscripts,
	};
	bool errors = diag_has_errors(&c->dq);
	struct ir_ruleset *empty = errors ? ir_ruleset_new() : NULL;

	explain_emit(errors ? empty : c->rs, &c->ss, &c->dq, &eo, stdout);
	if (empty)
		ir_ruleset_free(empty);
	if (fflush(stdout) != 0)
		return EXIT_TROUBLE;
	return diag_has_errors(&c->dq) ? EXIT_INPUT : EXIT_OK;
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

/* compile, check, explain */
static int run(struct cli *o)
{
	struct compiled c = { 0 };
	bool compile = !strcmp(o->cmd, "compile");
	char *buf = NULL, *sbuf = NULL;
	size_t len = 0, slen = 0;
	int rc = EXIT_OK;
	FILE *mem;

	if (compile_scripts(&o->co, &c) < 0) {
		rc = EXIT_TROUBLE;
		goto out;
	}
	if (!strcmp(o->cmd, "explain")) {
		rc = run_explain(o, &c);
		goto out_quiet;
	}
	/* check runs the backend too: what it cannot express is an error */
	mem = open_memstream(&buf, &len);
	if (!mem) {
		rc = EXIT_TROUBLE;
		goto out;
	}
	if (!diag_has_errors(&c.dq))
		emit(o, c.rs, &c.dq, mem);
	fclose(mem);
	if (!diag_has_errors(&c.dq) && o->sysctl_out) {
		mem = open_memstream(&sbuf, &slen);
		if (!mem) {
			rc = EXIT_TROUBLE;
			goto out;
		}
		sysctl_emit(c.rs, mem);
		fclose(mem);
	}
	if (diag_has_errors(&c.dq)) {
		rc = EXIT_INPUT;
		goto out;
	}
	if (compile && write_out(o->output, buf, len) < 0)
		rc = EXIT_TROUBLE;
	if (rc == EXIT_OK && o->sysctl_out && write_out(o->sysctl_out, sbuf, slen) < 0)
		rc = EXIT_TROUBLE;
out:
	diag_print(&c.dq, stderr, compile_color());
out_quiet:
	free(buf);
	free(sbuf);
	compiled_free(&c);
	return rc;
}

#ifndef HAVE_NETLINK
/* Built without libnftnl/libmnl: the kernel-facing commands say so. */
static int no_netlink(const struct cli *o)
{
	fprintf(stderr, "masqc: %s%s needs the nft netlink backend, and this masqc was built "
		"without libnftnl/libmnl (configure found none); install libnftnl-dev and "
		"libmnl-dev and rebuild\n", o->cmd, o->kernel ? " --kernel" : "");
	return EXIT_TROUBLE;
}
char *render_compiled(const struct ir_ruleset *rs, enum kernel_backend kb, struct diag_queue *dq)
{
	(void)kb;
	diag_error(dq, &loc_internal, "-t render needs the nft netlink backend (built without libnftnl/libmnl)");
	return NULL;
}
int cmd_diff(struct cli *o) { return no_netlink(o); }
int cmd_apply(struct cli *o) { return no_netlink(o); }
int cmd_check_kernel(struct cli *o) { return no_netlink(o); }
int cmd_confirm(struct cli *o) { return no_netlink(o); }
int cmd_rollback(struct cli *o) { return no_netlink(o); }
int cmd_load(struct cli *o) { return no_netlink(o); }
int cmd_watch(int argc, char **argv) { return EXIT_TROUBLE; }
#endif

static const char *const commands[] = {
	"compile", "check", "explain", "diff", "apply", "confirm", "rollback", "load",
};

static int dispatch(struct cli *o)
{
	if (!strcmp(o->cmd, "check") && o->kernel)
		return cmd_check_kernel(o);
	if (!strcmp(o->cmd, "diff"))
		return cmd_diff(o);
	if (!strcmp(o->cmd, "apply"))
		return cmd_apply(o);
	if (!strcmp(o->cmd, "confirm"))
		return cmd_confirm(o);
	if (!strcmp(o->cmd, "rollback"))
		return cmd_rollback(o);
	if (!strcmp(o->cmd, "load"))
		return cmd_load(o);
	return run(o);
}

int main(int argc, char **argv)
{
	struct cli o = { .target = TARGET_NFT, .locations = true, .confirm = -1, .steps = 1 };
	char **new_side = NULL;
	int nargs, rc;
	bool known = false;

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
	/* the confirm watcher (apply.c) re-executes masqc under this name */
	if (!strcmp(argv[1], "--watch"))
		return cmd_watch(argc - 1, argv + 1);
	o.cmd = argv[1];
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		known |= !strcmp(o.cmd, commands[i]);
	if (!known) {
		const char *s = suggest(o.cmd, commands, ARRAY_SIZE(commands));

		fprintf(stderr, "masqc: unknown command '%s'%s%s%s\n", o.cmd,
			s ? " (did you mean '" : "", s ? s : "", s ? "'?)" : "");
		usage(stderr);
		return EXIT_TROUBLE;
	}
	/* diff OLD... -- NEW...: split before getopt, which would drop the
	 * "--" and mix both sides together */
	nargs = argc - 1;
	if (!strcmp(o.cmd, "diff")) {
		for (int i = 2; i < argc; i++) {
			if (!strcmp(argv[i], "--")) {
				new_side = argv + i + 1;
				nargs = i - 1;
				break;
			}
		}
	}
	if (parse_options(nargs, argv + 1, &o) < 0)
		goto usage;
	if (new_side) {
		/* everything before "--" is the old side */
		for (unsigned i = 0; i < o.nscripts; i++)
			vec_push(&o.old, o.scripts[i]);
		o.scripts = new_side;
		o.nscripts = (unsigned)(argc - (new_side - argv));
		for (unsigned i = 0; i < o.nscripts; i++) {
			if (o.scripts[i][0] == '-' && o.scripts[i][1]) {
				fprintf(stderr, "masqc: diff: '%s' after '--': options go before '--' "
					"and apply to both sides\n", o.scripts[i]);
				goto usage;
			}
		}
		if (o.old.n == 0) {
			fputs("masqc: diff: no old script before '--'\n", stderr);
			goto usage;
		}
	}
	if (!strcmp(o.cmd, "rollback") && o.nscripts) {
		char *end;
		long n = strtol(o.scripts[0], &end, 10);

		if (o.nscripts > 1 || *end || end == o.scripts[0] || n < 1 || n > 1000) {
			fprintf(stderr, "masqc: rollback: N is a number of generations (1 to 1000), not '%s'\n",
				o.scripts[0]);
			goto usage;
		}
		o.steps = (unsigned)n;
		o.nscripts = 0;
	} else if (!cmd_takes_scripts(o.cmd) && o.nscripts) {
		fprintf(stderr, "masqc: %s takes no script ('%s')\n", o.cmd, o.scripts[0]);
		goto usage;
	}
	if (check_options(&o) < 0)
		goto usage;
	o.co.defines = o.defines.v;
	o.co.ndefines = (unsigned)o.defines.n;
	o.co.args = o.args.v;
	o.co.nargs = (unsigned)o.args.n;
	o.co.scripts = (const char *const *)o.scripts;
	o.co.nscripts = o.nscripts;
	rc = dispatch(&o);
	goto out;
usage:
	fputs("try 'masqc --help'\n", stderr);
	rc = EXIT_TROUBLE;
out:
	vec_free(&o.defines);
	vec_free(&o.args);
	vec_free(&o.old);
	return rc;
}
