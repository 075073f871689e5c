// A YAML document (compose and CI files) read with libyaml into a plain tree that keeps
// each node's line: anchors and aliases are expanded, and `<<` merge keys applied, so
// callers read `x-` extensions and shared service blocks like any other mapping.
#pragma once

#include <string>
#include <vector>

namespace testmap::yaml {

struct Node {
  enum Kind { kNull, kScalar, kSequence, kMapping };
  Kind kind = kNull;
  int line = 0;       // 1-based
  int key_line = 0;   // a mapping's value: the line of its key ("db:"), else 0
  std::string value;  // a scalar's text
  struct Entry;
  std::vector<Node> items;   // a sequence
  std::vector<Entry> pairs;  // a mapping, in file order

  bool is_scalar() const { return kind == kScalar; }
  bool is_sequence() const { return kind == kSequence; }
  bool is_mapping() const { return kind == kMapping; }
  // A mapping's value at `key`, or nullptr (also when this is not a mapping).
  const Node* get(const std::string& key) const;
};

struct Node::Entry {
  std::string key;
  Node value;
};

// Parses the first document of `text`. False with `*error` ("line N: what") when the text
// is not YAML, or when expanding its aliases would exceed a size limit (a "billion laughs"
// file, or an alias of a node inside itself).
bool parse(const std::string& text, Node* root, std::string* error);

}  // namespace testmap::yaml
