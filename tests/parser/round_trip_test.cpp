// The canonical printer against the parser: for every construct of the language,
// parse -> print -> parse gives the same tree, and printing that tree again gives the same text.
// Also round-trips every ```rapa block of docs/language.md, so the manual cannot drift from the
// grammar.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "parser/ast.hpp"
#include "parser/parse.hpp"
#include "parser/print.hpp"
#include "support/diagnostics.hpp"
#include "support/source_manager.hpp"
#include "tests/read_file.hpp"

namespace {

using namespace rapa;
namespace ast = rapa::parser::ast;

std::string list_diagnostics(const support::SourceManager& sources, const support::DiagnosticEngine& diags) {
  std::string out;
  for (const auto& d : diags.diagnostics()) {
    const auto at = sources.line_column(d.range.file, d.range.begin);
    out += std::string(sources.name(d.range.file)) + ":" + std::to_string(at.line) + ":" +
           std::to_string(at.column) + ": " + std::string(support::severity_name(d.severity)) + ": " + d.message +
           "\n";
  }
  return out;
}

/// Parses `text`, requiring that it parses without any diagnostic.
ast::RuleFile parse_clean(support::SourceManager& sources, std::string name, std::string text) {
  support::DiagnosticEngine diags;
  const auto id = sources.add_buffer(std::move(name), std::move(text));
  auto file = parser::parse_rule_file(sources, id, diags);
  INFO("input:\n" << sources.text(id) << "\ndiagnostics:\n" << list_diagnostics(sources, diags));
  CHECK(diags.diagnostics().empty());
  return file;
}

/// parse -> print -> parse: the same tree; print -> parse -> print: the same text. Returns the
/// canonical text.
std::string check_round_trip(std::string_view source, std::size_t expected_rules = 1) {
  support::SourceManager sources;
  const ast::RuleFile first = parse_clean(sources, "input.rules", std::string(source));
  CHECK(first.rules.size() == expected_rules);
  const std::string printed = parser::print_rule_file(first);
  INFO("input:\n" << source << "\nprinted:\n" << printed);
  const ast::RuleFile second = parse_clean(sources, "printed.rules", printed);
  REQUIRE(second.rules.size() == first.rules.size());
  CHECK(parser::same_tree(first, second));
  for (std::size_t i = 0; i < first.rules.size(); ++i) {
    CHECK(parser::same_tree(first.rules[i], second.rules[i]));
    CHECK(parser::print_rule(second.rules[i]) == parser::print_rule(first.rules[i]));
  }
  CHECK(parser::print_rule_file(second) == printed);
  return printed;
}

/// A rule around one condition, for the condition cases.
std::string with_condition(std::string_view condition) {
  return "rule t.cond\n  when\n    " + std::string(condition) + "\n  then\n    info \"x\"\nend\n";
}

/// A rule around one action.
std::string with_action(std::string_view action) {
  return "rule t.action\n  when\n    a()\n  then\n    " + std::string(action) + "\nend\n";
}

struct Case {
  const char* name;
  std::string source;
};

}  // namespace

TEST_CASE("round trip: patterns, constraints and values", "[parser][round-trip]") {
  const std::vector<Case> cases = {
      {"pattern without slots", with_condition("a()")},
      {"name value", with_condition("diagnosis(code: ITP)")},
      {"several slots", with_condition("medication(drug: tacrolimus, status: active, dose: 2 mg)")},
      {"variable binding", with_condition("patient(age: ?age)")},
      {"text value", with_condition("note(text: \"free text\")")},
      {"empty text value", with_condition("note(text: \"\")")},
      {"quantity without unit", with_condition("score(value: 3)")},
      {"quantity with unit", with_condition("lab(value: 30 x10^9/L)")},
      {"one of names", with_condition("diagnosis(code: AIHA | Evans | ITP)")},
      {"one of mixed values", with_condition("x(v: 1 | 2 mg | ?y | \"t\" | name | 1..2)")},
      {"comparison <", with_condition("lab(value: < 30 x10^9/L)")},
      {"comparison <=", with_condition("lab(value: <= 30)")},
      {"comparison >", with_condition("lab(value: > ?limit)")},
      {"comparison >=", with_condition("patient(age: >= 18 years)")},
      {"comparison ==", with_condition("x(v: == high)")},
      {"comparison !=", with_condition("x(v: != \"text\")")},
      {"comparison with a range operand", with_condition("x(v: == 1..2 mg)")},
      {"range", with_condition("lab(value: 5..15 ng/mL)")},
      {"range with units on both ends", with_condition("lab(value: 2 mg..4 mg)")},
      {"range with a unit on the low end only", with_condition("lab(value: 2 mg..4)")},
      {"range of negative numbers", with_condition("x(v: -4..-2)")},
      {"range of decimals", with_condition("x(v: 0.5..1.25 mg/kg)")},
      {"range without spaces around units", with_condition("x(v: 2%..4%)")},
      {"where with one test", with_condition("patient(age: ?age) where ?age >= 18 years")},
      {"where with several tests", with_condition("lab(value: ?v, low: ?l) where ?v < ?l, ?v != 0, ?l > 1 mg")},
      {"where with a quantity on the left", with_condition("lab(value: ?v) where 10 mg <= ?v")},
      {"where comparing names and texts", with_condition("x(a: ?a) where ?a == foo, ?a != \"bar\"")},
      {"where with a range", with_condition("x(a: ?a) where ?a == 1..3")},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: units and numbers", "[parser][round-trip]") {
  const std::vector<Case> cases = {
      {"mg/day", with_condition("x(v: 2 mg/day)")},
      {"x10^9/L", with_condition("x(v: 150 x10^9/L)")},
      {"/uL", with_condition("x(v: 500 /uL)")},
      {"mL/min/1.73m2", with_condition("x(v: 60 mL/min/1.73m2)")},
      {"percent", with_condition("x(v: 50 %)")},
      {"percent glued", with_condition("x(v: 50%)")},
      {"percent per day", with_condition("x(v: 5%/day)")},
      {"product", with_condition("x(v: 3 mg*h/L)")},
      {"unit glued to the number", with_condition("x(v: 5mg)")},
      {"unit named e", with_condition("x(v: 5 e)")},
      {"unit named e glued", with_condition("x(v: 5e)")},
      {"unit after tabs", with_condition("x(v: 5\t\tmg)")},
      {"non-ASCII unit", with_condition("x(v: 5 µg)")},
      {"Chinese unit", with_condition("x(v: 3 个月)")},
      {"integer", with_condition("x(v: 42)")},
      {"zero", with_condition("x(v: 0)")},
      {"negative zero", with_condition("x(v: -0)")},
      {"decimal", with_condition("x(v: 0.1)")},
      {"negative integer", with_condition("x(v: -3)")},
      {"negative decimal", with_condition("x(v: -0.25 mg)")},
      {"explicit plus", with_condition("x(v: +5)")},
      {"exponent", with_condition("x(v: 1e3)")},
      {"exponent with sign", with_condition("x(v: 1.5e-3 g)")},
      {"capital exponent", with_condition("x(v: 2E+4)")},
      {"large exponent", with_condition("x(v: 1e300)")},
      {"small exponent", with_condition("x(v: -2.5e-300)")},
      {"many digits", with_condition("x(v: 12345678901234567890)")},
      {"inexact decimal", with_condition("x(v: 0.30000000000000004)")},
      {"trailing zeros", with_condition("x(v: 1.500)")},
      {"leading zeros", with_condition("x(v: 007)")},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: negation, existence and alternatives", "[parser][round-trip]") {
  const std::vector<Case> cases = {
      {"not pattern", with_condition("not contraindicated(drug: sirolimus)")},
      {"not braced single pattern", with_condition("not { contraindicated(drug: sirolimus) }")},
      {"not pattern with where", with_condition("not lab(value: ?v) where ?v > 5 mg")},
      {"not group", with_condition("not {\n  medication(drug: ?d)\n  interaction(drug: ?d, with: sirolimus)\n}")},
      {"not group on one line", with_condition("not { a(x: ?v) b(y: ?v) }")},
      {"exists pattern", with_condition("exists infection(status: active)")},
      {"exists braced", with_condition("exists { infection(status: active) }")},
      {"exists group", with_condition("exists { infection(status: active) lab(test: crp, value: > 10 mg/L) }")},
      {"either two branches",
       with_condition("either { medication(drug: cyclosporine) } or { medication(drug: tacrolimus) }")},
      {"either three branches", with_condition("either { a() } or { b() } or { c() }")},
      {"either with a group branch", with_condition("either { a() b(x: 1) } or { c() }")},
      {"either over several lines", with_condition("either {\n  a()\n} or {\n  b()\n  c()\n}")},
      {"not inside either", with_condition("either { not a() } or { exists b() }")},
      {"either inside not", with_condition("not { either { a() } or { b() } }")},
      {"not inside not", with_condition("not { not a() }")},
      {"exists inside not with a group", with_condition("not { exists { a() b() } }")},
      {"group with a where before the brace", with_condition("not { a(x: ?v) where ?v > 5 mg }")},
      {"deep nesting", with_condition("not { exists { not { either { not { a() } } or { exists { b() c() } } } } }")},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: actions", "[parser][round-trip]") {
  const std::vector<Case> cases = {
      {"recommend a drug", with_action("recommend sirolimus")},
      {"recommend with text", with_action("recommend sirolimus \"why\"")},
      {"recommend with details",
       with_action("recommend sirolimus\n  start 2..4 mg/day, maintain 1..2 mg/day, trough 5..15 ng/mL")},
      {"recommend with details without commas", with_action("recommend sirolimus start 2 mg maintain 1 mg")},
      {"recommend with details and text", with_action("recommend sirolimus start 2 mg/day \"text\"")},
      {"every detail key",
       with_action("recommend d start 1 mg, maintain 2 mg, loading 3 mg, trough 4..5 ng/mL, reassess 3 months, "
                   "every 2 weeks, after 7 days, within 48 hours")},
      {"detail with at", with_action("recommend d reassess at 3 months, every at 2 weeks")},
      {"detail amount without unit", with_action("recommend d start 2")},
      {"recommend followed by another action", with_action("recommend d\n    recommend e\n    info \"x\"")},
      {"monitor", with_action("monitor sirolimus_trough \"check\"")},
      {"monitor with details", with_action("monitor sirolimus_trough after 7..14 days \"check the trough\"")},
      {"monitor with several details", with_action("monitor cbc every 1 weeks, within 3 months \"x\"")},
      {"warn critical", with_action("warn critical \"x\"")},
      {"warn high", with_action("warn high \"x\"")},
      {"warn moderate", with_action("warn moderate \"x\"")},
      {"warn low", with_action("warn low \"x\"")},
      {"contraindicate", with_action("contraindicate everolimus \"pregnancy\"")},
      {"ask", with_action("ask patient.pregnant \"Is she pregnant?\"")},
      {"info", with_action("info \"hello\"")},
      {"conclude", with_action("conclude candidate(drug: sirolimus, disease: ITP)")},
      {"conclude without slots", with_action("conclude flag()")},
      {"conclude with variables", with_action("conclude candidate(drug: ?d, dose: 2 mg, score: ?s)")},
      {"all actions",
       with_action("recommend a start 1 mg \"r\"\n warn high \"w\"\n contraindicate b \"c\"\n monitor m \"m\"\n "
                   "ask q \"q\"\n info \"i\"\n conclude c(x: 1)")},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: clauses", "[parser][round-trip]") {
  const std::string body = "\n  when\n    a()\n  then\n    info \"x\"\n";
  const std::vector<Case> cases = {
      {"title", "rule r title \"Title\"" + body + "end\n"},
      {"salience", "rule r salience 10" + body + "end\n"},
      {"negative salience", "rule r salience -5" + body + "end\n"},
      {"head clauses in written order", "rule r salience 1 title \"t\"" + body + "end\n"},
      {"grade", "rule r" + body + "  grade A\nend\n"},
      {"grade consensus", "rule r" + body + "  grade B consensus\nend\n"},
      {"grade because", "rule r" + body + "  grade C because \"small studies\"\nend\n"},
      {"grade consensus because", "rule r" + body + "  grade D consensus because \"expert opinion\"\nend\n"},
      {"cite one", "rule r" + body + "  cite feng2020_itp\nend\n"},
      {"cite several", "rule r" + body + "  cite feng2020_itp, zhang2023_trough, mbc2024_itp\nend\n"},
      {"rationale", "rule r" + body + "  rationale \"why\"\nend\n"},
      {"tail clauses in written order", "rule r" + body + "  rationale \"why\" cite a grade B\nend\n"},
      {"clauses of every kind in the head",
       "rule r title \"t\" grade A cite k rationale \"r\" salience 2" + body + "end\n"},
      {"clauses of every kind in the tail",
       "rule r" + body + "  salience 2 title \"t\" grade A cite k rationale \"r\"\nend\n"},
      {"clauses on both sides", "rule r title \"t\" salience 3" + body + "  grade B cite k\nend\n"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: texts, names, comments and layout", "[parser][round-trip]") {
  const std::vector<Case> cases = {
      {"escaped quote", with_action("info \"text \\\"quoted\\\"\"")},
      {"escaped backslash at the end", with_action("info \"ends in a backslash \\\\\"")},
      {"other escapes kept raw", with_action("info \"tab\\t newline\\n unknown\\q brace\\{\"")},
      {"placeholders", with_action("info \"the trough of {?d} is {?v}\"")},
      {"hash in a text", with_action("info \"not # a comment\"")},
      {"multi-line text", with_action("info \"line one\n  line two\"")},
      {"Chinese text", with_action("info \"西罗莫司适用于难治性免疫性血小板减少症\"")},
      {"empty text", with_action("info \"\"")},
      {"Chinese names",
       "rule 中文.规则\n  when\n    诊断(代码: 免疫性血小板减少症, 年龄: >= 18 岁)\n  then\n    recommend 西罗莫司 "
       "start 2 mg/day\n    ask 患者.妊娠 \"怀孕了吗?\"\nend\n"},
      {"dotted rule name", "rule itp.refractory.sirolimus when a() then info \"x\" end\n"},
      {"names with digits and underscores", with_condition("lab_2(test_x9: value_1, _y: a.b.c)")},
      {"names that start like numbers", with_condition("infection(status: inf, kind: nan, n: infinity)")},
      {"names that start like keywords",
       with_condition("notice(x: ending, y: whenever, z: thence, w: orbit, v: notify, u: rules)")},
      {"detail words as names", with_condition("trough(start: after, every: within, at: reassess)")},
      {"comments everywhere",
       "# leading comment\nrule r # after the name\n  title \"t\" # after a clause\n  when # after when\n"
       "    # own line\n    a(x: 1 # inside a pattern\n    , y: 2) # after a pattern\n    not { # in a group\n"
       "      b()\n    } # after a group\n  then # after then\n    info \"x # not a comment\" # after an action\n"
       "  cite k # after cite\nend # after end\n# trailing comment"},
      {"comment without a final newline", "rule r when a() then info \"x\" end # no newline"},
      {"one-line rule", "rule r when a() then info \"x\" end"},
      {"tabs and CRLF line ends", "rule r\r\n\twhen\r\n\t\ta(x: 5 mg)\r\n\tthen\r\n\t\tinfo \"x\"\r\nend\r\n"},
      {"byte order mark", "\xEF\xBB\xBFrule r when a() then info \"x\" end\n"},
      {"sample", R"(# sample
rule itp.refractory.sirolimus
  title   "Sirolimus for relapsed or refractory primary ITP"
  salience 10
  when
    diagnosis(code: ITP)
    refractory(disease: ITP)                      # concluded by another rule
    patient(age: ?age) where ?age >= 18 years
    lab(test: platelets, value: < 30 x10^9/L)
    not contraindicated(drug: sirolimus)
    either { medication(drug: cyclosporine) } or { medication(drug: tacrolimus, status: active | planned) }
    exists { infection(status: active) }
  then
    recommend sirolimus
      start 2..4 mg/day, maintain 1..2 mg/day, trough 5..15 ng/mL
      reassess at 3 months
    monitor sirolimus_trough after 7..14 days "check the trough {?age}"
    warn high "text \"quoted\""
    ask patient.pregnant "Is she pregnant?"
    info "hello"
    conclude candidate(drug: sirolimus, disease: ITP)
  grade C because "small"
  cite feng2020_itp, zhang2023_trough, mbc2024_itp
  rationale "why"
end
)"},
  };
  for (const auto& c : cases) {
    DYNAMIC_SECTION(c.name) { check_round_trip(c.source); }
  }
}

TEST_CASE("round trip: several rules in a file", "[parser][round-trip]") {
  const std::string two = "rule a when x() then info \"1\" end\n\n# between\nrule b when y() then info \"2\" end\n";
  check_round_trip(two, 2);
  const std::string three = "rule a when x() then info \"1\" end rule b when y() then info \"2\" end\n"
                            "rule c when z() then info \"3\" end";
  check_round_trip(three, 3);
  check_round_trip("", 0);
  check_round_trip("# only a comment\n", 0);
}

TEST_CASE("round trip: values survive exactly", "[parser][round-trip]") {
  support::SourceManager sources;
  const auto file = parse_clean(sources, "values.rules",
                                with_condition("x(a: -3, b: 1.5e-3 g, c: 2E+4, d: 0.1, e: +7, f: -2..-1 mg)"));
  REQUIRE(file.rules.size() == 1);
  const auto& pattern = boost::get<ast::Pattern>(file.rules[0].conditions.at(0));
  const auto value = [&](std::size_t slot) -> const ast::Value& {
    return boost::get<ast::OneOf>(pattern.slots.at(slot).constraint).alternatives.at(0);
  };
  CHECK(boost::get<ast::Quantity>(value(0)).value == -3);
  CHECK(boost::get<ast::Quantity>(value(1)).value == 1.5e-3);
  CHECK(boost::get<ast::Quantity>(value(1)).unit->spelling == "g");
  CHECK(boost::get<ast::Quantity>(value(2)).value == 2e4);
  CHECK(boost::get<ast::Quantity>(value(3)).value == 0.1);
  CHECK(boost::get<ast::Quantity>(value(4)).value == 7);
  const auto& range = boost::get<ast::Range>(value(5));
  CHECK(range.low.value == -2);
  CHECK_FALSE(range.low.unit.has_value());
  CHECK(range.high.value == -1);
  CHECK(range.high.unit->spelling == "mg");

  const std::string printed = parser::print_rule_file(file);
  CHECK(printed.find("x(a: -3, b: 0.0015 g, c: 20000, d: 0.1, e: 7, f: -2..-1 mg)") != std::string::npos);
}

TEST_CASE("round trip: texts stay raw", "[parser][round-trip]") {
  support::SourceManager sources;
  const auto file = parse_clean(sources, "texts.rules", with_action("info \"a \\\"b\\\" \\\\ {?x} \\n 中\""));
  REQUIRE(file.rules.size() == 1);
  const auto& info = boost::get<ast::Info>(file.rules[0].actions.at(0));
  CHECK(info.text.raw == "a \\\"b\\\" \\\\ {?x} \\n 中");
  CHECK(parser::print_rule_file(file).find("info \"a \\\"b\\\" \\\\ {?x} \\n 中\"") != std::string::npos);
}

TEST_CASE("printer: the canonical layout", "[parser][round-trip]") {
  const std::string source = R"(rule itp.refractory.sirolimus title   "Sirolimus"   salience 10 when
diagnosis(code: ITP) patient(age: ?age)   where ?age>=18 years
  not contraindicated(drug: sirolimus)   exists { infection(status: active) }
  not { a(x: ?v)  b(y: ?v) }
  either { medication(drug: cyclosporine) } or { medication(drug: tacrolimus, status: active|planned) }
  either { c() d() } or { not { e() f() } }
then recommend sirolimus start 2..4 mg/day maintain 1..2 mg/day, reassess at 3 months "r"
 recommend everolimus "e"   recommend tacrolimus
monitor sirolimus_trough after 7..14 days "check" warn high "w" contraindicate x "c" ask patient.pregnant "q"
info "i" conclude candidate(drug: sirolimus, level: 50%)
grade C consensus because "small" cite feng2020_itp,zhang2023_trough rationale "why" end
rule second when a() then info "x" end)";
  const std::string expected = R"(rule itp.refractory.sirolimus
  title "Sirolimus"
  salience 10
  when
    diagnosis(code: ITP)
    patient(age: ?age) where ?age >= 18 years
    not contraindicated(drug: sirolimus)
    exists infection(status: active)
    not {
      a(x: ?v)
      b(y: ?v)
    }
    either { medication(drug: cyclosporine) } or { medication(drug: tacrolimus, status: active | planned) }
    either {
      c()
      d()
    } or {
      not {
        e()
        f()
      }
    }
  then
    recommend sirolimus
      start 2..4 mg/day, maintain 1..2 mg/day, reassess at 3 months
      "r"
    recommend everolimus "e"
    recommend tacrolimus
    monitor sirolimus_trough after 7..14 days "check"
    warn high "w"
    contraindicate x "c"
    ask patient.pregnant "q"
    info "i"
    conclude candidate(drug: sirolimus, level: 50%)
  grade C consensus because "small"
  cite feng2020_itp, zhang2023_trough
  rationale "why"
end

rule second
  when
    a()
  then
    info "x"
end
)";
  CHECK(check_round_trip(source, 2) == expected);
}

TEST_CASE("same_tree tells different trees apart", "[parser][round-trip]") {
  const auto differs = [](std::string_view a, std::string_view b) {
    support::SourceManager sources;
    const auto x = parse_clean(sources, "a.rules", std::string(a));
    const auto y = parse_clean(sources, "b.rules", std::string(b));
    REQUIRE(x.rules.size() == 1);
    REQUIRE(y.rules.size() == 1);
    INFO(a << "\nversus\n" << b);
    CHECK_FALSE(parser::same_tree(x.rules[0], y.rules[0]));
    CHECK_FALSE(parser::same_tree(x, y));
    CHECK(parser::same_tree(x.rules[0], x.rules[0]));
  };
  differs(with_condition("a(x: 1)"), with_condition("a(x: 2)"));
  differs(with_condition("a(x: 1 mg)"), with_condition("a(x: 1 g)"));
  differs(with_condition("a(x: 1 mg)"), with_condition("a(x: 1)"));
  differs(with_condition("a(x: 1..2)"), with_condition("a(x: 1..3)"));
  differs(with_condition("a(x: 1 mg..2 mg)"), with_condition("a(x: 1..2 mg)"));
  differs(with_condition("a(x: b)"), with_condition("a(x: \"b\")"));
  differs(with_condition("a(x: ?b)"), with_condition("a(x: b)"));
  differs(with_condition("a(x: b | c)"), with_condition("a(x: c | b)"));
  differs(with_condition("a(x: < 1)"), with_condition("a(x: <= 1)"));
  differs(with_condition("a(x: == 1)"), with_condition("a(x: 1)"));
  differs(with_condition("a(x: 1)"), with_condition("a(y: 1)"));
  differs(with_condition("a(x: 1)"), with_condition("b(x: 1)"));
  differs(with_condition("a(x: 1, y: 2)"), with_condition("a(y: 2, x: 1)"));
  differs(with_condition("a(x: ?v) where ?v > 1"), with_condition("a(x: ?v) where ?v > 2"));
  differs(with_condition("a(x: ?v) where ?v > 1"), with_condition("a(x: ?v)"));
  differs(with_condition("not a()"), with_condition("exists a()"));
  differs(with_condition("not a()"), with_condition("a()"));
  differs(with_condition("not { a() b() }"), with_condition("not { b() a() }"));
  differs(with_condition("either { a() } or { b() }"), with_condition("either { b() } or { a() }"));
  differs(with_condition("either { a() } or { b() }"), with_condition("either { a() } or { b() } or { c() }"));
  differs(with_action("recommend d start 1 mg"), with_action("recommend d maintain 1 mg"));
  differs(with_action("recommend d start 1 mg"), with_action("recommend d start 1 mg \"t\""));
  differs(with_action("recommend d"), with_action("recommend e"));
  differs(with_action("warn high \"x\""), with_action("warn low \"x\""));
  differs(with_action("info \"x\""), with_action("info \"y\""));
  differs(with_action("info \"x\""), with_action("ask x \"x\""));
  differs(with_action("monitor m \"x\""), with_action("monitor m every 1 days \"x\""));
  differs(with_action("conclude c(x: 1)"), with_action("conclude c(x: 2)"));
  differs(with_action("contraindicate a \"x\""), with_action("contraindicate b \"x\""));
  differs("rule r when a() then info \"x\" end", "rule s when a() then info \"x\" end");
  differs("rule r title \"a\" when a() then info \"x\" end", "rule r title \"b\" when a() then info \"x\" end");
  differs("rule r title \"a\" when a() then info \"x\" end", "rule r when a() then info \"x\" title \"a\" end");
  differs("rule r salience 1 when a() then info \"x\" end", "rule r salience 2 when a() then info \"x\" end");
  differs("rule r when a() then info \"x\" grade A end", "rule r when a() then info \"x\" grade B end");
  differs("rule r when a() then info \"x\" grade A end", "rule r when a() then info \"x\" grade A consensus end");
  differs("rule r when a() then info \"x\" grade A end", "rule r when a() then info \"x\" grade A because \"b\" end");
  differs("rule r when a() then info \"x\" cite a, b end", "rule r when a() then info \"x\" cite a end");
  differs("rule r when a() then info \"x\" rationale \"a\" end", "rule r when a() then info \"x\" rationale \"b\" end");
}

// The manual's examples are rule files: each must parse cleanly and round-trip. The test fails,
// rather than skips, when the manual is missing: the examples are part of the contract.
TEST_CASE("round trip: the rapa blocks of docs/language.md", "[parser][round-trip][docs]") {
  const std::string manual = rapa::test::read_file(std::string(RAPA_SOURCE_DIR) + "/docs/language.md");

  struct Block {
    std::size_t line;  // of the opening fence
    std::string text;
  };
  std::vector<Block> blocks;
  std::istringstream lines(manual);
  std::string line;
  std::size_t number = 0;
  bool inside = false;
  std::size_t fence_indent = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t indent = line.find_first_not_of(' ');
    const std::string_view trimmed =
        indent == std::string::npos ? std::string_view() : std::string_view(line).substr(indent);
    if (!inside) {
      if (trimmed.substr(0, 3) != "```") continue;
      std::string_view info = trimmed.substr(3);
      info = info.substr(0, info.find_first_of(" \t{"));
      if (info == "rapa") {
        inside = true;
        fence_indent = indent;
        blocks.push_back({number, {}});
      }
      continue;
    }
    if (trimmed.substr(0, 3) == "```" && trimmed.find_first_not_of('`') == std::string_view::npos) {
      inside = false;
      continue;
    }
    // Content lines lose the indentation of their fence, as in CommonMark.
    std::size_t strip = 0;
    while (strip < fence_indent && strip < line.size() && line[strip] == ' ') ++strip;
    blocks.back().text += line.substr(strip) + "\n";
  }
  INFO("a ```rapa block opened at line " << (blocks.empty() ? 0 : blocks.back().line) << " is never closed");
  CHECK_FALSE(inside);
  REQUIRE_FALSE(blocks.empty());

  for (const auto& block : blocks) {
    DYNAMIC_SECTION("docs/language.md block at line " << block.line) {
      support::SourceManager sources;
      const auto first = parse_clean(sources, "language.md:" + std::to_string(block.line), block.text);
      const std::string printed = parser::print_rule_file(first);
      INFO("block:\n" << block.text << "\nprinted:\n" << printed);
      const auto second = parse_clean(sources, "printed.rules", printed);
      CHECK(parser::same_tree(first, second));
      CHECK(parser::print_rule_file(second) == printed);
    }
  }
}

// The bundled rule base is what `rapa fmt` will first be run on.
TEST_CASE("round trip: the bundled rule base", "[parser][round-trip]") {
  const std::filesystem::path root = std::filesystem::path(RAPA_SOURCE_DIR) / "rules";
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".rules") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    DYNAMIC_SECTION(path.lexically_relative(RAPA_SOURCE_DIR).string()) {
      support::SourceManager sources;
      const auto first = parse_clean(sources, path.string(), rapa::test::read_file(path));
      const std::string printed = parser::print_rule_file(first);
      const auto second = parse_clean(sources, "printed.rules", printed);
      CHECK(parser::same_tree(first, second));
      CHECK(parser::print_rule_file(second) == printed);
    }
  }
}
