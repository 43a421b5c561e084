#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "act_job.h"

static void *act_job_run(void *arg)
{
	struct act_job *j = arg;
	struct ops o;
	char err[400];

	if (ops_open(&o, j->cfg, err, sizeof err) < 0) {
		j->result.status = OP_REFUSED;
		snprintf(j->result.message, sizeof j->result.message, "refused: %s", err);
	} else {
		ops_retry_audits(&o);
		if (ops_prepare(&o, &j->op, &j->plan, &j->result) == OP_DONE)
			ops_execute(&o, &j->op, &j->plan, &j->result);
		ops_close(&o);
	}
	ssize_t w = write(j->pipe[1], "x", 1);
	(void)w;
	return NULL;
}

int act_job_start(struct act_job *j, const struct config *cfg, const struct op *op)
{
	if (j->running)
		return -1;
	memset(&j->result, 0, sizeof j->result);
	j->cfg = cfg;
	j->op = *op;
	snprintf(j->reason, sizeof j->reason, "%s", op->reason ? op->reason : "");
	snprintf(j->incident, sizeof j->incident, "%s", op->incident ? op->incident : "");
	snprintf(j->note, sizeof j->note, "%s", op->note ? op->note : "");
	j->op.note = j->note[0] ? j->note : NULL;
	snprintf(j->tenant, sizeof j->tenant, "%s", op->tenant ? op->tenant : "");
	j->op.tenant = j->tenant[0] ? j->tenant : NULL;
	snprintf(j->secret, sizeof j->secret, "%s", op->secret ? op->secret : "");
	j->op.secret = j->secret[0] ? j->secret : NULL;
	j->op.reason = j->reason[0] ? j->reason : NULL;
	j->op.incident = j->incident[0] ? j->incident : NULL;
	if (pipe2(j->pipe, O_CLOEXEC) < 0)
		return -1;
	if (pthread_create(&j->thread, NULL, act_job_run, j) != 0) {
		close(j->pipe[0]);
		close(j->pipe[1]);
		return -1;
	}
	j->running = true;
	return 0;
}

int act_job_fd(const struct act_job *j)
{
	return j->running ? j->pipe[0] : -1;
}

void act_job_finish(struct act_job *j)
{
	char b;

	if (!j->running)
		return;
	pthread_join(j->thread, NULL);
	ssize_t r = read(j->pipe[0], &b, 1);
	(void)r;
	close(j->pipe[0]);
	close(j->pipe[1]);
	j->running = false;
}
