/* Which server a local destination is: the process listening on it, found in /proc, named
 * by the region's process matchers (docs/runtime.md, "Servers that name themselves").
 *
 * Only called for destinations no declared port or socket matched. Files are read with
 * raw system calls: the shim interposes open and close, and this must not record itself.
 * Each listening socket is looked up once per process (by its inode); a lookup that
 * cannot finish (a /proc that cannot be read, a socket of another user) leaves the
 * destination external, recorded by its address.
 */
#define _GNU_SOURCE
#include "listener.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LINE_MAX_LEN 512

static int raw_open(const char* path, int flags) {
  return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_RDONLY | O_CLOEXEC);
}

static void raw_close(int fd) {
  syscall(SYS_close, fd);
}

/* A whole small file (comm, cmdline) into buf, NUL-terminated; its length, or -1. */
static ssize_t read_small(const char* path, char* buf, size_t size) {
  int fd = raw_open(path, 0);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t k = read(fd, buf + n, size - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
  }
  raw_close(fd);
  buf[n] = '\0';
  return (ssize_t)n;
}

/* Calls `line` for each line of a /proc file until it returns nonzero; that value, 0, or
 * -1 when the file cannot be read. */
typedef long (*line_fn)(const char* line, const void* arg);
static long each_line(const char* path, line_fn line, const void* arg) {
  int fd = raw_open(path, 0);
  if (fd < 0) return -1;
  char buf[8192];
  char cur[LINE_MAX_LEN];
  size_t len = 0;
  long found = 0;
  for (;;) {
    ssize_t k = read(fd, buf, sizeof buf);
    if (k <= 0) break;
    for (ssize_t i = 0; i < k && !found; ++i) {
      if (buf[i] != '\n') {
        if (len + 1 < sizeof cur) cur[len++] = buf[i];
        continue;
      }
      cur[len] = '\0';
      found = line(cur, arg);
      len = 0;
    }
    if (found) break;
  }
  raw_close(fd);
  return found;
}

/* ---- the listening socket's inode --------------------------------------------------- */

/* /proc/net/tcp{,6} print each 32-bit word of an address as the host-order number it
 * is in memory: copying the parsed words back gives the address's bytes. */
static void parse_words(const char* hex, int words, uint8_t* out) {
  for (int w = 0; w < words; ++w) {
    char part[9];
    memcpy(part, hex + 8 * w, 8);
    part[8] = '\0';
    uint32_t v = (uint32_t)strtoul(part, NULL, 16);
    memcpy(out + 4 * w, &v, 4);
  }
}

struct tcp_query {
  const tm_addr* a;
  int v6; /* the file being read is tcp6 */
};

static int all_zero(const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (p[i]) return 0;
  return 1;
}

static long tcp_line(const char* line, const void* arg) {
  const struct tcp_query* q = arg;
  char local[33], state[3];
  unsigned port;
  unsigned long inode;
  /* "  0: 0100007F:1F90 00000000:0000 0A ... uid timeout inode" */
  if (sscanf(line, " %*d: %32[0-9A-Fa-f]:%x %*s %2s %*s %*s %*s %*s %*s %lu", local, &port, state,
             &inode) != 4)
    return 0;
  if (strcmp(state, "0A") != 0 || port != q->a->port || inode == 0) return 0; /* LISTEN */
  uint8_t addr[16] = {0};
  int words = q->v6 ? 4 : 1;
  if (strlen(local) != (size_t)(8 * words)) return 0;
  parse_words(local, words, addr);
  const uint8_t* want = q->a->addr;
  if (q->a->family == AF_INET) {
    if (!q->v6) return (all_zero(addr, 4) || memcmp(addr, want, 4) == 0) ? (long)inode : 0;
    /* A v6 socket on :: takes v4 connections too, as does one on ::ffff:a.b.c.d. */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (all_zero(addr, 16) || (memcmp(addr, mapped, 12) == 0 && memcmp(addr + 12, want, 4) == 0))
      return (long)inode;
    return 0;
  }
  if (!q->v6) return 0;
  return (all_zero(addr, 16) || memcmp(addr, want, 16) == 0) ? (long)inode : 0;
}

static long unix_line(const char* line, const void* arg) {
  const tm_addr* a = arg;
  unsigned flags;
  unsigned long inode;
  char path[TM_PATH_MAX + 2];
  /* "0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/x.sock" */
  if (sscanf(line, "%*s %*x %*x %x %*x %*x %lu %109s", &flags, &inode, path) != 3) return 0;
  if (!(flags & 0x10000) || inode == 0) return 0; /* __SO_ACCEPTCON: listening */
  return strlen(path) == a->path_len && memcmp(path, a->path, a->path_len) == 0 ? (long)inode : 0;
}

/* The inode of the socket listening on `a`; 0 when none does, -1 when /proc cannot say. */
static long listen_inode(const tm_addr* a) {
  if (a->family == AF_UNIX) return each_line("/proc/net/unix", unix_line, a);
  struct tcp_query q = {a, 0};
  long v4 = a->family == AF_INET ? each_line("/proc/net/tcp", tcp_line, &q) : 0;
  if (v4 > 0) return v4;
  q.v6 = 1;
  long v6 = each_line("/proc/net/tcp6", tcp_line, &q);
  if (v6 > 0) return v6;
  return v4 < 0 && v6 < 0 ? -1 : 0;
}

/* ---- the process that holds it ------------------------------------------------------ */

/* Directory entries through getdents64: opendir would allocate through the process's
 * malloc from inside connect(). Calls `entry` for each name until it returns nonzero. */
struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

typedef long (*entry_fn)(int dirfd, const char* name, const void* arg);
static long each_entry(const char* dir, entry_fn entry, const void* arg) {
  int fd = raw_open(dir, O_DIRECTORY);
  if (fd < 0) return 0;
  char buf[4096];
  long found = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
    if (n <= 0) break;
    for (long off = 0; off < n && !found;) {
      struct linux_dirent64* d = (struct linux_dirent64*)(buf + off);
      if (d->d_name[0] != '.') found = entry(fd, d->d_name, arg);
      off += d->d_reclen;
    }
    if (found) break;
  }
  raw_close(fd);
  return found;
}

static long fd_entry(int dirfd, const char* name, const void* arg) {
  char link[64];
  ssize_t n = readlinkat(dirfd, name, link, sizeof link - 1);
  if (n <= 0) return 0;
  link[n] = '\0';
  return strcmp(link, (const char*)arg) == 0;
}

static long pid_entry(int dirfd, const char* name, const void* arg) {
  (void)dirfd;
  if (name[0] < '0' || name[0] > '9') return 0;
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%s/fd", name);
  return each_entry(dir, fd_entry, arg) ? strtol(name, NULL, 10) : 0;
}

static pid_t owner_of(unsigned long inode) {
  char want[48];
  snprintf(want, sizeof want, "socket:[%lu]", inode);
  /* This process first: a test's own server in a thread is the common case. */
  if (each_entry("/proc/self/fd", fd_entry, want)) return getpid();
  return (pid_t)each_entry("/proc", pid_entry, want);
}

/* ---- naming it ------------------------------------------------------------------------ */

static const char* base_name(const char* p) {
  const char* slash = strrchr(p, '/');
  return slash ? slash + 1 : p;
}

/* Whether the process (its comm, executable and command line) is the matcher's program. */
static int is_program(const tm_matcher* m, const char* comm, const char* exe, const char* argv0,
                      const char* cmdline) {
  char program[TM_PATH_MAX + 1];
  size_t len = m->path_len < TM_PATH_MAX ? m->path_len : TM_PATH_MAX;
  memcpy(program, m->path, len);
  program[len] = '\0';
  char* text = strchr(program, ':');
  if (text) *text++ = '\0';
  /* argv[0] may be "postgres: checkpointer" or "redis-server *:6379": up to a space or ':'. */
  char first[256];
  snprintf(first, sizeof first, "%s", base_name(argv0));
  first[strcspn(first, " :")] = '\0';
  if (strcmp(program, comm) != 0 && strcmp(program, exe) != 0 && strcmp(program, first) != 0)
    return 0;
  return text == NULL || strstr(cmdline, text) != NULL;
}

uint32_t tm_name_listener(const tm_region* r, const tm_addr* a, int* lasting, char* program,
                          size_t program_size) {
  *lasting = 0;
  if (program_size > 0) program[0] = '\0';
  long inode = listen_inode(a);
  /* /proc cannot say (a container without it): the address is all there is. */
  if (inode < 0) return TM_EXTERNAL_BIT + 1;
  /* No listening socket: nothing to record (a connect fails, or a Unix socket is a
   * datagram socket of the system, a logger). A server still starting is looked up
   * again after the connect. */
  if (inode == 0) return 0;
  pid_t pid = owner_of((unsigned long)inode);
  if (pid <= 0) return TM_EXTERNAL_BIT + 1;
  *lasting = 1;                  /* a listener and its process: the answer holds while it listens */
  if (pid == getpid()) return 0; /* a server in the test process: not a service */
  char path[64], comm[64], exe_path[512], cmdline[4096];
  snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
  if (read_small(path, comm, sizeof comm) < 0) comm[0] = '\0';
  comm[strcspn(comm, "\n")] = '\0';
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  ssize_t n = readlink(path, exe_path, sizeof exe_path - 1);
  exe_path[n > 0 ? n : 0] = '\0';
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  ssize_t c = read_small(path, cmdline, sizeof cmdline);
  const char* argv0 = c > 0 ? cmdline : "";
  char argv0_copy[256];
  snprintf(argv0_copy, sizeof argv0_copy, "%s", argv0);
  for (ssize_t i = 0; i < c; ++i) /* the arguments, space-separated, for "PROGRAM:TEXT" */
    if (cmdline[i] == '\0') cmdline[i] = ' ';
  if (c < 0) cmdline[0] = '\0';
  uint32_t nm = __atomic_load_n(&r->n_matchers, __ATOMIC_ACQUIRE);
  if (nm > TM_MAX_MATCHERS) nm = TM_MAX_MATCHERS;
  for (uint32_t i = 0; i < nm; ++i) {
    const tm_matcher* m = &r->matchers[i];
    if (m->kind == TM_MATCH_PROCESS && m->service < TM_MAX_SERVICES &&
        is_program(m, comm, base_name(exe_path), argv0_copy, cmdline))
      return m->service + 1;
  }
  /* Unnamed: what runs there, so a person can name it (`processes`). */
  if (program_size > 0) {
    /* "python -m http.server 8000": argv[0]'s base name, then the arguments. */
    char what[512];
    if (c > 0)
      snprintf(what, sizeof what, "%s%s", base_name(argv0_copy), cmdline + strlen(argv0_copy));
    else
      snprintf(what, sizeof what, "%s", comm);
    size_t len = strlen(what);
    while (len > 0 && what[len - 1] == ' ') --len;
    if (len >= program_size) len = program_size - 1;
    memcpy(program, what, len);
    program[len] = '\0';
  }
  return TM_EXTERNAL_BIT + 1;
}

/* ---- this machine's addresses --------------------------------------------------------- */

static long if_inet6_line(const char* line, const void* arg) {
  char hex[33];
  if (sscanf(line, "%32s", hex) != 1 || strlen(hex) != 32) return 0;
  uint8_t addr[16];
  for (int i = 0; i < 16; ++i) {
    char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
    addr[i] = (uint8_t)strtoul(b, NULL, 16);
  }
  return memcmp(addr, arg, 16) == 0;
}

struct trie_state {
  const uint8_t* want;
  int last_matches; /* the previous "|-- a.b.c.d" line was the address */
};

static long fib_trie_line(const char* line, const void* arg) {
  struct trie_state* st = (struct trie_state*)arg;
  const char* leaf = strstr(line, "|-- ");
  if (leaf) {
    unsigned b[4];
    st->last_matches = sscanf(leaf + 4, "%u.%u.%u.%u", &b[0], &b[1], &b[2], &b[3]) == 4 &&
                       b[0] == st->want[0] && b[1] == st->want[1] && b[2] == st->want[2] &&
                       b[3] == st->want[3];
    return 0;
  }
  return st->last_matches && strstr(line, "/32 host LOCAL") != NULL;
}

int tm_is_local_address(const tm_addr* a) {
  if (a->family == AF_INET) {
    struct trie_state st = {a->addr, 0};
    return each_line("/proc/net/fib_trie", fib_trie_line, &st) > 0;
  }
  if (a->family == AF_INET6) return each_line("/proc/net/if_inet6", if_inet6_line, a->addr) > 0;
  return 0;
}
