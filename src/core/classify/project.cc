// File discovery, parallel scanning and the module index.
#include "core/classify/project.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "core/scan/scanner.h"
#include "core/util/glob.h"

namespace testmap::classify {
namespace fs = std::filesystem;
namespace {

bool skipped_dir(const std::string& name) {
  return name.empty() || name[0] == '.' || name == "__pycache__" || name == "node_modules" ||
         name == "site-packages" || name == "venv" || name.ends_with(".egg-info");
}

bool excluded(const config::Config& cfg, const std::string& rel) {
  for (const auto& pat : cfg.exclude)
    if (glob_match(pat, rel)) return true;
  return false;
}

void walk(const config::Config& cfg, std::vector<SourceFile>& out) {
  std::set<std::pair<dev_t, ino_t>> seen;
  std::vector<std::pair<fs::path, std::string>> stack{{fs::path(cfg.root), ""}};
  while (!stack.empty()) {
    auto [dir, rel] = std::move(stack.back());
    stack.pop_back();
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !seen.insert({st.st_dev, st.st_ino}).second) continue;
    std::error_code ec;
    std::vector<std::pair<std::string, bool>> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::error_code ec2;
      bool is_dir = it->is_directory(ec2);  // follows symlinks
      entries.emplace_back(std::move(name), is_dir);
    }
    std::sort(entries.begin(), entries.end());
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      const auto& [name, is_dir] = *it;
      std::string child_rel = rel.empty() ? name : rel + "/" + name;
      if (is_dir) {
        // A virtualenv (pyvenv.cfg) is installed code, which pytest does not collect.
        struct stat venv {};
        if (!skipped_dir(name) && !excluded(cfg, child_rel) &&
            ::stat((dir / name / "pyvenv.cfg").c_str(), &venv) != 0)
          stack.emplace_back(dir / name, child_rel);
      } else if (name.ends_with(".py") && !excluded(cfg, child_rel)) {
        SourceFile f;
        f.rel = child_rel;
        f.abs = (dir / name).string();
        f.is_conftest = name == "conftest.py";
        f.is_init = name == "__init__.py";
        out.push_back(std::move(f));
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
}

std::string parent_dir(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string stem_of(const std::string& rel) {
  std::string base = rel.substr(rel.rfind('/') + 1);
  return base.substr(0, base.size() - 3);
}

std::string dotted(std::string path) {
  std::replace(path.begin(), path.end(), '/', '.');
  return path;
}

// The name a file is imported as: walk up while the directory is a package.
std::string package_walk_name(const SourceFile& f,
                              const std::unordered_set<std::string>& init_dirs) {
  std::string name = f.is_init ? "" : stem_of(f.rel);
  std::string dir = parent_dir(f.rel);
  while (!dir.empty() && init_dirs.count(dir)) {
    std::string base = dir.substr(dir.rfind('/') + 1);
    name = name.empty() ? base : base + "." + name;
    dir = parent_dir(dir);
  }
  return name;
}

void index_name(Project& p, const std::string& name, int file) {
  if (name.empty()) return;
  p.modules.emplace(name, file);
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
    p.packages.insert(name.substr(0, dot));
}

}  // namespace

Project load_project(const config::Config& cfg, unsigned threads,
                     const std::function<bool(const std::string&)>& call_sites, bool hashes) {
  Project p;
  p.root = cfg.root;
  Stopwatch clock;
  walk(cfg, p.files);
  p.timings.emplace_back("walk", clock.lap());

  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<size_t>(1, p.files.size() / 8 + 1));
  std::atomic<size_t> next{0};
  auto work = [&] {
    std::string bytes;
    for (size_t i; (i = next.fetch_add(1)) < p.files.size();) {
      SourceFile& f = p.files[i];
      if (!scan::read_file(f.abs, &bytes)) {
        f.outline.path = f.rel;
        f.outline.error = "cannot read file";
        continue;
      }
      f.bytes = bytes.size();
      f.outline = scan::scan_source(bytes, f.rel, {call_sites && call_sites(f.rel), hashes});
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  p.timings.emplace_back("scan", clock.lap());

  index_modules(p, cfg);
  p.timings.emplace_back("index", clock.lap());
  return p;
}

void index_modules(Project& p, const config::Config& cfg) {
  std::unordered_set<std::string> init_dirs;
  for (const auto& f : p.files)
    if (f.is_init) init_dirs.insert(parent_dir(f.rel));
  for (size_t i = 0; i < p.files.size(); ++i) {
    SourceFile& f = p.files[i];
    // pytest loads a conftest.py only at or below its confcutdir.
    const std::string& cut = cfg.pytest.confcutdir;
    f.is_conftest = (f.rel == "conftest.py" || f.rel.ends_with("/conftest.py")) &&
                    (cut.empty() || f.rel.starts_with(cut + "/"));
    f.is_init = f.rel == "__init__.py" || f.rel.ends_with("/__init__.py");
    p.total_bytes += f.bytes;
    p.by_rel.emplace(f.rel, static_cast<int>(i));
    f.module = package_walk_name(f, init_dirs);
    index_name(p, f.module, static_cast<int>(i));
    if (!f.outline.ok())
      p.diagnostics.push_back({f.rel, f.outline.error_line, "", f.outline.error});
  }
  // Second names: the path from the root, from src/ and from pythonpath entries, for
  // namespace packages and for suites run with the root on sys.path.
  std::vector<std::string> roots{""};
  roots.push_back("src");
  for (const auto& extra : cfg.pytest.pythonpath)
    if (extra != "." && !extra.empty())
      roots.push_back(extra.ends_with("/") ? extra.substr(0, extra.size() - 1) : extra);
  for (size_t i = 0; i < p.files.size(); ++i) {
    const SourceFile& f = p.files[i];
    for (const auto& r : roots) {
      if (!r.empty() && !f.rel.starts_with(r + "/")) continue;
      std::string rel = r.empty() ? f.rel : f.rel.substr(r.size() + 1);
      std::string name = dotted(rel.substr(0, rel.size() - 3));
      if (f.is_init) name = name.size() > 9 ? name.substr(0, name.size() - 9) : "";
      index_name(p, name, static_cast<int>(i));
    }
  }
}

}  // namespace testmap::classify
