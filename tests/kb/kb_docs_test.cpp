// The YAML examples of docs/kb.md and docs/cases.md are the bundled files' own entries, so the
// manuals cannot drift from what rapa reads: every field an example shows has the value the
// bundled entry has ("..." in an example stands for what it leaves out), and the full case of
// docs/cases.md is, byte for byte, the case file it names (which `rapa test` runs).
#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "tests/read_file.hpp"

namespace {

const std::string kHome = RAPA_SOURCE_DIR;

struct Block {
  std::size_t line = 0;
  std::string text;
};

/// The ```yaml blocks of a page of docs/, with the line each starts on.
std::vector<Block> yaml_blocks(const std::string& page) {
  std::istringstream in(rapa::test::read_file(kHome + "/docs/" + page));
  std::vector<Block> blocks;
  std::string line;
  std::size_t number = 0;
  bool inside = false;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line == "```yaml") {
      inside = true;
      blocks.push_back({number + 1, {}});
    } else if (inside && line == "```") {
      inside = false;
    } else if (inside) {
      blocks.back().text += line + "\n";
    }
  }
  return blocks;
}

bool elided(const YAML::Node& node) {
  if (node.IsScalar()) return node.Scalar() == "...";
  if (node.IsSequence())
    for (const auto& item : node)
      if (elided(item)) return true;
  return false;
}

/// Every field `shown` has, `bundled` has with the same value; a shown "..." matches anything.
/// On a difference, `where` says which field.
bool shown_in(const YAML::Node& shown, const YAML::Node& bundled, std::string& where) {
  if (elided(shown)) return true;
  if (shown.Type() != bundled.Type()) return false;
  if (shown.IsScalar()) return shown.Scalar() == bundled.Scalar();
  if (shown.IsSequence()) {
    if (shown.size() != bundled.size()) return false;
    for (std::size_t i = 0; i < shown.size(); ++i)
      if (!shown_in(shown[i], bundled[i], where)) return false;
    return true;
  }
  for (const auto& field : shown) {
    const std::string key = field.first.as<std::string>();
    if (!bundled[key] || !shown_in(field.second, bundled[key], where)) {
      where = key;
      return false;
    }
  }
  return true;
}

/// The entry of the bundled kb's list `section` whose `key`, `id` or `name` is `name`.
YAML::Node bundled_entry(const std::string& section, const std::string& name) {
  for (const auto& file : std::filesystem::directory_iterator(kHome + "/kb")) {
    const YAML::Node root = YAML::LoadFile(file.path().string());
    if (!root[section]) continue;
    for (const auto& entry : root[section])
      for (const char* field : {"key", "id", "name"})
        if (entry[field] && entry[field].as<std::string>() == name) return entry;
  }
  return YAML::Node();
}

TEST_CASE("Every example of docs/kb.md is an entry of the bundled kb as it is", "[kb][docs]") {
  const auto blocks = yaml_blocks("kb.md");
  REQUIRE(blocks.size() >= 5);
  std::size_t entries = 0;
  for (const Block& block : blocks) {
    DYNAMIC_SECTION("docs/kb.md block at line " << block.line) {
      const YAML::Node root = YAML::Load(block.text);
      REQUIRE(root.IsMap());
      for (const auto& section : root) {
        const std::string name = section.first.as<std::string>();
        REQUIRE(section.second.IsSequence());
        for (const auto& entry : section.second) {
          std::string id;
          for (const char* field : {"key", "id", "name"})
            if (entry[field]) id = entry[field].as<std::string>();
          INFO(name << ": " << id);
          const YAML::Node bundled = bundled_entry(name, id);
          REQUIRE(bundled);
          std::string where;
          const bool same = shown_in(entry, bundled, where);
          INFO("differs at field " << where);
          CHECK(same);
          ++entries;
        }
      }
    }
  }
  CHECK(entries > 0);
}

TEST_CASE("The full case of docs/cases.md is the case file it names", "[cases][docs]") {
  const auto blocks = yaml_blocks("cases.md");
  REQUIRE(!blocks.empty());
  const std::string& text = blocks.front().text;
  const std::string prefix = "# ";
  REQUIRE(text.rfind(prefix, 0) == 0);
  const std::string path = text.substr(prefix.size(), text.find('\n') - prefix.size());
  INFO("docs/cases.md names " << path);
  CHECK(rapa::test::read_file(kHome + "/" + path) == text);
}

}  // namespace
