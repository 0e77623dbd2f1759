// The rules every flag of every subcommand follows, declared to CLI11 once
// all subcommands have added their options (validators, needs/excludes,
// MultiOptionPolicy::Throw and a callback per command), so a flag added later
// gets them without a line of its own, and CLI11 is the one parser of argv:
//   - a number is finite and in its flag's range (the table in flags.cpp;
//     a flag with no entry: any finite number, a count >= 0), an integer is
//     written in decimal and fits its type, never wrapped or clamped;
//   - a list has no empty element (--layers 2,,1);
//   - a flag is given once (a second --lr or --layers is refused, not merged
//     or taken last);
//   - a flag that needs another (--test-labels needs --test) or a value of
//     another (--beta2 needs an --optimizer that reads it) is refused alone;
//     flags that exclude each other are refused together; one of a required
//     group (--iters or --epochs) must be given;
//   - an unknown subcommand or flag is named with the nearest valid one;
//   - --help shows each flag's default and what is required.
// Every usage error is one line on stderr, "dagrad: error: ...", exit code 2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace dagrad::cli {

// Attaches the number checks, relations and help text to every option of
// every subcommand of `app`. Call once, after the subcommands are added.
void harden(CLI::App& app);

// A comma-separated list flag (--layers 2,4,1): one value, split and checked
// element by element, so "2,,1" is refused rather than read as 2,1.
CLI::Option* add_list_option(CLI::App* c, const std::string& name, std::vector<std::int64_t>& out,
                             const std::string& help);
CLI::Option* add_list_option(CLI::App* c, const std::string& name, std::vector<double>& out, const std::string& help);

// Parses argv with the checks above. Returns std::nullopt when the selected
// subcommand should run, otherwise the exit code: 0 after --help or
// --version (printed), 2 after a usage error (printed as one line).
std::optional<int> parse_args(CLI::App& app, int argc, const char* const* argv);

// "dagrad: error: <message>" on stderr, on one line with control bytes escaped.
void print_error(std::string_view message);
// "dagrad: note: <message>", the same way: what dagrad decided on its own
// (a CSV header it skipped).
void print_note(std::string_view message);

// The name in `candidates` nearest to `word` by edit distance, or "" when
// none is near enough to be a likely typo. For "did you mean ...?".
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dagrad::cli
