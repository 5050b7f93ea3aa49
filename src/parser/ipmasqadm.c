/* ipmasqadm.c -- the port-forwarding tools of the masquerading era:
 * ipmasqadm 0.4.2 (portfw, mfw, autofw modules; Linux 2.2), ipportfw and
 * ipautofw (Linux 2.0 patches).  Each command becomes one struct
 * lg_forward; what forwarding means for the ruleset (DNAT after the input
 * chain, replies needing a MASQ rule) is the lowering's business.
 *
 * Sources (legacy-semantics.md key U): ipmasqadm modules/portfw.c
 * (getopt "adflnP:R:L:p:h"), modules/mfw.c ("AEDFSLnm:r:p:h"),
 * modules/autofw.c (hand-rolled: argv[1] is -A/-D/-F, then -r -d -p -h -c
 * -u -i -v), ipportfw.c ("ADCLt:u:R:h", ADDR/PORT in one word, ports
 * 1-60999).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "legacy-parse.h"
#include "../util.h"

#define DEF_PREF 10	/* IP_PORTFW_DEF_PREF, IP_MARKFW_DEF_PREF */

struct mq {
	struct lgp p;
	unsigned argi;
	const char *tool;	/* "ipmasqadm portfw", "ipportfw", ... for messages */
};

static const struct word *arg_at(struct mq *m, unsigned i)
{
	return i < m->p.cmd->argc ? &m->p.cmd->argv[i] : NULL;
}

static bool is_opt(const struct word *w)
{
	return w && w->kind == WORD_LITERAL && w->text[0] == '-' && w->text[1];
}

static int proto_letter(struct mq *m, const struct word *w, uint8_t *proto)
{
	if (lgp_literal(&m->p, w))
		return -1;
	/* the tools look at the first letter only */
	if (w->text[0] == 't')
		*proto = 6;
	else if (w->text[0] == 'u')
		*proto = 17;
	else
		return lgp_err(&m->p, &w->loc, "tcp or udp", "invalid protocol '%s' specified", w->text);
	return 0;
}

static int port_word(struct mq *m, const struct word *w, uint8_t proto, uint32_t max, uint16_t *port)
{
	uint32_t v;

	if (lgp_literal(&m->p, w))
		return -1;
	if (!lgp_port(w->text, strlen(w->text), proto ? proto : 6, &v) || v == 0 || v > max)
		return lgp_err(&m->p, &w->loc, NULL, "invalid port '%s' (1-%u or a service name)", w->text, max);
	*port = (uint16_t)v;
	return 0;
}

static int host_addr(struct mq *m, const struct word *w, struct ir_addr *a, bool allow_ifaddr)
{
	if (lgp_addr(&m->p, w, a, allow_ifaddr))
		return -1;
	if (a->kind == IR_ADDR_PREFIX && (a->plen != 32 || strchr(w->text, '/')))
		return lgp_err(&m->p, &w->loc, NULL, "%s takes one host address, not a network", m->tool);
	return 0;
}

static struct lg_forward *fw_new(struct mq *m, enum lg_fw_kind kind)
{
	struct lg_forward *f = xzalloc(sizeof(*f));

	f->kind = kind;
	f->loc = m->p.cmd->loc;
	f->pref = DEF_PREF;
	f->laddr.af = f->raddr.af = 4;
	return f;
}

static void fw_free(struct lg_forward *f)
{
	if (!f)
		return;
	free(f->laddr.ifname);
	free(f->laddr.var);
	free(f->raddr.ifname);
	free(f->raddr.var);
	free(f);
}

static int unknown_opt(struct mq *m, const struct word *w, const char *usage)
{
	return lgp_err(&m->p, &w->loc, usage, "%s: unknown option '%s' (the tool printed its help and "
		       "did nothing)", m->tool, w->kind == WORD_LITERAL ? w->text : "?");
}

/* the argument of an option: the rest of the cluster or the next word */
static const struct word *opt_arg(struct mq *m, const struct word *w, size_t i, struct word *tmp)
{
	if (w->text[i + 1]) {
		*tmp = lgp_subword(w, i + 1);
		return tmp;
	}
	if (m->argi < m->p.cmd->argc)
		return &m->p.cmd->argv[m->argi++];
	lgp_err(&m->p, &w->loc, NULL, "option '-%c' requires an argument", w->text[i]);
	return NULL;
}

/* ---- ipmasqadm portfw ------------------------------------------------------------ */

static const char portfw_usage[] =
	"portfw -a -P PROTO -L LADDR LPORT -R RADDR RPORT [-p PREF] | -d -P PROTO -L LADDR LPORT "
	"[-R RADDR RPORT] | -f | -l";

static int portfw(struct mq *m, struct lg_forward **out)
{
	struct lgp *p = &m->p;
	const struct word *lw[2] = { 0 }, *rw[2] = { 0 }, *cmd_w = NULL, *pw = NULL;
	char command = 0;
	uint8_t proto = 0;
	struct lg_forward *f;
	struct word tmp, ptmp;

	while (m->argi < p->cmd->argc) {
		const struct word *w = &p->cmd->argv[m->argi++];

		if (!is_opt(w)) {
			if (lgp_literal(p, w))
				return -1;
			return lgp_err(p, &w->loc, portfw_usage, "unknown arguments found on commandline: '%s'",
				       w->text);
		}
		for (size_t i = 1; w->text[i]; i++) {
			const struct word *a;
			char ch = w->text[i];

			switch (ch) {
			case 'a': case 'd': case 'f': case 'l':
				if (command)
					return lgp_err(p, &w->loc, NULL, "multiple commands specified");
				command = ch;
				cmd_w = w;
				continue;
			case 'n':
				continue;
			case 'h':
				diag_note(p->pc->dq, &w->loc, "%s -h prints help; nothing to translate", m->tool);
				return 0;
			case 'P':
				if (!(a = opt_arg(m, w, i, &tmp)))
					return -1;
				if (proto)
					return lgp_err(p, &a->loc, NULL, "multiple protocols specified");
				if (proto_letter(m, a, &proto))
					return -1;
				break;
			case 'L':
			case 'R': {
				const struct word **dst = ch == 'L' ? lw : rw;

				if (w->text[i + 1])
					return lgp_err(p, &w->loc, "-L ADDR PORT: address and port are two words",
						       "illegal %s address/port specified", ch == 'L' ? "local" : "destination");
				if (dst[0])
					return lgp_err(p, &w->loc, NULL, ch == 'L' ? "multiple local address/port specified" :
						       "multiple destinations specified");
				dst[0] = arg_at(m, m->argi);
				dst[1] = arg_at(m, m->argi + 1);
				if (!dst[0] || !dst[1] || is_opt(dst[0]) || is_opt(dst[1]))
					return lgp_err(p, &w->loc, ch == 'L' ? "-L LADDR LPORT (two words; an empty "
						       "variable leaves only one)" : "-R RADDR RPORT (two words; an "
						       "empty variable leaves only one)",
						       "illegal %s address/port specified", ch == 'L' ? "local" : "destination");
				m->argi += 2;
				break;
			}
			case 'p':
				if (!(pw = opt_arg(m, w, i, &ptmp)))
					return -1;
				break;
			default:
				return unknown_opt(m, w, portfw_usage);
			}
			break;	/* an option with an argument ends the cluster */
		}
	}
	if (!command)
		return lgp_err(p, &p->cmd->loc, portfw_usage, "%s: no command (-a, -d, -f or -l)", m->tool);
	if (command == 'l') {
		diag_note(p->pc->dq, &cmd_w->loc, "%s -l only lists; nothing to translate", m->tool);
		return 0;
	}
	if ((command == 'f') && (proto || lw[0] || rw[0]))
		return lgp_err(p, &cmd_w->loc, NULL, "incompatible options specified");
	if ((command == 'a' || command == 'd') && (!proto || !lw[0]))
		return lgp_err(p, &cmd_w->loc, portfw_usage, "insufficient options specified (-P and -L are "
			       "required)");
	if (command == 'a' && !rw[0])
		return lgp_err(p, &cmd_w->loc, "add -R RADDR RPORT", "%s -a without -R forwards to nowhere",
			       m->tool);
	f = fw_new(m, LG_FW_PORTFW);
	f->proto = proto;
	f->add = command == 'a';
	f->flush = command == 'f';
	if (lw[0] && (host_addr(m, lw[0], &f->laddr, true) || port_word(m, lw[1], proto, 65535, &f->lport)))
		goto fail;
	if (rw[0] && (host_addr(m, rw[0], &f->raddr, false) || port_word(m, rw[1], proto, 65535, &f->rport)))
		goto fail;
	if (pw) {
		uint32_t v;

		if (lgp_literal(p, pw) || !lgp_uint(pw->text, 10, 1000000, &v) || v == 0) {
			lgp_err(p, &pw->loc, "a positive number (the weight among entries for the same "
				"address and port)", "illegal preference value specified");
			goto fail;
		}
		f->pref = v;
	}
	*out = f;
	return 0;
fail:
	fw_free(f);
	return -1;
}

/* ---- ipmasqadm mfw --------------------------------------------------------------- */

static const char mfw_usage[] =
	"mfw -A|-I -m FWMARK -r RADDR [RPORT] [-p PREF] | -D -m FWMARK [-r RADDR [RPORT]] | -F | -L";

static int mfw(struct mq *m, struct lg_forward **out)
{
	struct lgp *p = &m->p;
	const struct word *mw = NULL, *rw[2] = { 0 }, *pw = NULL, *cmd_w = NULL;
	char command = 0;
	struct lg_forward *f;
	struct word tmp[2];
	uint32_t mark = 0;

	while (m->argi < p->cmd->argc) {
		const struct word *w = &p->cmd->argv[m->argi++];

		if (!is_opt(w)) {
			if (lgp_literal(p, w))
				return -1;
			return lgp_err(p, &w->loc, mfw_usage, "unknown arguments found on commandline: '%s'", w->text);
		}
		for (size_t i = 1; w->text[i]; i++) {
			char ch = w->text[i];

			switch (ch) {
			case 'A': case 'I': case 'E': case 'D': case 'F': case 'S': case 'L':
				if (command)
					return lgp_err(p, &w->loc, NULL, "multiple commands specified");
				command = ch;
				cmd_w = w;
				continue;
			case 'n':
				continue;
			case 'h':
				diag_note(p->pc->dq, &w->loc, "%s -h prints help; nothing to translate", m->tool);
				return 0;
			case 'm':
				if (!(mw = opt_arg(m, w, i, &tmp[0])))
					return -1;
				break;
			case 'p':
				if (!(pw = opt_arg(m, w, i, &tmp[1])))
					return -1;
				break;
			case 'r':
				if (w->text[i + 1])
					return lgp_err(p, &w->loc, "-r ADDR [PORT]", "illegal destination specified");
				if (rw[0])
					return lgp_err(p, &w->loc, NULL, "multiple destinations specified");
				rw[0] = arg_at(m, m->argi);
				if (!rw[0] || is_opt(rw[0]))
					return lgp_err(p, &w->loc, "-r ADDR [PORT]", "illegal destination specified");
				m->argi++;
				if (arg_at(m, m->argi) && !is_opt(arg_at(m, m->argi)))
					rw[1] = &p->cmd->argv[m->argi++];
				break;
			default:
				return unknown_opt(m, w, mfw_usage);
			}
			break;
		}
	}
	if (!command)
		return lgp_err(p, &p->cmd->loc, mfw_usage, "%s: no command", m->tool);
	if (command == 'L' || command == 'S') {
		diag_note(p->pc->dq, &cmd_w->loc, "%s -%c changes nothing in the ruleset; ignored",
			  m->tool, command);
		return 0;
	}
	if (command == 'E' && !pw)
		return lgp_err(p, &cmd_w->loc, "-E -m FWMARK [-r RADDR [RPORT]] -p PREF",
			       "%s -E without -p changes nothing", m->tool);
	if (command == 'F' && (mw || rw[0]))
		return lgp_err(p, &cmd_w->loc, NULL, "incompatible options specified");
	if (mw) {
		/* atoi(): leading digits, anything else reads as 0 */
		if (lgp_literal(p, mw) || !lgp_uint(mw->text, 10, UINT32_MAX, &mark))
			return lgp_err(p, &mw->loc, "a decimal fwmark, as set by ipchains -m", "invalid fwmark '%s'",
				       mw->text);
	}
	if (command != 'F' && !mark)
		return lgp_err(p, &cmd_w->loc, "give -m FWMARK (not 0)", "insufficient options specified");
	if ((command == 'A' || command == 'I') && !rw[0])
		return lgp_err(p, &cmd_w->loc, "add -r RADDR [RPORT]", "%s -%c without -r forwards to nowhere",
			       m->tool, command);
	if (command == 'I')
		diag_note(p->pc->dq, &cmd_w->loc, "mfw -I (documented, missing from ipmasqadm 0.4.2's getopt "
			  "string) read as -A: the entry order only matters for load sharing");
	f = fw_new(m, LG_FW_MFW);
	f->fwmark = mark;
	f->add = command == 'A' || command == 'I';
	f->edit = command == 'E';
	f->flush = command == 'F';
	if (rw[0] && host_addr(m, rw[0], &f->raddr, false))
		goto fail;
	if (rw[1] && port_word(m, rw[1], 6, 65535, &f->rport))
		goto fail;
	if (pw) {
		uint32_t v;

		if (lgp_literal(p, pw) || !lgp_uint(pw->text, 10, 1000000, &v)) {
			lgp_err(p, &pw->loc, "0 (never scheduled) or a positive weight",
				"illegal preference value specified");
			goto fail;
		}
		f->pref = v;
	}
	*out = f;
	return 0;
fail:
	fw_free(f);
	return -1;
}

/* ---- autofw (ipmasqadm autofw, ipautofw) ----------------------------------------------- */

static const char autofw_usage[] =
	"-A|-D -r tcp|udp LOW HIGH [-h HOST] [-c tcp|udp PORT] [-u] [-i] [-v] | -F";

static int num_word(struct mq *m, const struct word *w, uint32_t *v)
{
	if (!w)
		return lgp_err(&m->p, &m->p.cmd->loc, autofw_usage, "%s: missing value", m->tool);
	if (lgp_literal(&m->p, w))
		return -1;
	if (!lgp_uint(w->text, 10, 65535, v))
		return lgp_err(&m->p, &w->loc, NULL, "illegal port number '%s'", w->text);
	return 0;
}

static int autofw(struct mq *m, struct lg_forward **out)
{
	struct lgp *p = &m->p;
	const struct word *cw = arg_at(m, m->argi), *hw = NULL;
	struct lg_forward *f;
	bool typed = false;
	char command;

	if (!cw || cw->kind != WORD_LITERAL || cw->text[0] != '-' || !strchr("ADF", cw->text[1]) ||
	    !cw->text[1]) {
		if (cw && lgp_literal(p, cw))
			return -1;
		return lgp_err(p, cw ? &cw->loc : &p->cmd->loc, autofw_usage,
			       "%s: command must be either -A, -D, or -F", m->tool);
	}
	command = cw->text[1];
	m->argi++;
	if (command == 'F' && m->argi < p->cmd->argc)
		return lgp_err(p, &p->cmd->argv[m->argi].loc, NULL, "the flush command does not take options");
	f = fw_new(m, LG_FW_AUTOFW);
	f->add = command == 'A';
	f->flush = command == 'F';
	while (m->argi < p->cmd->argc) {
		const struct word *w = &p->cmd->argv[m->argi++];
		uint32_t lo, hi, v;

		if (lgp_literal(p, w))
			goto fail;
		if (w->text[0] != '-') {
			/* autofw.c prints "Invalid option" and goes on */
			diag_add(p->pc->dq, DIAG_WARNING, &w->loc, NULL, "%s ignores the stray argument '%s'",
				 m->tool, w->text);
			continue;
		}
		switch (w->text[1]) {
		case 'r':
			if (typed) {
				lgp_err(p, &w->loc, NULL, "-r cannot be used in conjunction with -p or -d");
				goto fail;
			}
			if (!arg_at(m, m->argi) || proto_letter(m, arg_at(m, m->argi), &f->proto) ||
			    num_word(m, arg_at(m, m->argi + 1), &lo) || num_word(m, arg_at(m, m->argi + 2), &hi))
				goto fail;
			if (lo == 0 || hi == 0 || hi < lo) {
				lgp_err(p, &arg_at(m, m->argi + 1)->loc, "LOW HIGH, both 1-65535, LOW <= HIGH",
					"illegal port numbers");
				goto fail;
			}
			f->ports.lo = lo;
			f->ports.hi = hi;
			m->argi += 3;
			typed = true;
			break;
		case 'd':
		case 'p':
			lgp_err(p, &w->loc, "use -r to open a port range", w->text[1] == 'p' ?
				"not supported: -p port bouncing (the tool itself says \"currently not "
				"supported\")" : "not supported: -d (direct: keep the masquerade source ports of "
				"a range); it only changed which masquerade ports were used");
			goto fail;
		case 'h':
			hw = arg_at(m, m->argi++);
			if (!hw) {
				lgp_err(p, &w->loc, NULL, "-h needs the address of the host");
				goto fail;
			}
			if (host_addr(m, hw, &f->raddr, false))
				goto fail;
			f->autofw_static = true;
			f->autofw_insecure = true;	/* -h clears IP_AUTOFW_SECURE */
			break;
		case 'c':
			if (!arg_at(m, m->argi) || proto_letter(m, arg_at(m, m->argi), &f->ctlproto) ||
			    num_word(m, arg_at(m, m->argi + 1), &v))
				goto fail;
			f->ctlport = (uint16_t)v;
			m->argi += 2;
			break;
		case 'u':
			f->autofw_notimer = true;
			break;
		case 'i':
			f->autofw_insecure = true;
			break;
		case 'v':
			break;
		default:
			lgp_err(p, &w->loc, autofw_usage, "invalid option: %s", w->text);
			goto fail;
		}
	}
	if (!typed && command != 'F') {
		lgp_err(p, &cw->loc, "add -r tcp|udp LOW HIGH", "you must select a type of forwarding "
			"(direct, port, or range)");
		goto fail;
	}
	if (!(f->ctlproto && f->ctlport))
		f->autofw_insecure = true;	/* no control port: nothing to be secure about */
	if (command != 'F' && !f->autofw_static && !f->ctlport) {
		lgp_err(p, &cw->loc, "give -h HOST (forward to a fixed host) or -c PROTO PORT (to the host "
			"that last used the control port)", "%s: neither -h nor -c: the ports would be "
			"forwarded to nobody", m->tool);
		goto fail;
	}
	*out = f;
	return 0;
fail:
	fw_free(f);
	return -1;
}

/* ---- ipportfw (2.0) ------------------------------------------------------------------- */

static const char ipportfw_usage[] =
	"ipportfw -A -t|-u LADDR/LPORT -R RADDR/RPORT | -D -t|-u LADDR/LPORT | -C | -L";

static int addrport(struct mq *m, const struct word *w, struct ir_addr *a, uint16_t *port, bool allow_ifaddr)
{
	const char *sl;
	uint32_t v;

	if (w->kind == WORD_IFADDR && allow_ifaddr) {
		/* "$EXTIP/80" with EXTIP from ifconfig: the suffix is "/80" */
		struct word aw = *w;

		if (w->text[0] != '/' || !lgp_uint(w->text + 1, 10, 60999, &v) || v == 0)
			return lgp_err(&m->p, &w->loc, NULL, "expected ADDRESS/PORT (port 1-60999)");
		aw.text = (char *)"";
		if (lgp_addr(&m->p, &aw, a, true))
			return -1;
		*port = (uint16_t)v;
		return 0;
	}
	if (lgp_literal(&m->p, w))
		return -1;
	sl = strchr(w->text, '/');
	if (!sl || !lgp_uint(sl + 1, 10, 60999, &v) || v == 0)
		return lgp_err(&m->p, &w->loc, "ADDRESS/PORT in one word, port 1-60999 (IP_PORTFW_PORT_MAX)",
			       "illegal address/port '%s' specified", w->text);
	{
		struct word aw = *w;
		char *t = xstrndup(w->text, (size_t)(sl - w->text));
		int r;

		aw.text = t;
		r = host_addr(m, &aw, a, false);
		free(t);
		if (r)
			return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

static int ipportfw(struct mq *m, struct lg_forward **out)
{
	struct lgp *p = &m->p;
	const struct word *lw = NULL, *rw = NULL, *cmd_w = NULL;
	char command = 0;
	uint8_t proto = 0;
	struct lg_forward *f;
	struct word tmp[2];

	while (m->argi < p->cmd->argc) {
		const struct word *w = &p->cmd->argv[m->argi++];

		if (!is_opt(w)) {
			if (lgp_literal(p, w))
				return -1;
			return lgp_err(p, &w->loc, (w->text[0] == 't' || w->text[0] == 'u') &&
				       isdigit((unsigned char)w->text[1]) ? "a '-' is missing: -t ADDR/PORT or "
				       "-u ADDR/PORT" : ipportfw_usage, "unknown arguments found on commandline: '%s' "
				       "(ipportfw ignored the whole command)", w->text);
		}
		for (size_t i = 1; w->text[i]; i++) {
			char ch = w->text[i];

			switch (ch) {
			case 'A': case 'D': case 'C': case 'L':
				if (command)
					return lgp_err(p, &w->loc, NULL, "multiple commands specified");
				command = ch;
				cmd_w = w;
				continue;
			case 'h':
				diag_note(p->pc->dq, &w->loc, "ipportfw -h prints help; nothing to translate");
				return 0;
			case 't':
			case 'u':
				if (proto)
					return lgp_err(p, &w->loc, NULL, "multiple protocols specified");
				proto = ch == 't' ? 6 : 17;
				if (!(lw = opt_arg(m, w, i, &tmp[0])))
					return -1;
				break;
			case 'R':
				if (rw)
					return lgp_err(p, &w->loc, NULL, "multiple destinations specified");
				if (!(rw = opt_arg(m, w, i, &tmp[1])))
					return -1;
				break;
			default:
				return unknown_opt(m, w, ch == 'p' ? "this ipportfw has no -p (ipmasqadm "
						   "portfw brought preferences)" : ipportfw_usage);
			}
			break;
		}
	}
	if (!command)
		return lgp_err(p, &p->cmd->loc, ipportfw_usage, "ipportfw: no command (-A, -D, -C or -L)");
	if (command == 'L') {
		diag_note(p->pc->dq, &cmd_w->loc, "ipportfw -L only lists; nothing to translate");
		return 0;
	}
	if (command == 'C' && (lw || rw))
		return lgp_err(p, &cmd_w->loc, NULL, "incompatible options specified");
	if (command == 'A' && (!lw || !rw))
		return lgp_err(p, &cmd_w->loc, ipportfw_usage, "insufficient options specified");
	if (command == 'D' && !lw)
		return lgp_err(p, &cmd_w->loc, ipportfw_usage, "insufficient options specified");
	if (command == 'D' && rw)
		return lgp_err(p, &rw->loc, "-D takes only -t|-u LADDR/LPORT", "incompatible options specified");
	f = fw_new(m, LG_FW_PORTFW);
	f->proto = proto;
	f->add = command == 'A';
	f->flush = command == 'C';
	if (lw && addrport(m, lw, &f->laddr, &f->lport, true))
		goto fail;
	if (rw && addrport(m, rw, &f->raddr, &f->rport, false))
		goto fail;
	*out = f;
	return 0;
fail:
	fw_free(f);
	return -1;
}

/* ---- entry --------------------------------------------------------------------------- */

int ipmasqadm_parse(struct parse_ctx *pc, const struct command *cmd, struct lg_forward **out)
{
	struct mq m;
	const struct word *mod;

	memset(&m, 0, sizeof(m));
	*out = NULL;
	lgp_init(&m.p, pc, cmd);
	m.argi = 1;
	if (!strcmp(m.p.prog, "ipportfw")) {
		m.tool = "ipportfw";
		return ipportfw(&m, out);
	}
	if (!strcmp(m.p.prog, "ipautofw")) {
		m.tool = "ipautofw";
		return autofw(&m, out);
	}
	mod = arg_at(&m, 1);
	if (!mod)
		return lgp_err(&m.p, &cmd->loc, "ipmasqadm portfw|mfw|autofw ...", "usage: ipmasqadm MODULE [opts]");
	if (lgp_literal(&m.p, mod))
		return -1;
	m.argi = 2;
	if (!strcmp(mod->text, "portfw")) {
		m.tool = "ipmasqadm portfw";
		return portfw(&m, out);
	}
	if (!strcmp(mod->text, "mfw")) {
		m.tool = "ipmasqadm mfw";
		return mfw(&m, out);
	}
	if (!strcmp(mod->text, "autofw")) {
		m.tool = "ipmasqadm autofw";
		return autofw(&m, out);
	}
	if (!strcmp(mod->text, "-h") || !strcmp(mod->text, "--help")) {
		diag_note(pc->dq, &mod->loc, "ipmasqadm -h prints help; nothing to translate");
		return 0;
	}
	{
		static const char *const mods[] = { "portfw", "mfw", "autofw" };
		const char *sug = suggest(mod->text, mods, ARRAY_SIZE(mods));
		char *hint = sug ? xasprintf("did you mean '%s'?", sug) : NULL;

		lgp_err(&m.p, &mod->loc, hint ? hint : "ipmasqadm's modules are portfw, mfw and autofw",
			"%s ipmasqadm module '%s'", !strcmp(mod->text, "user") ? "not supported: the" :
			"unknown", mod->text);
		free(hint);
		return -1;
	}
}

int ipmasqadm_command(struct parse_ctx *pc, const struct command *cmd)
{
	struct lg_forward *f;

	if (ipmasqadm_parse(pc, cmd, &f))
		return -1;
	return f ? lg_apply_forward(pc, f) : 0;
}
