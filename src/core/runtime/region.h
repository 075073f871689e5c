// The plugin's side of the shared-memory region (src/shim/region.h): creates it, declares
// services, publishes the current test phase, and reads what the shim saw in a phase.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include "shim/region.h"
}

namespace testmap::runtime {

struct PhaseUse {
  std::vector<std::string> services;  // declared services used, in declaration order
  std::vector<std::string> external;  // "203.0.113.7:443", "[2001:db8::1]:443"
  struct Refusal {
    std::string service;
    std::string address;
  };
  std::vector<Refusal> refused;
};

class Region {
 public:
  // Creates (or truncates) the region file at `path`; throws std::runtime_error with
  // the path and the reason when that fails.
  explicit Region(const std::string& path);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  const std::string& path() const { return path_; }
  // The index of `service`, declaring it if new; -1 when the table is full.
  int declare(const std::string& service);
  // A TCP/UDP port of `service`; for postgres also its Unix socket `.s.PGSQL.<port>`.
  bool add_port(const std::string& service, int port);
  bool add_unix_socket(const std::string& service, const std::string& path_suffix);
  // A program that is `service` when it listens on a local address the test connects to:
  // "redis-server", or "java:kafka.Kafka" (the program, with that text in its arguments).
  bool add_process(const std::string& service, const std::string& program);
  // Connections to `host` (a name, resolved now, or an address) on `port` (0: any) are
  // `service`, before any port or program rule: two servers on one port, other hosts.
  bool add_host(const std::string& service, const std::string& host, int port);
  std::vector<std::string> services() const;

  // Starts phase `seq` (> 0): the shim attributes traffic to it until end().
  void begin(uint64_t seq);
  // Ends the running phase and returns what the shim saw in phase `seq`.
  PhaseUse end(uint64_t seq);

  void set_enforce(bool on);
  // The services the running test may connect to; unknown names are ignored.
  void set_allowed(const std::vector<std::string>& services);
  void allow_all();

 private:
  bool add_matcher(const tm_matcher& m);
  std::string path_;
  tm_region* r_ = nullptr;
};

// "host:port" for an IP address, "[v6]:port" for IPv6, "unix:PATH" for a Unix socket.
std::string format_address(const tm_addr& a);

}  // namespace testmap::runtime
