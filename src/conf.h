/* conf.h -- /etc/masqc/masqc.conf, the boot-time loader's configuration
 * (format: masqc.conf(5)). */
#ifndef MASQC_CONF_H
#define MASQC_CONF_H

#include "compile.h"
#include "lockdown.h"
#include "util.h"

#define CONF_PATH_DEFAULT "/etc/masqc/masqc.conf"

struct masqc_conf {
	VEC(char *) scripts;	/* absolute, or relative to the conf file's directory */
	VEC(char *) defines;
	VEC(char *) args;
	struct compile_opts co;	/* points into the vectors above */
	VEC(struct lockdown_allow) allow;
	struct lockdown lockdown;	/* points into allow */
};

const char *conf_path(void);	/* $MASQC_CONF or CONF_PATH_DEFAULT */

/* Reads path into c.  The file is added to ss, so errors are located
 * ("masqc.conf:7:15: error: ...").  Returns 0, -1 with errors queued (c
 * holds everything that parsed: the lockdown exceptions that are valid
 * still apply), or -2 when the file cannot be read (message in dq). */
int conf_load(const char *path, struct source_set *ss, struct diag_queue *dq,
	      struct masqc_conf *c);
void conf_free(struct masqc_conf *c);

#endif
