// The catalogue of bad inputs (issue 6): every bad input gets a one-line error
// naming the thing at fault, and from the CLI exit code 2, no crash, no hang
// (each call runs under a 60 s limit), and no output file written: an output
// file that existed before must keep its bytes and no temp file may be left.
// The test makes every bad file itself. A row whose subcommand is missing
// from the binary FAILS, naming the command, instead of passing silently.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "dagrad/graph/error.hpp"
#include "dagrad/graph/graph.hpp"
#include "dagrad/graph/graph_file.hpp"
#include "dagrad/io/csv.hpp"
#include "dagrad/io/dataset.hpp"
#include "dagrad/io/h5.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/npz.hpp"
#include "dagrad/io/params.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/robustness/cli_run.hpp"

using namespace dagrad;
using dagrad::io::test::file_bytes;
using dagrad::io::test::put_bytes;
using dagrad::io::test::put_text;
using Json = nlohmann::json;

namespace {

// ---------------------------------------------------------------- the files

// 8 samples, 3 features and a 0/1 label per line: the good data every bad
// file is derived from.
std::string csv_text(const std::string& poison = "", int poison_line = 3) {
  std::string s;
  for (int i = 0; i < 8; ++i) {
    const std::string label = (i == poison_line && poison == "label2") ? "2" : std::to_string(i % 2);
    std::string f0 = std::to_string(0.25 * i - 1.0);
    if (i == poison_line && (poison == "nan" || poison == "inf")) f0 = poison;
    s += fmt::format("{},{},{},{}\n", f0, 0.5 - 0.1 * i, (i % 3) * 0.3, label);
  }
  return s;
}

io::NamedArrays xy_arrays(double poison = 0.0) {
  io::Array x{{8, 3}, DType::f64, "<f8", {}}, y{{8}, DType::f64, "<f8", {}};
  for (int i = 0; i < 24; ++i) x.values.push_back(0.1 * (i % 7) - 0.3);
  for (int i = 0; i < 8; ++i) y.values.push_back(i % 2);
  x.values[5] += poison;
  return {{"x", x}, {"y", y}};
}

std::vector<std::uint8_t> half_of(const std::vector<std::uint8_t>& b) {
  return {b.begin(), b.begin() + static_cast<std::ptrdiff_t>(b.size() / 2)};
}

// Flips every byte in the middle third: the same length, wrong content.
std::vector<std::uint8_t> scrambled(std::vector<std::uint8_t> b) {
  for (std::size_t i = b.size() / 3; i < 2 * b.size() / 3; ++i) b[i] = static_cast<std::uint8_t>(~b[i] ^ (i * 31));
  return b;
}

// The notes' logistic unit as a graph file: J = bce(sigmoid(W X + b), Y).
Json small_graph_json() {
  Graph g(DType::f64);
  auto X = g.input("X", {3, 8});
  auto Y = g.input("Y", {1, 8});
  auto W = g.param("W1", {1, 3});
  auto b = g.param("b1", {1, 1});
  binary_cross_entropy(sigmoid(W * X + b), Y).named("J");
  return Json::parse(to_json(g));
}

// Edits of the good graph: node `victim`'s inputs replaced, or its op renamed.
std::string graph_with(const std::function<void(Json&)>& edit) {
  Json j = small_graph_json();
  edit(j["nodes"]);
  return j.dump(2);
}

std::size_t last_compute_node(const Json& nodes) {
  for (std::size_t i = nodes.size(); i-- > 0;)
    if (!nodes[i]["inputs"].empty()) return i;
  return 0;
}

// Writes every bad (and good) file the rows use into `dir`.
void make_files(const std::filesystem::path& dir) {
  put_text(dir / "good.csv", csv_text());
  put_text(dir / "nan.csv", csv_text("nan"));
  put_text(dir / "inf.csv", csv_text("inf"));
  put_text(dir / "labels2.csv", csv_text("label2"));
  put_text(dir / "empty.csv", "");
  put_text(dir / "five.csv", "1,2,3,4,5,0\n5,4,3,2,1,1\n");
  std::string ragged = csv_text();
  put_text(dir / "truncated.csv", ragged.substr(0, ragged.size() / 2));
  put_text(dir / "corrupt.csv", csv_text().replace(20, 6, "1.2.3x"));
  io::write_npz(dir / "good.npz", xy_arrays(), io::Compression::deflated);
  io::write_npz(dir / "nan.npz", xy_arrays(std::numeric_limits<double>::quiet_NaN()), io::Compression::stored);
  io::write_npz(dir / "inf.npz", xy_arrays(std::numeric_limits<double>::infinity()), io::Compression::stored);
  io::write_npz(dir / "empty.npz", {{"x", io::Array{{0, 3}, DType::f64, "<f8", {}}}, {"y", io::Array{{0}, DType::f64, "<f8", {}}}},
                io::Compression::stored);
  put_bytes(dir / "truncated.npz", half_of(file_bytes(dir / "good.npz")));
  put_bytes(dir / "corrupt.npz", scrambled(file_bytes(dir / "good.npz")));
  io::write_npy(dir / "good.npy", xy_arrays()[0].second);
  put_bytes(dir / "truncated.npy", half_of(file_bytes(dir / "good.npy")));
  put_text(dir / "labels.csv", "0\n1\n0\n1\n0\n1\n0\n1\n");
  io::write_h5(dir / "good.h5", xy_arrays());
  put_bytes(dir / "truncated.h5", half_of(file_bytes(dir / "good.h5")));
  put_bytes(dir / "corrupt.h5", scrambled(file_bytes(dir / "good.h5")));
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(DAGRAD_SOURCE_DIR) / "tests/io/regressions/h5"))
    std::filesystem::copy_file(e.path(), dir / "crasher.h5", std::filesystem::copy_options::overwrite_existing);
  const std::string graph = small_graph_json().dump(2);
  put_text(dir / "good.json", graph);
  put_text(dir / "truncated.json", graph.substr(0, graph.size() / 2));
  put_text(dir / "unknown_op.json", graph_with([](Json& n) { n[last_compute_node(n)]["op"] = "frobnicate"; }));
  // The first compute node reads the last one: a cycle through the whole graph.
  put_text(dir / "cycle.json", graph_with([](Json& n) {
             for (auto& node : n)
               if (!node["inputs"].empty()) {
                 node["inputs"][0] = n.size() - 1;
                 break;
               }
           }));
  put_text(dir / "dangling.json", graph_with([](Json& n) { n[last_compute_node(n)]["inputs"][0] = 999; }));
  // Parameters of a 3,4,1 network, to be loaded into a 3,5,1 one.
  io::save_params(dir / "arch341.npz",
                  {{"W1", io::Matrix({4, 3}, 0.1)}, {"b1", io::Matrix({4, 1})}, {"W2", io::Matrix({1, 4}, 0.2)},
                   {"b2", io::Matrix({1, 1})}},
                  DType::f64);
  put_text(dir / "notadir", "a file where a directory is expected\n");
}

// ---------------------------------------------------------------- the CLI rows

struct Row {
  std::string what;                  // the bad input
  std::vector<std::string> args;     // args[0] is the subcommand
  std::vector<std::string> expect;   // fragments the error line must contain
  std::string output;                // an output path the command would write, guarded
};

const std::string precious = "precious bytes that must survive\n";

// Rows for the data-reading commands: `base` runs the command on `data`.
std::vector<Row> data_rows(const std::string& cmd, const std::vector<std::string>& base, const std::string& out_flag) {
  std::vector<Row> rows;
  auto row = [&](std::string what, std::vector<std::string> extra, std::vector<std::string> expect) {
    std::vector<std::string> args{cmd};
    args.insert(args.end(), base.begin(), base.end());
    args.insert(args.end(), extra.begin(), extra.end());
    if (!out_flag.empty()) args.insert(args.end(), {out_flag, "out.npz"});
    rows.push_back({cmd + ": " + what, args, expect, out_flag.empty() ? "" : "out.npz"});
  };
  for (const char* f : {"nan.csv", "inf.csv", "nan.npz", "inf.npz"})
    row(std::string("NaN/Inf in ") + f, {"--layers", "3,2,1", "--data", f}, {f, "sample"});
  for (const char* f : {"empty.csv", "empty.npz"}) row(std::string("empty data ") + f, {"--layers", "3,2,1", "--data", f}, {f});
  row("feature count vs --layers", {"--layers", "5,2,1", "--data", "good.csv"}, {"good.csv", "3", "5"});
  for (const char* f : {"truncated.csv", "corrupt.csv", "truncated.npz", "corrupt.npz", "truncated.h5", "corrupt.h5", "crasher.h5"})
    row(std::string("bad file ") + f, {"--layers", "3,2,1", "--data", f}, {f});
  return rows;
}

// Rows every command gets: an unknown flag after otherwise valid arguments
// (CLI11 reports a missing required option before an unexpected one).
Row unknown_flag_row(const std::string& cmd, const std::vector<std::string>& valid = {}) {
  std::vector<std::string> args{cmd};
  args.insert(args.end(), valid.begin(), valid.end());
  args.push_back("--no-such-flag");
  return {cmd + ": unknown flag", args, {"--no-such-flag"}, ""};
}

std::vector<Row> spec_rows(const std::string& cmd, const std::vector<std::string>& base) {
  std::vector<Row> rows;
  auto row = [&](std::string what, std::vector<std::string> extra, std::vector<std::string> expect) {
    std::vector<std::string> args{cmd};
    args.insert(args.end(), base.begin(), base.end());
    args.insert(args.end(), extra.begin(), extra.end());
    rows.push_back({cmd + ": " + what, args, expect, ""});
  };
  row("--keep-prob 0", {"--layers", "3,2,1", "--keep-prob", "0"}, {"--keep-prob", "0"});
  row("--keep-prob 1.5", {"--layers", "3,2,1", "--keep-prob", "1.5"}, {"--keep-prob", "1.5"});
  row("--layers with one entry", {"--layers", "3"}, {"--layers"});
  return rows;
}

std::vector<Row> graph_rows(const std::string& cmd, const std::vector<std::string>& extra_args) {
  std::vector<Row> rows;
  const std::map<std::string, std::vector<std::string>> files{
      {"truncated.json", {"truncated.json"}},
      {"unknown_op.json", {"unknown_op.json", "frobnicate"}},
      {"cycle.json", {"cycle.json", "cycle"}},
      {"dangling.json", {"dangling.json", "999"}}};
  for (const auto& [file, expect] : files) {
    std::vector<std::string> args{cmd, "--graph", file};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    rows.push_back({cmd + ": graph file " + file, args, expect, ""});
  }
  return rows;
}

std::vector<Row> train_rows() {
  const std::vector<std::string> base{"--iters", "5", "--save", "out.npz"};
  std::vector<Row> rows = data_rows("train", {"--iters", "5"}, "--save");
  auto row = [&](std::string what, std::vector<std::string> extra, std::vector<std::string> expect) {
    std::vector<std::string> args{"train"};
    args.insert(args.end(), base.begin(), base.end());
    args.insert(args.end(), extra.begin(), extra.end());
    rows.push_back({"train: " + what, args, expect, "out.npz"});
  };
  row("labels not 0/1", {"--layers", "3,2,1", "--data", "labels2.csv"}, {"labels2.csv", "2"});
  row("truncated .npy with labels", {"--layers", "3,2,1", "--data", "truncated.npy", "--labels", "labels.csv"}, {"truncated.npy"});
  row("learning rate 0", {"--layers", "3,2,1", "--data", "good.csv", "--lr", "0"}, {"--lr"});
  row("learning rate < 0", {"--layers", "3,2,1", "--data", "good.csv", "--lr", "-0.5"}, {"--lr"});
  row("--keep-prob 0", {"--layers", "3,2,1", "--data", "good.csv", "--keep-prob", "0"}, {"--keep-prob"});
  row("--keep-prob 1.5", {"--layers", "3,2,1", "--data", "good.csv", "--keep-prob", "1.5"}, {"--keep-prob"});
  row("--layers with one entry", {"--layers", "3", "--data", "good.csv"}, {"--layers"});
  row("params of another architecture", {"--layers", "3,5,1", "--data", "good.csv", "--init-from", "arch341.npz"},
      {"W1", "(4x3)", "(5x3)"});
  rows.push_back({"train: unwritable --save", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "--save", "notadir/p.npz"},
                  {"notadir/p.npz"}, ""});
  rows.push_back(unknown_flag_row("train", {"--layers", "3,2,1", "--data", "good.csv", "--iters", "5"}));
  return rows;
}

std::vector<Row> gradcheck_rows() {
  std::vector<Row> rows = data_rows("gradcheck", {}, "--dump");
  for (Row& r : graph_rows("gradcheck", {"--dump", "out.npz"})) {
    r.output = "out.npz";
    rows.push_back(r);
  }
  for (Row& r : spec_rows("gradcheck", {})) rows.push_back(r);
  rows.push_back({"gradcheck: params of another architecture",
                  {"gradcheck", "--layers", "3,5,1", "--params", "arch341.npz", "--dump", "out.npz"},
                  {"W1", "(4x3)", "(5x3)"}, "out.npz"});
  rows.push_back({"gradcheck: unwritable --dump", {"gradcheck", "--layers", "3,2,1", "--dump", "notadir/g.npz"},
                  {"notadir/g.npz"}, ""});
  rows.push_back(unknown_flag_row("gradcheck", {"--layers", "3,2,1"}));
  return rows;
}

std::vector<Row> eval_rows() {
  std::vector<Row> rows = data_rows("eval", {"--params", "arch341.npz"}, "");
  for (Row& r : rows) {  // the data rows' --layers 3,2,1 do not fit the file: use 3,4,1
    std::replace(r.args.begin(), r.args.end(), std::string("3,2,1"), std::string("3,4,1"));
  }
  // The spec and the file agree (3,4,1); the data has 5 features.
  std::erase_if(rows, [](const Row& r) { return r.what.find("feature count") != std::string::npos; });
  rows.push_back({"eval: feature count vs --layers", {"eval", "--layers", "3,4,1", "--params", "arch341.npz", "--data", "five.csv"},
                  {"five.csv", "5", "3"}, ""});
  rows.push_back({"eval: params of another architecture", {"eval", "--layers", "3,5,1", "--params", "arch341.npz", "--data", "good.csv"},
                  {"W1", "(4x3)", "(5x3)"}, ""});
  rows.push_back({"eval: labels not 0/1", {"eval", "--layers", "3,4,1", "--params", "arch341.npz", "--data", "labels2.csv"},
                  {"labels2.csv", "2"}, ""});
  rows.push_back({"eval: truncated params", {"eval", "--layers", "3,4,1", "--params", "truncated.npz", "--data", "good.csv"},
                  {"truncated.npz"}, ""});
  rows.push_back(unknown_flag_row("eval", {"--layers", "3,4,1", "--params", "arch341.npz", "--data", "good.csv"}));
  return rows;
}

// dot writes a file (-o); explain prints to stdout.
std::vector<Row> graph_command_rows(const std::string& cmd, bool writes) {
  std::vector<Row> rows;
  for (Row& r : graph_rows(cmd, writes ? std::vector<std::string>{"-o", "out.dot"} : std::vector<std::string>{})) {
    if (writes) r.output = "out.dot";
    rows.push_back(r);
  }
  if (writes)
    rows.push_back({cmd + ": unwritable output", {cmd, "--graph", "good.json", "-o", "notadir/g.dot"}, {"notadir/g.dot"}, ""});
  rows.push_back(unknown_flag_row(cmd, {"--graph", "good.json"}));
  return rows;
}

// One row's verdict; empty when the command refused the input as it should.
std::string verdict(const robustness::CliResult& r, const Row& row) {
  if (r.timed_out) return "hung (killed after 60 s)";
  if (r.signal) return fmt::format("crashed with signal {}", r.signal);
  if (r.exit_code != 2) return fmt::format("exit code {} instead of 2", r.exit_code);
  const auto lines = robustness::lines_of(r.err);
  if (lines.empty()) return "no error message on stderr";
  // CLI11 adds one hint line to a usage error; anything more is a stack or noise.
  const bool hint = lines.size() == 2 && lines[1].find("--help") != std::string::npos;
  if (lines.size() > 1 && !hint) return fmt::format("{} lines on stderr, want one", lines.size());
  for (const std::string& e : row.expect)
    if (lines[0].find(e) == std::string::npos) return fmt::format("error line does not mention '{}'", e);
  return "";
}

std::vector<Row> all_rows() {
  std::vector<Row> rows;
  for (auto& part : {train_rows(), gradcheck_rows(), eval_rows(), graph_command_rows("dot", true), graph_command_rows("explain", false)})
    rows.insert(rows.end(), part.begin(), part.end());
  rows.push_back({"generate: unwritable output", {"generate", "planar", "--m", "10", "-o", "notadir/d.csv"}, {"notadir/d.csv"}, ""});
  rows.push_back({"generate: --m 0", {"generate", "planar", "--m", "0", "-o", "out.csv"}, {"--m"}, "out.csv"});
  rows.push_back(unknown_flag_row("generate", {"planar", "-o", "out.csv"}));
  rows.back().output = "out.csv";
  for (const char* cmd : {"bench", "plan"}) rows.push_back(unknown_flag_row(cmd, {"--layers", "3,2,1"}));
  const std::vector<std::pair<std::vector<std::string>, std::string>> bench_flags{
      {{"--warmup", "-5", "--steps", "3"}, "--warmup"}, {{"--steps", "0"}, "--steps"},
      {{"--steps", "-2"}, "--steps"}, {{"--m", "0"}, "--m"}, {{"--gemm", "mkl"}, "--gemm"}};
  for (const auto& [flags, name] : bench_flags) {
    std::vector<std::string> args{"bench", "--layers", "2,4,1"};
    args.insert(args.end(), flags.begin(), flags.end());
    rows.push_back({"bench: " + fmt::format("{}", fmt::join(flags, " ")), args, {name}, ""});
  }
  rows.push_back({"plan: --gemm mkl", {"plan", "--layers", "3,2,1", "--gemm", "mkl"}, {"--gemm"}, ""});
  return rows;
}

}  // namespace

TEST_CASE("catalogue: every bad input to the CLI exits 2 with a one-line error and writes nothing",
          "[robustness]") {
  io::test::TempDir dir;
  make_files(dir.path());
  const std::vector<std::string> commands = robustness::cli_commands(dir.path());
  const std::set<std::string> have(commands.begin(), commands.end());
  REQUIRE(have.count("gradcheck"));  // the parse of --help works at all
  for (const Row& row : all_rows()) {
    INFO("row: " << row.what);
    INFO("command: dagrad " << fmt::format("{}", fmt::join(row.args, " ")));
    if (!have.count(row.args[0])) {
      FAIL_CHECK("subcommand '" << row.args[0] << "' is not in the binary yet");
      continue;
    }
    if (!row.output.empty()) put_text(dir / row.output, precious);
    const robustness::CliResult r = robustness::run_cli(dir.path(), row.args);
    INFO("stderr: " << r.err);
    CHECK(verdict(r, row) == "");
    if (!row.output.empty()) CHECK(robustness::slurp(dir / row.output) == precious);
    CHECK(io::test::temp_files_in(dir.path()) == 0);
  }
}

// ---------------------------------------------------------------- library rows

namespace {

// The exception's type and message, or {"none", ""}.
std::pair<std::string, std::string> caught(const std::function<void()>& f) {
  try {
    f();
  } catch (const ShapeError& e) {
    return {"ShapeError", e.what()};
  } catch (const GraphError& e) {
    return {"GraphError", e.what()};
  } catch (const InputError& e) {
    return {"InputError", e.what()};
  } catch (const NumericError& e) {
    return {"NumericError", e.what()};
  } catch (const std::exception& e) {
    return {"std::exception", e.what()};
  }
  return {"none", ""};
}

struct LibRow {
  std::string what;
  std::function<void()> call;
  std::string type;
  std::vector<std::string> expect;
};

std::vector<LibRow> library_rows(const std::filesystem::path& dir) {
  auto text_of = [](const std::filesystem::path& p) { return robustness::slurp(p); };
  return {
      {"DSL matmul of (4x2) by (3x5)",
       [] {
         Graph g(DType::f64);
         auto W = g.param("W1", {4, 2});
         auto X = g.input("X", {3, 5});
         (void)(W * X);
       },
       "ShapeError", {"matmul", "W1", "X", "(4x2)", "(3x5)"}},
      {"DSL broadcast add of (4x5) and (3x5)",
       [] {
         Graph g(DType::f64);
         auto Z = g.input("Z", {4, 5});
         auto b = g.param("b", {3, 5});
         (void)(Z + b);
       },
       "ShapeError", {"add", "Z", "b", "(4x5)", "(3x5)"}},
      {"Executor::bind of the wrong shape",
       [] {
         Graph g(DType::f64);
         auto X = g.input("X", {3, 5});
         auto J = sum(square(X), 1).named("J");
         runtime::Executor ex(g, {J.id});
         const std::vector<double> v(12, 1.0);
         ex.bind("X", v.data(), Shape{3, 4});
       },
       "InputError", {"X", "(3x4)", "(3x5)"}},
      {"Executor::bind of the wrong dtype",
       [] {
         Graph g(DType::f64);
         auto X = g.input("X", {3, 5});
         auto J = sum(square(X), 1).named("J");
         runtime::Executor ex(g, {J.id});
         const std::vector<float> v(15, 1.0f);
         ex.bind("X", v.data(), Shape{3, 5});
       },
       "InputError", {"X", "f32", "f64"}},
      {"labels not 0/1", [&] { io::check_binary_labels(io::load_dataset(dir / "labels2.csv").Y, "labels2.csv"); },
       "InputError", {"labels2.csv", "sample index 3", "2"}},
      {"NaN in csv", [&] { io::load_dataset(dir / "nan.csv"); }, "InputError", {"nan.csv", "nan"}},
      {"Inf in npz", [&] { io::load_dataset(dir / "inf.npz"); }, "InputError", {"inf.npz", "inf"}},
      {"empty csv", [&] { io::load_dataset(dir / "empty.csv"); }, "InputError", {"empty.csv", "empty"}},
      {"empty npz", [&] { io::load_dataset(dir / "empty.npz"); }, "InputError", {"empty.npz", "no samples"}},
      {"truncated npy", [&] { io::read_npy(dir / "truncated.npy"); }, "InputError", {"truncated.npy"}},
      {"truncated npz", [&] { io::load_dataset(dir / "truncated.npz"); }, "InputError", {"truncated.npz"}},
      {"corrupt npz", [&] { io::load_dataset(dir / "corrupt.npz"); }, "InputError", {"corrupt.npz"}},
      {"truncated h5", [&] { io::load_dataset(dir / "truncated.h5"); }, "InputError", {"truncated.h5"}},
      {"corrupt h5", [&] { io::load_dataset(dir / "corrupt.h5"); }, "InputError", {"corrupt.h5"}},
      {"h5 that crashes libhdf5", [&] { io::load_dataset(dir / "crasher.h5"); }, "InputError", {"crasher.h5", "libhdf5"}},
      {"truncated csv", [&] { io::load_dataset(dir / "truncated.csv"); }, "InputError", {"truncated.csv:"}},
      {"corrupt csv", [&] { io::load_dataset(dir / "corrupt.csv"); }, "InputError", {"corrupt.csv:2", "not a number"}},
      {"truncated graph JSON", [&] { graph_from_json(text_of(dir / "truncated.json"), "truncated.json"); }, "InputError",
       {"truncated.json"}},
      {"unknown op in graph JSON", [&] { graph_from_json(text_of(dir / "unknown_op.json"), "unknown_op.json"); },
       "GraphError", {"unknown_op.json", "frobnicate"}},
      {"cycle in graph JSON", [&] { graph_from_json(text_of(dir / "cycle.json"), "cycle.json"); }, "GraphError",
       {"cycle.json", "cycle"}},
      {"dangling edge in graph JSON", [&] { graph_from_json(text_of(dir / "dangling.json"), "dangling.json"); },
       "GraphError", {"dangling.json", "999"}},
      {"params of another architecture",
       [&] {
         io::check_params_against(io::load_params(dir / "arch341.npz"),
                                  {{"W1", {5, 3}}, {"b1", {5, 1}}, {"W2", {1, 5}}, {"b2", {1, 1}}}, "arch341.npz");
       },
       "InputError", {"arch341.npz", "W1", "(4x3)", "(5x3)"}},
  };
}

}  // namespace

TEST_CASE("catalogue: the library refuses each bad input with the right exception and message",
          "[robustness]") {
  io::test::TempDir dir;
  make_files(dir.path());
  for (const LibRow& row : library_rows(dir.path())) {
    INFO("row: " << row.what);
    const auto [type, message] = caught(row.call);
    INFO("message: " << message);
    CHECK(type == row.type);
    CHECK(message.find('\n') == std::string::npos);
    for (const std::string& e : row.expect) {
      INFO("expected fragment: " << e);
      CHECK(message.find(e) != std::string::npos);
    }
  }
}
