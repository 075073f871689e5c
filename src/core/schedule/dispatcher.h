// Handing a schedule's units to pytest-xdist workers as they ask, and stealing the tail of
// a busy worker's queue for an idle one when that ends the run sooner (`--dist testmap`).
//
// The controller keeps each worker's queue; a worker holds only the few tests in flight it
// needs to keep running (pytest must know a test's successor before it can finish it), so
// the tail of any queue can still move.
#pragma once

#include <deque>
#include <optional>
#include <vector>

#include "core/schedule/units.h"

namespace testmap::schedule {

class Dispatcher {
 public:
  explicit Dispatcher(Schedule schedule);

  int add_worker();
  // Tests to send to worker `w` now (empty: nothing for it, ever, unless a worker crashes).
  std::vector<size_t> take(int w);
  void done(int w, size_t test);
  // A worker that went away: the test it was running (its crash item), and everything else
  // it held goes back to the front of the queue.
  std::optional<size_t> remove_worker(int w);
  // A test to run again (xdist's mark_test_pending): first in line.
  void requeue(size_t test);
  // Worker `w` was told to stop: it takes nothing more, and no longer waits for work.
  void stop(int w) { workers_[w].stopped = true; }

  size_t in_flight(int w) const { return workers_[w].sent.size(); }
  // Tests not yet sent to any worker.
  bool queued() const;
  const Schedule& schedule() const { return schedule_; }

  static constexpr size_t kMinInFlight = 2;
  static constexpr size_t kMaxInFlight = 16;
  // Without any recorded duration nothing tells a fast test from a slow one: hold fewer, so
  // that more is left to steal at the end.
  static constexpr size_t kMaxInFlightBlind = 4;
  // Tests estimated at less than this together go out as one batch, up to kMaxInFlight.
  static constexpr double kBatchSeconds = 0.05;

 private:
  struct Worker {
    std::deque<size_t> local;  // given to this worker, not sent yet
    double local_seconds = 0;  // the own seconds of the tests in `local`
    std::deque<size_t> sent;
    double sent_seconds = 0;
    bool gone = false;
    bool stopped = false;
  };
  bool refill(int w);
  bool steal(int w);
  bool steal_from(int w, int victim);
  bool someone_waits(int w) const;

  Schedule schedule_;
  size_t next_unit_ = 0;
  std::deque<size_t> loose_;  // tests put back: crashed workers' and requeued ones
  std::vector<Worker> workers_;
};

}  // namespace testmap::schedule
