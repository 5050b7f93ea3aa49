/* apply.c -- masqc owning a machine's firewall: apply, confirm, rollback,
 * the confirm watcher, the boot-time loader, check --kernel.
 *
 * apply.  Compile, build one netlink batch (backends/netlink.c: masqc's
 * own tables deleted and re-created, nothing else named), then, under the
 * lock: record a generation, commit, set the sysctls the script set
 * (remembering what they were), make the generation current.  The kernel
 * applies the batch as one transaction, so a refused object changes
 * nothing and the generation is thrown away.
 *
 * With the nft backend the recording runs beside the commit (install,
 * record_gen): at 100k rules the commit is most of a second of kernel
 * time on one core, and rendering the batch, hashing and writing the
 * files take about half that on the other.  The generation goes to
 * gen/N.tmp and is renamed to gen/N, and made current, only when both the
 * commit and the writing succeeded: a refused batch leaves the previous
 * ruleset and no generation.  Writing can now fail after the kernel took
 * the ruleset (a full disk): apply says the ruleset is loaded and
 * generation N is not recorded, exits 2, and with --confirm (whose
 * watcher needs a generation to go back from) puts the previous one back.
 * The ruleset.nft text is the one the batch's own check writes (nft_emit,
 * beside the batch build); the rendering goes to its file in pieces,
 * hashed on the way, never whole in memory; the IR is freed while the
 * wire buffer is built, in address order so that its pages go back as
 * it goes (the apply peak has a bar: IR, batch objects, the text and the
 * wire buffer are never all in memory at once).
 *
 * Crash safety is unchanged: each file of a generation is fsynced before
 * the rename, and `current` is replaced atomically (write_file_atomic)
 * after it, so after a crash gen/N is either whole or absent (a stale
 * gen/N.tmp is removed by the next apply), and `current` names a whole
 * generation.  A crash between the commit and the rename leaves the new
 * ruleset in the kernel with the previous generation current, as a
 * failed record does: `masqc diff` shows it, `rollback` or `apply` fixes it.
 *
 * What a generation keeps, and why.  To put an old ruleset back without
 * the original scripts, a generation stores every file the compile read
 * (the scripts and whatever they sourced) and the options that shaped it,
 * and rebuilds the batch by compiling that snapshot again -- the scripts
 * are loaded from the snapshot, never from the disk.  Serialising the
 * batch bytes would replay without compiling, but netlink.h keeps the
 * batch opaque, and a snapshot also lets `masqc diff` and people read what
 * was loaded.  The rebuild is checked against a hash of the rendering
 * recorded at apply time: if a newer masqc compiles the snapshot
 * differently, rollback refuses (unless --force) rather than load a
 * ruleset nobody reviewed.  The nft text is kept too (ruleset.nft), for
 * people, and as a last resort by hand with `nft -f`.
 *
 * --confirm.  After the commit, masqc starts a watcher that survives the
 * session (fork, setsid, fork again, re-exec as `masqc --watch GEN`, with
 * stdio on /dev/null): killing apply, its shell or the SSH connection does
 * not touch it.  `masqc confirm` removes the pending file; the watcher
 * polls it and exits.  At the deadline, under the lock, a still-pending
 * generation is rolled back to the one it replaced (ruleset and sysctls).
 *
 * Sysctls are per network namespace under /proc/sys/net, so everything
 * here also works (and is tested) inside `unshare -n`.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "conf.h"
#include "lockdown.h"
#include "state.h"
#include "backends/backend.h"
#include "backends/netlink.h"
#ifdef HAVE_IPTC
#include "backends/iptc.h"
#endif

/* ---- building ----------------------------------------------------------- */

struct build {
	struct compiled c;
	enum kernel_backend kb;		/* KB_NFT or KB_IPTABLES_LEGACY */
	struct nl_batch *b;		/* KB_NFT */
	struct iptc_set *ipt;		/* KB_IPTABLES_LEGACY */
	char *render;
	size_t render_len;
	unsigned long rules;
	/* apply, load (nft): the rendering is made beside the commit, by
	 * the thread that records the generation (see install) */
	bool defer_render;
	/* with defer_render: the nft text, made by the batch's check */
	char *nft_text;
	size_t nft_text_len;
};

/* Batches left to exit() when the IR is (see build_free). */
static VEC(struct nl_batch *) parked_batches;

/* A backend's rendering with the sysctl lines appended in place: at 100k
 * rules the rendering is tens of MB, and a copy would be one more. */
static char *sysctl_lines(const struct ir_ruleset *rs, size_t *len)
{
	char *sys = NULL;
	size_t m = 0;
	FILE *mem = open_memstream(&sys, &m);

	if (!mem)
		return NULL;
	compile_sysctl_lines(rs, true, mem);
	fclose(mem);
	*len = m;
	return sys;
}

/* text with sys (m bytes) appended; both freed */
static char *text_append(char *text, char *sys, size_t m, size_t *len)
{
	size_t n;

	if (!text || !sys) {
		free(text);
		free(sys);
		return NULL;
	}
	n = strlen(text);
	text = xrealloc(text, n + m + 1);
	memcpy(text + n, sys, m + 1);
	free(sys);
	if (len)
		*len = n + m;
	return text;
}

static char *render_add_sysctls(char *text, const struct ir_ruleset *rs, size_t *len)
{
	size_t m = 0;
	char *sys = text ? sysctl_lines(rs, &m) : NULL;

	return text_append(text, sys, m, len);
}

static char *render_batch(const struct nl_batch *b, const struct ir_ruleset *rs, size_t *len,
			  unsigned flags)
{
	return render_add_sysctls(nl_render(nl_batch_ruleset(b), NL_RENDER_LOCATIONS |
					    NL_RENDER_INLINE_SETS | flags), rs, len);
}

#ifdef HAVE_IPTC
/* The file naming what masqc owns in the iptables-legacy tables (iptc.h,
 * Ownership): what iptc_set_owned() said of the last set committed. */
static char *iptc_owned_path(void)
{
	return xasprintf("%s/iptables-legacy.owned", state_dir());
}

char *iptc_owned_read(void)
{
	char *p = iptc_owned_path();
	size_t len;
	char *t = read_file(p, &len);

	free(p);
	return t;
}

static int iptc_owned_write(const char *text)
{
	char *p = iptc_owned_path();
	int r = write_file_atomic(p, text, strlen(text));

	if (r < 0)
		fprintf(stderr, "masqc: cannot write %s: %s\n", p, strerror(errno));
	free(p);
	return r;
}
#endif

char *render_compiled(const struct ir_ruleset *rs, enum kernel_backend kb, struct diag_queue *dq)
{
	struct nl_batch *b;
	char *text;

	if (kb == KB_IPTABLES_LEGACY) {
#ifdef HAVE_IPTC
		struct iptc_set *s = iptc_set_build(rs, dq);

		if (!s)
			return NULL;
		text = render_add_sysctls(iptc_set_render(s, true), rs, NULL);
		iptc_set_free(s);
		return text;
#else
		diag_error(dq, &loc_internal, "this masqc was built without the iptables-legacy "
			   "backend (libip4tc-dev, libip6tc-dev, libxtables-dev)");
		return NULL;
#endif
	}
	b = nl_batch_build(rs, 0, dq);
	if (!b)
		return NULL;
	/* two threads: the peak memory of apply (which renders with one)
	 * has a bar, diff's does not */
	text = render_batch(b, rs, NULL, NL_RENDER_THREADED);
	if (compile_free_at_exit())
		nl_batch_free(b);
	else
		vec_push(&parked_batches, b);	/* see build_free */
	return text;
}

static unsigned long count_rules(const char *render)
{
	unsigned long n = 0;

	for (const char *s = render; s && *s;) {
		const char *nl = strchr(s, '\n');

		n += !strncmp(s, "rule ", 5) || !strncmp(s, "-A ", 3);
		if (!nl)
			break;
		s = nl + 1;
	}
	return n;
}

/* MASQC_TEST_FAIL_LAST=1 (tests only): one more rule, at the end of the
 * last chain, jumping to a chain that does not exist.  Everything before
 * it is valid, so the kernel refuses the batch at its last object --
 * the test that a late failure still leaves the previous ruleset whole. */
static void test_fail_last(struct compiled *c)
{
	static const char why[] = "test hook: a jump to a chain the kernel does not have\n";
	struct ir_table *t, *last = NULL;
	struct src_file *f;
	struct ir_rule *r;
	struct loc l;
	const char *e = getenv("MASQC_TEST_FAIL_LAST");

	if (!e || *e != '1')
		return;
	for (t = c->rs->tables; t; t = t->next)
		if (t->chains_tail)
			last = t;
	if (!last)
		return;
	f = source_add(&c->ss, "<MASQC_TEST_FAIL_LAST>", why, sizeof(why) - 1, NULL);
	l = loc_at(f, 0);
	l.len = 4;
	r = ir_rule_new(&l);
	r->verdict.kind = IR_V_JUMP;
	r->verdict.loc = l;
	r->verdict.u.chain.name = xstrdup("masqc_test_missing");
	ir_chain_insert(last->chains_tail, r, 0);
}

/* The backend's objects for bd->c.rs: a netlink batch, or encoded
 * iptables-legacy tables.  EXIT_OK, or EXIT_INPUT with errors queued. */
static int build_backend(struct build *bd, enum kernel_backend kb, const struct compile_opts *co)
{
	bd->kb = kb == KB_IPTABLES_LEGACY ? KB_IPTABLES_LEGACY : KB_NFT;
	if (bd->kb == KB_IPTABLES_LEGACY) {
#ifdef HAVE_IPTC
		bd->ipt = iptc_set_build(bd->c.rs, &bd->c.dq);
		if (!bd->ipt)
			return EXIT_INPUT;
		phase_mark("iptables-legacy entries");
		bd->render = render_add_sysctls(iptc_set_render(bd->ipt, true), bd->c.rs,
						&bd->render_len);
		return EXIT_OK;
#else
		diag_error(&bd->c.dq, &loc_internal, "this masqc was built without the "
			   "iptables-legacy backend (libip4tc-dev, libip6tc-dev, libxtables-dev)");
		return EXIT_INPUT;
#endif
	}
	if (bd->defer_render && co) {
		/* ruleset.nft is the text the batch's check writes anyway */
		struct emit_opts eo = { .locations = true, .inputs = co->scripts,
					.ninputs = co->nscripts };

		bd->b = nl_batch_build_text(bd->c.rs, 0, &bd->c.dq, &eo, &bd->nft_text,
					    &bd->nft_text_len);
	} else {
		bd->b = nl_batch_build(bd->c.rs, 0, &bd->c.dq);
	}
	if (!bd->b)
		return EXIT_INPUT;
	phase_mark("netlink batch");
	if (!bd->defer_render)
		bd->render = render_batch(bd->b, bd->c.rs, &bd->render_len, 0);
	return EXIT_OK;
}

/* Compiles and builds; diagnostics stay queued in bd->c.dq.
 * Returns EXIT_OK, EXIT_INPUT or EXIT_TROUBLE. */
static int build(const struct compile_opts *co, struct build *bd)
{
	int rc;

	phase_mark(NULL);
	if (compile_scripts(co, &bd->c) < 0)
		return EXIT_TROUBLE;
	phase_mark("compile");
	if (diag_has_errors(&bd->c.dq))
		return EXIT_INPUT;
	test_fail_last(&bd->c);
	rc = build_backend(bd, co->backend, co);
	if (rc != EXIT_OK)
		return rc;
	if (bd->kb == KB_NFT && bd->defer_render)
		return EXIT_OK;
	if (!bd->render)
		return EXIT_TROUBLE;
	bd->rules = count_rules(bd->render);
	phase_mark("render");
	return EXIT_OK;
}

/* Sends what build() made to the kernel (dry_run: checked, not kept).
 * 0, or -1 with errors queued in bd->c.dq. */
static int build_commit(struct build *bd, bool dry_run)
{
#ifdef HAVE_IPTC
	if (bd->kb == KB_IPTABLES_LEGACY) {
		char *prev = dry_run ? NULL : iptc_owned_read(), *owned;
		int r = iptc_set_commit(bd->ipt, prev, dry_run, &bd->c.dq);

		free(prev);
		if (r == 0 && !dry_run) {
			owned = iptc_set_owned(bd->ipt);
			iptc_owned_write(owned);
			free(owned);
		}
		return r;
	}
#endif
	return nl_batch_commit(bd->b, dry_run, &bd->c.dq);
}

static void build_free(struct build *bd)
{
#ifdef HAVE_IPTC
	iptc_set_free(bd->ipt);
#endif
	/* 100k rules' objects take a tenth of a second to free, for
	 * nothing at exit: parked, still reachable, as compiled_free parks
	 * the IR */
	if (compile_free_at_exit())
		nl_batch_free(bd->b);
	else if (bd->b)
		vec_push(&parked_batches, bd->b);
	free(bd->render);
	free(bd->nft_text);
	compiled_free(&bd->c);
	memset(bd, 0, sizeof(*bd));
}

/* After nl_batch_commit failed: the kernel refused an object (located at
 * a source line, or at least at the batch) -> EXIT_INPUT; no error with a
 * file means the batch never got there (no socket, no permission) ->
 * EXIT_TROUBLE, so `check --kernel` in CI without privileges does not
 * look like a bad ruleset. */
static int commit_failure(const struct diag_queue *dq)
{
	for (size_t i = 0; i < dq->n; i++)
		if (dq->v[i].level == DIAG_ERROR && dq->v[i].loc.file)
			return EXIT_INPUT;
	/* netlink.h says only "-1, errors queued": the batch-level error
	 * that means "not allowed" (EPERM on the first message) is told
	 * apart by its text until the API returns the errno */
	for (size_t i = 0; i < dq->n; i++)
		if (dq->v[i].level == DIAG_ERROR && strstr(dq->v[i].msg, "refused") &&
		    !strstr(dq->v[i].msg, strerror(EPERM)))
			return EXIT_INPUT;
	return EXIT_TROUBLE;
}

static void print_diags(struct diag_queue *dq)
{
	diag_print(dq, stderr, compile_color());
}

/* Removes what masqc put in the kernel through kb: its nft tables, or
 * what it owns in the iptables-legacy tables.  An exit code. */
static int clear_backend(enum kernel_backend kb)
{
	struct build bd = { 0 };
	int rc;

	bd.c.rs = ir_ruleset_new();
	rc = build_backend(&bd, kb, NULL);
	if (rc == EXIT_OK && build_commit(&bd, false) < 0)
		rc = commit_failure(&bd.c.dq);
	print_diags(&bd.c.dq);
	build_free(&bd);
	return rc;
}

/* ---- check --kernel ------------------------------------------------------ */

int cmd_check_kernel(struct cli *o)
{
	struct build bd = { 0 };
	int rc = build(&o->co, &bd);

	if (rc == EXIT_OK && build_commit(&bd, true) < 0)
		rc = commit_failure(&bd.c.dq);
	print_diags(&bd.c.dq);
	if (rc == EXIT_OK)
		printf("masqc: the kernel accepts the ruleset (%lu rules; nothing was changed)\n", bd.rules);
	build_free(&bd);
	return rc;
}

/* ---- generations ---------------------------------------------------------- */

static int gen_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *p = xasprintf("%s/%s", dir, name);
	int r = write_file_atomic(p, data, len);

	free(p);
	return r;
}

static const char *dialect_word(enum compile_dialect d)
{
	switch (d) {
	case DIALECT_AUTO:
		return "auto";
	case DIALECT_SHELL:
		return "shell";
	case DIALECT_SAVE:
		return "iptables-save";
	}
	return "auto";
}

static const char *legacy_word(enum lg_generation g)
{
	switch (g) {
	case LG_GEN_AUTO:
		return "auto";
	case LG_GEN_20:
		return "2.0";
	case LG_GEN_22:
		return "2.2";
	case LG_GEN_24:
		return "2.4";
	}
	return "auto";
}

/* options: one "name value" per line; a value cannot hold a newline */
static int options_text(const struct compile_opts *co, struct strbuf *sb)
{
	sb_addf(sb, "dialect %s\nipv6-save %d\nstrict %d\nlegacy-generation %s\nbackend %s\n",
		dialect_word(co->dialect), co->ipv6_save, co->strict, legacy_word(co->legacy_gen),
		kernel_backend_name(co->backend));
	for (unsigned i = 0; i < co->ndefines; i++)
		sb_addf(sb, "define %s\n", co->defines[i]);
	for (unsigned i = 0; i < co->nargs; i++)
		sb_addf(sb, "arg %s\n", co->args[i]);
	for (unsigned i = 0; i < co->nscripts; i++)
		sb_addf(sb, "script %s\n", co->scripts[i]);
	for (unsigned i = 0; i < co->ndefines; i++)
		if (strchr(co->defines[i], '\n'))
			return -1;
	for (unsigned i = 0; i < co->nargs; i++)
		if (strchr(co->args[i], '\n'))
			return -1;
	return 0;
}

struct saved_opts {
	struct compile_opts co;
	VEC(char *) strs;
	VEC(const char *) defines, args, scripts;
};

static void saved_opts_free(struct saved_opts *s)
{
	for (size_t i = 0; i < s->strs.n; i++)
		free(s->strs.v[i]);
	vec_free(&s->strs);
	vec_free(&s->defines);
	vec_free(&s->args);
	vec_free(&s->scripts);
}

static int options_read(const char *dir, struct saved_opts *s)
{
	char *p = xasprintf("%s/options", dir), *t, *line, *save = NULL;
	size_t len;

	memset(s, 0, sizeof(*s));
	t = read_file(p, &len);
	free(p);
	if (!t)
		return -1;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' '), *v;

		if (!sp)
			continue;
		*sp = '\0';
		v = sp + 1;
		if (!strcmp(line, "dialect"))
			s->co.dialect = !strcmp(v, "shell") ? DIALECT_SHELL :
					!strcmp(v, "iptables-save") ? DIALECT_SAVE : DIALECT_AUTO;
		else if (!strcmp(line, "ipv6-save"))
			s->co.ipv6_save = *v == '1';
		else if (!strcmp(line, "strict"))
			s->co.strict = *v == '1';
		else if (!strcmp(line, "backend"))
			kernel_backend_parse(v, &s->co.backend);
		else if (!strcmp(line, "legacy-generation"))
			s->co.legacy_gen = !strcmp(v, "2.0") ? LG_GEN_20 : !strcmp(v, "2.2") ? LG_GEN_22 :
					   !strcmp(v, "2.4") ? LG_GEN_24 : LG_GEN_AUTO;
		else {
			char *d = xstrdup(v);

			vec_push(&s->strs, d);
			if (!strcmp(line, "define"))
				vec_push(&s->defines, d);
			else if (!strcmp(line, "arg"))
				vec_push(&s->args, d);
			else if (!strcmp(line, "script"))
				vec_push(&s->scripts, d);
		}
	}
	free(t);
	s->co.defines = s->defines.v, s->co.ndefines = (unsigned)s->defines.n;
	s->co.args = s->args.v, s->co.nargs = (unsigned)s->args.n;
	s->co.scripts = s->scripts.v, s->co.nscripts = (unsigned)s->scripts.n;
	return 0;
}

/* The source set as the compile saw it: src/index and src/K. */
static int sources_write(const char *dir, const struct source_set *ss)
{
	char *sd = xasprintf("%s/src", dir);
	struct strbuf idx = { 0 };
	unsigned k = 0;
	int r = mkdir(sd, 0700);

	for (const struct src_file *f = ss->head; r == 0 && f; f = f->next, k++) {
		char name[32];

		if (strchr(f->path, '\n'))
			continue;
		snprintf(name, sizeof(name), "%u", k);
		r = gen_write(sd, name, f->text, f->len);
		sb_addf(&idx, "%u\t%s\n", k, f->path);
	}
	if (r == 0)
		r = gen_write(sd, "index", sb_str(&idx), idx.len);
	else
		fprintf(stderr, "masqc: cannot save the sources in %s: %s\n", sd, strerror(errno));
	sb_free(&idx);
	free(sd);
	return r;
}

static int sources_preload(const char *dir, struct source_set *ss)
{
	char *p = xasprintf("%s/src/index", dir), *t, *line, *save = NULL;
	size_t len;
	int r = 0;

	t = read_file(p, &len);
	free(p);
	if (!t)
		return -1;
	for (line = strtok_r(t, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), *fp, *text;
		size_t flen;

		if (!tab)
			continue;
		*tab = '\0';
		fp = xasprintf("%s/src/%s", dir, line);
		text = read_file(fp, &flen);
		free(fp);
		if (!text) {
			r = -1;
			break;
		}
		/* a here-document or test hook file is made again by the compile */
		if (tab[1] != '<')
			source_add(ss, tab + 1, text, flen, NULL);
		free(text);
	}
	free(t);
	return r;
}

/* The backend generation id was installed with (nft for 0, and for
 * generations recorded before there was a choice). */
static enum kernel_backend gen_backend(unsigned id)
{
	struct saved_opts so;
	enum kernel_backend kb = KB_NFT;
	char *dir;

	if (id == 0)
		return KB_NFT;
	dir = gen_dir(id);
	if (options_read(dir, &so) == 0) {
		if (so.co.backend == KB_IPTABLES_LEGACY)
			kb = KB_IPTABLES_LEGACY;
		saved_opts_free(&so);
	}
	free(dir);
	return kb;
}

enum kernel_backend current_backend(void)
{
	return gen_backend(state_current());
}

/* Rebuilds generation id from its snapshot; id 0 is "no masqc rules" in
 * backend kb0. */
static int gen_rebuild(unsigned id, bool force, enum kernel_backend kb0, struct build *bd)
{
	struct saved_opts so;
	struct gen_meta m;
	char *dir;
	int rc;

	memset(bd, 0, sizeof(*bd));
	if (id == 0) {
		bd->c.rs = ir_ruleset_new();
		return build_backend(bd, kb0, NULL) == EXIT_OK ? EXIT_OK : EXIT_TROUBLE;
	}
	dir = gen_dir(id);
	if (gen_meta_read(id, &m) < 0 || options_read(dir, &so) < 0) {
		fprintf(stderr, "masqc: generation %u is missing or damaged (%s)\n", id, dir);
		free(dir);
		return EXIT_TROUBLE;
	}
	if (sources_preload(dir, &bd->c.ss) < 0) {
		fprintf(stderr, "masqc: the sources of generation %u are missing or damaged (%s/src)\n", id, dir);
		rc = EXIT_TROUBLE;
		goto out;
	}
	rc = build(&so.co, bd);
	if (rc != EXIT_OK) {
		print_diags(&bd->c.dq);
		fprintf(stderr, "masqc: generation %u no longer compiles (above)\n", id);
		goto out;
	}
	if (m.render_hash && strcmp(m.render_hash, text_hash(bd->render, bd->render_len))) {
		fprintf(stderr, "masqc: %s: generation %u compiles to a different ruleset than the one "
			"recorded when it was applied (masqc %s now; see meta)%s\n",
			force ? "warning" : "error", id, PACKAGE_VERSION,
			force ? "" : "; --force loads the new compilation anyway");
		if (!force)
			rc = EXIT_TROUBLE;
	}
out:
	saved_opts_free(&so);
	gen_meta_free(&m);
	free(dir);
	return rc;
}

/* ---- sysctls ------------------------------------------------------------ */

struct kv {
	char *key, *value;	/* value NULL: the key did not exist */
	const struct ir_sysctl *src;
};
typedef VEC(struct kv) kvvec;

static void kv_free(kvvec *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].value);
	}
	vec_free(v);
}

/* last value of each key, in first-assignment order */
static void sysctls_of(const struct ir_ruleset *rs, kvvec *out)
{
	for (const struct ir_sysctl *s = rs->sysctls; s; s = s->next) {
		size_t i;

		for (i = 0; i < out->n; i++)
			if (!strcmp(out->v[i].key, s->key))
				break;
		if (i < out->n) {
			free(out->v[i].value);
			out->v[i].value = xstrdup(s->value);
			out->v[i].src = s;
		} else {
			vec_push(out, ((struct kv){ xstrdup(s->key), xstrdup(s->value), s }));
		}
	}
}

static void kv_text(const kvvec *v, struct strbuf *sb)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->v[i].value)
			sb_addf(sb, "%s=%s\n", v->v[i].key, v->v[i].value);
		else
			sb_addf(sb, "%s\n", v->v[i].key);
	}
}

static int kv_read(const char *dir, const char *name, kvvec *out)
{
	char *p = xasprintf("%s/%s", dir, name), *t, *line, *save = NULL;
	size_t len;

	t = read_file(p, &len);
	free(p);
	if (!t)
		return errno == ENOENT ? 0 : -1;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (eq)
			*eq = '\0';
		vec_push(out, ((struct kv){ xstrdup(line), eq ? xstrdup(eq + 1) : NULL, NULL }));
	}
	free(t);
	return 0;
}

/* Sets the script's sysctls; prev gets what each was.  A key this kernel
 * (or this network namespace) lacks is a located warning: the ruleset is
 * in, and the admin learns which line's setting did not take. */
static void sysctls_set(kvvec *set, kvvec *prev, struct diag_queue *dq)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct kv *k = &set->v[i];
		const struct loc *l = k->src ? &k->src->loc : &loc_internal;
		char **keys;
		size_t n = sysctl_expand(k->key, &keys);

		if (n == 0)
			diag_add(dq, DIAG_WARNING, l, NULL, "could not set sysctl %s = %s: no such key here",
				 k->key, k->value);
		/* a wildcard is remembered key by key: each had its own value */
		for (size_t j = 0; j < n; j++) {
			vec_push(prev, ((struct kv){ xstrdup(keys[j]), sysctl_read(keys[j]), NULL }));
			if (sysctl_write(keys[j], k->value) < 0)
				diag_add(dq, DIAG_WARNING, l, NULL, "could not set sysctl %s = %s: %s",
					 keys[j], k->value, strerror(errno));
		}
		sysctl_keys_free(keys, n);
	}
}

static void sysctls_write_all(const kvvec *v, const char *why)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].value && sysctl_write(v->v[i].key, v->v[i].value) < 0)
			fprintf(stderr, "masqc: %s: could not set sysctl %s = %s: %s\n", why,
				v->v[i].key, v->v[i].value, strerror(errno));
}

/* ---- logging (the watcher has no terminal) -------------------------------- */

static bool log_to_file;

static void wlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void wlog(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_to_file) {
		char *p = xasprintf("%s/confirm.log", run_dir());
		FILE *f = fopen(p, "a");
		char tb[32];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S", &tm);
		if (f) {
			fprintf(f, "%s masqc[%ld]: %s\n", tb, (long)getpid(), msg);
			fclose(f);
		}
		free(p);
		syslog(LOG_WARNING, "%s", msg);
	} else {
		fprintf(stderr, "masqc: %s\n", msg);
	}
}

/* ---- restore (rollback, confirm timeout) ---------------------------------- */

/* Puts generation target back, undoing the sysctls of the generations in
 * undo (newest first).  Lock held.  Returns an exit code. */
static int restore(unsigned target, const unsigned *undo, size_t nundo, bool force,
		   const char *status)
{
	struct build bd;
	kvvec kv = { 0 };
	enum kernel_backend cur_kb = gen_backend(state_current());
	int rc = gen_rebuild(target, force, cur_kb, &bd);
	char *dir;

	if (rc != EXIT_OK) {
		build_free(&bd);
		return rc;
	}
	if (build_commit(&bd, false) < 0) {
		rc = commit_failure(&bd.c.dq);
		print_diags(&bd.c.dq);
		build_free(&bd);
		wlog("the kernel refused generation %u; nothing was changed", target);
		return rc;
	}
	if (bd.kb != cur_kb && clear_backend(cur_kb) != EXIT_OK)
		wlog("generation %u is back (%s), but removing masqc's %s rules failed",
		     target, kernel_backend_name(bd.kb), kernel_backend_name(cur_kb));
	for (size_t i = 0; i < nundo; i++) {
		dir = gen_dir(undo[i]);
		kv_read(dir, "sysctl.prev", &kv);
		sysctls_write_all(&kv, "restoring sysctls");
		kv_free(&kv);
		gen_set_status(undo[i], status);
		free(dir);
	}
	if (target) {
		dir = gen_dir(target);
		kv_read(dir, "sysctl", &kv);
		sysctls_write_all(&kv, "restoring sysctls");
		kv_free(&kv);
		free(dir);
	}
	state_set_current(target);
	build_free(&bd);
	return EXIT_OK;
}

/* ---- the confirm watcher -------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmd_watch(int argc, char **argv)
{
	unsigned gen = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 0;
	struct pending p;
	int lock, rc;

	log_to_file = true;
	openlog("masqc", LOG_PID, LOG_DAEMON);
	/* an apply of a big ruleset holds the lock for seconds: the watcher
	 * waits its turn rather than give up on the restore */
	setenv("MASQC_LOCK_WAIT", "600", 1);
	for (;;) {
		if (pending_read(&p) != 0 || p.gen != gen)
			return EXIT_OK;	/* confirmed, rolled back, or superseded */
		if (time(NULL) >= p.deadline)
			break;
		sleep_ms(200);
	}
	lock = state_lock();
	if (lock < 0) {
		wlog("confirm timeout for generation %u, but the state lock is unavailable; "
		     "ruleset NOT restored", gen);
		return EXIT_TROUBLE;
	}
	/* confirm may have run while we waited for the lock */
	if (pending_read(&p) != 0 || p.gen != gen) {
		state_unlock(lock);
		return EXIT_OK;
	}
	rc = restore(p.restore, &gen, 1, true, "reverted");
	if (rc == EXIT_OK) {
		pending_clear();
		wlog("generation %u was not confirmed within its deadline: generation %u restored",
		     gen, p.restore);
	} else {
		wlog("generation %u was not confirmed, and restoring generation %u FAILED "
		     "(exit %d); generation %u stays in the kernel", gen, p.restore, rc, gen);
	}
	state_unlock(lock);
	return rc;
}

/* Starts the watcher outside this session; returns its pid or -1. */
static long spawn_watcher(unsigned gen)
{
	int pfd[2];
	pid_t child;
	long pid = -1;

	if (pipe(pfd) < 0)
		return -1;
	fflush(NULL);
	child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (child == 0) {
		pid_t gc;

		close(pfd[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		gc = fork();
		if (gc == 0) {
			char g[16];
			int fd = open("/dev/null", O_RDWR);

			/* no inherited descriptor may keep a pipe (a test's
			 * output, an SSH channel) or the state lock open */
			for (int i = 0; i < 3; i++)
				dup2(fd, i);
			for (int i = 3; i < 1024; i++)
				close(i);
			if (chdir("/") < 0)
				_exit(EXIT_TROUBLE);
			snprintf(g, sizeof(g), "%u", gen);
			execl("/proc/self/exe", "masqc", "--watch", g, (char *)NULL);
			/* no /proc: watch from this image */
			{
				char *av[] = { (char *)"--watch", g, NULL };

				_exit(cmd_watch(2, av));
			}
		}
		pid = gc;
		if (write(pfd[1], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
			_exit(1);
		_exit(gc > 0 ? 0 : 1);
	}
	close(pfd[1]);
	if (read(pfd[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid))
		pid = -1;
	close(pfd[0]);
	waitpid(child, NULL, 0);
	return pid;
}

/* ---- apply --------------------------------------------------------------- */

static unsigned keep_count(void)
{
	const char *e = getenv("MASQC_KEEP");
	long n = e && *e ? atol(e) : STATE_KEEP_DEFAULT;

	return n < 2 ? 2 : (unsigned)n;
}

static unsigned next_gen_id(void)
{
	unsigned *ids, next = state_current() + 1;
	size_t n = state_list(&ids);

	if (n && ids[n - 1] >= next)
		next = ids[n - 1] + 1;
	free(ids);
	return next;
}

/* dir/name, a text file for people (the mode fopen gives), filled by
 * fill(f, arg), synced; 0, or -1 with a message. */
static int text_file(const char *dir, const char *name, void (*fill)(FILE *f, void *arg),
		     void *arg)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	int r = -1;

	if (f) {
		fill(f, arg);
		r = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
		if (fclose(f) != 0)
			r = -1;
	}
	if (r < 0)
		fprintf(stderr, "masqc: cannot write %s: %s\n", p, strerror(errno));
	free(p);
	return r;
}

struct emit_job {
	const struct build *bd;
	int fam;			/* -1: nft */
	const struct compile_opts *co;
	struct diag_queue *dq;
};

static void emit_fill(FILE *f, void *arg)
{
	const struct emit_job *j = arg;
	struct emit_opts eo = { .locations = true, .inputs = j->co->scripts,
				.ninputs = j->co->nscripts };

	if (j->fam < 0)
		nft_emit(j->bd->c.rs, f, &eo, j->dq);
	else
		ipt_emit(j->bd->c.rs, (enum ir_family)j->fam, f, &eo, j->dq);
}

/* The ruleset as text, for people and for loading by hand: ruleset.nft
 * (`nft -f`), or for iptables-legacy ruleset.ipt (and ruleset.ip6t when
 * there are IPv6 rules) for iptables-legacy-restore.  The backend's own
 * build already reported what cannot be expressed: a text writer's
 * complaints about the other format are not the user's business. */
static int gen_write_file(const char *dir, const char *name, const struct build *bd, int fam,
			  const struct compile_opts *co, struct diag_queue *dq)
{
	struct emit_job j = { bd, fam, co, dq };

	return text_file(dir, name, emit_fill, &j);
}

/* The build's own check already reported what the text cannot say
 * (nl_batch_build, iptc_set_build): a second emission's diagnostics are
 * dropped (and would race with the commit's, which share bd->c.dq). */
static int gen_write_text(const char *dir, struct build *bd, const struct compile_opts *co)
{
	struct diag_queue dq = { 0 };
	int r;

	if (bd->kb != KB_IPTABLES_LEGACY) {
		r = gen_write_file(dir, "ruleset.nft", bd, -1, co, &dq);
		diag_queue_free(&dq);
		return r;
	}
	r = gen_write_file(dir, "ruleset.ipt", bd, IR_FAM_IPV4, co, &dq);
	for (const struct ir_table *t = bd->c.rs->tables; r == 0 && t; t = t->next)
		if (t->family == IR_FAM_IPV6) {
			r = gen_write_file(dir, "ruleset.ip6t", bd, IR_FAM_IPV6, co, &dq);
			break;
		}
	diag_queue_free(&dq);
	return r;
}

/* Writing a generation's files into gen/N.tmp.  With the nft backend
 * this runs in a thread of its own while the kernel commits the batch
 * (at 100k rules the commit is most of a second of kernel time on one
 * core; the rendering, the nft text and the writes take about as long on
 * the other), so it touches nothing the commit does: not the diagnostics
 * queue, not the batch's wire buffer.  The batch's objects are only read
 * by both. */
struct recorder {
	const char *tmp;
	struct build *bd;
	const struct compile_opts *co;
	struct gen_meta *m;
	const struct strbuf *options;
	char *sysctls;		/* the rendering's tail, when it is made here */
	size_t sysctls_len;
	bool free_ir;		/* the IR goes after the nft text */
	double secs;		/* MASQC_TIMES */
	int r, err;
};

struct text_job {
	const char *text;
	size_t len;
};

static void text_fill(FILE *f, void *arg)
{
	const struct text_job *j = arg;

	fwrite(j->text, 1, j->len, f);
}

/* The rendering on its way to gen/N.tmp/render. */
struct render_out {
	int fd;
	uint64_t hash;
	unsigned long rules;
	bool bol;		/* at the start of a line */
};

static int render_piece(const char *s, size_t n, void *arg)
{
	struct render_out *ro = arg;

	ro->hash = text_hash_add(ro->hash, s, n);
	for (size_t i = 0; i < n; i++) {
		if (ro->bol && n - i >= 5 && !memcmp(s + i, "rule ", 5))
			ro->rules++;
		ro->bol = s[i] == '\n';
	}
	for (size_t off = 0; off < n;) {
		ssize_t w = write(ro->fd, s + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static int render_write(struct recorder *rec)
{
	char *p = xasprintf("%s/render", rec->tmp);
	struct render_out ro = { open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600),
				 TEXT_HASH_INIT, 0, true };
	int r = ro.fd < 0 ? -1 : 0;

	if (r == 0)
		r = nl_render_stream(nl_batch_ruleset(rec->bd->b), NL_RENDER_LOCATIONS |
				     NL_RENDER_INLINE_SETS, render_piece, &ro);
	/* the sysctl lines end it, as in render_batch() */
	if (r == 0 && rec->sysctls_len)
		r = render_piece(rec->sysctls, rec->sysctls_len, &ro);
	if (r == 0 && fsync(ro.fd) < 0)
		r = -1;
	if (ro.fd >= 0 && close(ro.fd) < 0)
		r = -1;
	if (r < 0)
		fprintf(stderr, "masqc: cannot write %s: %s\n", p, strerror(errno));
	free(p);
	if (r == 0) {
		rec->m->render_hash = xstrdup(text_hash_hex(ro.hash));
		rec->m->rules = rec->bd->rules = ro.rules;
	}
	return r;
}

static void *record_gen(void *arg)
{
	struct recorder *rec = arg;
	struct build *bd = rec->bd;
	const char *hook = getenv("MASQC_TEST_FAIL_RECORD");
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rec->r = -1;
	/* the nft text: for people, and for `nft -f` by hand; written from
	 * the IR, unless the batch's check made it already */
	if (!bd->nft_text && gen_write_text(rec->tmp, bd, rec->co) < 0)
		goto out;
	/* what the batch's check freed (main arena) goes back at once */
	heap_trim();
	/* then the IR (the sysctls were taken) goes: the commit's wire
	 * buffer is being built beside this; what is freed goes back to the
	 * system only when trimmed */
	if (rec->free_ir) {
		ir_ruleset_free_rules(bd->c.rs, 10000, heap_trim);
		ir_ruleset_free(bd->c.rs);
		bd->c.rs = NULL;
		heap_trim();
	}
	if (bd->nft_text) {
		struct text_job j = { bd->nft_text, bd->nft_text_len };
		int r = text_file(rec->tmp, "ruleset.nft", text_fill, &j);

		free(bd->nft_text);
		bd->nft_text = NULL;
		if (r < 0)
			goto out;
	}
	if (!bd->render) {
		/* rendered straight to the file, hashed and counted on the way:
		 * tens of MB at 100k rules that are never held whole */
		if (render_write(rec) < 0)
			goto out;
	} else {
		rec->m->render_hash = xstrdup(text_hash(bd->render, bd->render_len));
		if (gen_write(rec->tmp, "render", bd->render, bd->render_len) < 0)
			goto out;
		free(bd->render);
		bd->render = NULL;
	}
	if (gen_write(rec->tmp, "options", sb_str(rec->options), rec->options->len) < 0 ||
	    sources_write(rec->tmp, &bd->c.ss) < 0 || gen_meta_write(rec->tmp, rec->m) < 0)
		goto out;
	/* tests only: a record that fails once everything is written */
	if (hook && *hook == '1') {
		fputs("masqc: test hook: recording the generation fails\n", stderr);
		errno = EIO;
		goto out;
	}
	rec->r = 0;
out:
	rec->err = rec->r < 0 ? errno : 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rec->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	return NULL;
}

/* Records, commits, sets sysctls, makes current.  Lock held.
 * status: "applied", "pending" (with confirm > 0), "loaded".
 *
 * The generation is written to gen/N.tmp -- with the nft backend beside
 * the commit (record_gen) -- and renamed to gen/N only once both the
 * commit and the writing succeeded: a refused batch leaves no generation
 * and the previous ruleset; a record that fails after a successful commit
 * says so (the ruleset is loaded, generation N is not recorded). */
static int install(struct build *bd, const struct compile_opts *co, const char *status,
		   long confirm, unsigned *out_gen)
{
	unsigned cur = state_current(), gen = next_gen_id();
	char *tmp = xasprintf("%s/gen/%u.tmp", state_dir(), gen), *dir = gen_dir(gen);
	struct gen_meta m = { .id = gen, .parent = cur, .time = time(NULL), .rules = bd->rules };
	struct strbuf sb = { 0 };
	kvvec set = { 0 }, prev = { 0 };
	struct recorder rec = { .tmp = tmp, .bd = bd, .co = co, .m = &m, .options = &sb,
				.free_ir = bd->kb == KB_NFT };
	pthread_t th;
	bool threaded = false, times = getenv("MASQC_TIMES") && *getenv("MASQC_TIMES") == '1';
	int rc = EXIT_TROUBLE, crc;

	if (cur && access(dir, F_OK) == 0) {
		fprintf(stderr, "masqc: generation %u already exists, state is inconsistent\n", gen);
		goto out;
	}
	if (cur) {
		char *cd = gen_dir(cur);

		if (access(cd, F_OK) < 0) {
			fprintf(stderr, "masqc: warning: current generation %u is gone from %s; "
				"this apply's parent is 'none'\n", cur, state_dir());
			m.parent = cur = 0;
		}
		free(cd);
	}
	rm_rf(tmp);
	if (mkdir(tmp, 0700) < 0) {
		fprintf(stderr, "masqc: cannot create %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (options_text(co, &sb) < 0) {
		fputs("masqc: a -D value or --arg holds a newline; it cannot be recorded\n", stderr);
		goto out_rm;
	}
	{
		struct strbuf names = { 0 };

		for (unsigned i = 0; i < co->nscripts; i++)
			sb_addf(&names, "%s%s", i ? " " : "", co->scripts[i]);
		m.scripts = sb_steal(&names);
	}
	snprintf(m.status, sizeof(m.status), "%s", status);
	/* what the commit's aftermath needs of the IR, before it goes */
	sysctls_of(bd->c.rs, &set);
	if (!bd->render) {
		rec.sysctls = sysctl_lines(bd->c.rs, &rec.sysctls_len);
		threaded = pthread_create(&th, NULL, record_gen, &rec) == 0;
	}
	/* iptables-legacy: its rendering is made, so recorded first; its
	 * entries keep their own copies of the rules' locations (ipt.c), so
	 * the IR goes before the commit's snapshots, as for nft */
	if (!threaded) {
		record_gen(&rec);
		if (rec.r < 0)
			goto out_rm;
		phase_mark("record generation");
		if (bd->c.rs) {
			ir_ruleset_free(bd->c.rs);
			bd->c.rs = NULL;
			heap_trim();
		}
	}
	crc = build_commit(bd, false);
	phase_mark("commit");
	if (threaded) {
		pthread_join(th, NULL);
		phase_mark("waiting for the record");
		if (times)
			fprintf(stderr, "masqc: time: %-24s %.3f s  (beside the commit)\n",
				"record generation", rec.secs);
	}
	if (crc < 0) {
		rc = commit_failure(&bd->c.dq);
		goto out_rm;
	}
	/* moving between backends: the other one's masqc rules go */
	if (cur && gen_backend(cur) != bd->kb && clear_backend(gen_backend(cur)) != EXIT_OK)
		fprintf(stderr, "masqc: warning: the ruleset is loaded (%s), but removing masqc's "
			"%s rules failed (above)\n", kernel_backend_name(bd->kb),
			kernel_backend_name(gen_backend(cur)));
	/* the ruleset is in; from here on only the record can fail */
	sysctls_set(&set, &prev, &bd->c.dq);
	if (rec.r < 0) {
		fprintf(stderr, "masqc: the ruleset is loaded, but recording generation %u failed: %s\n",
			gen, strerror(rec.err));
		rm_rf(tmp);
		goto unrecorded;
	}
	sb.len = 0;
	kv_text(&set, &sb);
	gen_write(tmp, "sysctl", sb_str(&sb), sb.len);
	sb.len = 0;
	kv_text(&prev, &sb);
	gen_write(tmp, "sysctl.prev", sb_str(&sb), sb.len);
	if (rename(tmp, dir) < 0 || state_set_current(gen) < 0) {
		fprintf(stderr, "masqc: the ruleset is loaded, but recording generation %u failed: %s\n",
			gen, strerror(errno));
		goto unrecorded;
	}
	if (confirm > 0) {
		struct pending p = { gen, cur, time(NULL) + confirm, 0 };

		pending_write(&p);
		p.pid = spawn_watcher(gen);
		if (p.pid < 0) {
			/* nobody would roll back: do it now rather than pretend */
			fputs("masqc: cannot start the confirm watcher; restoring the previous ruleset\n", stderr);
			restore(cur, &gen, 1, true, "reverted");
			pending_clear();
			goto out;
		}
		pending_write(&p);
	}
	{
		unsigned keep[2] = { gen, cur };

		state_prune(keep_count(), keep, 2);
	}
	*out_gen = gen;
	rc = EXIT_OK;
	goto out;
unrecorded:
	/* no generation, so no watcher either: with --confirm nobody would
	 * roll back, so the previous ruleset (and sysctls) come back now */
	if (confirm > 0) {
		fputs("masqc: --confirm without a recorded generation: restoring the previous "
		      "ruleset\n", stderr);
		if (restore(cur, NULL, 0, true, "reverted") == EXIT_OK)
			sysctls_write_all(&prev, "restoring sysctls");
	}
	goto out;
out_rm:
	rm_rf(tmp);
out:
	free(rec.sysctls);
	kv_free(&set);
	kv_free(&prev);
	gen_meta_free(&m);
	sb_free(&sb);
	free(tmp);
	free(dir);
	return rc;
}

/* Lock, and refuse while a --confirm waits: the generation to restore
 * would be ambiguous.  Returns the lock fd or a negative exit code. */
static int lock_for_change(bool refuse_pending)
{
	struct pending p;
	int lock;

	if (state_init() < 0)
		return -EXIT_TROUBLE;
	lock = state_lock();
	if (lock == -2)
		return -EXIT_BUSY;
	if (lock < 0)
		return -EXIT_TROUBLE;
	if (refuse_pending && pending_read(&p) == 0) {
		if (p.pid > 0 && kill((pid_t)p.pid, 0) < 0 && errno == ESRCH) {
			/* its watcher is gone (killed by hand): nothing will
			 * ever roll it back, so it is as good as confirmed */
			fprintf(stderr, "masqc: warning: generation %u was waiting for confirmation but its "
				"watcher (pid %ld) is gone; treating it as confirmed\n", p.gen, p.pid);
			pending_clear();
			gen_set_status(p.gen, "confirmed");
			return lock;
		}
		fprintf(stderr, "masqc: generation %u awaits confirmation (deadline in %lld s); "
			"run 'masqc confirm' or 'masqc rollback' first\n", p.gen,
			(long long)(p.deadline - time(NULL)));
		state_unlock(lock);
		return -EXIT_BUSY;
	}
	return lock;
}

int cmd_apply(struct cli *o)
{
	struct build bd = { .defer_render = true };
	unsigned gen = 0;
	int rc = build(&o->co, &bd), lock;

	if (rc != EXIT_OK) {
		print_diags(&bd.c.dq);
		build_free(&bd);
		return rc;
	}
	lock = lock_for_change(true);
	if (lock < 0) {
		print_diags(&bd.c.dq);
		build_free(&bd);
		return -lock;
	}
	rc = install(&bd, &o->co, o->confirm > 0 ? "pending" : "applied", o->confirm, &gen);
	state_unlock(lock);
	print_diags(&bd.c.dq);
	if (rc == EXIT_OK) {
		printf("masqc: generation %u applied (%lu rules)\n", gen, bd.rules);
		if (o->confirm > 0)
			printf("masqc: run 'masqc confirm' within %ld seconds, or the previous ruleset "
			       "comes back\n", o->confirm);
	}
	build_free(&bd);
	return rc;
}

/* ---- confirm, rollback ------------------------------------------------------ */

int cmd_confirm(struct cli *o)
{
	struct pending p;
	int lock = lock_for_change(false);

	if (lock < 0)
		return -lock;
	if (pending_read(&p) != 0) {
		unsigned cur = state_current();
		struct gen_meta m;

		if (cur && gen_meta_read(cur, &m) == 0) {
			fprintf(stderr, "masqc: nothing to confirm (generation %u is %s)\n", cur, m.status);
			gen_meta_free(&m);
		} else {
			fputs("masqc: nothing to confirm\n", stderr);
		}
		state_unlock(lock);
		return EXIT_NOTHING;
	}
	pending_clear();
	gen_set_status(p.gen, "confirmed");
	state_unlock(lock);
	printf("masqc: generation %u confirmed\n", p.gen);
	return EXIT_OK;
}

static int rollback_list(void)
{
	unsigned *ids, cur = state_current();
	size_t n = state_list(&ids);
	struct pending p;
	bool pend = pending_read(&p) == 0;

	printf("%-4s %-3s %-19s %-11s %8s  %-6s %s\n", "", "gen", "time", "status", "rules", "parent", "scripts");
	for (size_t i = n; i-- > 0;) {
		struct gen_meta m;
		char tb[32];
		struct tm tm;

		if (gen_meta_read(ids[i], &m) < 0)
			continue;
		localtime_r(&m.time, &tm);
		strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-4s %-3u %-19s %-11s %8lu  %-6u %s\n", ids[i] == cur ? "*" : "", ids[i], tb,
		       pend && p.gen == ids[i] ? "pending" : m.status, m.rules, m.parent, m.scripts);
		gen_meta_free(&m);
	}
	if (n == 0)
		puts("(no generations)");
	free(ids);
	return EXIT_OK;
}

int cmd_rollback(struct cli *o)
{
	VEC(unsigned) undo = { 0 };
	unsigned cur, target;
	struct pending p;
	int lock, rc;

	if (o->list)
		return rollback_list();
	lock = lock_for_change(false);
	if (lock < 0)
		return -lock;
	cur = target = state_current();
	for (unsigned s = 0; s < o->steps; s++) {
		struct gen_meta m;

		if (target == 0 || gen_meta_read(target, &m) < 0) {
			fprintf(stderr, "masqc: no generation to roll back to (%u step%s back from %u)\n",
				o->steps, o->steps == 1 ? "" : "s", cur);
			state_unlock(lock);
			vec_free(&undo);
			return EXIT_NOTHING;
		}
		vec_push(&undo, target);
		target = m.parent;
		gen_meta_free(&m);
	}
	if (target) {
		char *td = gen_dir(target);
		bool gone = access(td, F_OK) < 0;

		free(td);
		if (gone) {
			fprintf(stderr, "masqc: generation %u, %u step%s back, is no longer kept "
				"(MASQC_KEEP generations are); nothing was changed\n", target, o->steps,
				o->steps == 1 ? "" : "s");
			state_unlock(lock);
			vec_free(&undo);
			return EXIT_NOTHING;
		}
	}
	rc = restore(target, undo.v, undo.n, o->force, "rolled-back");
	if (rc == EXIT_OK) {
		/* a pending confirmation is settled by the rollback */
		if (pending_read(&p) == 0) {
			pending_clear();
			gen_set_status(p.gen, "reverted");
		}
		if (target)
			printf("masqc: rolled back to generation %u\n", target);
		else
			puts("masqc: rolled back to before the first generation: masqc's tables removed");
	}
	state_unlock(lock);
	vec_free(&undo);
	return rc;
}

/* ---- load (boot) ------------------------------------------------------------ */

int cmd_load(struct cli *o)
{
	struct source_set css = { 0 };
	struct diag_queue cdq = { 0 };
	struct masqc_conf conf;
	const char *path = conf_path();
	struct build bd = { .defer_render = true };
	char err[256];
	unsigned gen = 0;
	int crc, rc, lock;

	crc = conf_load(path, &css, &cdq, &conf);
	/* first the lockdown, whatever the configuration's state */
	if (lockdown_install(&conf.lockdown, err, sizeof(err)) < 0) {
		diag_print(&cdq, stderr, false);
		fprintf(stderr, "masqc load: cannot install the lockdown table: %s\n", err);
		rc = EXIT_TROUBLE;
		goto out;
	}
	if (crc < 0) {
		diag_print(&cdq, stderr, compile_color());
		fprintf(stderr, "masqc load: %s is broken (above); staying locked down "
			"(table inet " LOCKDOWN_TABLE ")\n", path);
		rc = EXIT_TROUBLE;
		goto out;
	}
	rc = build(&conf.co, &bd);
	if (rc != EXIT_OK) {
		print_diags(&bd.c.dq);
		fprintf(stderr, "masqc load: the ruleset did not compile (above); staying locked down "
			"(table inet " LOCKDOWN_TABLE ")\n");
		goto out;
	}
	lock = lock_for_change(false);
	if (lock < 0) {
		rc = -lock;
		fprintf(stderr, "masqc load: cannot take the state lock; staying locked down\n");
		goto out;
	}
	/* a confirmation from before a reboot is moot: this is what boots */
	pending_clear();
	rc = install(&bd, &conf.co, "loaded", 0, &gen);
	state_unlock(lock);
	print_diags(&bd.c.dq);
	if (rc != EXIT_OK) {
		fprintf(stderr, "masqc load: loading the ruleset failed (above); staying locked down "
			"(table inet " LOCKDOWN_TABLE ")\n");
		goto out;
	}
	if (lockdown_remove(err, sizeof(err)) < 0) {
		fprintf(stderr, "masqc load: the ruleset is loaded (generation %u), but removing the "
			"lockdown failed: %s\n", gen, err);
		rc = EXIT_TROUBLE;
		goto out;
	}
	printf("masqc load: generation %u loaded (%lu rules); lockdown lifted\n", gen, bd.rules);
out:
	build_free(&bd);
	conf_free(&conf);
	diag_queue_free(&cdq);
	source_set_free(&css);
	(void)o;
	return rc;
}
