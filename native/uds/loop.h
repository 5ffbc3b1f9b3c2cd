/* One event-loop thread of the UDS echo server: accepts and serves its own connections. */
#ifndef TRESTY_UDS_LOOP_H
#define TRESTY_UDS_LOOP_H

/* Runs forever on the listening socket lfd (shared by all loops); arg is an int* to lfd. */
void *uds_loop(void *arg);

#endif
