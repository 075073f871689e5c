/* Naming a local destination by the process that listens on it (listener.c). */
#ifndef TESTMAP_SHIM_LISTENER_H
#define TESTMAP_SHIM_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "region.h"

/* 1 + the service whose process matcher names the listener of `a` (loopback or local TCP,
 * or a Unix socket); 0 when this process listens itself (a server in a thread of the
 * test is no service) or nothing listens; 1 + TM_EXTERNAL_BIT when no matcher names it,
 * or /proc cannot say. Reads /proc: callers cache the answer when `*lasting` (a listener was found
 * with its process; a server still starting is looked up again at the next connect). */
/* An unnamed listener's command line goes to `program` (truncated to `program_size`, ""
 * when unknown). */
uint32_t tm_name_listener(const tm_region* r, const tm_addr* a, int* lasting, char* program,
                          size_t program_size);

/* Whether an IPv4 or IPv6 address is one of this machine's own (/proc/net/fib_trie,
 * /proc/net/if_inet6). */
int tm_is_local_address(const tm_addr* a);

#endif
