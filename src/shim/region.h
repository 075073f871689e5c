/* The shared-memory region between the pytest plugin and the preload shim.
 *
 * One region per pytest process (per xdist worker), a file mapped MAP_SHARED by the plugin
 * (through testmap._core) and by the shim in that process and all its children. The
 * plugin declares services and publishes the current test phase; the shim marks, in the
 * phase's slot, which services were used and which external addresses were reached. Plain
 * C so the shim (C, no libstdc++) and the C++ core read the same layout; fields shared
 * between processes are only touched with __atomic builtins. docs/runtime.md has the
 * contract.
 */
#ifndef TESTMAP_SHIM_REGION_H
#define TESTMAP_SHIM_REGION_H

#include <stdint.h>

#define TM_REGION_MAGIC 0x314745524d54ull /* "TMREG1" */
#define TM_REGION_VERSION 2u
#define TM_MAX_SERVICES 62 /* service i is bit i of a slot's `used` */
#define TM_EXTERNAL_BIT 63 /* traffic to an address no service matches or names */
#define TM_MAX_MATCHERS 256
#define TM_NAME_MAX 32
#define TM_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define TM_SLOTS 1024   /* phases in flight: a ring indexed by sequence */
#define TM_MAX_ADDRS 8  /* external / refused addresses kept per phase */

enum tm_matcher_kind {
  TM_MATCH_PORT = 1,        /* TCP or UDP destination port, any host */
  TM_MATCH_UNIX_SUFFIX = 2, /* a Unix socket path (or abstract name) ending with `path` */
  /* The process listening on a local address (loopback TCP or a Unix socket) is the program
   * `path` ("redis-server": its executable, argv[0] or comm), or "PROGRAM:TEXT", the
   * program with TEXT in its command line ("java:kafka.Kafka"). */
  TM_MATCH_PROCESS = 3,
  /* An address (family, addr) and `port` (0: any port): a service known by its host, such
   * as two servers on the same port on different hosts. Declared before the others. */
  TM_MATCH_HOST = 4,
};

typedef struct {
  uint32_t kind;    /* tm_matcher_kind */
  uint32_t service; /* index into tm_region.names */
  uint32_t port;
  uint32_t path_len;
  char path[TM_PATH_MAX];
  uint32_t family; /* TM_MATCH_HOST: AF_INET or AF_INET6, with `addr` */
  uint8_t addr[16];
} tm_matcher;

/* A destination: AF_INET/AF_INET6 with port and address, or AF_UNIX with a path ("@name"
 * for an abstract socket). */
typedef struct {
  uint16_t family;
  uint16_t port;
  uint32_t service; /* 1 + service index, or 1 + TM_EXTERNAL_BIT; 0 while being written */
  uint8_t addr[16];
  uint32_t path_len;
  char path[TM_PATH_MAX];
} tm_addr;

typedef struct {
  uint64_t seq;  /* the phase this slot belongs to; the plugin sets it before publishing */
  uint64_t used; /* bit per service, TM_EXTERNAL_BIT for external traffic */
  uint32_t n_external;
  uint32_t n_refused;
  tm_addr external[TM_MAX_ADDRS];
  tm_addr refused[TM_MAX_ADDRS];
} tm_slot;

typedef struct {
  uint64_t magic;
  uint32_t version;
  uint32_t size;       /* sizeof(tm_region) as the creator saw it */
  uint64_t current;    /* sequence number of the phase running now; 0: none */
  uint64_t allowed;    /* enforcement: the services the current test may connect to */
  uint32_t enforce;    /* 1: refuse connections to services outside `allowed` */
  uint32_t n_services; /* names in use */
  uint32_t n_matchers; /* matchers in use; written after the matcher itself */
  uint32_t reserved;
  char names[TM_MAX_SERVICES][TM_NAME_MAX];
  tm_matcher matchers[TM_MAX_MATCHERS];
  tm_slot slots[TM_SLOTS];
} tm_region;

#endif
