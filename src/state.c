/* state.c -- generations, lock, pending confirmation, sysctls (state.h).
 *
 * Every file is written whole to a temporary name and renamed into place,
 * so a crash (or the power going) mid-write leaves the old file or the new
 * one, never half of one.  A generation directory is built as gen/N.tmp and
 * renamed to gen/N only once the kernel took its ruleset.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

const char *state_dir(void)
{
	const char *e = getenv("MASQC_STATE_DIR");

	return e && *e ? e : "/var/lib/masqc";
}

const char *run_dir(void)
{
	const char *e = getenv("MASQC_RUN_DIR");

	return e && *e ? e : "/run/masqc";
}

int mkdir_p(const char *path, unsigned mode)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		goto fail;
	free(p);
	return 0;
fail:
	fprintf(stderr, "masqc: cannot create %s: %s\n", p, strerror(errno));
	free(p);
	return -1;
}

int state_init(void)
{
	char *g = xasprintf("%s/gen", state_dir());
	int r = mkdir_p(g, 0700);

	free(g);
	if (r == 0)
		r = mkdir_p(run_dir(), 0700);
	return r;
}

int state_lock(void)
{
	char *path = xasprintf("%s/lock", run_dir());
	const char *w = getenv("MASQC_LOCK_WAIT");
	long wait_ms = (w && *w ? atol(w) : 30) * 1000;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "masqc: cannot open the lock %s: %s\n", path, strerror(errno));
		free(path);
		return -1;
	}
	for (long waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 100) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "masqc: cannot lock %s: %s\n", path, strerror(errno));
			goto fail;
		}
		if (waited >= wait_ms) {
			fprintf(stderr, "masqc: another masqc holds %s (waited %ld s; "
				"MASQC_LOCK_WAIT sets how long)\n", path, wait_ms / 1000);
			close(fd);
			free(path);
			return -2;
		}
		usleep(100 * 1000);
	}
	free(path);
	return fd;
fail:
	close(fd);
	free(path);
	return -1;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int write_file_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	fprintf(stderr, "masqc: cannot write %s: %s\n", path, strerror(errno));
	unlink(tmp);
	free(tmp);
	return -1;
}

int rm_rf(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	while ((e = readdir(d))) {
		char *p;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", path, e->d_name);
		rm_rf(p);
		free(p);
	}
	closedir(d);
	return rmdir(path);
}

static char *read_small(const char *path)
{
	size_t len;

	return read_file(path, &len);
}

unsigned state_current(void)
{
	char *p = xasprintf("%s/current", state_dir());
	char *t = read_small(p);
	unsigned id = t ? (unsigned)strtoul(t, NULL, 10) : 0;

	free(t);
	free(p);
	return id;
}

int state_set_current(unsigned id)
{
	char *p = xasprintf("%s/current", state_dir());
	char *t = xasprintf("%u\n", id);
	int r = write_file_atomic(p, t, strlen(t));

	free(t);
	free(p);
	return r;
}

static int id_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

size_t state_list(unsigned **ids)
{
	char *g = xasprintf("%s/gen", state_dir());
	DIR *d = opendir(g);
	VEC(unsigned) v = { 0 };
	struct dirent *e;

	free(g);
	*ids = NULL;
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *end;
		unsigned long n = strtoul(e->d_name, &end, 10);

		if (*end || end == e->d_name || n == 0)
			continue;	/* ".", "..", "N.tmp" */
		vec_push(&v, (unsigned)n);
	}
	closedir(d);
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), id_cmp);
	*ids = v.v;
	return v.n;
}

char *gen_dir(unsigned id)
{
	return xasprintf("%s/gen/%u", state_dir(), id);
}

void gen_meta_free(struct gen_meta *m)
{
	free(m->scripts);
	free(m->render_hash);
	m->scripts = m->render_hash = NULL;
}

int gen_meta_read(unsigned id, struct gen_meta *m)
{
	char *dir = gen_dir(id), *p = xasprintf("%s/meta", dir);
	char *t = read_small(p), *line, *save = NULL;

	free(p);
	free(dir);
	memset(m, 0, sizeof(*m));
	if (!t)
		return -1;
	m->id = id;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "parent"))
			m->parent = (unsigned)strtoul(eq, NULL, 10);
		else if (!strcmp(line, "time"))
			m->time = (time_t)strtoll(eq, NULL, 10);
		else if (!strcmp(line, "status"))
			snprintf(m->status, sizeof(m->status), "%s", eq);
		else if (!strcmp(line, "rules"))
			m->rules = strtoul(eq, NULL, 10);
		else if (!strcmp(line, "scripts"))
			m->scripts = xstrdup(eq);
		else if (!strcmp(line, "render_hash"))
			m->render_hash = xstrdup(eq);
	}
	free(t);
	if (!m->scripts)
		m->scripts = xstrdup("");
	return 0;
}

int gen_meta_write(const char *dir, const struct gen_meta *m)
{
	char *p = xasprintf("%s/meta", dir);
	struct strbuf sb = { 0 };
	char tbuf[64];
	struct tm tm;
	int r;

	localtime_r(&m->time, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S %z", &tm);
	sb_addf(&sb, "id=%u\nparent=%u\ntime=%lld\ndate=%s\nstatus=%s\nrules=%lu\n"
		"scripts=%s\nrender_hash=%s\nversion=%s\n", m->id, m->parent,
		(long long)m->time, tbuf, m->status, m->rules, m->scripts ? m->scripts : "",
		m->render_hash ? m->render_hash : "", PACKAGE_VERSION);
	r = write_file_atomic(p, sb_str(&sb), sb.len);
	sb_free(&sb);
	free(p);
	return r;
}

int gen_set_status(unsigned id, const char *status)
{
	struct gen_meta m;
	char *dir;
	int r;

	if (gen_meta_read(id, &m) < 0)
		return -1;
	snprintf(m.status, sizeof(m.status), "%s", status);
	dir = gen_dir(id);
	r = gen_meta_write(dir, &m);
	free(dir);
	gen_meta_free(&m);
	return r;
}

void state_prune(unsigned keep, const unsigned *keep_ids, size_t nkeep)
{
	unsigned *ids;
	size_t n = state_list(&ids), excess = n > keep ? n - keep : 0;

	for (size_t i = 0; i < n && excess; i++) {
		bool protected = false;
		char *d;

		for (size_t k = 0; k < nkeep; k++)
			protected |= ids[i] == keep_ids[k];
		if (protected)
			continue;
		d = gen_dir(ids[i]);
		rm_rf(d);
		free(d);
		excess--;
	}
	free(ids);
}

int pending_read(struct pending *p)
{
	char *path = xasprintf("%s/pending", run_dir());
	char *t = read_small(path), *line, *save = NULL;

	free(path);
	memset(p, 0, sizeof(*p));
	if (!t)
		return errno == ENOENT ? 1 : -1;
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "gen=", 4))
			p->gen = (unsigned)strtoul(line + 4, NULL, 10);
		else if (!strncmp(line, "restore=", 8))
			p->restore = (unsigned)strtoul(line + 8, NULL, 10);
		else if (!strncmp(line, "deadline=", 9))
			p->deadline = (time_t)strtoll(line + 9, NULL, 10);
		else if (!strncmp(line, "pid=", 4))
			p->pid = strtol(line + 4, NULL, 10);
	}
	free(t);
	return p->gen ? 0 : 1;
}

int pending_write(const struct pending *p)
{
	char *path = xasprintf("%s/pending", run_dir());
	char *t = xasprintf("gen=%u\nrestore=%u\ndeadline=%lld\npid=%ld\n", p->gen, p->restore,
			    (long long)p->deadline, p->pid);
	int r = write_file_atomic(path, t, strlen(t));

	free(t);
	free(path);
	return r;
}

int pending_clear(void)
{
	char *path = xasprintf("%s/pending", run_dir());
	int r = unlink(path) < 0 && errno != ENOENT ? -1 : 0;

	free(path);
	return r;
}

/* net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward; a key with a
 * slash is already a path (sysctl.d: a component with a dot in it). */
static char *sysctl_path(const char *key)
{
	char *p = xasprintf("/proc/sys/%s", key);

	if (!strchr(key, '/'))
		for (char *c = p + 10; *c; c++)
			if (*c == '.')
				*c = '/';
	return p;
}

static bool has_wildcard(const char *key)
{
	return strpbrk(key, "*?[") != NULL;
}

size_t sysctl_expand(const char *key, char ***out)
{
	char *path = sysctl_path(key);
	glob_t g;
	size_t n = 0;

	*out = NULL;
	if (!has_wildcard(key)) {
		*out = xmalloc(sizeof(**out));
		(*out)[0] = xstrdup(key);
		free(path);
		return 1;
	}
	/* net.ipv4.conf.*.rp_filter: what a loop over /proc/sys/net/ipv4/conf set */
	if (glob(path, 0, NULL, &g) == 0) {
		*out = xmalloc(g.gl_pathc * sizeof(**out));
		for (size_t i = 0; i < g.gl_pathc; i++)
			(*out)[n++] = xstrdup(g.gl_pathv[i] + strlen("/proc/sys/"));
		globfree(&g);
	}
	free(path);
	return n;
}

void sysctl_keys_free(char **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
}

static char *sysctl_read_one(const char *key)
{
	char *path = sysctl_path(key), *t, *o;
	size_t len;
	bool blank = false;

	t = read_file(path, &len);
	free(path);
	if (!t)
		return NULL;
	/* "4096\t87380\t6291456\n" reads back what "4096 87380 6291456" wrote */
	o = t;
	for (char *c = t; *c; c++) {
		if (*c == ' ' || *c == '\t' || *c == '\n') {
			blank = o != t;
			continue;
		}
		if (blank)
			*o++ = ' ';
		blank = false;
		*o++ = *c;
	}
	*o = '\0';
	return t;
}

char *sysctl_read(const char *key)
{
	char **keys, *v = NULL;
	size_t n = sysctl_expand(key, &keys);

	for (size_t i = 0; i < n; i++) {
		char *x = sysctl_read_one(keys[i]);

		if (!x)
			continue;
		if (!v) {
			v = x;
		} else if (strcmp(v, x) && strncmp(v, "(mixed", 6)) {
			char *m = xasprintf("(mixed: %s: %s, %s: %s)", keys[0], v, keys[i], x);

			free(v);
			free(x);
			v = m;
		} else {
			free(x);
		}
	}
	sysctl_keys_free(keys, n);
	if (!v)
		errno = ENOENT;
	return v;
}

static int sysctl_write_one(const char *key, const char *value)
{
	char *path = sysctl_path(key);
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	size_t len = strlen(value);

	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = errno;
	free(path);
	errno = err;
	return err ? -1 : 0;
}

int sysctl_write(const char *key, const char *value)
{
	char **keys;
	size_t n = sysctl_expand(key, &keys);
	int err = n ? 0 : ENOENT;

	for (size_t i = 0; i < n; i++)
		if (sysctl_write_one(keys[i], value) < 0 && !err)
			err = errno;
	sysctl_keys_free(keys, n);
	errno = err;
	return err ? -1 : 0;
}

/* FNV-1a, 64 bits */
uint64_t text_hash_add(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

const char *text_hash_hex(uint64_t h)
{
	static char out[17];

	snprintf(out, sizeof(out), "%016llx", (unsigned long long)h);
	return out;
}

const char *text_hash(const char *s, size_t n)
{
	return text_hash_hex(text_hash_add(TEXT_HASH_INIT, s, n));
}
