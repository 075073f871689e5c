// libyaml's document loader resolves aliases to node indexes; this copies its graph into
// owned nodes, with limits, since one alias may stand for a large subtree.
#include "core/util/yaml_tree.h"

#include <yaml.h>

#include <memory>

namespace testmap::yaml {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 200000;

struct Copier {
  yaml_document_t* doc;
  size_t nodes = 0;
  std::string error;

  bool copy(int index, int depth, Node* out) {
    yaml_node_t* n = yaml_document_get_node(doc, index);
    if (!n) return true;  // an empty document: null
    out->line = static_cast<int>(n->start_mark.line) + 1;
    if (depth > kMaxDepth) return fail(out->line, "nested too deeply (an alias inside itself?)");
    if (++nodes > kMaxNodes) return fail(out->line, "too large once its aliases are expanded");
    switch (n->type) {
      case YAML_SCALAR_NODE: {
        std::string v(reinterpret_cast<const char*>(n->data.scalar.value), n->data.scalar.length);
        bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        if (plain && (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL")) {
          out->kind = Node::kNull;
        } else {
          out->kind = Node::kScalar;
          out->value = std::move(v);
        }
        return true;
      }
      case YAML_SEQUENCE_NODE:
        out->kind = Node::kSequence;
        for (yaml_node_item_t* it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             ++it) {
          out->items.emplace_back();
          if (!copy(*it, depth + 1, &out->items.back())) return false;
        }
        return true;
      case YAML_MAPPING_NODE: {
        out->kind = Node::kMapping;
        std::vector<Node> merges;
        for (yaml_node_pair_t* p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             ++p) {
          Node key, value;
          if (!copy(p->key, depth + 1, &key) || !copy(p->value, depth + 1, &value)) return false;
          if (key.kind == Node::kScalar && key.value == "<<") {
            merges.push_back(std::move(value));
            continue;
          }
          // A complex key (a mapping as a key) names nothing compose or CI files use.
          if (key.kind == Node::kMapping || key.kind == Node::kSequence) continue;
          value.key_line = key.line;
          out->pairs.push_back({std::move(key.value), std::move(value)});
        }
        // Merge keys: the mapping's own keys win, then earlier merged mappings.
        for (Node& m : merges) {
          std::vector<Node*> sources;
          if (m.is_mapping()) sources.push_back(&m);
          for (Node& item : m.items)
            if (item.is_mapping()) sources.push_back(&item);
          for (Node* src : sources)
            for (auto& [k, v] : src->pairs)
              if (!out->get(k)) out->pairs.push_back({k, v});
        }
        return true;
      }
      default:
        return true;
    }
  }

  bool fail(int line, const char* what) {
    error = "line " + std::to_string(line) + ": " + what;
    return false;
  }
};

}  // namespace

const Node* Node::get(const std::string& key) const {
  for (const auto& [k, v] : pairs)
    if (k == key) return &v;
  return nullptr;
}

bool parse(const std::string& text, Node* root, std::string* error) {
  *root = Node{};
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) {
    *error = "out of memory";
    return false;
  }
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> parser_guard(&parser,
                                                                        yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  yaml_document_t doc;
  if (!yaml_parser_load(&parser, &doc)) {
    *error = "line " + std::to_string(parser.problem_mark.line + 1) + ": " +
             (parser.problem ? parser.problem : "not valid YAML");
    if (parser.context) *error += " " + std::string(parser.context);
    return false;
  }
  std::unique_ptr<yaml_document_t, void (*)(yaml_document_t*)> doc_guard(&doc,
                                                                         yaml_document_delete);
  Copier c{&doc};
  if (!c.copy(1, 0, root)) {
    *error = c.error;
    return false;
  }
  return true;
}

}  // namespace testmap::yaml
