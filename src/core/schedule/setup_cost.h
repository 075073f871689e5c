// What the fixtures a module or a class shares cost: a pytest process pays it once each time
// it starts a run of that module's (class's) tests, so `--dist testmap` keeps them together
// when paying it again costs more than it saves.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/store/store.h"

namespace testmap::schedule {

// Group key -> the seconds one start of the group costs, set-up and teardown together.
// Keys are a file ("tests/a.py") or a class ("tests/a.py::TestA"). Only groups whose cost
// shows in the sequences are listed.
//
// Measured from the recorded order: in each process's run of 3 or more consecutive tests of
// a group, the first test also paid the shared set-up and the last one the teardown, so the
// cost is how much those two exceed the median of the tests between them. The median over
// every such run is kept, so one slow first test does not make a group costly.
std::map<std::string, double> shared_setup(const std::vector<store::WorkerSequence>& sequences);

// Each test's seconds in each sequence without the shared set-up it paid there (`cost`, from
// shared_setup): the first test of a run of a costly group carries the set-up, and the last
// its teardown, in their recorded durations; a test first elsewhere would not.
std::map<std::string, std::vector<double>> own_durations(
    const std::vector<store::WorkerSequence>& sequences, const std::map<std::string, double>& cost);

}  // namespace testmap::schedule
