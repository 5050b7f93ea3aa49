/* state.h -- what masqc remembers between runs: generations, the lock,
 * the pending confirmation, and the sysctls it changed.
 *
 *   $MASQC_STATE_DIR (default /var/lib/masqc)
 *     gen/N/meta         key=value: id, parent, time, status, rules, scripts
 *     gen/N/options      the compile options, one per line ("define X=1")
 *     gen/N/src/index    "K<TAB>path" for each file of the source set
 *     gen/N/src/K        the file's text as it was compiled
 *     gen/N/ruleset.nft  the nft text (for people, and `nft -f` by hand)
 *     gen/N/render       the normalised rendering (diff --against)
 *     gen/N/sysctl       "key=value" the generation set
 *     gen/N/sysctl.prev  "key=value" (or "key" alone: did not exist)
 *                        before it was applied
 *     current            the id of the generation in the kernel (0: none)
 *   $MASQC_RUN_DIR (default /run/masqc; tmpfs: gone at reboot)
 *     lock               flock(2)ed by every command that changes state
 *     pending            gen=, restore=, deadline=, pid= of a --confirm
 *
 * Generation 0 is "no masqc tables": rolling back to it removes them.
 */
#ifndef MASQC_STATE_H
#define MASQC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "util.h"

#define STATE_KEEP_DEFAULT 10

struct gen_meta {
	unsigned id, parent;
	time_t time;
	char status[16];	/* applied, pending, confirmed, reverted, rolled-back, loaded */
	unsigned long rules;
	char *scripts;		/* space-separated, as given */
	char *render_hash;	/* of the rendering, to notice a rebuild that differs */
};

const char *state_dir(void);
const char *run_dir(void);
/* mkdir -p of both directories (mode 0700 for state). -1 + message on error. */
int state_init(void);

/* Takes the lock, waiting up to MASQC_LOCK_WAIT seconds (default 30).
 * Returns the fd (close it to unlock), -1 + message on error, -2 busy. */
int state_lock(void);
void state_unlock(int fd);

unsigned state_current(void);
int state_set_current(unsigned id);
/* Ids of the stored generations, ascending. */
size_t state_list(unsigned **ids);
int gen_meta_read(unsigned id, struct gen_meta *m);
int gen_meta_write(const char *dir, const struct gen_meta *m);
void gen_meta_free(struct gen_meta *m);
/* gen/N (the final directory) */
char *gen_dir(unsigned id);
int gen_set_status(unsigned id, const char *status);
/* Removes the oldest generations beyond keep, never one in keep_ids. */
void state_prune(unsigned keep, const unsigned *keep_ids, size_t nkeep);

struct pending {
	unsigned gen, restore;
	time_t deadline;
	long pid;
};
/* 0 and *p filled, 1 none, -1 error */
int pending_read(struct pending *p);
int pending_write(const struct pending *p);
int pending_clear(void);

/* Files: whole-file helpers that report their own errors. */
int write_file_atomic(const char *path, const char *data, size_t len);
int mkdir_p(const char *path, unsigned mode);
int rm_rf(const char *path);

/* Sysctls: "key" in sysctl.d form (dots, or slashes when a component has
 * a dot).  Returns a malloc'd value with whitespace normalised (runs of
 * blanks become one space, no trailing newline), or NULL + errno. */
char *sysctl_read(const char *key);
int sysctl_write(const char *key, const char *value);
/* A key with shell wildcards (net.ipv4.conf.*.rp_filter, from a script's
 * `for f in /proc/sys/...*`) names every match, in slash form; any other
 * key names itself.  Both read and write expand; a read of matches that
 * disagree says "(mixed: ...)". */
size_t sysctl_expand(const char *key, char ***keys);
void sysctl_keys_free(char **keys, size_t n);

/* 64-bit FNV-1a of s, as 16 hex digits (static buffer). */
const char *text_hash(const char *s, size_t n);
/* text_hash of a text given in pieces: h = TEXT_HASH_INIT, then
 * text_hash_add() for each piece in order, then text_hash_hex(h). */
#define TEXT_HASH_INIT 0xcbf29ce484222325ull
uint64_t text_hash_add(uint64_t h, const char *s, size_t n);
const char *text_hash_hex(uint64_t h);

#endif
