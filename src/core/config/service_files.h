// The services a repository already declares outside testmap: docker compose files and
// the `services:` of its GitHub Actions and GitLab CI files (docs/config.md, "Services
// from compose and CI files").
#pragma once

#include <string>
#include <vector>

#include "core/util/diagnostic.h"

namespace testmap::config {

struct FileService {
  std::string name;        // the testmap service: a built-in named by the image, else the key
  std::string key;         // the file's own name for it ("db")
  std::string image;       // as written, ${VAR:-default} resolved; may be ""
  std::vector<int> ports;  // ports published on the machine running the tests
  std::string file;        // relative to the root
  int line = 0;
  std::string source;  // "compose", "github" or "gitlab"
};

struct FileServices {
  std::vector<FileService> services;
  // A file that cannot be read or parsed: one line each; the other files still count.
  Diagnostics notes;
};

// Reads compose files (the root and its direct subdirectories: docker-compose*.y(a)ml,
// compose*.y(a)ml), .github/workflows/*.y(a)ml and .gitlab-ci.yml under `root`.
FileServices read_service_files(const std::string& root);

// The service an image runs ("postgres:16" -> postgres, "bitnami/kafka" -> kafka), or "".
std::string service_of_image(const std::string& image);

// Compose's `${VAR:-default}`, `${VAR-default}`, `${VAR}` and `$VAR` from the environment,
// or the default; false when a variable has neither (the value cannot be known here).
bool interpolate(const std::string& text, std::string* out);

}  // namespace testmap::config
