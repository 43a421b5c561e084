/* cmd_timeline.c: `sectop timeline --incident ID`: the incident's timeline
 * from the journal and every operator's audit rows, as Markdown on stdout
 * (or --output FILE); the journal alone, said so, when the audit log does
 * not answer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "app.h"
#include "conf.h"
#include "journal.h"
#include "team_pg.h"
#include "timeline.h"

int app_timeline(struct app *app)
{
	const struct config *cfg = app->cfg;
	const char *incident = cfg->incident ? cfg->incident : app->n_operands == 1 ? app->operands[0] : NULL;
	char who[160], err[400], offline[200];

	if (!incident || !*incident || app->n_operands > 1) {
		fprintf(stderr, "sectop: which incident? (sectop timeline --incident ID [--output FILE])\n");
		return 2;
	}
	char *path = journal_path(cfg->journal);
	FILE *out = cfg->output ? timeline_create(cfg->output) : stdout;
	int rc = 1;
	if (!path)
		fprintf(stderr, "sectop: no journal: set --journal, HOME or XDG_STATE_HOME\n");
	else if (!out)
		perror(cfg->output);
	else {
		ops_operator(who, sizeof who);
		rc = team_timeline_export(cfg, path, incident, out, who, offline, err, sizeof err) < 0 ? 1 : 0;
		if (rc)
			fprintf(stderr, "sectop: %s\n", err);
		else if (offline[0])
			fprintf(stderr, "sectop: the audit log did not answer (%s): the local journal alone\n", offline);
	}
	if (out && out != stdout && fclose(out) != 0)
		rc = 1;
	free(path);
	return rc;
}
