// The dispatcher: longest unit first to whichever worker asks, then work stealing.
#include "core/schedule/dispatcher.h"

#include <algorithm>

namespace testmap::schedule {

Dispatcher::Dispatcher(Schedule schedule) : schedule_(std::move(schedule)) {}

int Dispatcher::add_worker() {
  workers_.emplace_back();
  return static_cast<int>(workers_.size()) - 1;
}

bool Dispatcher::queued() const {
  if (next_unit_ < schedule_.units.size() || !loose_.empty()) return true;
  return std::any_of(workers_.begin(), workers_.end(),
                     [](const Worker& w) { return !w.gone && !w.local.empty(); });
}

std::vector<size_t> Dispatcher::take(int w) {
  Worker& me = workers_[w];
  std::vector<size_t> out;
  if (me.stopped || me.gone) return out;
  bool blind = schedule_.estimated == static_cast<int>(schedule_.seconds.size());
  size_t most = blind ? kMaxInFlightBlind : kMaxInFlight;
  while (true) {
    size_t held = me.sent.size();
    if (held >= most || (held >= kMinInFlight && me.sent_seconds >= kBatchSeconds)) break;
    if (me.local.empty() && !refill(w)) break;
    size_t t = me.local.front();
    me.local.pop_front();
    me.local_seconds = me.local.empty() ? 0 : me.local_seconds - schedule_.seconds[t];
    me.sent.push_back(t);
    me.sent_seconds += schedule_.seconds[t];
    out.push_back(t);
  }
  return out;
}

bool Dispatcher::refill(int w) {
  Worker& me = workers_[w];
  if (!loose_.empty()) {
    me.local.push_back(loose_.front());
    me.local_seconds += schedule_.seconds[loose_.front()];
    loose_.pop_front();
    return true;
  }
  // A worker already running something leaves the next unit to one that has nothing yet
  // (at the start, every worker gets a unit before any gets a second).
  if (next_unit_ < schedule_.units.size() && !(me.sent.size() > 0 && someone_waits(w))) {
    const Unit& u = schedule_.units[next_unit_++];
    for (size_t t : u.tests) {
      me.local.push_back(t);
      me.local_seconds += schedule_.seconds[t];
    }
    return true;
  }
  if (next_unit_ < schedule_.units.size()) return false;  // someone else's turn
  return steal(w);
}

bool Dispatcher::someone_waits(int w) const {
  for (int v = 0; v < static_cast<int>(workers_.size()); ++v) {
    const Worker& o = workers_[v];
    if (v != w && !o.gone && !o.stopped && o.sent.empty() && o.local.empty()) return true;
  }
  return false;
}

// Takes the later half (by estimated seconds) of the longest queue that pays: the thief,
// paying the set-up again, must be done with it before the owner would have reached it.
bool Dispatcher::steal(int w) {
  std::vector<int> victims;
  for (int v = 0; v < static_cast<int>(workers_.size()); ++v)
    if (v != w && !workers_[v].gone && !workers_[v].local.empty()) victims.push_back(v);
  std::stable_sort(victims.begin(), victims.end(), [this](int a, int b) {
    const Worker &x = workers_[a], &y = workers_[b];
    return x.local_seconds != y.local_seconds ? x.local_seconds > y.local_seconds
                                              : x.local.size() > y.local.size();
  });
  for (int v : victims)
    if (steal_from(w, v)) return true;
  return false;
}

bool Dispatcher::steal_from(int w, int victim) {
  Worker& from = workers_[victim];
  // The tail: walk back until half the queue's seconds (half its tests when none is
  // estimated) are taken.
  double half = from.local_seconds / 2, taken = 0;
  size_t count = 0;
  while (count < from.local.size()) {
    bool enough = from.local_seconds > 0 ? taken >= half : count >= (from.local.size() + 1) / 2;
    if (enough) break;
    taken += schedule_.seconds[from.local[from.local.size() - 1 - count]];
    ++count;
  }
  size_t first = from.local[from.local.size() - count];
  // The owner still has the rest of its queue and the tests it was sent but has not
  // started (the first one sent is running: how much of it is left is unknown) ahead of
  // the stolen part. The thief, paying the set-up again, is done with it sooner only when
  // the set-up is shorter than that.
  double rest = from.local_seconds - taken + from.sent_seconds;
  if (!from.sent.empty()) rest -= schedule_.seconds[from.sent.front()];
  if (schedule_.start[first] > 0 && schedule_.start[first] >= rest) return false;
  Worker& me = workers_[w];
  for (size_t k = from.local.size() - count; k < from.local.size(); ++k)
    me.local.push_back(from.local[k]);
  from.local.resize(from.local.size() - count);
  from.local_seconds = from.local.empty() ? 0 : from.local_seconds - taken;
  me.local_seconds += taken;
  return true;
}

void Dispatcher::done(int w, size_t test) {
  Worker& me = workers_[w];
  auto it = std::find(me.sent.begin(), me.sent.end(), test);
  if (it == me.sent.end()) return;
  me.sent_seconds = std::max(0.0, me.sent_seconds - schedule_.seconds[test]);
  me.sent.erase(it);
}

std::optional<size_t> Dispatcher::remove_worker(int w) {
  Worker& me = workers_[w];
  me.gone = true;
  std::optional<size_t> crashed;
  std::deque<size_t> back;
  for (size_t t : me.sent) {
    if (!crashed)
      crashed = t;
    else
      back.push_back(t);
  }
  for (size_t t : me.local) back.push_back(t);
  loose_.insert(loose_.begin(), back.begin(), back.end());
  me.sent.clear();
  me.local.clear();
  me.sent_seconds = me.local_seconds = 0;
  return crashed;
}

void Dispatcher::requeue(size_t test) {
  loose_.push_front(test);
}

}  // namespace testmap::schedule
