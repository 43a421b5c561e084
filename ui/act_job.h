/* act_job.h: an operator action run off the screen's thread, so that a
 * slow or hung server never freezes the keys.  The job reports through a
 * pipe the console polls with everything else. */
#ifndef SECTOP_ACT_JOB_H
#define SECTOP_ACT_JOB_H

#include <stdbool.h>

#include "actions.h"
#include "bg_fetch.h"

struct config;

struct act_job {
	const struct config *cfg;
	struct op op;
	char reason[256], incident[128], note[400], tenant[128], secret[128];
	struct op_plan plan;
	struct op_result result;
	struct bg_fetch worker;
};

/* Start op (its target and reason copied) in a worker.  -1 if it cannot. */
int act_job_start(struct act_job *j, const struct config *cfg, const struct op *op);
bool act_job_running(const struct act_job *j);
/* The fd to poll while running, or -1. */
int act_job_fd(const struct act_job *j);
/* After the fd became readable: join the worker; the result is in j->result. */
void act_job_finish(struct act_job *j);

#endif
