#include "cli/flags.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
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

}  // namespace

void harden(CLI::App& app) {
  for (CLI::App* c : app.get_subcommands({})) {
    for (CLI::Option* o : c->get_options()) {
      const std::optional<Kind> kind = kind_of(o);
      const Range* r = range_of(o->get_name(false, false));
      show_default(o, kind, r);
      if (!kind) continue;
      const std::string description = r ? bounds_text(*r) : "";
      o->check(CLI::Validator(
          [kind = *kind, r](std::string& s) { return check_number(s, kind, r); }, description, "dagrad-number"));
    }
    add_relations(c);
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

struct UsageError {
  std::string message;
};

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

bool looks_like_number(std::string_view s) {
  if (s.size() < 2 || s[0] != '-') return false;
  return std::isdigit(static_cast<unsigned char>(s[1])) || (s[1] == '.' && s.size() > 2);
}

std::string did_you_mean(const std::string& s) { return s.empty() ? "" : fmt::format(" (did you mean {}?)", s); }

// The flags of one subcommand's arguments, before CLI11 sees them: unknown
// flags with a suggestion, flags given twice, lists with an empty element.
void scan_flags(const CLI::App* c, const std::vector<std::string>& args) {
  std::map<const CLI::Option*, int> seen;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (t == "--") break;
    if (t.size() < 2 || t[0] != '-' || looks_like_number(t)) continue;
    const bool is_long = t.starts_with("--");
    const std::size_t eq = is_long ? t.find('=') : std::string::npos;
    const std::string name = is_long ? t.substr(0, eq) : t.substr(0, 2);
    const CLI::Option* o = c->get_option_no_throw(name);
    if (!o)
      throw UsageError{fmt::format("{}: unknown flag {}{}", c->get_name(), name, did_you_mean(nearest(name, flag_names(c))))};
    if (++seen[o] == 2)
      throw UsageError{fmt::format("{} is given more than once; give it once{}", name,
                                   o->get_delimiter() ? fmt::format(" (a list is one value: {} a{}b{}c)", name,
                                                                    o->get_delimiter(), o->get_delimiter())
                                                      : "")};
    if (!o->get_delimiter() || o->get_type_size() == 0) continue;
    std::string value;
    if (eq != std::string::npos) value = t.substr(eq + 1);
    else if (!is_long && t.size() > 2) value = t.substr(2);
    else if (i + 1 < args.size()) value = args[i + 1];
    const std::string d(1, o->get_delimiter());
    if (value.empty() || value.starts_with(d) || value.ends_with(d) || value.find(d + d) != std::string::npos)
      throw UsageError{fmt::format("{}: '{}' has an empty element; give the values without gaps, e.g. {} 2{}4{}1",
                                   name, value, name, d, d)};
  }
}

// The selected subcommand's position in args, checking the top level first.
std::size_t find_subcommand(const CLI::App& app, const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& t = args[i];
    if (t == "-h" || t == "--help" || t == "--version") return args.size();  // CLI11 answers
    if (t.starts_with("-"))
      throw UsageError{fmt::format("unknown flag {} before the command{}", t,
                                   did_you_mean(nearest(t, {"--help", "--version"})))};
    const std::vector<std::string> names = subcommand_names(app);
    if (std::find(names.begin(), names.end(), t) != names.end()) return i;
    throw UsageError{fmt::format("unknown command '{}'{}; the commands are {}", t,
                                 did_you_mean(nearest(t, subcommand_names(app))),
                                 fmt::join(subcommand_names(app), ", "))};
  }
  throw UsageError{fmt::format("give a command: {} (dagrad --help describes them)",
                               fmt::join(subcommand_names(app), ", "))};
}

// "--beta2 needs --optimizer adam or ..."; a required group with none given.
void check_relations(const CLI::App* c) {
  for (const NeedsValue& n : needs_value) {
    const CLI::Option *a = c->get_option_no_throw(std::string(n.flag)), *b = c->get_option_no_throw(std::string(n.other));
    if (!a || !b || a->count() == 0) continue;
    const std::string value = b->count() ? b->results().back() : b->get_default_str();
    if (std::find(n.values.begin(), n.values.end(), value) == n.values.end())
      throw UsageError{fmt::format("{} needs {} {} (it has no effect with {} {})", n.flag, n.other,
                                   fmt::join(n.values, " or "), n.other, value)};
  }
  for (const auto& group : one_of) {
    bool all = true, any = false;
    for (std::string_view f : group) {
      const CLI::Option* o = c->get_option_no_throw(std::string(f));
      all = all && o;
      any = any || (o && o->count() > 0);
    }
    if (all && !any) throw UsageError{fmt::format("{}: give {} N", c->get_name(), fmt::join(group, " N or "))};
  }
}

// CLI11's own messages, made one line and named. NOTE: get_name() is not the
// error's type for every error (a subcommand's ExtrasError carries the
// subcommand's name), so the type is asked for by dynamic_cast.
std::string describe(const CLI::ParseError& e) {
  std::string m = e.what();
  if (dynamic_cast<const CLI::RequiredError*>(&e) && m.find("subcommand") != std::string::npos)
    return "give a command (dagrad --help lists them)";
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && m.find("missing") != std::string::npos)
    return m.substr(0, m.find(':')) + " needs a value";
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    const std::size_t at = m.find("expected: ");
    return "unexpected argument " + (at == std::string::npos ? m : m.substr(at + 10));
  }
  return m;
}

}  // namespace

void print_error(std::string_view message) {
  fmt::print(stderr, "dagrad: error: {}\n", printable(without_library_tags(message)));
}

void print_note(std::string_view message) { fmt::print(stderr, "dagrad: note: {}\n", printable(message)); }

std::optional<int> parse_args(CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    const std::size_t at = find_subcommand(app, args);
    CLI::App* selected = nullptr;
    if (at < args.size()) {
      selected = app.get_subcommand(args[at]);
      scan_flags(selected, std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(at) + 1, args.end()));
    }
    app.parse(argc, argv);
    if (selected) check_relations(selected);
  } catch (const UsageError& e) {
    print_error(e.message);
    return 2;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(describe(e));
    return 2;
  }
  return std::nullopt;
}

}  // namespace dagrad::cli
