// Unit tests of the lint pieces that need no project: name patterns, `# noqa`, and the
// changed lines of `git diff -U0`.
#include <doctest/doctest.h>

#include "core/lint/changes.h"
#include "core/lint/checks.h"
#include "core/lint/noqa.h"

using namespace testmap::lint;

TEST_CASE("a dotted pattern matches the whole name or its tail after a dot") {
  CHECK(name_matches("*.objects.create", "User.objects.create"));
  CHECK(name_matches("*.objects.create", "app.models.User.objects.create"));
  CHECK_FALSE(name_matches("*.objects.create", "User.objects.create_user"));
  CHECK(name_matches("assume_test_silo_mode*", "app.silo.assume_test_silo_mode_of"));
  CHECK(name_matches("TestCase", "django.test.TestCase"));
  CHECK_FALSE(name_matches("TestCase", "django.test.TransactionTestCase"));
  CHECK(name_matches("self.create_*", "self.create_user"));
  CHECK_FALSE(name_matches("self.create_*", "self.created"));
}

TEST_CASE("noqa: bare silences every code, with codes only those") {
  CHECK(noqa_silences("x()  # noqa", "TM101"));
  CHECK(noqa_silences("x()  # NOQA:TM101", "TM101"));
  CHECK(noqa_silences("x()  # noqa: TM102, TM101 why", "TM101"));
  CHECK_FALSE(noqa_silences("x()  # noqa: TM102", "TM101"));
  CHECK_FALSE(noqa_silences("x()  # a comment", "TM101"));
  CHECK_FALSE(noqa_silences("x()  # noqa: TM1010", "TM101"));
}

TEST_CASE("git diff -U0: the new side's ranges, per file; deletions add none") {
  const char* diff =
      "diff --git a/t.py b/t.py\n"
      "--- a/t.py\n"
      "+++ b/t.py\n"
      "@@ -3 +3 @@ def f():\n"
      "@@ -10,0 +11,2 @@\n"
      "@@ -20,3 +22,0 @@\n"
      "diff --git a/gone.py b/gone.py\n"
      "--- a/gone.py\n"
      "+++ /dev/null\n"
      "@@ -1,2 +0,0 @@\n";
  auto lines = parse_unified_zero(diff);
  REQUIRE(lines.size() == 1);
  CHECK(lines["t.py"] == std::vector<std::pair<int, int>>{{3, 3}, {11, 12}});
  Changes c;
  c.lines = lines;
  c.added.insert("new.py");
  CHECK(c.changed("t.py", 12));
  CHECK_FALSE(c.changed("t.py", 13));
  CHECK(c.changed("new.py", 400));
  CHECK_FALSE(c.changed("other.py", 1));
}
