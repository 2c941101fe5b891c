/*
 * push_loop — the Kafka loop of ketenhub-push. It reads meldingen
 * (ketenhub.grensverkeer.v1), the raw event topics some subscription asks
 * for, and the retry topic (ketenhub.push.retry.v1); decides per record who
 * gets it; queues the work per partner; starts requests within each
 * partner's limits; writes every outcome (aflevering, dead letter, retry
 * record); and commits offsets only as far as every earlier record is
 * finished. README.md explains the design.
 */
#ifndef PUSH_LOOP_H
#define PUSH_LOOP_H

#include "kh_service.h"
#include "push_settings.h"

/* Runs until SIGTERM/SIGINT (kh_service_stop). Returns the exit status:
 * 0 after a clean stop, 1 when the service could not start or could not go
 * on (then offsets stay where they were: the work is done again on restart). */
int push_loop_run(kh_service *svc, const push_settings *s);

#endif
