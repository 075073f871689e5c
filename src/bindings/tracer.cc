// Which Python functions each test runs, without line events. On 3.12+ a sys.monitoring
// PY_START callback that disables itself for each function after its first call (events
// restarted at each test boundary), so a function costs one C call per test; on 3.11 a
// PEP 523 frame-evaluation hook, which sees every thread's frames. Each code object
// is marked in its co_extra slot with the generation (test) that saw it: a pointer compare
// instead of a hash-set insert per call, and code outside the root is marked once and never
// recorded. Code objects are kept alive while recorded, so an address is never reused
// meanwhile. Data files come from an audit hook in C: a Python hook would be a Python call
// per audit event of the whole process.
#include "bindings/tracer.h"

#include <Python.h>
#include <fcntl.h>
#include <frameobject.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#if PY_VERSION_HEX >= 0x030C0000
#define TESTMAP_SYS_MONITORING 1
#define TESTMAP_REQUEST_EXTRA PyUnstable_Eval_RequestCodeExtraIndex
#define TESTMAP_GET_EXTRA PyUnstable_Code_GetExtra
#define TESTMAP_SET_EXTRA PyUnstable_Code_SetExtra
#else
#define TESTMAP_SYS_MONITORING 0
#define TESTMAP_REQUEST_EXTRA _PyEval_RequestCodeExtraIndex
#define TESTMAP_GET_EXTRA _PyCode_GetExtra
#define TESTMAP_SET_EXTRA _PyCode_SetExtra
#endif

namespace testmap::bindings {
namespace {

std::vector<PyCodeObject*>* seen() {
  static auto* s = new std::vector<PyCodeObject*>();  // lives as long as Python
  return s;
}

Py_ssize_t extra_index = -1;
// co_extra marks: 0 not yet looked at; odd, outside the root of scope epoch (mark >> 1);
// even, under the root and last seen by that generation (test). A mark from an earlier
// test or root is stale, so nothing needs clearing between tests. (An even mark made under
// an earlier root is taken as under this one: take() filters by its root again.)
uintptr_t generation = 2;   // bumped by 2 at each take()
uintptr_t scope_epoch = 0;  // bumped when the root changes
std::string scope_prefix;   // the root tracer_start was given, with its '/'; empty: all code

std::string text_attr(PyObject* o, const char* name);

bool project_file(const std::string& file, const std::string& prefix) {
  return file.starts_with(prefix) && file.find("/site-packages/") == std::string::npos &&
         file.ends_with(".py");
}

bool under_scope(PyCodeObject* code) {
  if (scope_prefix.empty()) return true;
  return project_file(text_attr(reinterpret_cast<PyObject*>(code), "co_filename"), scope_prefix);
}

uintptr_t mark_of(PyCodeObject* code) {
  void* raw = nullptr;
  if (TESTMAP_GET_EXTRA(reinterpret_cast<PyObject*>(code), extra_index, &raw) != 0)
    return PyErr_Clear(), 0;
  return reinterpret_cast<uintptr_t>(raw);
}

// Whether `code`, whose mark is `mark`, is outside the root: worked out once per root and
// kept in the mark. An even mark says it was seen under the root.
inline bool outside_root(PyCodeObject* code, uintptr_t mark) {
  if (mark != 0 && !(mark & 1)) return false;
  if (mark && (mark >> 1) == scope_epoch) return true;
  if (under_scope(code)) return false;  // marked when a test first runs it
  TESTMAP_SET_EXTRA(reinterpret_cast<PyObject*>(code), extra_index,
                    reinterpret_cast<void*>((scope_epoch << 1) | 1));
  return true;
}

// Records `code` once per generation if it is under the root (borrowed reference); false
// for code outside it, which is never recorded: the standard library, installed packages
// and pytest run in every test, and take() would throw each of them away again.
inline bool saw(PyCodeObject* code) {
  uintptr_t mark = mark_of(code);
  if (mark == generation) return true;
  if (outside_root(code, mark)) return false;
  TESTMAP_SET_EXTRA(reinterpret_cast<PyObject*>(code), extra_index,
                    reinterpret_cast<void*>(generation));
  Py_INCREF(code);
  seen()->push_back(code);
  return true;
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

// A test's line names each unit of code (and each class and data file) by a number,
// defined (`[id, file, name]`) in the first line of that output that uses it: the same
// functions run in most tests, and a recording of jinja2's suite was 6 MB of repeated
// strings to write and to parse again.
struct Named {
  long long id = 0;
  uintptr_t defined_in = 0;  // the output (sink epoch) whose lines define `id`
  std::string file, name;
  std::string def_json;  // [id,"file","name"]
};

long long next_id = 0;
uintptr_t sink_epoch = 1;  // bumped when take_json() writes to another output
std::string sink_now;

Named* named(const std::string& file, const std::string& name) {
  static auto* all = new std::unordered_map<std::string, Named>();  // by "file\0name"
  auto [it, added] = all->try_emplace(file + '\0' + name);
  Named& n = it->second;
  if (added) {
    n.id = next_id++;
    n.file = file;
    n.name = name;
    n.def_json = nlohmann::json::array({n.id, file, name})
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return &n;
}

// What a recorded code object is called, worked out at its first take and kept in its
// co_extra slot (freed with it): otherwise an attribute lookup and two strings per function
// per test. Worked out again when take() is given another root.
struct CodeName {
  uintptr_t epoch = 0;
  Named* named = nullptr;  // none: outside the root
};

Py_ssize_t name_index = -1;
uintptr_t names_epoch = 0;  // bumped when take() is given another root
std::string names_prefix;

void free_name(void* p) {
  delete static_cast<CodeName*>(p);
}

Named* name_of(PyCodeObject* code) {
  void* raw = nullptr;
  if (TESTMAP_GET_EXTRA(reinterpret_cast<PyObject*>(code), name_index, &raw) != 0)
    PyErr_Clear(), raw = nullptr;
  auto* n = static_cast<CodeName*>(raw);
  if (n && n->epoch == names_epoch) return n->named;
  std::string file = text_attr(reinterpret_cast<PyObject*>(code), "co_filename");
  Named* out = project_file(file, names_prefix)
                   ? named(file.substr(names_prefix.size()),
                           text_attr(reinterpret_cast<PyObject*>(code), "co_qualname"))
                   : nullptr;
  if (!n) {
    n = new CodeName();
    if (TESTMAP_SET_EXTRA(reinterpret_cast<PyObject*>(code), name_index, n) != 0) {
      PyErr_Clear();  // worked out again next time
      delete n;
      return out;
    }
  }
  n->epoch = names_epoch;
  n->named = out;
  return out;
}

#if TESTMAP_SYS_MONITORING
// sys.monitoring's tool slot: PROFILER_ID is cProfile's, COVERAGE_ID coverage.py's.
int tool_id = -1;
PyObject* monitoring = nullptr;  // the sys.monitoring module
PyObject* disable = nullptr;     // sys.monitoring.DISABLE

// With a root (tracer_start(root)), code elsewhere (the standard library, installed
// packages, pytest) is disabled for good at its first call, and the project's code calls
// back on every call, a pointer compare once seen in this test: no restart_events per test,
// which re-instruments every code object the next test runs. Without one, each function
// is disabled after its first call, and events restart at each take().
bool recording = false;  // with a root, between tests nothing is recorded
bool events_on = false;

PyObject* on_start(PyObject*, PyObject* const* args, Py_ssize_t n) {
  if (n < 1 || !PyCode_Check(args[0])) return Py_NewRef(Py_None);
  auto* code = reinterpret_cast<PyCodeObject*>(args[0]);
  if (scope_prefix.empty()) {
    saw(code);
    return Py_NewRef(disable);  // this function is known for this test: no more calls
  }
  if (!recording) return Py_NewRef(outside_root(code, mark_of(code)) ? disable : Py_None);
  return Py_NewRef(saw(code) ? Py_None : disable);
}

PyMethodDef on_start_def = {"testmap_on_start", reinterpret_cast<PyCFunction>(on_start),
                            METH_FASTCALL, nullptr};

bool call_monitoring(const char* name, const char* format, ...) {
  PyObject* fn = PyObject_GetAttrString(monitoring, name);
  if (!fn) return false;
  va_list va;
  va_start(va, format);
  PyObject* args = Py_VaBuildValue(format, va);
  va_end(va);
  PyObject* r = args ? PyObject_CallObject(fn, args) : nullptr;
  Py_XDECREF(args);
  Py_DECREF(fn);
  Py_XDECREF(r);
  return r != nullptr;
}

bool monitoring_start() {
  if (!monitoring) {
    monitoring = Py_XNewRef(PySys_GetObject("monitoring"));  // a namespace, not importable
    if (!monitoring) return false;
    disable = PyObject_GetAttrString(monitoring, "DISABLE");
    if (!disable) return false;
  }
  if (tool_id < 0) {
    for (int id : {4, 3, 5, 0}) {  // the first free slot; 1 and 2 are coverage's and cProfile's
      if (call_monitoring("use_tool_id", "(is)", id, "testmap")) {
        tool_id = id;
        break;
      }
      PyErr_Clear();
    }
    if (tool_id < 0) {
      PyErr_SetString(PyExc_RuntimeError, "every sys.monitoring tool slot is in use");
      return false;
    }
    PyObject* cb = PyCFunction_New(&on_start_def, nullptr);
    PyObject* events = PyObject_GetAttrString(monitoring, "events");
    PyObject* py_start = events ? PyObject_GetAttrString(events, "PY_START") : nullptr;
    long ev = py_start ? PyLong_AsLong(py_start) : -1;
    Py_XDECREF(py_start);
    Py_XDECREF(events);
    bool ok = cb && ev > 0 && call_monitoring("register_callback", "(ilO)", tool_id, ev, cb);
    Py_XDECREF(cb);
    if (!ok) return false;
  }
  if (!scope_prefix.empty() && events_on) return true;  // still on, from the last test
  PyObject* events = PyObject_GetAttrString(monitoring, "events");
  PyObject* py_start = events ? PyObject_GetAttrString(events, "PY_START") : nullptr;
  long ev = py_start ? PyLong_AsLong(py_start) : -1;
  Py_XDECREF(py_start);
  Py_XDECREF(events);
  events_on = ev > 0 && call_monitoring("set_events", "(il)", tool_id, ev) &&
              call_monitoring("restart_events", "()");
  return events_on;
}
#else
// The head of 3.11's _PyInterpreterFrame (Include/internal/pycore_frame.h), which only
// core builds may include; these leading fields are fixed for every 3.11 release.
struct Frame311 {
  PyObject* f_func;
  PyObject* f_globals;
  PyObject* f_builtins;
  PyObject* f_locals;
  PyCodeObject* f_code;
  PyObject* frame_obj;
  Frame311* previous;
  void* prev_instr;
  int stacktop;
  bool is_entry;
  char owner;
  PyObject* localsplus[1];
};

// The classes of the objects a test's methods ran on (type(self), or cls), so a change to a
// subclass's body reaches a test that only ran its base's methods on one of its instances.
// Only classes with a class of the project in their MRO are kept.
std::unordered_set<PyTypeObject*>* receivers() {
  static auto* s = new std::unordered_set<PyTypeObject*>();
  return s;
}

// A class's MRO classes that live in the project's files, as (file, qualname), worked out
// once per class: most classes a test's methods run on are pytest's, the same each test.
// A weak reference tells a live class from a new one that took a dead one's address.
struct ClassFiles {
  PyObject* ref = nullptr;  // weak reference to the class
  uintptr_t epoch = 0;
  std::vector<std::pair<std::string, std::string>> classes;
};

std::unordered_map<PyTypeObject*, ClassFiles>* class_files() {
  static auto* m = new std::unordered_map<PyTypeObject*, ClassFiles>();
  return m;
}

const ClassFiles& files_of(PyTypeObject* type) {
  ClassFiles& entry = (*class_files())[type];
  if (entry.ref && entry.epoch == scope_epoch &&
      PyWeakref_GetObject(entry.ref) == reinterpret_cast<PyObject*>(type))
    return entry;
  // Called from the frame hook: an exception in flight must outlive the lookups below.
  PyObject *exc_type, *exc_value, *exc_tb;
  PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
  Py_CLEAR(entry.ref);
  entry.ref = PyWeakref_NewRef(reinterpret_cast<PyObject*>(type), nullptr);
  if (!entry.ref) PyErr_Clear();  // worked out again next time
  entry.epoch = scope_epoch;
  entry.classes.clear();
  PyObject* modules = PySys_GetObject("modules");  // borrowed
  PyObject* mro = type->tp_mro;
  for (Py_ssize_t i = 0; mro && PyTuple_Check(mro) && i < PyTuple_GET_SIZE(mro); ++i) {
    PyObject* cls = PyTuple_GET_ITEM(mro, i);
    if (!PyType_Check(cls) ||
        (reinterpret_cast<PyTypeObject*>(cls)->tp_flags & Py_TPFLAGS_HEAPTYPE) == 0)
      continue;  // builtins and C types have no file of the project
    std::string mod = text_attr(cls, "__module__");
    PyObject* m = modules ? PyDict_GetItemString(modules, mod.c_str()) : nullptr;
    std::string file = m ? text_attr(m, "__file__") : "";
    if (project_file(file, scope_prefix.empty() ? "/" : scope_prefix))
      entry.classes.emplace_back(std::move(file), text_attr(cls, "__qualname__"));
  }
  PyErr_Restore(exc_type, exc_value, exc_tb);
  return entry;
}

Py_ssize_t kind_index = -1;  // co_extra: 1 a function, 2 takes self first, 3 takes cls
uintptr_t receiver_kind(PyCodeObject* code) {
  void* k = nullptr;
  if (TESTMAP_GET_EXTRA(reinterpret_cast<PyObject*>(code), kind_index, &k) == 0 && k)
    return reinterpret_cast<uintptr_t>(k);
  uintptr_t kind = 1;
  if (code->co_argcount >= 1 && PyTuple_Check(code->co_localsplusnames) &&
      PyTuple_GET_SIZE(code->co_localsplusnames) >= 1) {
    PyObject* first = PyTuple_GET_ITEM(code->co_localsplusnames, 0);
    if (PyUnicode_Check(first)) {
      if (PyUnicode_CompareWithASCIIString(first, "self") == 0) kind = 2;
      if (PyUnicode_CompareWithASCIIString(first, "cls") == 0) kind = 3;
    }
  }
  TESTMAP_SET_EXTRA(reinterpret_cast<PyObject*>(code), kind_index, reinterpret_cast<void*>(kind));
  return kind;
}

void saw_receiver(Frame311* f) {
  uintptr_t kind = receiver_kind(f->f_code);
  if (kind == 1) return;
  PyObject* first = f->localsplus[0];
  if (!first) return;
  PyTypeObject* type =
      kind == 3 && PyType_Check(first) ? reinterpret_cast<PyTypeObject*>(first) : Py_TYPE(first);
  // Classes written in C have no file of the project, nor can their bases.
  if (!(type->tp_flags & Py_TPFLAGS_HEAPTYPE)) return;
  // Most method calls go to a class this test already met: a direct-mapped cache of
  // (class, generation) saves the hash-set lookup.
  struct Slot {
    PyTypeObject* type;
    uintptr_t generation;
  };
  static Slot cache[256];
  Slot& slot = cache[(reinterpret_cast<uintptr_t>(type) >> 4) & 255];
  if (slot.type == type && slot.generation == generation) return;
  slot = {type, generation};
  if (files_of(type).classes.empty()) return;
  if (receivers()->insert(type).second) Py_INCREF(type);
}

_PyFrameEvalFunction previous_eval = nullptr;  // another tool's hook, kept in the chain
bool paused = false;                           // tracer_pause() took the hook off

// PEP 523: every Python frame of every thread starts here. 3.11 has no cheaper call hook: a
// profile function costs a C call per Python and builtin call and return, and keeps the
// interpreter in its tracing mode. With this hook set the interpreter makes each Python
// call through C instead of inlining it, which costs far less.
PyObject* eval_frame(PyThreadState* ts, struct _PyInterpreterFrame* f, int exc) {
  auto* frame = reinterpret_cast<Frame311*>(f);
  saw(frame->f_code);
  // A new frame (not a generator resumed): its first local is still the argument.
  if (!exc && frame->stacktop == frame->f_code->co_nlocalsplus) saw_receiver(frame);
  return previous_eval ? previous_eval(ts, f, exc) : _PyEval_EvalFrameDefault(ts, f, exc);
}
#endif

}  // namespace

void tracer_start(const std::string& root) {
  static bool hooked = PySys_AddAuditHook(on_audit, nullptr) == 0;  // cannot be removed
  tracking_opens = hooked;
  if (extra_index < 0) extra_index = TESTMAP_REQUEST_EXTRA(nullptr);
  if (name_index < 0) name_index = TESTMAP_REQUEST_EXTRA(free_name);
  if (extra_index < 0 || name_index < 0)
    throw std::runtime_error("no code-object slot is left for the tracer");
#if !TESTMAP_SYS_MONITORING
  if (kind_index < 0) kind_index = TESTMAP_REQUEST_EXTRA(nullptr);
  if (kind_index < 0) throw std::runtime_error("no code-object slot is left for the tracer");
#endif
  std::string prefix = root.empty() || root.ends_with('/') ? root : root + "/";
  if (prefix != scope_prefix) {
    // Another root (or none): what was outside the old one may be inside.
    scope_prefix = prefix;
    ++scope_epoch;
#if TESTMAP_SYS_MONITORING
    events_on = false;
#endif
  }
#if TESTMAP_SYS_MONITORING
  recording = true;
  if (!monitoring_start()) {
    std::string why = "sys.monitoring cannot be used";
    if (PyErr_Occurred()) {
      PyObject *type, *value, *tb;
      PyErr_Fetch(&type, &value, &tb);
      if (PyObject* text = value ? PyObject_Str(value) : nullptr) {
        if (const char* c = PyUnicode_AsUTF8(text)) why += std::string(": ") + c;
        Py_DECREF(text);
      }
      Py_XDECREF(type);
      Py_XDECREF(value);
      Py_XDECREF(tb);
      PyErr_Clear();
    }
    throw std::runtime_error(why);
  }
#else
  PyInterpreterState* interp = PyThreadState_Get()->interp;
  _PyFrameEvalFunction now = _PyInterpreterState_GetEvalFrameFunc(interp);
  if (now != eval_frame) {
    previous_eval = now == _PyEval_EvalFrameDefault ? nullptr : now;
    _PyInterpreterState_SetEvalFrameFunc(interp, eval_frame);
  }
#endif
}

void tracer_stop() {
#if !TESTMAP_SYS_MONITORING
  paused = false;
#endif
#if TESTMAP_SYS_MONITORING
  recording = false;
  // With a root the events stay on: turning them off and on re-instruments everything.
  if (scope_prefix.empty() && tool_id >= 0 && !call_monitoring("set_events", "(ii)", tool_id, 0))
    PyErr_Clear();
#else
  PyInterpreterState* interp = PyThreadState_Get()->interp;
  if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_frame)
    _PyInterpreterState_SetEvalFrameFunc(interp,
                                         previous_eval ? previous_eval : _PyEval_EvalFrameDefault);
#endif
  tracking_opens = false;
}

#if TESTMAP_SYS_MONITORING
// Code outside the root is disabled for good after its first call: nothing to pause.
void tracer_pause() {}
void tracer_resume() {}
#else
void tracer_pause() {
  PyInterpreterState* interp = PyThreadState_Get()->interp;
  if (_PyInterpreterState_GetEvalFrameFunc(interp) != eval_frame) return;
  _PyInterpreterState_SetEvalFrameFunc(interp,
                                       previous_eval ? previous_eval : _PyEval_EvalFrameDefault);
  paused = true;
}

void tracer_resume() {
  if (!paused) return;
  paused = false;
  _PyInterpreterState_SetEvalFrameFunc(PyThreadState_Get()->interp, eval_frame);
}
#endif

namespace {

// What take() hands over: the code run, by name (names outlive the code objects), and the
// other pairs.
struct Taken {
  std::vector<Named*> code;
  std::vector<std::pair<std::string, std::string>> other;
};

void take_all(const std::string& root, Taken* out) {
  std::string prefix = root.ends_with('/') ? root : root + "/";
  if (prefix != names_prefix) {
    names_prefix = prefix;
    ++names_epoch;
  }
  generation += 2;  // before the loop: the marks of what is taken go stale together
#if TESTMAP_SYS_MONITORING
  // Functions disabled during the test call back again in the next one (with a root the
  // project's functions were never disabled).
  if (scope_prefix.empty() && tool_id >= 0 && !call_monitoring("restart_events", "()"))
    PyErr_Clear();
#endif
  for (PyCodeObject* code : *seen()) {
    if (Named* n = name_of(code)) out->code.push_back(n);
    Py_DECREF(code);
  }
  seen()->clear();
#if !TESTMAP_SYS_MONITORING
  // Each receiver's classes, by the file of their module: "<mro>" says they were recorded,
  // so `affected` need not assume that a base class's users met every subclass.
  out->other.emplace_back("<mro>", "");
  for (PyTypeObject* type : *receivers()) {
    for (const auto& [file, qualname] : files_of(type).classes)
      if (project_file(file, prefix)) out->other.emplace_back(file.substr(prefix.size()), qualname);
    Py_DECREF(type);
  }
  receivers()->clear();
#endif
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
    out->other.emplace_back(std::move(rel), "<data>");
  }
  opened()->clear();
}

}  // namespace

std::vector<std::pair<std::string, std::string>> tracer_take(const std::string& root) {
  Taken t;
  take_all(root, &t);
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(t.code.size() + t.other.size());
  for (const Named* n : t.code) out.emplace_back(n->file, n->name);
  for (auto& p : t.other) out.push_back(std::move(p));
  return out;
}

TakenJson tracer_take_json(const std::string& root, const std::string& sink) {
  if (sink != sink_now) {  // another output: its lines define the numbers again
    sink_now = sink;
    ++sink_epoch;
  }
  Taken t;
  take_all(root, &t);
  std::vector<long long> ids;
  ids.reserve(t.code.size() + t.other.size());
  std::vector<std::string_view> defs;
  auto use = [&](Named* n) {
    ids.push_back(n->id);
    if (n->defined_in != sink_epoch) {
      n->defined_in = sink_epoch;
      defs.emplace_back(n->def_json);
    }
  };
  for (Named* n : t.code) use(n);
  for (const auto& [file, name] : t.other) use(named(file, name));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  TakenJson out;
  out.deps.reserve(ids.size() * 6 + 2);
  out.deps += '[';
  for (long long id : ids) {
    if (out.deps.size() > 1) out.deps += ',';
    out.deps += std::to_string(id);
  }
  out.deps += ']';
  out.defs += '[';
  for (size_t i = 0; i < defs.size(); ++i) {
    if (i) out.defs += ',';
    out.defs += defs[i];
  }
  out.defs += ']';
  return out;
}

}  // namespace testmap::bindings
