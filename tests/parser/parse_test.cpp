// Parse-level behaviour of the rule language: where nodes are, what syntax errors say and where,
// recovery after a broken rule, and the lexical decisions that are easy to get wrong (ranges,
// names that start like numbers, units that must not swallow keywords, hostile input).
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.hpp"
#include "parser/parse.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"

namespace {

using namespace rapa;
namespace ast = rapa::parser::ast;
using support::DiagId;

/// One parse, with everything needed to inspect it.
struct Parsed {
  support::SourceManager sources;
  support::DiagnosticEngine diags;
  support::FileId file = 0;
  ast::RuleFile tree;

  explicit Parsed(std::string text) {
    file = sources.add_buffer("test.rules", std::move(text));
    tree = parser::parse_rule_file(sources, file, diags);
  }

  /// "line:column" of a range's start.
  std::string at(const support::SourceRange& range) const {
    const auto lc = sources.line_column(range.file, range.begin);
    return std::to_string(lc.line) + ":" + std::to_string(lc.column);
  }

  /// The source text a range covers.
  std::string_view spelling(const support::SourceRange& range) const {
    return sources.text(range.file).substr(range.begin, range.end - range.begin);
  }

  std::string listing() const {
    std::string out;
    for (const auto& d : diags.diagnostics()) out += at(d.range) + ": " + d.message + "\n";
    return out;
  }

  const ast::Rule& rule(std::size_t i = 0) const { return tree.rules.at(i); }

  const ast::Pattern& pattern(std::size_t condition, std::size_t rule_index = 0) const {
    return boost::get<ast::Pattern>(rule(rule_index).conditions.at(condition));
  }
};

std::string with_condition(std::string_view condition) {
  return "rule t\n  when\n    " + std::string(condition) + "\n  then\n    info \"x\"\nend\n";
}

const ast::Value& single_value(const ast::Pattern& pattern, std::size_t slot) {
  const auto& one_of = boost::get<ast::OneOf>(pattern.slots.at(slot).constraint);
  REQUIRE(one_of.alternatives.size() == 1);
  return one_of.alternatives.front();
}

/// True when the message shows a C++ type or rule name instead of words.
bool looks_internal(std::string_view message) {
  for (std::string_view marker : {"N5boost", "boost", "spirit", "x3::", "::", "_class", "_rule", "_parser", "rapa"}) {
    if (message.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("parse: source ranges of nodes", "[parser]") {
  Parsed p("# header\nrule itp.one\n  when\n    lab(test: platelets,  value: < 30 x10^9/L) where ?x >= 2..4 mg\n"
           "    diagnosis(code: ITP)   # comment\n  then\n    warn high \"x\"\nend\n");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  REQUIRE(p.tree.rules.size() == 1);
  const auto& rule = p.rule();
  CHECK(rule.range.file == p.file);
  CHECK(p.at(rule.range) == "2:1");
  CHECK(p.spelling(rule.range).substr(0, 4) == "rule");
  CHECK(p.spelling(rule.range).substr(p.spelling(rule.range).size() - 3) == "end");
  CHECK(p.at(rule.name.range) == "2:6");
  CHECK(p.spelling(rule.name.range) == "itp.one");

  const auto& lab = p.pattern(0);
  CHECK(p.at(lab.range) == "4:5");
  CHECK(p.spelling(lab.range) == "lab(test: platelets,  value: < 30 x10^9/L) where ?x >= 2..4 mg");
  CHECK(p.at(lab.type.range) == "4:5");
  CHECK(p.spelling(lab.type.range) == "lab");

  const auto& test_slot = lab.slots.at(0);
  CHECK(p.at(test_slot.range) == "4:9");
  CHECK(p.spelling(test_slot.range) == "test: platelets");
  CHECK(p.spelling(test_slot.slot.range) == "test");
  CHECK(p.at(boost::get<ast::Name>(single_value(lab, 0)).range) == "4:15");

  const auto& value_slot = lab.slots.at(1);
  CHECK(p.at(value_slot.range) == "4:27");
  CHECK(p.spelling(value_slot.range) == "value: < 30 x10^9/L");
  const auto& comparison = boost::get<ast::Comparison>(value_slot.constraint);
  CHECK(p.at(comparison.range) == "4:34");
  const auto& quantity = boost::get<ast::Quantity>(comparison.operand);
  CHECK(p.at(quantity.range) == "4:36");
  CHECK(p.spelling(quantity.range) == "30 x10^9/L");
  REQUIRE(quantity.unit.has_value());
  CHECK(p.at(quantity.unit->range) == "4:39");
  CHECK(p.spelling(quantity.unit->range) == "x10^9/L");

  const auto& test = lab.tests.at(0);
  CHECK(p.at(test.range) == "4:54");
  CHECK(p.spelling(test.range) == "?x >= 2..4 mg");
  CHECK(p.spelling(boost::get<ast::Variable>(test.lhs).range) == "?x");
  const auto& range = boost::get<ast::Range>(test.rhs);
  CHECK(p.spelling(range.range) == "2..4 mg");
  CHECK(p.spelling(range.low.range) == "2");
  CHECK(p.spelling(range.high.range) == "4 mg");
  CHECK(p.at(range.high.unit->range) == "4:65");

  // A pattern ends at its ')', not at the comment or the white space after it.
  const auto& diagnosis = p.pattern(1);
  CHECK(p.at(diagnosis.range) == "5:5");
  CHECK(p.spelling(diagnosis.range) == "diagnosis(code: ITP)");

  const auto& warn = boost::get<ast::Warn>(rule.actions.at(0));
  CHECK(p.at(warn.range) == "7:5");
  CHECK(p.spelling(warn.range) == "warn high \"x\"");
  CHECK(p.spelling(warn.severity.range) == "high");
  CHECK(p.at(warn.text.range) == "7:15");
  CHECK(p.spelling(warn.text.range) == "\"x\"");
}

namespace {

/// Collects the range of every node of a rule, with a label saying which node it is.
struct RangeCollector {
  std::vector<std::pair<std::string, support::SourceRange>> ranges;

  void add(std::string label, const ast::Node& node) { ranges.emplace_back(std::move(label), node.range); }

  void value(const ast::Value& v) {
    struct Visitor {
      RangeCollector& self;
      void operator()(const ast::Variable& x) const { self.add("variable", x); }
      void operator()(const ast::Text& x) const { self.add("text", x); }
      void operator()(const ast::Name& x) const { self.add("name", x); }
      void operator()(const ast::Quantity& x) const { self.quantity(x); }
      void operator()(const ast::Range& x) const {
        self.add("range", x);
        self.quantity(x.low);
        self.quantity(x.high);
      }
    };
    boost::apply_visitor(Visitor{*this}, v);
  }
  void quantity(const ast::Quantity& q) {
    add("quantity", q);
    if (q.unit) add("unit", *q.unit);
  }
  void pattern(const ast::Pattern& p) {
    add("pattern", p);
    add("pattern type", p.type);
    for (const auto& slot : p.slots) {
      add("slot constraint", slot);
      add("slot name", slot.slot);
      if (const auto* one_of = boost::get<ast::OneOf>(&slot.constraint)) {
        add("one-of constraint", *one_of);
        for (const auto& alternative : one_of->alternatives) value(alternative);
      } else {
        const auto& comparison = boost::get<ast::Comparison>(slot.constraint);
        add("comparison", comparison);
        value(comparison.operand);
      }
    }
    for (const auto& test : p.tests) {
      add("where test", test);
      value(test.lhs);
      value(test.rhs);
    }
  }
  void conditions(const std::vector<ast::Condition>& list) {
    for (const auto& c : list) {
      if (const auto* p = boost::get<ast::Pattern>(&c)) {
        pattern(*p);
      } else if (const auto* n = boost::get<ast::Negation>(&c)) {
        add("not", *n);
        conditions(n->body);
      } else if (const auto* e = boost::get<ast::Existence>(&c)) {
        add("exists", *e);
        conditions(e->body);
      } else {
        const auto& a = boost::get<ast::Alternatives>(c);
        add("either", a);
        for (const auto& branch : a.branches) {
          add("branch", branch);
          conditions(branch.conditions);
        }
      }
    }
  }
  void details(const std::vector<ast::Detail>& list) {
    for (const auto& d : list) {
      add("detail", d);
      add("detail key", d.key);
      if (const auto* r = boost::get<ast::Range>(&d.amount)) value(*r);
      else quantity(boost::get<ast::Quantity>(d.amount));
    }
  }
  void actions(const std::vector<ast::Action>& list) {
    for (const auto& a : list) {
      if (const auto* r = boost::get<ast::Recommend>(&a)) {
        add("recommend", *r);
        add("recommend drug", r->drug);
        details(r->details);
        if (r->text) add("recommend text", *r->text);
      } else if (const auto* w = boost::get<ast::Warn>(&a)) {
        add("warn", *w);
        add("warn severity", w->severity);
        add("warn text", w->text);
      } else if (const auto* c = boost::get<ast::Contraindicate>(&a)) {
        add("contraindicate", *c);
        add("contraindicate drug", c->drug);
        add("contraindicate text", c->text);
      } else if (const auto* m = boost::get<ast::Monitor>(&a)) {
        add("monitor", *m);
        add("monitor what", m->what);
        details(m->details);
        add("monitor text", m->text);
      } else if (const auto* k = boost::get<ast::Ask>(&a)) {
        add("ask", *k);
        add("ask datum", k->datum);
        add("ask text", k->text);
      } else if (const auto* i = boost::get<ast::Info>(&a)) {
        add("info", *i);
        add("info text", i->text);
      } else {
        const auto& conclude = boost::get<ast::Conclude>(a);
        add("conclude", conclude);
        pattern(conclude.fact);
      }
    }
  }
  void clauses(const std::vector<ast::Clause>& list) {
    for (const auto& c : list) {
      if (const auto* t = boost::get<ast::Title>(&c)) {
        add("title", *t);
        add("title text", t->text);
      } else if (const auto* s = boost::get<ast::Salience>(&c)) {
        add("salience", *s);
      } else if (const auto* g = boost::get<ast::Grade>(&c)) {
        add("grade", *g);
        add("grade letter", g->letter);
        if (g->because) add("grade because", *g->because);
      } else if (const auto* k = boost::get<ast::Cite>(&c)) {
        add("cite", *k);
        for (const auto& key : k->keys) add("cite key", key);
      } else {
        const auto& r = boost::get<ast::Rationale>(c);
        add("rationale", r);
        add("rationale text", r.text);
      }
    }
  }
  void rule(const ast::Rule& r) {
    add("rule", r);
    add("rule name", r.name);
    clauses(r.head);
    conditions(r.conditions);
    actions(r.actions);
    clauses(r.tail);
  }
};

}  // namespace

// Every node carries a range in the file, non-empty, starting and ending on a token (never on the
// white space or comment around it): diagnostics of the checker point at these.
TEST_CASE("parse: every node has a tight source range", "[parser]") {
  Parsed p(R"(rule r title "t" salience 3
  when
    a(x: 1, y: A | B, z: < 2 mg, w: 1..2, v: ?v, u: "u") where ?v > 1   # comment
    not b()
    exists { c() d() }
    either { e() } or { f() }
  then
    recommend x start 2 mg, maintain 1..2 mg   # comment
    recommend y "why"
    warn high "w"
    contraindicate z "c"
    monitor m every 3 months "m"
    ask q.r "a"
    info "i"   # comment
    conclude g(h: 1)
  grade A consensus because "b"
  cite k1, k2
  rationale "r"
end
)");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  REQUIRE(p.tree.rules.size() == 1);
  RangeCollector collector;
  collector.rule(p.rule());
  const std::string_view text = p.sources.text(p.file);
  const auto is_blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  for (const auto& [label, range] : collector.ranges) {
    INFO(label << " at " << (range.valid() ? p.at(range) : "nowhere") << ": '"
               << (range.valid() ? p.spelling(range) : "") << "'");
    CHECK(range.file == p.file);
    CHECK(range.begin < range.end);
    CHECK(range.end <= text.size());
    if (range.file == p.file && range.begin < range.end && range.end <= text.size()) {
      CHECK_FALSE(is_blank(text[range.begin]));
      CHECK_FALSE(is_blank(text[range.end - 1]));  // nor the comment after it, which ends a line
    }
  }
}

TEST_CASE("parse: syntax errors say in words what was expected", "[parser]") {
  struct Case {
    const char* source;
    const char* where;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"rule r when a(code ITP) then info \"x\" end", "1:20", "expected ':'"},
      {"rule r when a(x: 1 then info \"x\" end", "1:20", "expected ')'"},
      {"rule r when a(x: 1) info \"x\" end", "1:21", "expected 'then' (or another condition)"},
      {"rule r a(x: 1) then info \"x\" end", "1:8", "expected 'when'"},
      {"rule when a() then info \"x\" end", "1:6", "expected a name"},
      {"rule r when a() then recomend x end", "1:22",
       "expected an action (recommend, warn, contraindicate, monitor, ask, info or conclude)"},
      {"rule r when a() then info \"x\"\n", "2:1", "expected 'end' (or another action or clause)"},
      {"rule r when a() then warn extreme \"x\" end", "1:27", "expected a severity (critical, high, moderate or low)"},
      {"rule r when a() then info \"x\" grade E end", "1:37", "expected a grade (A, B, C or D)"},
      {"rule r when a(x: < ) then info \"x\" end", "1:20", "expected a value"},
      {"rule r when a(x: 2..) then info \"x\" end", "1:21", "expected a number"},
      {"rule r when a() then recommend x start \"x\" end", "1:40",
       "expected an amount such as '2 mg/day' or '5..15 ng/mL'"},
      {"rule r when not { } then info \"x\" end", "1:19", "expected a condition"},
      {"rule r when then info \"x\" end", "1:13", "expected a condition"},
      {"garbage\nrule r when a() then info \"x\" end", "1:1", "expected 'rule'"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.source) {
      Parsed p(c.source);
      INFO(p.listing());
      REQUIRE_FALSE(p.diags.diagnostics().empty());
      const auto& d = p.diags.diagnostics().front();
      CHECK(d.severity == support::Severity::error);
      CHECK(d.id == DiagId::expected);
      CHECK(p.at(d.range) == c.where);
      CHECK(d.message == c.message);
    }
  }
}

// Each of these fails at a place where the grammar offers something other than a named rule; the
// message must still be words an author can act on.
TEST_CASE("parse: no internal names in syntax errors", "[parser]") {
  const std::vector<const char*> sources = {
      "rule r when either { a() } then info \"x\" end",          // 'or' missing
      "rule r salience x when a() then info \"x\" end",           // salience without a number
      "rule r salience 99999999999 when a() then info \"x\" end", // salience out of range
      "rule r when a() then info \"x\" cite end",                 // cite without a key
      "rule r when a() then info \"x\" cite a, end",              // cite with a trailing comma
      "rule r when a(x: ?v) where ?v then info \"x\" end",        // a test without its operator
      "rule r when a(x: ?v) where then info \"x\" end",           // where without a test
      "rule r when a(x: 1,) then info \"x\" end",                 // trailing comma among slots
      "rule r when a(x: 1 |) then info \"x\" end",                // '|' without an alternative
      "rule r when a(x: 1e999) then info \"x\" end",
      "rule r when a() then recommend end",
      "rule r when a() then monitor m every 3 days end",
      "rule r when a() then info end",
      "rule r when a() then conclude end",
      "rule r when a() then ask \"x\" end",
      "rule r when a() then info \"x\" grade A because end",
      "rule r when a() then info \"x\" title end",
      "rule r when a() then info \"x\" rationale end",
      "rule r when not then info \"x\" end",
      "rule r when exists { a() then info \"x\" end",
      "rule r when either { a() } or then info \"x\" end",
      "rule r",
      "rule",
      "rule r when",
      "rule r when a() then",
      "rule r when a(",
      "rule r when a(x:",
  };
  for (const char* source : sources) {
    DYNAMIC_SECTION(source) {
      Parsed p(source);
      INFO(p.listing());
      REQUIRE_FALSE(p.diags.diagnostics().empty());
      CHECK(p.tree.rules.empty());
      for (const auto& d : p.diags.diagnostics()) {
        CHECK(d.severity == support::Severity::error);
        CHECK(d.message.rfind("expected ", 0) == 0);
        CHECK_FALSE(looks_internal(d.message));
        CHECK(d.range.file == p.file);
        CHECK(d.range.begin <= p.sources.text(p.file).size());
      }
    }
  }
}

TEST_CASE("parse: a missing 'end' points back at its 'rule'", "[parser]") {
  Parsed p("rule r\n  when a()\n  then info \"x\"\n");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().size() == 1);
  const auto& d = p.diags.diagnostics().front();
  CHECK(d.message == "expected 'end' (or another action or clause)");
  REQUIRE(d.notes.size() == 1);
  CHECK(p.at(d.notes[0].range) == "1:1");
  CHECK(d.notes[0].message == "to match this 'rule'");
}

TEST_CASE("parse: an unterminated text is reported at its opening quote", "[parser]") {
  SECTION("at the end of the file") {
    Parsed p("rule r\n  when a()\n  then\n    info \"abc\nend\n");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().size() == 1);
    const auto& d = p.diags.diagnostics().front();
    CHECK(d.id == DiagId::unterminated_string);
    CHECK(d.message == "missing closing '\"' of string");
    CHECK(p.at(d.range) == "4:10");
    CHECK(p.spelling(d.range) == "\"");
  }
  SECTION("in a slot value") {
    Parsed p("rule r when a(x: \"abc) then info \"x\" end");
    INFO(p.listing());
    // The quote of "x" closes the text opened at 1:18; the one after x opens a text never closed.
    REQUIRE_FALSE(p.diags.diagnostics().empty());
    CHECK(p.diags.diagnostics().front().range.file == p.file);
  }
  SECTION("an escaped quote does not close it") {
    Parsed p("rule r when a() then info \"abc\\\" end\n");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().size() == 1);
    CHECK(p.diags.diagnostics().front().id == DiagId::unterminated_string);
    CHECK(p.at(p.diags.diagnostics().front().range) == "1:27");
  }
}

TEST_CASE("parse: recovery after a broken rule", "[parser]") {
  Parsed p(R"(rule good.one
  when diagnosis(code: ITP)
  then info "1"
end

rule broken.one
  when
    diagnosis(code ITP)
  then
    info "x"
end

rule good.two when a() then info "2" end

rule broken.two
  when
    diagnosis(code: ITP)
  then
    recomend sirolimus
end

  rule good.three when diagnosis(code: ITP) then info "3" end
rule broken.three when diagnosis(code: ITP) then info "abc
)");
  INFO(p.listing());
  REQUIRE(p.tree.rules.size() == 3);
  CHECK(p.rule(0).name.text == "good.one");
  CHECK(p.rule(1).name.text == "good.two");
  CHECK(p.rule(2).name.text == "good.three");
  REQUIRE(p.diags.diagnostics().size() == 3);
  CHECK(p.at(p.diags.diagnostics()[0].range) == "8:20");
  CHECK(p.diags.diagnostics()[0].message == "expected ':'");
  CHECK(p.at(p.diags.diagnostics()[1].range) == "19:5");
  CHECK(p.at(p.diags.diagnostics()[2].range) == "23:55");
  CHECK(p.diags.diagnostics()[2].id == DiagId::unterminated_string);
}

TEST_CASE("parse: '2..4 mg/day' is a range", "[parser]") {
  Parsed p(with_condition("x(a: 2..4 mg/day, b: 2 mg..4 mg/day, c: 2.5..4, d: 2 .. 4)"));
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  const auto& pattern = p.pattern(0);
  const auto& a = boost::get<ast::Range>(single_value(pattern, 0));
  CHECK(a.low.value == 2);
  CHECK_FALSE(a.low.unit.has_value());
  CHECK(a.high.value == 4);
  REQUIRE(a.high.unit.has_value());
  CHECK(a.high.unit->spelling == "mg/day");
  const auto& b = boost::get<ast::Range>(single_value(pattern, 1));
  REQUIRE(b.low.unit.has_value());
  CHECK(b.low.unit->spelling == "mg");
  CHECK(b.high.unit->spelling == "mg/day");
  const auto& c = boost::get<ast::Range>(single_value(pattern, 2));
  CHECK(c.low.value == 2.5);
  CHECK(c.high.value == 4);
  const auto& d = boost::get<ast::Range>(single_value(pattern, 3));
  CHECK(d.low.value == 2);
  CHECK(d.high.value == 4);

  SECTION("as a detail amount") {
    Parsed q("rule r when a() then recommend s start 2..4 mg/day end");
    INFO(q.listing());
    REQUIRE(q.diags.diagnostics().empty());
    const auto& detail = boost::get<ast::Recommend>(q.rule().actions.at(0)).details.at(0);
    const auto& range = boost::get<ast::Range>(detail.amount);
    CHECK(range.low.value == 2);
    CHECK(range.high.unit->spelling == "mg/day");
  }
}

TEST_CASE("parse: names that start like numbers stay names", "[parser]") {
  Parsed p("rule r when infection(status: inf, n: nan, i: infinity, e: e5) then info \"x\" end");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  const auto& pattern = p.pattern(0);
  CHECK(pattern.type.text == "infection");
  CHECK(boost::get<ast::Name>(single_value(pattern, 0)).text == "inf");
  CHECK(boost::get<ast::Name>(single_value(pattern, 1)).text == "nan");
  CHECK(boost::get<ast::Name>(single_value(pattern, 2)).text == "infinity");
  CHECK(boost::get<ast::Name>(single_value(pattern, 3)).text == "e5");
}

TEST_CASE("parse: a unit never takes a keyword or the next line", "[parser]") {
  SECTION("10 then") {
    Parsed p("rule r when a(x: ?v) where ?v > 10 then info \"x\" end");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().empty());
    const auto& q = boost::get<ast::Quantity>(p.pattern(0).tests.at(0).rhs);
    CHECK(q.value == 10);
    CHECK_FALSE(q.unit.has_value());
  }
  SECTION("10 when") {
    Parsed p("rule r salience 10 when a() then info \"x\" end");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().empty());
    REQUIRE(p.tree.rules.size() == 1);
    CHECK(boost::get<ast::Salience>(p.rule().head.at(0)).value == 10);
  }
  SECTION("keywords after a number") {
    for (const char* word : {"when", "then", "end", "not", "exists", "either", "or", "where", "grade", "cite"}) {
      INFO(word);
      const std::string source = "rule r when a(x: ?v) where ?v > 10 " + std::string(word);
      Parsed p(source + " then info \"x\" end");
      for (const auto& d : p.diags.diagnostics()) CHECK(d.message.find("unit") == std::string::npos);
      // The word is never read as the unit of 10.
      if (!p.tree.rules.empty() && !p.rule().conditions.empty()) {
        const auto& q = boost::get<ast::Quantity>(p.pattern(0).tests.at(0).rhs);
        CHECK_FALSE(q.unit.has_value());
      }
    }
  }
  SECTION("a detail word is not a unit") {
    Parsed p("rule r when a() then recommend s start 2 maintain 1 mg/day reassess at 3 months end");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().empty());
    const auto& details = boost::get<ast::Recommend>(p.rule().actions.at(0)).details;
    REQUIRE(details.size() == 3);
    CHECK(details[0].key.text == "start");
    CHECK_FALSE(boost::get<ast::Quantity>(details[0].amount).unit.has_value());
    CHECK(details[1].key.text == "maintain");
    CHECK(boost::get<ast::Quantity>(details[1].amount).unit->spelling == "mg/day");
    CHECK(details[2].key.text == "reassess");
    CHECK(boost::get<ast::Quantity>(details[2].amount).unit->spelling == "months");
  }
  SECTION("a unit stays on its line") {
    Parsed p("rule r when a(x: ?v) where ?v > 10\n  b() then info \"x\" end");
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().empty());
    REQUIRE(p.rule().conditions.size() == 2);
    CHECK_FALSE(boost::get<ast::Quantity>(p.pattern(0).tests.at(0).rhs).unit.has_value());
    CHECK(p.pattern(1).type.text == "b");
  }
}

TEST_CASE("parse: deep nesting is refused without a crash", "[parser]") {
  SECTION("1000 'not {'") {
    std::string source = "rule r when ";
    for (int i = 0; i < 1000; ++i) source += "not { ";
    source += "a()";
    for (int i = 0; i < 1000; ++i) source += " }";
    source += " then info \"x\" end\n";
    Parsed p(source);
    INFO(p.listing());
    REQUIRE(p.diags.diagnostics().size() == 1);
    const auto& d = p.diags.diagnostics().front();
    CHECK(d.id == DiagId::nesting_too_deep);
    CHECK(d.message == "brackets are nested too deeply (more than 64 levels)");
    // At the first bracket past the limit.
    CHECK(d.range.begin == source.find('{') + 6 * parser::max_nesting);
    CHECK(p.tree.rules.empty());
  }
  SECTION("100000 unbalanced brackets") {
    Parsed p("rule r when " + std::string(100000, '(') + " then info \"x\" end\n");
    REQUIRE_FALSE(p.diags.diagnostics().empty());
    CHECK(p.diags.diagnostics().front().id == DiagId::nesting_too_deep);
  }
  SECTION("brackets inside texts and comments do not count") {
    std::string source = "# " + std::string(200, '{') + "\nrule r when a() then info \"" + std::string(200, '(') +
                         "\" end\n";
    Parsed p(source);
    INFO(p.listing());
    CHECK(p.diags.diagnostics().empty());
    CHECK(p.tree.rules.size() == 1);
  }
  SECTION("just within the limit parses") {
    const int groups = parser::max_nesting - 1;  // the pattern's '(' is one more level
    std::string source = "rule r when ";
    for (int i = 0; i < groups; ++i) source += "not { ";
    source += "a()";
    for (int i = 0; i < groups; ++i) source += " }";
    source += " then info \"x\" end\n";
    Parsed p(source);
    INFO(p.listing());
    CHECK(p.diags.diagnostics().empty());
    REQUIRE(p.tree.rules.size() == 1);
    const ast::Condition* c = &p.rule().conditions.at(0);
    int depth = 0;
    while (const auto* n = boost::get<ast::Negation>(c)) {
      ++depth;
      c = &n->body.at(0);
    }
    CHECK(depth == groups);
  }
}

TEST_CASE("parse: numbers out of range are syntax errors", "[parser]") {
  for (const char* number : {"1e999", "-1e999", "1e400", "1e-400"}) {
    DYNAMIC_SECTION(number) {
      Parsed p(with_condition("x(v: " + std::string(number) + ")"));
      INFO(p.listing());
      REQUIRE(p.diags.diagnostics().size() == 1);
      const auto& d = p.diags.diagnostics().front();
      CHECK(d.id == DiagId::expected);
      CHECK(p.at(d.range) == "3:10");
      CHECK(p.tree.rules.empty());
    }
  }
  SECTION("and so are inf and nan as numbers") {
    Parsed p(with_condition("x(v: < inf)"));
    INFO(p.listing());
    // `inf` is a name here, so this parses; the checker decides whether a name may be compared.
    CHECK(p.diags.diagnostics().empty());
    const auto& comparison = boost::get<ast::Comparison>(p.pattern(0).slots.at(0).constraint);
    CHECK(boost::get<ast::Name>(comparison.operand).text == "inf");
  }
}

TEST_CASE("parse: empty and near-empty files", "[parser]") {
  for (const char* source : {"", "\n\n", "   \t  ", "# only a comment", "# comment\n# another\n", "\xEF\xBB\xBF",
                             "\xEF\xBB\xBF# comment\n", "\r\n"}) {
    DYNAMIC_SECTION("'" << source << "'") {
      Parsed p(source);
      INFO(p.listing());
      CHECK(p.diags.diagnostics().empty());
      CHECK(p.tree.rules.empty());
      CHECK(p.tree.file == p.file);
    }
  }
}

TEST_CASE("parse: a byte order mark is skipped and columns still count bytes", "[parser]") {
  Parsed p("\xEF\xBB\xBFrule r when a() then info \"x\" end\n");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  REQUIRE(p.tree.rules.size() == 1);
  CHECK(p.at(p.rule().range) == "1:4");
  CHECK(p.at(p.rule().name.range) == "1:9");

  Parsed broken("\xEF\xBB\xBFrule r when a( then info \"x\" end\n");
  REQUIRE(broken.diags.diagnostics().size() == 1);
  CHECK(broken.at(broken.diags.diagnostics().front().range) == "1:19");
}

TEST_CASE("parse: Chinese names", "[parser]") {
  Parsed p("rule 规则.一 when 诊断(代码: 免疫性血小板减少症, 年龄: >= 18 岁) then recommend 西罗莫司 \"中文\" end");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  CHECK(p.rule().name.text == "规则.一");
  const auto& pattern = p.pattern(0);
  CHECK(pattern.type.text == "诊断");
  CHECK(pattern.slots.at(0).slot.text == "代码");
  CHECK(boost::get<ast::Name>(single_value(pattern, 0)).text == "免疫性血小板减少症");
  const auto& age = boost::get<ast::Comparison>(pattern.slots.at(1).constraint);
  CHECK(boost::get<ast::Quantity>(age.operand).unit->spelling == "岁");
  // Columns count bytes: 规则.一 is 10 bytes.
  CHECK(p.at(pattern.range) == "1:22");
}

TEST_CASE("parse: keywords are whole words", "[parser]") {
  Parsed p("rule r when notice(a: 1) exists_x(b: 2) then info \"x\" end");
  INFO(p.listing());
  REQUIRE(p.diags.diagnostics().empty());
  REQUIRE(p.rule().conditions.size() == 2);
  CHECK(p.pattern(0).type.text == "notice");
  CHECK(p.pattern(1).type.text == "exists_x");

  Parsed reserved("rule r when not(a: 1) then info \"x\" end");
  CHECK_FALSE(reserved.diags.diagnostics().empty());
}

TEST_CASE("parse: hostile bytes do not crash the parser", "[parser]") {
  const std::vector<std::string> inputs = {
      std::string("rule r when a(x: \xFF\xFE) then info \"x\" end"),
      [] {
        static constexpr char with_nul[] = "rule r when a() then info \"\0\" end";
        return std::string(with_nul, sizeof with_nul - 1);
      }(),
      std::string("\xC3"),
      std::string("rule \xE4\xB8"),
      std::string(1000, '"'),
      std::string(1000, '#'),
      std::string("rule r when a(x: 1") + std::string(500, '.'),
      std::string("rule r when a(x: ") + std::string(500, '?'),
      std::string("rule r when a(x: 1 ") + std::string(500, '/'),
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    DYNAMIC_SECTION("input " << i) {
      Parsed p(inputs[i]);
      for (const auto& d : p.diags.diagnostics()) {
        CHECK(d.range.file == p.file);
        CHECK(d.range.begin <= inputs[i].size());
        CHECK(d.range.end <= inputs[i].size());
        CHECK_FALSE(looks_internal(d.message));
      }
    }
  }
}
