// Creating and reading the shared-memory region; the shim writes into it (src/shim).
#include "core/runtime/region.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace testmap::runtime {

Region::Region(const std::string& path) : path_(path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", path, strerror(errno)));
  if (::ftruncate(fd, sizeof(tm_region)) != 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot size {}: {}", path, strerror(e)));
  }
  void* p = ::mmap(nullptr, sizeof(tm_region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int e = errno;
  ::close(fd);
  if (p == MAP_FAILED)
    throw std::runtime_error(fmt::format("cannot map {}: {}", path, strerror(e)));
  r_ = static_cast<tm_region*>(p);
  // The file is new and zero-filled; the magic goes last so a shim never sees half a header.
  r_->version = TM_REGION_VERSION;
  r_->size = sizeof(tm_region);
  r_->allowed = ~0ull;
  __atomic_store_n(&r_->magic, TM_REGION_MAGIC, __ATOMIC_RELEASE);
}

Region::~Region() {
  if (r_) ::munmap(r_, sizeof(tm_region));
}

int Region::declare(const std::string& service) {
  for (uint32_t i = 0; i < r_->n_services; ++i)
    if (service == r_->names[i]) return static_cast<int>(i);
  if (r_->n_services >= TM_MAX_SERVICES || service.empty() || service.size() >= TM_NAME_MAX)
    return -1;
  uint32_t i = r_->n_services;
  std::memcpy(r_->names[i], service.c_str(), service.size() + 1);
  __atomic_store_n(&r_->n_services, i + 1, __ATOMIC_RELEASE);
  return static_cast<int>(i);
}

bool Region::add_matcher(const tm_matcher& m) {
  uint32_t n = r_->n_matchers;
  for (uint32_t i = 0; i < n; ++i) {
    const tm_matcher& o = r_->matchers[i];
    if (o.kind == m.kind && o.service == m.service && o.port == m.port &&
        o.path_len == m.path_len && std::memcmp(o.path, m.path, m.path_len) == 0 &&
        o.family == m.family && std::memcmp(o.addr, m.addr, sizeof m.addr) == 0)
      return true;
  }
  if (n >= TM_MAX_MATCHERS) return false;
  r_->matchers[n] = m;
  __atomic_store_n(&r_->n_matchers, n + 1, __ATOMIC_RELEASE);  // after the matcher itself
  return true;
}

bool Region::add_port(const std::string& service, int port) {
  int s = declare(service);
  if (s < 0 || port <= 0 || port > 65535) return false;
  tm_matcher m{};
  m.kind = TM_MATCH_PORT;
  m.service = static_cast<uint32_t>(s);
  m.port = static_cast<uint32_t>(port);
  // PostgreSQL's Unix socket carries the port in its name.
  if ((service == "postgres" || service == "postgresql") &&
      !add_unix_socket(service, ".s.PGSQL." + std::to_string(port)))
    return false;
  return add_matcher(m);
}

bool Region::add_unix_socket(const std::string& service, const std::string& path_suffix) {
  int s = declare(service);
  if (s < 0 || path_suffix.empty() || path_suffix.size() > TM_PATH_MAX) return false;
  tm_matcher m{};
  m.kind = TM_MATCH_UNIX_SUFFIX;
  m.service = static_cast<uint32_t>(s);
  m.path_len = static_cast<uint32_t>(path_suffix.size());
  std::memcpy(m.path, path_suffix.data(), path_suffix.size());
  return add_matcher(m);
}

bool Region::add_host(const std::string& service, const std::string& host, int port) {
  int s = declare(service);
  if (s < 0 || host.empty() || port < 0 || port > 65535) return false;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return false;
  bool ok = true;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    tm_matcher m{};
    m.kind = TM_MATCH_HOST;
    m.service = static_cast<uint32_t>(s);
    m.port = static_cast<uint32_t>(port);
    m.family = static_cast<uint32_t>(ai->ai_family);
    if (ai->ai_family == AF_INET)
      std::memcpy(m.addr, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, 4);
    else if (ai->ai_family == AF_INET6)
      std::memcpy(m.addr, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, 16);
    else
      continue;
    ok &= add_matcher(m);
  }
  ::freeaddrinfo(found);
  return ok;
}

bool Region::add_process(const std::string& service, const std::string& program) {
  int s = declare(service);
  if (s < 0 || program.empty() || program.size() >= TM_PATH_MAX) return false;
  tm_matcher m{};
  m.kind = TM_MATCH_PROCESS;
  m.service = static_cast<uint32_t>(s);
  m.path_len = static_cast<uint32_t>(program.size());
  std::memcpy(m.path, program.data(), program.size());
  return add_matcher(m);
}

std::vector<std::string> Region::services() const {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < r_->n_services; ++i) out.emplace_back(r_->names[i]);
  return out;
}

void Region::begin(uint64_t seq) {
  tm_slot& s = r_->slots[seq % TM_SLOTS];
  __atomic_store_n(&s.seq, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&s.used, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.n_external, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.n_refused, 0, __ATOMIC_RELAXED);
  for (auto& a : s.external) __atomic_store_n(&a.service, 0, __ATOMIC_RELAXED);
  for (auto& a : s.refused) __atomic_store_n(&a.service, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&s.seq, seq, __ATOMIC_RELEASE);
  __atomic_store_n(&r_->current, seq, __ATOMIC_RELEASE);
}

std::string format_address(const tm_addr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  // An unnamed local server's command line, when the shim found it.
  std::string program = a.family != AF_UNIX && a.path_len > 0 && a.path_len < TM_PATH_MAX
                            ? fmt::format(" ({})", std::string(a.path, a.path_len))
                            : "";
  if (a.family == AF_INET) {
    inet_ntop(AF_INET, a.addr, buf, sizeof buf);
    return fmt::format("{}:{}{}", buf, a.port, program);
  }
  if (a.family == AF_INET6) {
    inet_ntop(AF_INET6, a.addr, buf, sizeof buf);
    return fmt::format("[{}]:{}{}", buf, a.port, program);
  }
  if (a.family == AF_UNIX && a.path_len > 0 && a.path_len < TM_PATH_MAX)
    return "unix:" + std::string(a.path, a.path_len);
  return "unix socket";
}

PhaseUse Region::end(uint64_t seq) {
  uint64_t expected = seq;
  __atomic_compare_exchange_n(&r_->current, &expected, 0, false, __ATOMIC_ACQ_REL,
                              __ATOMIC_ACQUIRE);
  PhaseUse out;
  const tm_slot& s = r_->slots[seq % TM_SLOTS];
  if (__atomic_load_n(&s.seq, __ATOMIC_ACQUIRE) != seq) return out;
  uint64_t used = __atomic_load_n(&s.used, __ATOMIC_ACQUIRE);
  uint32_t n = r_->n_services;
  for (uint32_t i = 0; i < n && i < TM_MAX_SERVICES; ++i)
    if (used & (1ull << i)) out.services.emplace_back(r_->names[i]);
  auto list = [&](const tm_addr* addrs, uint32_t count, auto&& take) {
    for (uint32_t i = 0; i < count && i < TM_MAX_ADDRS; ++i) {
      uint32_t what = __atomic_load_n(&addrs[i].service, __ATOMIC_ACQUIRE);
      if (what != 0) take(addrs[i], what - 1);
    }
  };
  list(s.external, __atomic_load_n(&s.n_external, __ATOMIC_ACQUIRE),
       [&](const tm_addr& a, uint32_t) { out.external.push_back(format_address(a)); });
  list(s.refused, __atomic_load_n(&s.n_refused, __ATOMIC_ACQUIRE),
       [&](const tm_addr& a, uint32_t service) {
         std::string name = service < n ? r_->names[service] : "?";
         std::string where = format_address(a);
         if (a.family == AF_UNIX && a.path_len > 0 && a.path_len < TM_PATH_MAX)
           where = "the Unix socket " + std::string(a.path, a.path_len);
         out.refused.push_back({name, where});
       });
  return out;
}

void Region::set_enforce(bool on) {
  __atomic_store_n(&r_->enforce, on ? 1u : 0u, __ATOMIC_RELEASE);
}

void Region::set_allowed(const std::vector<std::string>& services) {
  uint64_t mask = 0;
  for (const auto& s : services)
    for (uint32_t i = 0; i < r_->n_services; ++i)
      if (s == r_->names[i]) mask |= 1ull << i;
  __atomic_store_n(&r_->allowed, mask, __ATOMIC_RELEASE);
}

void Region::allow_all() {
  __atomic_store_n(&r_->allowed, ~0ull, __ATOMIC_RELEASE);
}

}  // namespace testmap::runtime
