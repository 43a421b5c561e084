#include "config.h"

#include <stdio.h>
#include <string.h>

#include "act_job.h"

static void act_job_run(void *arg)
{
	struct act_job *j = arg;
	struct ops o;
	char err[400];

	if (ops_open(&o, j->cfg, err, sizeof err) < 0) {
		j->result.status = OP_REFUSED;
		snprintf(j->result.message, sizeof j->result.message, "refused: %s", err);
		return;
	}
	ops_reconcile(&o);
	ops_retry_audits(&o);
	if (j->phase == ACT_RANGE_PREPARE)
		range_prepare(&o, &j->range, j->range_text, &j->result);
	else if (j->phase == ACT_RANGE_EXECUTE)
		range_execute(&o, &j->range, &j->result);
	else if (ops_prepare(&o, &j->op, &j->plan, &j->result) == OP_DONE)
		ops_execute(&o, &j->op, &j->plan, &j->result);
	ops_close(&o);
}

int act_job_start(struct act_job *j, const struct config *cfg, const struct op *op)
{
	if (act_job_running(j))
		return -1;
	j->phase = ACT_WHOLE;
	memset(&j->result, 0, sizeof j->result);
	j->cfg = cfg;
	j->op = *op;
	/* the worker keeps its own copies: the console's may change meanwhile */
	snprintf(j->reason, sizeof j->reason, "%s", op->reason ? op->reason : "");
	snprintf(j->incident, sizeof j->incident, "%s", op->incident ? op->incident : "");
	snprintf(j->note, sizeof j->note, "%s", op->note ? op->note : "");
	snprintf(j->tenant, sizeof j->tenant, "%s", op->tenant ? op->tenant : "");
	snprintf(j->secret, sizeof j->secret, "%s", op->secret ? op->secret : "");
	j->op.reason = j->reason[0] ? j->reason : NULL;
	j->op.incident = j->incident[0] ? j->incident : NULL;
	j->op.note = j->note[0] ? j->note : NULL;
	j->op.tenant = j->tenant[0] ? j->tenant : NULL;
	j->op.secret = j->secret[0] ? j->secret : NULL;
	return bg_fetch_start(&j->worker, act_job_run, j);
}

int act_job_range(struct act_job *j, const struct config *cfg, const struct op *op, const char *text,
                  int window_s, const char *tenant, enum act_phase phase)
{
	if (act_job_running(j))
		return -1;
	if (phase == ACT_RANGE_EXECUTE && (j->phase != ACT_RANGE_PREPARE || j->result.status != OP_DONE))
		return -1;                           /* only the plan just shown is executed */
	memset(&j->result, 0, sizeof j->result);
	j->cfg = cfg;
	j->phase = phase;
	if (phase == ACT_RANGE_PREPARE) {
		range_plan_free(&j->range);
		snprintf(j->reason, sizeof j->reason, "%s", op->reason ? op->reason : "");
		snprintf(j->incident, sizeof j->incident, "%s", op->incident ? op->incident : "");
		snprintf(j->range_text, sizeof j->range_text, "%s", text);
		snprintf(j->tenant, sizeof j->tenant, "%s", tenant ? tenant : "");
		j->range.op = (struct op){ .kind = op->kind, .ttl_s = op->ttl_s,
		                           .reason = j->reason[0] ? j->reason : NULL,
		                           .incident = j->incident[0] ? j->incident : NULL };
		j->range.window_s = window_s;
		j->range.tenant = tenant ? j->tenant : NULL;
	}
	return bg_fetch_start(&j->worker, act_job_run, j);
}

bool act_job_running(const struct act_job *j)
{
	return j->worker.running;
}

int act_job_fd(const struct act_job *j)
{
	return bg_fetch_fd(&j->worker);
}

void act_job_finish(struct act_job *j)
{
	bg_fetch_finish(&j->worker);
}
