/* act_job.h: an operator action run off the screen's thread, so that a
 * slow or hung server never freezes the keys.  The job reports through a
 * pipe the console polls with everything else. */
#ifndef SECTOP_ACT_JOB_H
#define SECTOP_ACT_JOB_H

#include <stdbool.h>

#include "actions.h"
#include "bg_fetch.h"
#include "range_action.h"

struct config;

/* A single action runs whole; a range's is read first (its members are
 * the preview), then, once the range is typed, executed from that plan. */
enum act_phase { ACT_WHOLE, ACT_RANGE_PREPARE, ACT_RANGE_EXECUTE };

struct act_job {
	const struct config *cfg;
	enum act_phase phase;
	struct range_plan range;     /* a range's plan, kept from its preparing to its execution */
	char range_text[IPNET_LEN];
	struct op op;
	char reason[256], incident[128], note[400], tenant[128], secret[128];
	struct op_plan plan;
	struct op_result result;
	struct bg_fetch worker;
};

/* Start op (its target and reason copied) in a worker.  -1 if it cannot. */
int act_job_start(struct act_job *j, const struct config *cfg, const struct op *op);
/* A range action's phase: preparing (op: kind, reason, ttl, incident; text:
 * the range; the window and tenant its members failed in, as the screen
 * counts them), or executing the plan the last preparing made.  -1 if it
 * cannot. */
int act_job_range(struct act_job *j, const struct config *cfg, const struct op *op, const char *text,
                  int window_s, const char *tenant, enum act_phase phase);
bool act_job_running(const struct act_job *j);
/* The fd to poll while running, or -1. */
int act_job_fd(const struct act_job *j);
/* After the fd became readable: join the worker; the result is in j->result. */
void act_job_finish(struct act_job *j);

#endif
