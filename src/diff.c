/* diff.c -- masqc diff: what would change.
 *
 *   masqc diff [opts] SCRIPT...                 running kernel -> compiled
 *   masqc diff [opts] OLD... -- NEW...          compiled OLD -> compiled NEW
 *   masqc diff [opts] --old OLD SCRIPT...       the same, long form
 *   masqc diff [opts] --against FILE SCRIPT...  saved rendering -> compiled
 *
 * Every side is the same normalised text, nl_render() of a batch or of the
 * kernel's readback (netlink.h) with sets written inline and each rule's
 * "  # file:line", followed by "sysctl KEY = VALUE" lines: for the running
 * side the kernel's current values of the keys the compiled script sets.
 * Right after `masqc apply` the running side renders exactly like the
 * compiled one, so the diff is empty.  Compiled vs compiled needs neither
 * root nor a kernel: nl_batch_build() only builds messages.
 *
 * Exit status like diff(1): 0 same, 1 different, 2 trouble (including
 * scripts that do not compile: there is nothing to compare).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "state.h"
#include "textdiff.h"
#include "backends/netlink.h"
#ifdef HAVE_IPTC
#include "backends/iptc.h"
#endif

static char *compiled_side(const struct compile_opts *co, struct compiled *c)
{
	char *r;

	if (compile_scripts(co, c) < 0)
		return NULL;
	if (diag_has_errors(&c->dq))
		return NULL;
	r = render_compiled(c->rs, co->backend, &c->dq);
	return r;
}

static char *join(const char *prefix, const char *const *v, unsigned n)
{
	struct strbuf sb = { 0 };

	sb_add(&sb, prefix);
	for (unsigned i = 0; i < n; i++)
		sb_addf(&sb, "%s%s", i ? " " : "", v[i]);
	return sb_steal(&sb);
}

/* The kernel's side is read (and rendered) by a thread while the scripts
 * compile: at 100k rules each half is about a second, and the two are
 * independent until the comparison. */
struct kernel_read {
	pthread_t th;
	bool started;
	int err;
	char *text;
};

static void *kernel_read_run(void *arg)
{
	struct kernel_read *kr = arg;
	struct nl_ruleset *k;

	kr->err = nl_ruleset_read(&k);
	if (kr->err < 0)
		return NULL;
	kr->text = nl_render(k, NL_RENDER_LOCATIONS | NL_RENDER_INLINE_SETS);
	/* while the compile goes on: the objects go (about 100 MB at 100k
	 * rules); this thread's heap gives its top back by itself, and a
	 * malloc_trim() of every arena cost more time than memory it saved
	 * (peak 336-375 MB either way) */
	nl_ruleset_free(k);
	return NULL;
}

static void kernel_read_start(struct kernel_read *kr)
{
	kr->started = pthread_create(&kr->th, NULL, kernel_read_run, kr) == 0;
}

/* masqc's part of the iptables-legacy tables, read through libiptc. */
static int running_legacy(const struct ir_ruleset *rs, struct diag_queue *dq, char **text)
{
#ifdef HAVE_IPTC
	struct iptc_set *s = iptc_set_build(rs, dq);
	char *prev;
	int err;

	if (!s)
		return -EINVAL;
	prev = iptc_owned_read();
	err = iptc_render_running(s, prev, text);
	free(prev);
	iptc_set_free(s);
	return err;
#else
	(void)rs;
	(void)dq;
	*text = NULL;
	return -ENOSYS;
#endif
}

/* The kernel's side: masqc's tables, then the current value of every
 * sysctl the compiled ruleset sets. */
static char *running_side(const struct ir_ruleset *rs, enum kernel_backend kb,
			  struct diag_queue *dq, struct kernel_read *kr)
{
	struct strbuf sb = { 0 };
	char *text = NULL;
	int err = 0;

	if (kb == KB_IPTABLES_LEGACY) {
		/* libiptc's side is read against the compiled entries */
		err = running_legacy(rs, dq, &text);
	} else {
		if (kr->started)
			pthread_join(kr->th, NULL);
		else
			kernel_read_run(kr);
		kr->started = false;
		err = kr->err;
		text = kr->text;
		kr->text = NULL;
	}
	if (err < 0) {
		free(text);
		fprintf(stderr, "masqc: diff: cannot read the running ruleset: %s%s\n", strerror(-err),
			err == -EPERM ? " (needs CAP_NET_ADMIN: root, or `unshare -rn` for a private "
			"namespace; to compare scripts without a kernel use OLD -- NEW)" : "");
		return NULL;
	}
	/* the rendering, with the sysctl lines appended in place */
	sb.buf = text ? text : xstrdup("");
	sb.len = strlen(sb.buf);
	sb.cap = sb.len + 1;
	for (const struct ir_sysctl *s = rs->sysctls; s; s = s->next) {
		bool seen = false;
		char *v;

		for (const struct ir_sysctl *t = rs->sysctls; t != s; t = t->next)
			seen |= !strcmp(t->key, s->key);
		if (seen)
			continue;
		v = sysctl_read(s->key);
		sb_addf(&sb, "sysctl %s = %s\n", s->key, v ? v : "(absent)");
		free(v);
	}
	return sb_steal(&sb);
}

/* A saved rendering; nft text is refused with a hint, not compared. */
static char *file_side(const char *path)
{
	size_t len;
	char *t = read_file(path, &len);

	if (!t) {
		fprintf(stderr, "masqc: diff: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (strstr(t, "\ndelete table ") || !strncmp(t, "#!", 2) || strstr(t, " {\n")) {
		fprintf(stderr, "masqc: diff: %s is nft text, not a rendering; save one with "
			"'masqc compile -t render -o FILE', or use a generation's "
			"%s/gen/N/render\n", path, state_dir());
		free(t);
		return NULL;
	}
	return t;
}

int cmd_diff(struct cli *o)
{
	struct compiled nc = { 0 }, oc = { 0 };
	struct text_diff_opts to = { .json = o->json, .context = 3 };
	struct kernel_read kr = { 0 };
	char *new_text = NULL, *old_text = NULL, *old_label = NULL, *new_label;
	int rc = EXIT_TROUBLE;

	/* against the kernel: the backend the running generation went in with */
	if (o->co.backend == KB_DEFAULT && !o->old.n && !o->against)
		o->co.backend = current_backend();
	new_label = join("compiled: ", o->co.scripts, o->co.nscripts);
	phase_mark(NULL);
	if (!o->old.n && !o->against && o->co.backend != KB_IPTABLES_LEGACY) {
		kernel_read_start(&kr);
		/* that thread has the other core: a parse thread would only
		 * add the cost of handing lines over */
		o->co.serial_parse = kr.started;
	}
	new_text = compiled_side(&o->co, &nc);
	if (!new_text)
		goto out;
	phase_mark("compile + render");
	if (o->old.n) {
		struct compile_opts oo = o->co;

		oo.scripts = o->old.v;
		oo.nscripts = (unsigned)o->old.n;
		old_label = join("compiled: ", oo.scripts, oo.nscripts);
		old_text = compiled_side(&oo, &oc);
	} else if (o->against) {
		old_label = xstrdup(o->against);
		old_text = file_side(o->against);
	} else {
		old_label = xstrdup("running ruleset");
		old_text = running_side(nc.rs, o->co.backend, &nc.dq, &kr);
	}
	if (!old_text)
		goto out;
	phase_mark("old side");
	to.old_label = old_label;
	to.new_label = new_label;
	rc = text_diff(old_text, new_text, &to, stdout, NULL);
	if (fflush(stdout) != 0)
		rc = EXIT_TROUBLE;
	phase_mark("diff");
out:
	if (kr.started)
		pthread_join(kr.th, NULL);
	free(kr.text);
	/* warnings too: a diff in CI should show what compile would say */
	diag_print(&oc.dq, stderr, compile_color());
	diag_print(&nc.dq, stderr, compile_color());
	if (rc == EXIT_TROUBLE && (diag_has_errors(&nc.dq) || diag_has_errors(&oc.dq)))
		fputs("masqc: diff: the scripts do not compile (above); nothing to compare\n", stderr);
	free(new_text);
	free(old_text);
	free(old_label);
	free(new_label);
	compiled_free(&nc);
	compiled_free(&oc);
	return rc;
}
