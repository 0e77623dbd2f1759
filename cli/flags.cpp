#include "cli/flags.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"
#include "dagrad/optim/optimizer.hpp"

namespace dagrad::cli {

namespace {

// ---- the tables -------------------------------------------------------------------
//
// By flag name, for every subcommand that has the flag. A flag added later
// with one of these names gets its rule; a numeric flag with a new name
// needs a row here (the --help test in tests/robustness/catalogue_test.cpp
// fails, naming it).

constexpr long double inf = std::numeric_limits<long double>::infinity();
constexpr long double int64_max = static_cast<long double>(std::numeric_limits<std::int64_t>::max());
constexpr long double uint64_max = static_cast<long double>(std::numeric_limits<std::uint64_t>::max());

// The largest --threads: OpenBLAS's own limit on Debian is far below it, and
// cli/model_spec.cpp also checks that the threads can be created.
constexpr long double max_threads = 1024;
// Flags stored in an int.
constexpr long double max_int = std::numeric_limits<int>::max();

struct Range {
  std::string_view flag;
  long double lo, hi;
  bool lo_open, hi_open;
};

constexpr Range ranges[] = {
    // rates, ratios, probabilities
    {"--lr", 0, inf, true, true},
    {"--beta1", 0, 1, false, true},
    {"--beta2", 0, 1, false, true},
    {"--epsilon", 0, inf, true, true},
    {"--decay-rate", 0, inf, false, true},
    {"--weight-decay", 0, inf, false, true},
    {"--l2", 0, inf, false, true},
    {"--keep-prob", 0, 1, true, false},
    {"--dev-ratio", 0, 1, true, true},
    {"--scale", 0, inf, true, true},
    {"--noise", 0, inf, false, true},
    {"--eps", 0, 1, true, true},
    {"--node-eps", 0, 1, true, true},
    {"--threshold", 0, inf, true, true},
    {"--bucket-mb", 0, 1e6, true, false},
    // counts
    {"--layers", 1, int64_max, false, false},
    {"--threads", 1, max_threads, false, false},
    {"--iters", 1, int64_max, false, false},
    {"--epochs", 1, int64_max, false, false},
    {"--batch-size", 1, int64_max, false, false},
    {"--patience", 0, int64_max, false, false},
    {"--print-every", 0, int64_max, false, false},
    {"--m", 1, int64_max, false, false},
    {"--steps", 1, int64_max, false, false},
    {"--warmup", 0, int64_max, false, false},
    {"--samples", 1, int64_max, false, false},
    {"--step", 0, int64_max, false, false},
    {"--layer", 0, max_int, false, false},  // 0: every layer (viz::DotOptions)
    {"--seed", 0, uint64_max, false, false},
    {"--checkpoint-every", 1, int64_max, false, false},
    {"--port", 0, 65535, false, false},
};

// `flag` is ignored without `other`: refused instead.
struct Needs {
  std::string_view flag, other;
};
constexpr Needs needs[] = {
    {"--test-labels", "--test"}, {"--plot-log", "--plot"}, {"--cost", "--graph"},
    {"--node-eps", "--per-node"}, {"--patience", "--dev-ratio"}, {"--checkpoint-every", "--save"},
};

// `flag` only means something for these values of `other`.
struct NeedsValue {
  std::string_view flag, other;
  std::vector<std::string_view> values;
};
const NeedsValue needs_value[] = {
    {"--beta1", "--optimizer", optim::optimizers_using(optim::hyper::beta1)},
    {"--beta2", "--optimizer", optim::optimizers_using(optim::hyper::beta2)},
    {"--epsilon", "--optimizer", optim::optimizers_using(optim::hyper::epsilon)},
    {"--weight-decay", "--optimizer", optim::optimizers_using(optim::hyper::weight_decay)},
};

// Flags that contradict each other.
struct Excludes {
  std::string_view a, b;
};
constexpr Excludes excludes[] = {
    {"--m", "--data"}, {"--samples", "--full"}, {"--graph", "--layers"}, {"--scale", "--no-scale"},
    {"--data", "--generate"},
};

// Exactly one of these is required where all of them exist.
const std::vector<std::vector<std::string_view>> one_of = {{"--iters", "--epochs"}};

// ---- numbers ------------------------------------------------------------------------

enum class Kind { real, integer, unsigned_integer };

std::string bounds_text(const Range& r) {
  if (r.hi >= int64_max && !r.lo_open) return fmt::format(">= {:g}", static_cast<double>(r.lo));
  // A whole bound exactly ("2147483647", not "2.14748e+09"), others as %g.
  const auto end = [](long double v) {
    if (std::isinf(v)) return std::string(v > 0 ? "inf" : "-inf");
    if (v == std::floor(v) && std::fabs(v) < 1e18) return fmt::format("{}", static_cast<long long>(v));
    return fmt::format("{:g}", static_cast<double>(v));
  };
  return fmt::format("{}{}, {}{}", r.lo_open ? '(' : '[', end(r.lo), end(r.hi), r.hi_open ? ')' : ']');
}

// The text of a number as the user gave it, trimmed for the message.
std::string quoted(std::string_view text) {
  return fmt::format("'{}'", printable(excerpt(text)));
}

// Parses `text` as `kind`; the value, or an error message.
std::string parse_number(std::string_view text, Kind kind, long double& value) {
  std::string_view t = text;
  if (t.starts_with('+')) t.remove_prefix(1);
  const char* end = t.data() + t.size();
  if (kind == Kind::real) {
    double v = 0;
    const auto [p, ec] = std::from_chars(t.data(), end, v);
    if (ec == std::errc::result_out_of_range) return quoted(text) + " is out of the range of a double";
    if (ec != std::errc() || p != end || t.empty()) return quoted(text) + " is not a number";
    if (!std::isfinite(v)) return quoted(text) + " is not a finite number";
    value = v;
    return "";
  }
  if (kind == Kind::unsigned_integer && t.starts_with('-'))
    return quoted(text) + " is negative; it must be a whole number >= 0";
  std::int64_t i = 0;
  std::uint64_t u = 0;
  const auto [p, ec] = kind == Kind::integer ? std::from_chars(t.data(), end, i) : std::from_chars(t.data(), end, u);
  if (ec == std::errc::result_out_of_range)
    return fmt::format("{} is too large (at most {})", quoted(text),
                       kind == Kind::integer ? fmt::format("{}", std::numeric_limits<std::int64_t>::max())
                                             : fmt::format("{}", std::numeric_limits<std::uint64_t>::max()));
  if (ec != std::errc() || p != end || t.empty()) return quoted(text) + " is not a whole number";
  value = kind == Kind::integer ? static_cast<long double>(i) : static_cast<long double>(u);
  return "";
}

std::string check_number(std::string_view text, Kind kind, const Range* r) {
  long double v = 0;
  if (std::string e = parse_number(text, kind, v); !e.empty()) return e;
  if (!r) {
    if (kind != Kind::real && v < 0) return quoted(text) + " is negative; it must be >= 0";
    return "";
  }
  const bool low = r->lo_open ? !(v > r->lo) : !(v >= r->lo);
  const bool high = r->hi_open ? !(v < r->hi) : !(v <= r->hi);
  if (!low && !high) return "";
  if (kind != Kind::real && r->hi >= int64_max)  // a count: only its least value matters
    return fmt::format("{} must be at least {:g}", quoted(text), static_cast<double>(r->lo));
  return fmt::format("{} is outside {}", quoted(text), bounds_text(*r));
}

const Range* range_of(std::string_view flag) {
  for (const Range& r : ranges)
    if (r.flag == flag) return &r;
  return nullptr;
}

std::optional<Kind> kind_of(const CLI::Option* o) {
  if (o->get_type_size() == 0) return std::nullopt;  // a flag
  const std::string type = o->get_type_name();
  if (type.starts_with("FLOAT")) return Kind::real;
  if (type.starts_with("UINT")) return Kind::unsigned_integer;
  if (type.starts_with("INT")) return Kind::integer;
  return std::nullopt;
}

// ---- help -------------------------------------------------------------------------

// Defaults in --help: "--lr FLOAT=0.0075". An empty list shows nothing, a
// description that explains its own default keeps it, and a default outside
// the flag's range (--iters 0, --scale 0: "not given") is not shown.
void show_default(CLI::Option* o, std::optional<Kind> kind, const Range* r) {
  if (o->get_required() || o->get_type_size() == 0) return;
  if (o->get_description().find("default") != std::string::npos) return;
  o->capture_default_str();
  const std::string d = o->get_default_str();
  if (d == "[]" || d.empty() || (kind && !check_number(d, *kind, r).empty())) o->default_str("");
}

CLI::Option* option(CLI::App* c, std::string_view name) {
  return c->get_option_no_throw(std::string(name));
}

void add_relations(CLI::App* c) {
  for (const Needs& n : needs)
    if (CLI::Option *a = option(c, n.flag), *b = option(c, n.other); a && b) a->needs(b);
  for (const Excludes& x : excludes)
    if (CLI::Option *a = option(c, x.a), *b = option(c, x.b); a && b && !a->get_excludes().count(b))
      a->excludes(b);
  for (const auto& group : one_of) {
    if (!std::all_of(group.begin(), group.end(), [&](std::string_view f) { return option(c, f); })) continue;
    std::vector<std::string> names(group.begin(), group.end());
    c->footer(c->get_footer() + fmt::format("{}Required: {} (exactly one).", c->get_footer().empty() ? "" : "\n",
                                            fmt::join(names, " or ")));
  }
}

// Declared to CLI11 as each command's callback; defined with the parsing below.
void check_relations(const CLI::App* c);

// A list flag's check: every element present and a number in the flag's
// range. CLI11's own delimiter would drop an empty element ("3,,1" as 3,1),
// so a list is one value that this check splits.
constexpr std::string_view list_check_name = "dagrad-list";

CLI::Validator list_check(Kind kind, const Range* r) {
  return CLI::Validator(
      [kind, r](std::string& s) -> std::string {
        std::size_t begin = 0;
        for (;;) {
          const std::size_t end = std::min(s.find(',', begin), s.size());
          if (end == begin)
            return fmt::format("'{}' has an empty element; give the values without gaps, e.g. 2,4,1", printable(excerpt(s)));
          if (std::string e = check_number(std::string_view(s).substr(begin, end - begin), kind, r); !e.empty()) return e;
          if (end == s.size()) return "";
          begin = end + 1;
        }
      },
      (r ? bounds_text(*r) : std::string()) + " ...", std::string(list_check_name));
}

bool is_list(CLI::Option* o) {
  try {
    o->get_validator(std::string(list_check_name));
    return true;
  } catch (const CLI::OptionNotFound&) {
    return false;
  }
}

template <class T>
CLI::Option* add_list(CLI::App* c, const std::string& name, std::vector<T>& out, const std::string& help) {
  constexpr Kind kind = std::is_floating_point_v<T> ? Kind::real : Kind::integer;
  CLI::Option* o = c->add_option_function<std::string>(
      name,
      [&out](const std::string& s) {  // after list_check: every element parses
        out.clear();
        for (std::size_t begin = 0; begin <= s.size();) {
          const std::size_t end = std::min(s.find(',', begin), s.size());
          long double v = 0;
          parse_number(std::string_view(s).substr(begin, end - begin), kind, v);
          out.push_back(static_cast<T>(v));
          begin = end + 1;
        }
      },
      help);
  o->type_name(kind == Kind::real ? "FLOAT" : "INT");
  o->check(list_check(kind, range_of(name)));
  return o;
}

}  // namespace

CLI::Option* add_list_option(CLI::App* c, const std::string& name, std::vector<std::int64_t>& out,
                             const std::string& help) {
  return add_list(c, name, out, help);
}

CLI::Option* add_list_option(CLI::App* c, const std::string& name, std::vector<double>& out, const std::string& help) {
  return add_list(c, name, out, help);
}

void harden(CLI::App& app) {
  for (CLI::App* c : app.get_subcommands({})) {
    for (CLI::Option* o : c->get_options()) {
      // A second --lr or --normalize is refused, not merged or taken last.
      o->multi_option_policy(CLI::MultiOptionPolicy::Throw);
      if (is_list(o)) continue;
      const std::optional<Kind> kind = kind_of(o);
      const Range* r = range_of(o->get_name(false, false));
      show_default(o, kind, r);
      if (!kind) continue;
      const std::string description = r ? bounds_text(*r) : "";
      o->check(CLI::Validator(
          [kind = *kind, r](std::string& s) { return check_number(s, kind, r); }, description, "dagrad-number"));
    }
    add_relations(c);
    c->final_callback([c] { check_relations(c); });
  }
}

// ---- suggestions ----------------------------------------------------------------

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// ---- parsing ----------------------------------------------------------------------

namespace {

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* c : app.get_subcommands({})) out.push_back(c->get_name());
  return out;
}

std::vector<std::string> flag_names(const CLI::App* c) {
  std::vector<std::string> out;
  for (const CLI::Option* o : c->get_options()) {
    for (const std::string& l : o->get_lnames()) out.push_back("--" + l);
    for (const std::string& s : o->get_snames()) out.push_back("-" + s);
  }
  return out;
}

std::string did_you_mean(const std::string& s) { return s.empty() ? "" : fmt::format(" (did you mean {}?)", s); }

// What CLI11 left over at the top level (before or without a command):
// an unknown command, a flag before the command, or no command at all.
std::string top_level_message(const CLI::App& app) {
  const std::vector<std::string> left = app.remaining();
  const std::vector<std::string> names = subcommand_names(app);
  if (left.empty()) return fmt::format("give a command: {} (dagrad --help describes them)", fmt::join(names, ", "));
  const std::string& t = left.front();
  if (t.starts_with("-")) {
    const std::string name = t.substr(0, t.find('='));
    return fmt::format("unknown flag {} before the command{}", name, did_you_mean(nearest(name, {"--help", "--version"})));
  }
  return fmt::format("unknown command '{}'{}; the commands are {}", t, did_you_mean(nearest(t, names)),
                     fmt::join(names, ", "));
}

// What CLI11 left over in a command: the first unknown flag, with the
// nearest valid one, or an unexpected argument.
std::string extras_message(const CLI::App* c) {
  const std::vector<std::string> left = c->remaining();
  if (left.empty()) return "unexpected arguments";
  const std::string& t = left.front();
  if (t.size() > 1 && t.starts_with("-")) {
    const std::string name = t.starts_with("--") ? t.substr(0, t.find('=')) : t.substr(0, 2);
    return fmt::format("{}: unknown flag {}{}", c->get_name(), name, did_you_mean(nearest(name, flag_names(c))));
  }
  return "unexpected argument " + t;
}

// A flag CLI11's MultiOptionPolicy::Throw refused: it was given twice.
std::string repeated_message(CLI::App* c) {
  for (CLI::Option* o : c->get_options()) {
    if (o->count() < 2) continue;
    const std::string name = o->get_name(false, true);
    return fmt::format("{} is given more than once; give it once{}", name,
                       is_list(o) ? fmt::format(" (a list is one value: {} a,b,c)", name) : "");
  }
  return "";
}

// "--beta2 needs --optimizer adam or ..."; a required group with none
// given. Run as each command's CLI11 callback, after CLI11 has checked the
// flags themselves (values, needs, excludes, unknown flags).
void check_relations(const CLI::App* c) {
  for (const NeedsValue& n : needs_value) {
    const CLI::Option *a = c->get_option_no_throw(std::string(n.flag)), *b = c->get_option_no_throw(std::string(n.other));
    if (!a || !b || a->count() == 0) continue;
    const std::string value = b->count() ? b->results().back() : b->get_default_str();
    if (std::find(n.values.begin(), n.values.end(), value) == n.values.end())
      throw CLI::ValidationError(fmt::format("{} needs {} {} (it has no effect with {} {})", n.flag, n.other,
                                             fmt::join(n.values, " or "), n.other, value));
  }
  for (const auto& group : one_of) {
    bool all = true, any = false;
    for (std::string_view f : group) {
      const CLI::Option* o = c->get_option_no_throw(std::string(f));
      all = all && o;
      any = any || (o && o->count() > 0);
    }
    if (all && !any)
      throw CLI::ValidationError(fmt::format("{}: give {} N", c->get_name(), fmt::join(group, " N or ")));
  }
}

// The command CLI11 selected, or nullptr.
CLI::App* selected(CLI::App& app) {
  const std::vector<CLI::App*> parsed = app.get_subcommands();
  return parsed.empty() ? nullptr : parsed.front();
}

// CLI11's errors, made one line and named. NOTE: get_name() is not the
// error's type for every error (a subcommand's ExtrasError carries the
// subcommand's name), so the type is asked for by dynamic_cast.
std::string describe(CLI::App& app, const CLI::ParseError& e) {
  std::string m = e.what();
  CLI::App* c = selected(app);
  if (!app.remaining().empty() || (dynamic_cast<const CLI::RequiredError*>(&e) && !c)) return top_level_message(app);
  if (dynamic_cast<const CLI::ExtrasError*>(&e) && c) return extras_message(c);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e)) {
    if (c)
      if (std::string r = repeated_message(c); !r.empty()) return r;
    if (m.find("missing") != std::string::npos) return m.substr(0, m.find(':')) + " needs a value";
  }
  return m;
}

}  // namespace

void print_error(std::string_view message) {
  fmt::print(stderr, "dagrad: error: {}\n", printable(without_library_tags(message)));
}

void print_note(std::string_view message) { fmt::print(stderr, "dagrad: note: {}\n", printable(message)); }

std::optional<int> parse_args(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(describe(app, e));
    return 2;
  }
  return std::nullopt;
}

}  // namespace dagrad::cli
