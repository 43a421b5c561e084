/* main.c: arguments, start-up, and the subcommands. */
#include "config.h"

#include <curl/curl.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "app.h"
#include "clock.h"
#include "conf.h"
#include "geoip.h"
#include "redis_link.h"
#include "log.h"
#include "pg_sql.h"

enum { OPT_HELP = 'h', OPT_VERSION = 'V', OPT_CONFIG = 'c', OPT_VERBOSE = 'v',
       OPT_PRINT_INDEXES = 0x100, OPT_LIST_OPTIONS, OPT_KEY_BASE = 0x200 };

static const struct option fixed_options[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "print-indexes", no_argument, NULL, OPT_PRINT_INDEXES },
	{ "list-options", no_argument, NULL, OPT_LIST_OPTIONS },
};
#define N_FIXED (sizeof fixed_options / sizeof fixed_options[0])

struct args {
	const char *config_file;
	bool help, version, print_indexes, list_options;
	int verbose;
	const char *command;
	char **operands;       /* after the command */
	int n_operands;
	char **rest;           /* every operand; owns the array */
};

static void usage(FILE *f)
{
	fputs("usage: sectop [options] [command]\n"
	      "\n"
	      "commands:\n"
	      "  (none)             the console (default)\n"
	      "  snapshot           wait for one refresh of every source, print it, exit\n"
	      "                     (exit 0: all sources answered, 3: some were down)\n"
	      "  block ADDRESS      block an address: --reason TEXT [--ttl 1h] [--yes]\n"
	      "  unblock ADDRESS    remove a block;  extend ADDRESS: reset its time to live\n"
	      "  block RANGE        block the addresses of 203.0.113.0/24 (or an IPv6 /64) that failed\n"
	      "                     in the window, one key each (at most --range-max); unblock RANGE\n"
	      "  revoke KEY_ID      revoke an API key: --tenant T --reason TEXT [--yes]\n"
	      "  rotate SECRET      ask the secret's webhook for a rotation: --reason TEXT\n"
	      "                     [--incident ID] [--yes]; rotate --status: every secret's state\n"
	      "                     (exit 0 done, 4 nothing to do, 5 refused, 6 failed, 7 unknown)\n"
	      "  report             the review of a period: --since 7d --until TIME --format\n"
	      "                     text|markdown|json|csv|html --output FILE --fail-on failures>1000\n"
	      "  setup --rollup     create (or bring up to date) the report's rollup; --drop-rollup\n"
	      "  timeline --incident ID   the incident's timeline: the journal and every operator's\n"
	      "                     audit rows, as Markdown; --since TIME\n"
	      "  watch              the sources and alerts without a terminal, as a service: one\n"
	      "                     line per alert on stderr, notify targets told (read-only)\n"
	      "  drill SCENARIO     a drill: brute-force, credential-stuffing, new-country-key,\n"
	      "                     health-outage; synthetic events, actions under drill: keys\n"
	      "\n"
	      "options (also accepted after the command):\n"
	      "  -c, --config FILE  read FILE instead of the user and system files\n"
	      "  --db CONNINFO      PostgreSQL conninfo or URI (else DATABASE_URL, else libpq defaults)\n"
	      "  --redis URL        redis://[:password@]host:port/db or unix:/path (else REDIS_URL);\n"
	      "                     rediss:// over TLS; redis-sentinel://host:port[,...]/MASTER[/db];\n"
	      "                     a cluster node's URL: the whole cluster\n"
	      "  --health NAME=URL  a health endpoint, repeatable; options after the URL:\n"
	      "                     api_key_env=VAR bearer_env=VAR ca_file=FILE timeout=2s\n"
	      "  --tenant ID        every figure for one tenant\n"
	      "  --window DURATION  5m, 15m, 1h or 24h (default 15m)\n"
	      "  --at TIME          look back: the window ends then (2h ago, 03:10, ISO 8601)\n"
	      "  --format FORMAT    text or json (snapshot); also markdown, csv, html (report)\n"
	      "  --timeout DURATION how long snapshot waits (default 10s)\n"
	      "  --print-indexes    print the indexes that keep refreshes cheap, and exit\n"
	      "  -v                 more detail in the log file (--log FILE)\n"
	      "  -h, --help         this help; -V, --version the version\n"
	      "\n"
	      "every setting of sectop.conf(5) is also an option, --KEY VALUE:\n ", f);
	int col = 1;
	for (size_t i = 0; conf_key_at(i); i++) {
		const char *k = conf_key_at(i);
		int w = (int)strlen(k) + 3;
		if (col + w > 78) {
			fputs("\n ", f);
			col = 1;
		}
		fprintf(f, " --%s", k);
		col += w;
	}
	fputc('\n', f);
}

/* Every option, one a line, for shell completion. */
static void list_options(void)
{
	for (size_t i = 0; i < N_FIXED; i++)
		printf("--%s\n", fixed_options[i].name);
	for (size_t i = 0; conf_key_at(i); i++)
		printf("--%s\n", conf_key_at(i));
	fputs("-c\n-h\n-V\n-v\n", stdout);
}

/* The long options: the fixed ones, then one per setting. */
static struct option *options_build(void)
{
	size_t n = 0;

	while (conf_key_at(n))
		n++;
	struct option *o = calloc(N_FIXED + n + 1, sizeof *o);
	if (!o)
		return NULL;
	memcpy(o, fixed_options, sizeof fixed_options);
	for (size_t i = 0; i < n; i++) {
		const char *k = conf_key_at(i);
		o[N_FIXED + i] = (struct option){ k, conf_key_is_flag(k) ? no_argument : required_argument,
		                                  NULL, OPT_KEY_BASE + (int)i };
	}
	return o;
}

/* The version, and what this build supports. */
static void print_version(void)
{
	const char *mmdb = geoip_version();

	printf("sectop %s\nRedis: %s\n", PACKAGE_VERSION, rlink_features());
	if (mmdb)
		printf("geoip-db: yes (libmaxminddb %s)\n", mmdb);
	else
		printf("geoip-db: no (built without libmaxminddb)\n");
}

/* Keep a password given on the command line out of `ps`: the value was
 * copied into the configuration, the argv string is overwritten. */
static void scrub_arg(const char *key, char *value)
{
	if (conf_value_is_secret(key, value))
		memset(value, 'x', strlen(value));
}

/* Pass 1 finds the fixed options; pass 2 (apply=true) the settings, after
 * the files, so that the command line wins. */
static int parse_args(int argc, char **argv, const struct option *opts, struct args *a,
                      struct config *cfg, bool apply)
{
	char err[512];
	int c;

	optind = 0;
	opterr = apply ? 0 : 1;
	while ((c = getopt_long(argc, argv, "+:hVc:v", opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			if (!apply)
				continue;
			fprintf(stderr, "sectop: %s: %s\n", argv[optind - 1],
			        c == ':' ? "needs a value" : "unknown option");
			return -1;
		}
		if (c >= OPT_KEY_BASE) {
			if (!apply)
				continue;
			const char *key = conf_key_at((size_t)(c - OPT_KEY_BASE));
			if (conf_set(cfg, key, optarg ? optarg : "yes", err, sizeof err) < 0) {
				fprintf(stderr, "sectop: --%s\n", err);
				return -1;
			}
			if (optarg)
				scrub_arg(key, optarg);
			continue;
		}
		switch (c) {
		case OPT_HELP: a->help = true; break;
		case OPT_VERSION: a->version = true; break;
		case OPT_CONFIG: a->config_file = optarg; break;
		case OPT_VERBOSE: a->verbose += !apply; break;
		case OPT_PRINT_INDEXES: a->print_indexes = true; break;
		case OPT_LIST_OPTIONS: a->list_options = true; break;
		}
	}
	return 0;
}

/* Options may come before or after the command, so the command is the first
 * operand, found by scanning with getopt in "stop at operands" mode and
 * continuing after each operand. */
static int parse_all(int argc, char **argv, struct args *a, struct config *cfg, bool apply)
{
	struct option *opts = options_build();
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	int n_rest = 0, rc = 0;
	char **av = argv;
	int ac = argc;

	if (!opts || !rest) {
		free(opts);
		free(rest);
		return -1;
	}
	while (rc == 0) {
		rc = parse_args(ac, av, opts, a, cfg, apply);
		if (rc < 0 || optind >= ac)
			break;
		rest[n_rest++] = av[optind];
		/* continue after the operand: it becomes the new argv[0] */
		av += optind;
		ac -= optind;
	}
	if (rc == 0 && apply) {
		a->command = n_rest ? rest[0] : NULL;
		a->operands = rest + 1;
		a->n_operands = n_rest > 1 ? n_rest - 1 : 0;
		a->rest = rest;
		rest = NULL;
	}
	free(rest);
	free(opts);
	return rc;
}

static int load_files(struct config *cfg, const char *explicit_file)
{
	char err[1024];

	if (explicit_file) {
		if (conf_load_file(cfg, explicit_file, true, err, sizeof err) < 0)
			goto fail;
		return 0;
	}
	char *sys = conf_system_path(), *user = conf_user_path();
	int rc = 0;
	if (sys && conf_load_file(cfg, sys, false, err, sizeof err) < 0)
		rc = -1;
	if (rc == 0 && user && conf_load_file(cfg, user, false, err, sizeof err) < 0)
		rc = -1;
	free(sys);
	free(user);
	if (rc == 0)
		return 0;
fail:
	fprintf(stderr, "sectop: %s\n", err);
	return -1;
}

static bool locale_is_utf8(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

static const struct command {
	const char *name;
	int (*run)(struct app *app);
} commands[] = {
	{ "console", app_console },
	{ "watch", app_watch },
	{ "snapshot", app_snapshot },
	{ "report", app_report },
	{ "block", app_block },
	{ "unblock", app_unblock },
	{ "extend", app_extend },
	{ "revoke", app_revoke },
	{ "rotate", app_rotate },
	{ "setup", app_setup },
	{ "timeline", app_timeline },
	{ "drill", app_drill },
};

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(commands[i].name, name ? name : "console") == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct args a = { 0 };
	char err[512];
	int rc = 2;

	setlocale(LC_ALL, "");
	signal(SIGPIPE, SIG_IGN);
	conf_defaults(&cfg);
	if (parse_all(argc, argv, &a, &cfg, false) < 0)
		goto out;
	if (a.list_options) {
		list_options();
		rc = 0;
		goto out;
	}
	if (a.help || a.version) {
		if (a.help)
			usage(stdout);
		else
			print_version();
		rc = 0;
		goto out;
	}
	if (load_files(&cfg, a.config_file) < 0 || parse_all(argc, argv, &a, &cfg, true) < 0)
		goto out;
	cfg.verbose += a.verbose;
	conf_apply_env(&cfg);
	if (conf_validate(&cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		goto out;
	}
	if (a.print_indexes) {
		rc = app_print_indexes(&cfg);
		goto out;
	}
	const struct command *cmd = command_find(a.command);
	if (!cmd) {
		fprintf(stderr, "sectop: unknown command '%s' (try --help)\n", a.command);
		goto out;
	}
	if (cfg.log_file && log_open(cfg.log_file, cfg.verbose) < 0) {
		fprintf(stderr, "sectop: cannot open the log file %s\n", cfg.log_file);
		goto out;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct app app = { .cfg = &cfg, .ascii = cfg.ascii || !locale_is_utf8(),
	                   .operands = a.operands, .n_operands = a.n_operands,
	                   /* the commands that watch: their alerts notify (notify.h) */
	                   .alerting = cmd->run == app_console || cmd->run == app_watch };
	if (cfg.geoip_db.n && !(app.geo = geoip_open(cfg.geoip_db.v, cfg.geoip_db.n, err, sizeof err))) {
		fprintf(stderr, "sectop: %s\n", err);
		rc = 2;
		curl_global_cleanup();
		log_close();
		goto out;
	}
	if (allowlist_init(&app.allow, &cfg, err, sizeof err) < 0) {
		fprintf(stderr, "sectop: %s\n", err);
		rc = 2;
		geoip_close(app.geo);
		curl_global_cleanup();
		log_close();
		goto out;
	}
	rc = cmd->run(&app);
	app_close(&app);
	geoip_close(app.geo);
	allowlist_free(&app.allow);
	curl_global_cleanup();
	log_close();
out:
	free(a.rest);
	conf_free(&cfg);
	return rc;
}
