// PyEval_SetProfile with a C callback: one hash-set insert per Python call, where
// coverage.py's line tracing costs several times the run. Code objects are kept alive
// while recorded, so an address is never reused for another function meanwhile.
#include "bindings/tracer.h"

#include <Python.h>
#include <frameobject.h>

#include <string_view>
#include <unordered_set>

namespace testmap::bindings {
namespace {

std::unordered_set<PyCodeObject*>* seen() {
  static auto* s = new std::unordered_set<PyCodeObject*>();  // lives as long as Python
  return s;
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
  PyEval_SetProfile(on_event, nullptr);
}

void tracer_stop() {
  PyEval_SetProfile(nullptr, nullptr);
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
  return out;
}

}  // namespace testmap::bindings
