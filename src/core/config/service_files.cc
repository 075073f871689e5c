// Compose and CI files read for their services: which image, which key, which ports the
// machine running the tests can reach them on.
#include "core/config/service_files.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "core/classify/infer.h"
#include "core/config/config.h"
#include "core/util/glob.h"
#include "core/util/yaml_tree.h"

namespace fs = std::filesystem;

namespace testmap::config {
namespace {

using Vars = std::map<std::string, std::string>;

// Variables from the environment, then compose's .env file beside the compose file.
bool lookup(const Vars& dotenv, const std::string& name, std::string* value) {
  if (const char* v = std::getenv(name.c_str())) {
    *value = v;
    return true;
  }
  auto it = dotenv.find(name);
  if (it == dotenv.end()) return false;
  *value = it->second;
  return true;
}

bool interpolate_with(const std::string& text, const Vars& dotenv, std::string* out) {
  out->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      *out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {  // $$ is a literal $
      *out += '$';
      ++i;
      continue;
    }
    std::string name, fallback;
    bool has_fallback = false, if_empty = false;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      size_t close = text.find('}', i + 2);
      if (close == std::string::npos) return false;
      std::string inner = text.substr(i + 2, close - i - 2);
      size_t op = inner.find_first_of(":-?");
      name = inner.substr(0, op);
      if (op != std::string::npos) {
        if_empty = inner[op] == ':';
        size_t d = if_empty ? op + 1 : op;
        if (d < inner.size() && inner[d] == '-') {
          has_fallback = true;
          fallback = inner.substr(d + 1);
        }
      }
      i = close;
    } else {
      size_t j = i + 1;
      while (j < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_'))
        ++j;
      name = text.substr(i + 1, j - i - 1);
      i = j - 1;
    }
    std::string value;
    bool set = !name.empty() && lookup(dotenv, name, &value);
    if (set && !(if_empty && value.empty()))
      *out += value;
    else if (has_fallback)
      *out += fallback;
    else
      return false;
  }
  return true;
}

Vars read_dotenv(const fs::path& dir) {
  Vars vars;
  std::string text;
  if (!read_text(dir / ".env", &text)) return vars;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("export ")) line = line.substr(7);
    size_t eq = line.find('=');
    if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    if (value.size() >= 2 && (value[0] == '"' || value[0] == '\'') && value.back() == value[0])
      value = value.substr(1, value.size() - 2);
    vars[line.substr(0, eq)] = value;
  }
  return vars;
}

bool parse_port(const std::string& s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  int p = std::stoi(s);
  if (p < 1 || p > 65535) return false;
  *port = p;
  return true;
}

// "5433", "5433-5435": the ports of a published range (a range of at most 100).
void add_port_range(const std::string& s, std::vector<int>* out) {
  size_t dash = s.find('-');
  int lo, hi;
  if (dash == std::string::npos) {
    if (parse_port(s, &lo)) out->push_back(lo);
    return;
  }
  if (!parse_port(s.substr(0, dash), &lo) || !parse_port(s.substr(dash + 1), &hi)) return;
  if (hi < lo || hi - lo >= 100) return;
  for (int p = lo; p <= hi; ++p) out->push_back(p);
}

// Compose's and GitHub's short form: [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]. Only
// a given host port is reachable at a known port; "5432" alone publishes a random one.
void add_short_port(const std::string& raw, const Vars& vars, std::vector<int>* out) {
  std::string s;
  if (!interpolate_with(raw, vars, &s)) return;
  size_t slash = s.find('/');
  if (slash != std::string::npos) {
    if (s.substr(slash + 1) != "tcp") return;
    s = s.substr(0, slash);
  }
  if (s.starts_with("[")) {  // [::1]:5433:5432
    size_t close = s.find("]:");
    if (close == std::string::npos) return;
    s = s.substr(close + 2);
  }
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t colon; (colon = s.find(':', start)) != std::string::npos; start = colon + 1)
    parts.push_back(s.substr(start, colon - start));
  parts.push_back(s.substr(start));
  if (parts.size() < 2) return;
  add_port_range(parts[parts.size() - 2], out);
}

void add_ports(const yaml::Node* ports, const Vars& vars, std::vector<int>* out) {
  if (!ports || !ports->is_sequence()) return;
  for (const auto& p : ports->items) {
    if (p.is_scalar()) {
      add_short_port(p.value, vars, out);
    } else if (p.is_mapping()) {  // long form: {target, published, protocol}
      const yaml::Node* published = p.get("published");
      const yaml::Node* protocol = p.get("protocol");
      if (protocol && protocol->is_scalar() && protocol->value != "tcp") continue;
      std::string v;
      if (published && published->is_scalar() && interpolate_with(published->value, vars, &v))
        add_port_range(v, out);
    }
  }
}

std::string scalar(const yaml::Node* n, const Vars& vars) {
  std::string out;
  if (n && n->is_scalar() && interpolate_with(n->value, vars, &out)) return out;
  return "";
}

// The testmap name for a declared service: the image's service, else the key's, else the
// key itself (a service testmap has no built-in for, named as the project names it).
std::string name_for(const std::string& image, const std::string& key) {
  std::string name = service_of_image(image);
  if (name.empty()) name = classify::service_in_name(key);
  if (name.empty()) {
    for (char c : key)
      name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
                  ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                  : '_';
  }
  return name;
}

struct Reader {
  fs::path root;
  FileServices* out;

  bool load(const fs::path& path, yaml::Node* doc) {
    std::string rel = path.lexically_relative(root).generic_string();
    std::string text, error;
    if (!read_text(path, &text)) {
      out->notes.push_back({rel, 0, "", "cannot read it; its services are not counted"});
      return false;
    }
    if (!yaml::parse(text, doc, &error)) {
      int line = 0;
      if (error.starts_with("line ")) {
        line = std::atoi(error.c_str() + 5);
        error = error.substr(error.find(": ") + 2);
      }
      out->notes.push_back(
          {rel, line, "", fmt::format("not valid YAML ({}); its services are not counted", error)});
      return false;
    }
    return true;
  }

  void add(FileService s, const fs::path& path) {
    s.file = path.lexically_relative(root).generic_string();
    s.name = name_for(s.image, s.key);
    std::sort(s.ports.begin(), s.ports.end());
    s.ports.erase(std::unique(s.ports.begin(), s.ports.end()), s.ports.end());
    out->services.push_back(std::move(s));
  }

  void compose(const fs::path& path) {
    yaml::Node doc;
    if (!load(path, &doc)) return;
    const yaml::Node* services = doc.get("services");
    if (!services || !services->is_mapping()) return;
    Vars vars = read_dotenv(path.parent_path());
    for (const auto& [key, svc] : services->pairs) {
      if (!svc.is_mapping()) continue;
      FileService s{.key = key,
                    .image = scalar(svc.get("image"), vars),
                    .line = svc.key_line,
                    .source = "compose"};
      // Built from this repository with no image of a known service: the project itself
      // (web, worker, the tests), not a service its tests need.
      if (svc.get("build") && service_of_image(s.image).empty()) continue;
      add_ports(svc.get("ports"), vars, &s.ports);
      add(std::move(s), path);
    }
  }

  void github(const fs::path& path) {
    yaml::Node doc;
    if (!load(path, &doc)) return;
    const yaml::Node* jobs = doc.get("jobs");
    if (!jobs || !jobs->is_mapping()) return;
    for (const auto& [job, body] : jobs->pairs) {
      const yaml::Node* services = body.get("services");
      if (!services || !services->is_mapping()) continue;
      for (const auto& [key, svc] : services->pairs) {
        FileService s{.key = key, .line = svc.key_line, .source = "github"};
        const yaml::Node* image = svc.is_mapping() ? svc.get("image") : &svc;
        // ${{ matrix.image }}: an expression the runner fills in, unknown here.
        if (image && image->is_scalar() && image->value.find("${{") == std::string::npos)
          s.image = image->value;
        if (svc.is_mapping()) add_ports(svc.get("ports"), {}, &s.ports);
        add(std::move(s), path);
      }
    }
  }

  // GitLab runs each service as a container reached by its alias on the service's own
  // port: there is no published port, only which service it is.
  void gitlab(const fs::path& path) {
    yaml::Node doc;
    if (!load(path, &doc)) return;
    auto take = [&](const yaml::Node* services) {
      if (!services || !services->is_sequence()) return;
      for (const auto& item : services->items) {
        FileService s{.line = item.line, .source = "gitlab"};
        if (item.is_scalar()) {
          s.image = item.value;
        } else if (item.is_mapping()) {
          s.image = scalar(item.get("name"), {});
          s.key = scalar(item.get("alias"), {});
        }
        if (s.image.empty() || s.image.find('$') != std::string::npos) continue;
        if (s.key.empty()) {  // GitLab's own host name for it: the image without its tag
          s.key = s.image.substr(0, s.image.find(':'));
          s.key = s.key.substr(s.key.rfind('/') + 1);
        }
        add(std::move(s), path);
      }
    };
    take(doc.get("services"));
    for (const auto& [job, body] : doc.pairs)
      if (body.is_mapping()) take(body.get("services"));
  }
};

bool is_compose_name(const std::string& name) {
  for (const char* pattern :
       {"docker-compose*.yml", "docker-compose*.yaml", "compose*.yml", "compose*.yaml"})
    if (glob_match(pattern, name)) return true;
  return false;
}

std::vector<fs::path> sorted_files(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

bool interpolate(const std::string& text, std::string* out) {
  return interpolate_with(text, {}, out);
}

std::string service_of_image(const std::string& image) {
  if (image.empty()) return "";
  std::string repo = image.substr(0, image.find('@'));
  size_t slash = repo.rfind('/');
  size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash))
    repo = repo.substr(0, colon);
  std::string last = repo.substr(repo.rfind('/') + 1);
  std::string name = classify::service_in_name(last);
  if (name.empty()) name = classify::service_in_name(repo);
  return name;
}

FileServices read_service_files(const std::string& root_arg) {
  FileServices out;
  Reader r{fs::path(root_arg), &out};
  std::error_code ec;
  std::vector<fs::path> dirs{r.root};
  for (fs::directory_iterator it(r.root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(ec) && (name == ".devcontainer" || name[0] != '.') &&
        name != "node_modules" && name != "venv")
      dirs.push_back(it->path());
  }
  std::sort(dirs.begin() + 1, dirs.end());
  for (const auto& dir : dirs)
    for (const auto& f : sorted_files(dir))
      if (is_compose_name(f.filename().string())) r.compose(f);
  for (const auto& f : sorted_files(r.root / ".github" / "workflows")) {
    std::string ext = f.extension().string();
    if (ext == ".yml" || ext == ".yaml") r.github(f);
  }
  if (fs::is_regular_file(r.root / ".gitlab-ci.yml", ec)) r.gitlab(r.root / ".gitlab-ci.yml");
  return out;
}

}  // namespace testmap::config
