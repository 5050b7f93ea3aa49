/* util.h -- allocation wrappers, growable buffers and vectors.
 *
 * The CLI dies on out-of-memory (x*alloc); nothing else in masqc exits.
 */
#ifndef MASQC_UTIL_H
#define MASQC_UTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable string. buf is always NUL-terminated once anything was added. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_add(struct strbuf *sb, const char *s);
void sb_addn(struct strbuf *sb, const char *s, size_t n);
void sb_addc(struct strbuf *sb, char c);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
char *sb_steal(struct strbuf *sb); /* returns buf ("" if empty), resets sb */
void sb_free(struct strbuf *sb);
static inline const char *sb_str(const struct strbuf *sb) { return sb->buf ? sb->buf : ""; }

/* Gives the heap's free pages back to the system (glibc's malloc_trim;
 * a no-op elsewhere): after freeing a big structure, so the next big one
 * does not raise the peak. */
void heap_trim(void);

/* Generic growable array of elements of size esz. */
#define VEC(T) struct { T *v; size_t n, cap; }
#define vec_push(vec, x) do { \
	if ((vec)->n == (vec)->cap) { \
		(vec)->cap = (vec)->cap ? (vec)->cap * 2 : 8; \
		(vec)->v = xrealloc((vec)->v, (vec)->cap * sizeof(*(vec)->v)); \
	} \
	(vec)->v[(vec)->n++] = (x); \
} while (0)
#define vec_free(vec) do { free((vec)->v); (vec)->v = NULL; (vec)->n = (vec)->cap = 0; } while (0)
/* Gives back the room vec_push left past n (for arrays kept in the IR:
 * most hold one element of the eight vec_push makes room for). */
#define vec_shrink(vec) do { \
	if ((vec)->n && (vec)->n < (vec)->cap) { \
		(vec)->v = xrealloc((vec)->v, (vec)->n * sizeof(*(vec)->v)); \
		(vec)->cap = (vec)->n; \
	} \
} while (0)

/* Levenshtein distance, capped: returns > cap as soon as it exceeds cap. */
unsigned edit_distance(const char *a, const char *b, unsigned cap);
/* Best candidate within a distance that scales with the word's length, or NULL. */
const char *suggest(const char *word, const char *const *cands, size_t n);

/* Reads a whole file; NULL + errno on failure. *len excludes the added NUL. */
char *read_file(const char *path, size_t *len);

#endif
