/* unit.h -- a tiny TAP helper for the C unit tests.
 *
 *   plan(n);  ok(cond, "desc", ...);  is_str(got, want, "desc", ...);
 *   return done_testing();    -- exit status 1 if anything failed
 */
#ifndef MASQC_UNIT_H
#define MASQC_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned unit_run, unit_failed, unit_planned;

static inline void plan(unsigned n)
{
	unit_planned = n;
	printf("1..%u\n", n);
}

static inline bool unit_vok(bool cond, const char *fmt, va_list ap)
{
	unit_run++;
	printf("%sok %u - ", cond ? "" : "not ", unit_run);
	vprintf(fmt, ap);
	putchar('\n');
	if (!cond)
		unit_failed++;
	return cond;
}

static inline bool __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = unit_vok(cond, fmt, ap);
	va_end(ap);
	return r;
}

static inline bool __attribute__((format(printf, 3, 4)))
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	bool r;

	va_start(ap, fmt);
	r = unit_vok(got && want && !strcmp(got, want), fmt, ap);
	va_end(ap);
	if (!r)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return r;
}

static inline int done_testing(void)
{
	if (!unit_planned)
		printf("1..%u\n", unit_run);
	else if (unit_planned != unit_run) {
		printf("# planned %u tests, ran %u\n", unit_planned, unit_run);
		return 1;
	}
	return unit_failed ? 1 : 0;
}

#endif
