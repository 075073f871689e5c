// The one C++ unit test binary's entry point; the tests live beside their code (*_test.cc).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
