// PyEval_SetProfile with a C callback: one hash-set insert per Python call, where
// coverage.py's line tracing costs several times the run. Code objects are kept alive
// while recorded, so an address is never reused for another function meanwhile. Data
// files come from an audit hook in C: a Python hook would be a Python call per audit
// event of the whole process.
#include "bindings/tracer.h"

#include <Python.h>
#include <fcntl.h>
#include <frameobject.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <unordered_set>

namespace testmap::bindings {
namespace {

std::unordered_set<PyCodeObject*>* seen() {
  static auto* s = new std::unordered_set<PyCodeObject*>();  // lives as long as Python
  return s;
}

bool tracking_opens = false;

std::unordered_set<std::string>* opened() {
  static auto* s = new std::unordered_set<std::string>();
  return s;
}

// The "open" event: (path, mode, flags) for open() and io.open, (path, None, flags) for
// os.open. Files opened for reading only, not Python source.
int on_audit(const char* event, PyObject* args, void*) {
  if (!tracking_opens || std::strcmp(event, "open") != 0 || !PyTuple_Check(args) ||
      PyTuple_GET_SIZE(args) < 3)
    return 0;
  PyObject* path = PyTuple_GET_ITEM(args, 0);
  PyObject* mode = PyTuple_GET_ITEM(args, 1);
  PyObject* flags = PyTuple_GET_ITEM(args, 2);
  if (!PyUnicode_Check(path)) return 0;
  if (PyUnicode_Check(mode)) {
    const char* m = PyUnicode_AsUTF8(mode);
    if (!m || std::strpbrk(m, "wax+")) return 0;
  } else if (PyLong_Check(flags)) {
    long f = PyLong_AsLong(flags);
    if (f == -1 && PyErr_Occurred()) return PyErr_Clear(), 0;
    if (f & (O_WRONLY | O_RDWR)) return 0;
  }
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(path, &n);
  if (!p) return PyErr_Clear(), 0;
  std::string_view s(p, static_cast<size_t>(n));
  if (s.ends_with(".py") || s.ends_with(".pyc")) return 0;
  std::string full(s);
  if (!s.starts_with('/')) {  // relative to the directory of the moment
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return 0;
    full = std::string(cwd) + "/" + full;
  }
  opened()->insert(std::move(full));
  return 0;
}

int on_event(PyObject*, PyFrameObject* frame, int what, PyObject*) {
  if (what != PyTrace_CALL) return 0;
  PyCodeObject* code = PyFrame_GetCode(frame);  // a new reference: kept when new
  if (!seen()->insert(code).second) Py_DECREF(code);
  return 0;
}

std::string text_attr(PyObject* o, const char* name) {
  PyObject* v = PyObject_GetAttrString(o, name);
  std::string out;
  if (v && PyUnicode_Check(v)) {
    Py_ssize_t n = 0;
    if (const char* s = PyUnicode_AsUTF8AndSize(v, &n)) out.assign(s, static_cast<size_t>(n));
  }
  Py_XDECREF(v);
  PyErr_Clear();
  return out;
}

}  // namespace

void tracer_start() {
  static bool hooked = PySys_AddAuditHook(on_audit, nullptr) == 0;  // cannot be removed
  tracking_opens = hooked;
  PyEval_SetProfile(on_event, nullptr);
}

void tracer_stop() {
  PyEval_SetProfile(nullptr, nullptr);
  tracking_opens = false;
}

std::vector<std::pair<std::string, std::string>> tracer_take(const std::string& root) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string prefix = root.ends_with('/') ? root : root + "/";
  for (PyCodeObject* code : *seen()) {
    std::string file = text_attr(reinterpret_cast<PyObject*>(code), "co_filename");
    if (file.starts_with(prefix) && file.find("/site-packages/") == std::string::npos &&
        file.ends_with(".py")) {
      std::string qualname = text_attr(reinterpret_cast<PyObject*>(code), "co_qualname");
      out.emplace_back(file.substr(prefix.size()), qualname);
    }
    Py_DECREF(code);
  }
  seen()->clear();
  // Regular files under the root, outside the store and installed packages.
  char real_root[PATH_MAX];
  std::string rroot = realpath(root.c_str(), real_root) ? real_root : root;
  std::string rprefix = rroot.ends_with('/') ? rroot : rroot + "/";
  for (const auto& f : *opened()) {
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(f.c_str(), real) || stat(real, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::string_view r(real);
    if (!r.starts_with(rprefix)) continue;
    std::string rel(r.substr(rprefix.size()));
    if (rel.starts_with(".testmap/") || rel.find("site-packages/") != std::string::npos) continue;
    out.emplace_back(std::move(rel), "<data>");
  }
  opened()->clear();
  return out;
}

}  // namespace testmap::bindings
