/* libtestmap_preload.so: sees every socket a test process and its children use.
 *
 * Loaded with LD_PRELOAD by `testmap record`. `connect` decides what a socket talks to
 * (a declared service, an external address, or nothing of interest) and remembers it per
 * descriptor; the send family then marks the service as used in the slot of the test
 * phase running at that moment (published by the plugin in the region, see region.h).
 * With enforcement on, a connect to a service the running test's tier lacks fails with
 * ECONNREFUSED and is noted for the plugin's message.
 *
 * Rules the code keeps: never change what the program sees (return values and errno are
 * the real call's), no allocation and no locks on the I/O path, inert when TESTMAP_SHM is
 * missing or its file malformed. Plain C: no libstdc++ at run time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "listener.h"
#include "region.h"

#define EXPORT __attribute__((visibility("default")))
#define FD_MAX 65536 /* descriptors above are not tracked (docs/runtime.md, Limits) */

/* What a descriptor talks to: 0 nothing, else 1 + service bit (TM_EXTERNAL_BIT too). */
typedef struct {
  uint32_t what;
  tm_addr addr;
} fd_info;

static fd_info fds[FD_MAX];
static tm_region* region;     /* the attached region, or NULL: inert */
static char region_path[512]; /* the TESTMAP_SHM value `region` was mapped from */

/* ---- the real functions ------------------------------------------------------------- */

#define REAL(name) real_##name
#define DECLARE_REAL(ret, name, ...) static ret (*real_##name)(__VA_ARGS__)
DECLARE_REAL(int, connect, int, const struct sockaddr*, socklen_t);
DECLARE_REAL(ssize_t, send, int, const void*, size_t, int);
DECLARE_REAL(ssize_t, sendto, int, const void*, size_t, int, const struct sockaddr*, socklen_t);
DECLARE_REAL(ssize_t, sendmsg, int, const struct msghdr*, int);
DECLARE_REAL(int, sendmmsg, int, struct mmsghdr*, unsigned int, int);
DECLARE_REAL(ssize_t, write, int, const void*, size_t);
DECLARE_REAL(ssize_t, writev, int, const struct iovec*, int);
DECLARE_REAL(ssize_t, sendfile, int, int, off_t*, size_t);
DECLARE_REAL(ssize_t, sendfile64, int, int, off64_t*, size_t);
DECLARE_REAL(int, close, int);
DECLARE_REAL(int, dup, int);
DECLARE_REAL(int, dup2, int, int);
DECLARE_REAL(int, dup3, int, int, int);
DECLARE_REAL(int, fcntl, int, int, ...);
DECLARE_REAL(int, close_range, unsigned int, unsigned int, int);
DECLARE_REAL(int, socket, int, int, int);
DECLARE_REAL(int, accept, int, struct sockaddr*, socklen_t*);
DECLARE_REAL(int, accept4, int, struct sockaddr*, socklen_t*, int);
DECLARE_REAL(int, open, const char*, int, ...);
DECLARE_REAL(int, open64, const char*, int, ...);
DECLARE_REAL(int, openat, int, const char*, int, ...);
DECLARE_REAL(int, openat64, int, const char*, int, ...);
DECLARE_REAL(FILE*, fopen, const char*, const char*);
DECLARE_REAL(FILE*, fopen64, const char*, const char*);

/* Resolved on first use: another library's constructor may call write() before ours. */
#define RESOLVE(name)                                              \
  do {                                                             \
    if (__builtin_expect(real_##name == NULL, 0)) {                \
      void* p = dlsym(RTLD_NEXT, #name);                           \
      __atomic_store_n((void**)&real_##name, p, __ATOMIC_RELEASE); \
    }                                                              \
  } while (0)

__attribute__((constructor)) static void resolve_all(void) {
  int saved = errno;
  RESOLVE(connect);
  RESOLVE(send);
  RESOLVE(sendto);
  RESOLVE(sendmsg);
  RESOLVE(sendmmsg);
  RESOLVE(write);
  RESOLVE(writev);
  RESOLVE(sendfile);
  RESOLVE(sendfile64);
  RESOLVE(close);
  RESOLVE(dup);
  RESOLVE(dup2);
  RESOLVE(dup3);
  RESOLVE(fcntl);
  RESOLVE(close_range);
  RESOLVE(socket);
  RESOLVE(accept);
  RESOLVE(accept4);
  RESOLVE(open);
  RESOLVE(open64);
  RESOLVE(openat);
  RESOLVE(openat64);
  RESOLVE(fopen);
  RESOLVE(fopen64);
  errno = saved;
}

/* ---- the region --------------------------------------------------------------------- */

/* The region named by TESTMAP_SHM, mapped on first need and again when the variable
 * changes (an xdist worker names its own region after start-up). Called from connect()
 * only, which is rare: the send path reads `region` and nothing else. */
static tm_region* attach(void) {
  const char* path = getenv("TESTMAP_SHM");
  tm_region* r = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
  if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof region_path) return r;
  if (r != NULL && strcmp(path, region_path) == 0) return r;
  int saved = errno;
  RESOLVE(close);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    errno = saved;
    return r;
  }
  struct stat st;
  void* p = MAP_FAILED;
  if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(tm_region))
    p = mmap(NULL, sizeof(tm_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  REAL(close)(fd);
  if (p != MAP_FAILED) {
    tm_region* n = (tm_region*)p;
    if (n->magic == TM_REGION_MAGIC && n->version == TM_REGION_VERSION &&
        n->size == sizeof(tm_region)) {
      /* The old mapping stays: another thread may still be writing through it. */
      strcpy(region_path, path);
      __atomic_store_n(&region, n, __ATOMIC_RELEASE);
      r = n;
    } else {
      munmap(p, sizeof(tm_region));
    }
  }
  errno = saved;
  return r;
}

/* The slot of the phase running now, or NULL. */
static tm_slot* current_slot(tm_region* r) {
  uint64_t cur = __atomic_load_n(&r->current, __ATOMIC_ACQUIRE);
  if (cur == 0) return NULL;
  tm_slot* s = &r->slots[cur % TM_SLOTS];
  return __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == cur ? s : NULL;
}

static int same_addr(const tm_addr* a, const tm_addr* b) {
  return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

/* Adds `a` (tagged `what`) to a slot's address list unless it is there or the list is full. */
static void add_addr(tm_addr* list, uint32_t* count, const tm_addr* a, uint32_t what) {
  uint32_t n = __atomic_load_n(count, __ATOMIC_ACQUIRE);
  for (uint32_t i = 0; i < n && i < TM_MAX_ADDRS; ++i)
    if (__atomic_load_n(&list[i].service, __ATOMIC_ACQUIRE) == what && same_addr(&list[i], a))
      return;
  uint32_t i = __atomic_fetch_add(count, 1, __ATOMIC_ACQ_REL);
  if (i >= TM_MAX_ADDRS) return;
  list[i].family = a->family;
  list[i].port = a->port;
  memcpy(list[i].addr, a->addr, 16);
  list[i].path_len = a->path_len < TM_PATH_MAX ? a->path_len : 0;
  memcpy(list[i].path, a->path, TM_PATH_MAX);
  __atomic_store_n(&list[i].service, what, __ATOMIC_RELEASE);
}

/* Marks `what` (1 + bit) as used by the running phase. */
static void note(uint32_t what, const tm_addr* a) {
  tm_region* r = __atomic_load_n(&region, __ATOMIC_ACQUIRE);
  if (r == NULL) return;
  tm_slot* s = current_slot(r);
  if (s == NULL) return;
  uint64_t bit = 1ull << (what - 1);
  /* Read first: most sends find the bit set and leave the cache line shared. */
  if ((__atomic_load_n(&s->used, __ATOMIC_RELAXED) & bit) == 0)
    __atomic_fetch_or(&s->used, bit, __ATOMIC_RELAXED);
  if (what - 1 == TM_EXTERNAL_BIT) add_addr(s->external, &s->n_external, a, what);
}

static inline void note_fd(int fd) {
  if ((unsigned)fd >= FD_MAX) return;
  uint32_t what = __atomic_load_n(&fds[fd].what, __ATOMIC_ACQUIRE);
  if (what != 0) note(what, &fds[fd].addr);
}

static void forget(int fd) {
  if ((unsigned)fd < FD_MAX) __atomic_store_n(&fds[fd].what, 0, __ATOMIC_RELEASE);
}

static void copy_fd(int from, int to) {
  if ((unsigned)to >= FD_MAX) return;
  uint32_t what = (unsigned)from < FD_MAX ? __atomic_load_n(&fds[from].what, __ATOMIC_ACQUIRE) : 0;
  __atomic_store_n(&fds[to].what, 0, __ATOMIC_RELEASE);
  if (what == 0) return;
  fds[to].addr = fds[from].addr;
  __atomic_store_n(&fds[to].what, what, __ATOMIC_RELEASE);
}

/* ---- destinations ------------------------------------------------------------------- */

static int is_loopback(const tm_addr* a) {
  if (a->family == AF_INET) return a->addr[0] == 127;
  if (a->family == AF_INET6) {
    static const uint8_t loop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a->addr, loop, 16) == 0) return 1;
    return memcmp(a->addr, mapped, 12) == 0 && a->addr[12] == 127;
  }
  return 1;
}

/* Fills `a` from a socket address; returns 0 for families we do not follow. For Unix
 * sockets the path (or abstract name) goes to `path` and its length to `*path_len`. */
static int read_addr(const struct sockaddr* sa, socklen_t len, tm_addr* a, const char** path,
                     size_t* path_len) {
  memset(a, 0, sizeof *a);
  *path = NULL;
  *path_len = 0;
  if (sa == NULL || len < (socklen_t)sizeof(sa_family_t)) return 0;
  if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    const struct sockaddr_in* in = (const struct sockaddr_in*)sa;
    a->family = AF_INET;
    a->port = ntohs(in->sin_port);
    memcpy(a->addr, &in->sin_addr, 4);
    return 1;
  }
  if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6* in6 = (const struct sockaddr_in6*)sa;
    a->family = AF_INET6;
    a->port = ntohs(in6->sin6_port);
    memcpy(a->addr, &in6->sin6_addr, 16);
    return 1;
  }
  if (sa->sa_family == AF_UNIX && len > (socklen_t)offsetof(struct sockaddr_un, sun_path)) {
    const struct sockaddr_un* un = (const struct sockaddr_un*)sa;
    size_t n = (size_t)len - offsetof(struct sockaddr_un, sun_path);
    if (n > sizeof un->sun_path) n = sizeof un->sun_path;
    const char* p = un->sun_path;
    if (n > 0 && p[0] == '\0') { /* abstract: the name after the NUL, not NUL-terminated */
      ++p;
      --n;
    } else {
      n = strnlen(p, n);
    }
    a->family = AF_UNIX;
    *path = p;
    *path_len = n;
    /* Kept for naming the listener and for messages: "@name" for an abstract socket. */
    size_t k = 0;
    if (un->sun_path[0] == '\0') a->path[k++] = '@';
    for (size_t i = 0; i < n && k < TM_PATH_MAX - 1; ++i) a->path[k++] = p[i];
    a->path[k] = '\0';
    a->path_len = (uint32_t)k;
    return 1;
  }
  return 0;
}

/* The answers of tm_name_listener, per listening address, for this process: a lookup
 * reads /proc, a connection pool connects often. A server that stops and another that
 * starts on the same address within one process keep the first answer (rare: ports are
 * handed out in turn). Lock-free: a race only repeats a lookup. */
#define NAMED_MAX 64
typedef struct {
  uint32_t what; /* 1 + (the answer + 1): 0 while free */
  tm_addr addr;
} named_entry;
static named_entry named[NAMED_MAX];
static uint32_t named_next;

/* For TCP, an unnamed listener's command line is kept in `a->path` for the report. */
static uint32_t named_listener(tm_region* r, tm_addr* a) {
  for (uint32_t i = 0; i < NAMED_MAX; ++i) {
    uint32_t w = __atomic_load_n(&named[i].what, __ATOMIC_ACQUIRE);
    if (w != 0 && same_addr(&named[i].addr, a) &&
        (a->family != AF_UNIX || strcmp(named[i].addr.path, a->path) == 0)) {
      if (a->family != AF_UNIX) {
        memcpy(a->path, named[i].addr.path, TM_PATH_MAX);
        a->path_len = named[i].addr.path_len;
      }
      return w - 1;
    }
  }
  int lasting = 0;
  char program[TM_PATH_MAX];
  uint32_t what = tm_name_listener(r, a, &lasting, program, sizeof program);
  if (a->family != AF_UNIX) {
    memcpy(a->path, program, sizeof program);
    a->path_len = (uint32_t)strlen(program);
  }
  if (!lasting) return what;
  uint32_t i = __atomic_fetch_add(&named_next, 1, __ATOMIC_ACQ_REL) % NAMED_MAX;
  __atomic_store_n(&named[i].what, 0, __ATOMIC_RELEASE);
  named[i].addr = *a;
  __atomic_store_n(&named[i].what, what + 1, __ATOMIC_RELEASE);
  return what;
}

/* Whether a TCP destination is this machine: loopback, or one of its own addresses (a
 * server reached through the host's address). Cached like the names. */
static int is_local(const tm_addr* a) {
  if (is_loopback(a)) return 1;
  static struct {
    uint32_t state; /* 0 free, 1 + is local */
    uint8_t addr[16];
    uint16_t family;
  } seen[16];
  static uint32_t seen_next;
  for (int i = 0; i < 16; ++i) {
    uint32_t st = __atomic_load_n(&seen[i].state, __ATOMIC_ACQUIRE);
    if (st != 0 && seen[i].family == a->family && memcmp(seen[i].addr, a->addr, 16) == 0)
      return (int)st - 1;
  }
  int local = tm_is_local_address(a);
  uint32_t i = __atomic_fetch_add(&seen_next, 1, __ATOMIC_ACQ_REL) % 16;
  __atomic_store_n(&seen[i].state, 0, __ATOMIC_RELEASE);
  seen[i].family = a->family;
  memcpy(seen[i].addr, a->addr, 16);
  __atomic_store_n(&seen[i].state, (uint32_t)local + 1, __ATOMIC_RELEASE);
  return local;
}

/* What a destination is: 1 + service index, 1 + TM_EXTERNAL_BIT, or 0 (not of interest).
 * Declared ports and sockets first; then a server on this machine names itself by its
 * process; what is left is external, by address. */
static uint32_t declared(tm_region* r, const tm_addr* a, const char* path, size_t path_len);

static uint32_t classify(tm_region* r, tm_addr* a, const char* path, size_t path_len) {
  uint32_t d = declared(r, a, path, path_len);
  if (d != 0) return d;
  if (a->family != AF_UNIX && a->port == 53) return 0; /* DNS */
  if (a->family == AF_UNIX || is_local(a)) return named_listener(r, a);
  return TM_EXTERNAL_BIT + 1;
}

/* 1 + the service whose declared port or socket `a` is, or 0. */
static uint32_t declared(tm_region* r, const tm_addr* a, const char* path, size_t path_len) {
  uint32_t n = __atomic_load_n(&r->n_matchers, __ATOMIC_ACQUIRE);
  if (n > TM_MAX_MATCHERS) n = TM_MAX_MATCHERS;
  for (uint32_t i = 0; i < n; ++i) {
    const tm_matcher* m = &r->matchers[i];
    if (m->service >= TM_MAX_SERVICES) continue;
    if (m->kind == TM_MATCH_PORT && a->family != AF_UNIX && m->port == a->port)
      return m->service + 1;
    if (m->kind == TM_MATCH_HOST && a->family == m->family &&
        (m->port == 0 || m->port == a->port) &&
        memcmp(a->addr, m->addr, a->family == AF_INET ? 4 : 16) == 0)
      return m->service + 1;
    if (m->kind == TM_MATCH_UNIX_SUFFIX && a->family == AF_UNIX && path != NULL &&
        m->path_len <= path_len && m->path_len <= TM_PATH_MAX &&
        memcmp(path + path_len - m->path_len, m->path, m->path_len) == 0)
      return m->service + 1;
  }
  return 0;
}

/* Enforcement: refuse a service outside the running test's tier, noting it for the plugin. */
static int refused(tm_region* r, uint32_t what, const tm_addr* a) {
  if (what == 0 || what - 1 == TM_EXTERNAL_BIT) return 0;
  if (!__atomic_load_n(&r->enforce, __ATOMIC_ACQUIRE)) return 0;
  if (__atomic_load_n(&r->allowed, __ATOMIC_ACQUIRE) & (1ull << (what - 1))) return 0;
  tm_slot* s = current_slot(r);
  if (s == NULL) return 0; /* between tests: nothing to attribute the refusal to */
  add_addr(s->refused, &s->n_refused, a, what);
  return 1;
}

/* Found by the plugin with dlsym in the process's global scope: the shim is loaded. A
 * look at /proc/self/maps would need a /proc, which a container may not have. */
EXPORT int testmap_preload_active(void) {
  return 1;
}

/* ---- interposed calls ----------------------------------------------------------------- */

EXPORT int connect(int fd, const struct sockaddr* sa, socklen_t len) {
  RESOLVE(connect);
  tm_addr a;
  const char* path;
  size_t path_len;
  tm_region* r = read_addr(sa, len, &a, &path, &path_len) ? attach() : NULL;
  uint32_t what = r != NULL ? classify(r, &a, path, path_len) : 0;
  if (r != NULL && refused(r, what, &a)) {
    errno = ECONNREFUSED;
    return -1;
  }
  int rc = REAL(connect)(fd, sa, len);
  int saved = errno;
  /* A server that began to listen between the look-up and the connect (one that is
   * starting, probed until it answers): look again now that it may be there. A connect
   * that goes on in the background (EINPROGRESS) has reached the listener by now on
   * this machine, or none. */
  if (r != NULL && what == 0 && (rc == 0 || saved == EINPROGRESS) &&
      (a.family == AF_UNIX || (a.port != 53 && is_local(&a))) &&
      declared(r, &a, path, path_len) == 0)
    what = named_listener(r, &a);
  if ((unsigned)fd < FD_MAX) {
    __atomic_store_n(&fds[fd].what, 0, __ATOMIC_RELEASE);
    if (what != 0 && (rc == 0 || saved == EINPROGRESS)) {
      fds[fd].addr = a;
      __atomic_store_n(&fds[fd].what, what, __ATOMIC_RELEASE);
    }
  }
  if (what != 0 && (rc == 0 || saved == EINPROGRESS)) note(what, &a);
  errno = saved;
  return rc;
}

EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  RESOLVE(send);
  note_fd(fd);
  return REAL(send)(fd, buf, n, flags);
}

/* An unconnected datagram socket names its destination on every call. */
static void note_dest(const struct sockaddr* sa, socklen_t len) {
  tm_addr a;
  const char* path;
  size_t path_len;
  if (!read_addr(sa, len, &a, &path, &path_len)) return;
  tm_region* r = attach();  // a datagram socket may never call connect()
  if (r == NULL) return;
  uint32_t what = classify(r, &a, path, path_len);
  if (what != 0) note(what, &a);
}

EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags, const struct sockaddr* sa,
                      socklen_t len) {
  RESOLVE(sendto);
  if (sa != NULL)
    note_dest(sa, len);
  else
    note_fd(fd);
  return REAL(sendto)(fd, buf, n, flags, sa, len);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  RESOLVE(sendmsg);
  if (msg != NULL && msg->msg_name != NULL)
    note_dest((const struct sockaddr*)msg->msg_name, msg->msg_namelen);
  else
    note_fd(fd);
  return REAL(sendmsg)(fd, msg, flags);
}

EXPORT int sendmmsg(int fd, struct mmsghdr* msgs, unsigned int n, int flags) {
  RESOLVE(sendmmsg);
  if (msgs != NULL && n > 0 && msgs[0].msg_hdr.msg_name != NULL)
    note_dest((const struct sockaddr*)msgs[0].msg_hdr.msg_name, msgs[0].msg_hdr.msg_namelen);
  else
    note_fd(fd);
  return REAL(sendmmsg)(fd, msgs, n, flags);
}

EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  RESOLVE(write);
  note_fd(fd);
  return REAL(write)(fd, buf, n);
}

EXPORT ssize_t writev(int fd, const struct iovec* iov, int n) {
  RESOLVE(writev);
  note_fd(fd);
  return REAL(writev)(fd, iov, n);
}

EXPORT ssize_t sendfile(int out, int in, off_t* offset, size_t n) {
  RESOLVE(sendfile);
  note_fd(out);
  return REAL(sendfile)(out, in, offset, n);
}

EXPORT ssize_t sendfile64(int out, int in, off64_t* offset, size_t n) {
  RESOLVE(sendfile64);
  note_fd(out);
  return REAL(sendfile64)(out, in, offset, n);
}

/* ---- keeping the descriptor table true ------------------------------------------------- */

EXPORT int close(int fd) {
  RESOLVE(close);
  forget(fd);
  return REAL(close)(fd);
}

EXPORT int dup(int fd) {
  RESOLVE(dup);
  int rc = REAL(dup)(fd);
  if (rc >= 0) {
    int saved = errno;
    copy_fd(fd, rc);
    errno = saved;
  }
  return rc;
}

EXPORT int dup2(int from, int to) {
  RESOLVE(dup2);
  int rc = REAL(dup2)(from, to);
  if (rc >= 0 && from != to) copy_fd(from, to);
  return rc;
}

EXPORT int dup3(int from, int to, int flags) {
  RESOLVE(dup3);
  int rc = REAL(dup3)(from, to, flags);
  if (rc >= 0) copy_fd(from, to);
  return rc;
}

/* Every fcntl argument is an int, a long or a pointer: one register on the ABIs we build
 * for, so passing it on as a pointer-sized value is exact. */
static int fcntl_with(int fd, int cmd, void* arg) {
  RESOLVE(fcntl);
  int rc = REAL(fcntl)(fd, cmd, arg);
  if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) copy_fd(fd, rc);
  return rc;
}

EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_with(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return fcntl_with(fd, cmd, arg);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  RESOLVE(close_range);
  if (REAL(close_range) == NULL) {
    errno = ENOSYS;
    return -1;
  }
  int rc = REAL(close_range)(first, last, flags);
  if (rc == 0 && !(flags & CLOSE_RANGE_CLOEXEC))
    for (unsigned int fd = first; fd <= last && fd < FD_MAX; ++fd) forget((int)fd);
  return rc;
}

/* New descriptors start untracked, whatever a close we did not see left behind (glibc
 * closes some descriptors through internal calls). Accepted sockets are incoming: never
 * a service this process uses. */
EXPORT int socket(int domain, int type, int protocol) {
  RESOLVE(socket);
  int rc = REAL(socket)(domain, type, protocol);
  forget(rc);
  return rc;
}

EXPORT int accept(int fd, struct sockaddr* sa, socklen_t* len) {
  RESOLVE(accept);
  int rc = REAL(accept)(fd, sa, len);
  forget(rc);
  return rc;
}

EXPORT int accept4(int fd, struct sockaddr* sa, socklen_t* len, int flags) {
  RESOLVE(accept4);
  int rc = REAL(accept4)(fd, sa, len, flags);
  forget(rc);
  return rc;
}

/* ---- files opened for reading (testmap record --deps) --------------------------------- */

/* With TESTMAP_DEPS_OPENS set (a directory), a file under TESTMAP_DEPS_ROOT opened for
 * reading by any code of the process, C libraries included, is appended to
 * <dir>/<pid>.opens, one path a line; the
 * recorder gives each test the lines written while it ran. Python source and compiled files
 * are skipped: the tracer names code better. The real call comes first, so a failed open
 * is not noted and errno is the real one. */
static void note_open(int dirfd, const char* path, int flags, int rc) {
  if (rc < 0 || path == NULL || (flags & (O_WRONLY | O_RDWR)) != 0) return;
  const char* dir = getenv("TESTMAP_DEPS_OPENS");
  if (dir == NULL || dir[0] == '\0') return;
  size_t n = strlen(path);
  if (n == 0 || n > 3000) return;
  if ((n > 3 && strcmp(path + n - 3, ".py") == 0) || (n > 4 && strcmp(path + n - 4, ".pyc") == 0) ||
      (n > 3 && strcmp(path + n - 3, ".so") == 0))
    return;
  int saved = errno;
  char line[4200];
  size_t len = 0;
  if (path[0] != '/') {
    if (dirfd != AT_FDCWD) goto done; /* relative to another directory: cannot name it */
    if (getcwd(line, 1024) == NULL) goto done;
    len = strlen(line);
    line[len++] = '/';
  }
  memcpy(line + len, path, n);
  len += n;
  /* Under the repository only: the rest (/etc, /proc, installed packages) is not the
   * project's. */
  const char* root = getenv("TESTMAP_DEPS_ROOT");
  size_t rn = root ? strlen(root) : 0;
  if (rn == 0 || len <= rn || memcmp(line, root, rn) != 0 || line[rn] != '/') goto done;
  line[len++] = '\n';
  char log[1200];
  int m = snprintf(log, sizeof log, "%s/%d.opens", dir, (int)getpid());
  if (m <= 0 || (size_t)m >= sizeof log) goto done;
  int fd = REAL(open)(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t w = REAL(write)(fd, line, len); /* one write: lines of two threads never mix */
    (void)w;
    REAL(close)(fd);
  }
done:
  errno = saved;
}

static mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? (mode_t)va_arg(ap, int) : 0;
}

EXPORT int open(const char* path, int flags, ...) {
  RESOLVE(open);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int rc = REAL(open)(path, flags, mode);
  forget(rc);
  note_open(AT_FDCWD, path, flags, rc);
  return rc;
}

EXPORT int open64(const char* path, int flags, ...) {
  RESOLVE(open64);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int rc = REAL(open64)(path, flags, mode);
  forget(rc);
  note_open(AT_FDCWD, path, flags, rc);
  return rc;
}

EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  RESOLVE(openat);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int rc = REAL(openat)(dirfd, path, flags, mode);
  forget(rc);
  note_open(dirfd, path, flags, rc);
  return rc;
}

EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  RESOLVE(openat64);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  int rc = REAL(openat64)(dirfd, path, flags, mode);
  forget(rc);
  note_open(dirfd, path, flags, rc);
  return rc;
}

static int fopen_flags(const char* mode) {
  return mode != NULL && strpbrk(mode, "wa+") != NULL ? O_RDWR : O_RDONLY;
}

EXPORT FILE* fopen(const char* path, const char* mode) {
  RESOLVE(fopen);
  FILE* f = REAL(fopen)(path, mode);
  if (f != NULL) note_open(AT_FDCWD, path, fopen_flags(mode), 0);
  return f;
}

EXPORT FILE* fopen64(const char* path, const char* mode) {
  RESOLVE(fopen64);
  FILE* f = REAL(fopen64)(path, mode);
  if (f != NULL) note_open(AT_FDCWD, path, fopen_flags(mode), 0);
  return f;
}
