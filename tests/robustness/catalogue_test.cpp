// The catalogue of bad inputs (issues 6 and 14): every bad input gets a
// one-line error naming the thing at fault, and from the CLI exit code 2, no
// signal, no hang (each call runs under a 60 s limit), and no output file
// written: every file that existed before (outputs and inputs alike) must
// keep its bytes, and no temp file may be left, in the folder or in TMPDIR.
// The error line holds no raw control byte and no number of 40 digits.
// The test makes every bad file itself. A row whose subcommand is missing
// from the binary FAILS, naming the command, instead of passing silently.
//
// The hostile-input classes of issue 14, each with its rows below:
//   crashes, hangs (non-regular files), lost data (outputs onto inputs or
//   each other, late failures, failed runs), bad values, CSV as people write
//   it, CLI usage, library misuse (threads).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <hdf5.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <regex>
#include <sstream>
#include <thread>
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
#include "dagrad/models/model_file.hpp"
#include "dagrad/io/checked_zip.hpp"
#include "dagrad/io/zip.hpp"
#include "dagrad/ops/dsl.hpp"
#include "dagrad/runtime/executor.hpp"
#include "dagrad/train/fit.hpp"
#include "tests/io/io_test_util.hpp"
#include "tests/models/model_edit.hpp"
#include "tests/robustness/cli_run.hpp"
#include "tests/support/dependency.hpp"

using namespace dagrad;
using dagrad::io::test::file_bytes;
using dagrad::io::test::put_bytes;
using dagrad::io::test::put_text;
using Json = nlohmann::json;
using dagrad::robustness::CliLimits;

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

// An .h5 whose x (8 x 3) keeps its values in the external raw file `raw`
// (H5Pset_external), and y in the file. The raw file is written as a regular
// file here; the rows then put a FIFO or /dev/zero in its place.
void write_external_h5(const std::filesystem::path& file, const std::filesystem::path& raw) {
  const io::NamedArrays xy = xy_arrays();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t xdims[2] = {8, 3}, ydims[1] = {8};
  const hid_t xs = H5Screate_simple(2, xdims, nullptr), ys = H5Screate_simple(1, ydims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_external(dcpl, raw.c_str(), 0, 8 * 3 * sizeof(double));
  const hid_t x = H5Dcreate2(f, "x", H5T_IEEE_F64LE, xs, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  const hid_t y = H5Dcreate2(f, "y", H5T_IEEE_F64LE, ys, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(x, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xy[0].second.values.data());
  H5Dwrite(y, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xy[1].second.values.data());
  for (hid_t d : {x, y}) H5Dclose(d);
  H5Pclose(dcpl);
  for (hid_t sp : {xs, ys}) H5Sclose(sp);
  H5Fclose(f);
}

// The files of the hostile-input rows (issue 14).
void make_hostile_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  for (const char* name : {"fifo.csv", "fifo.npz", "fifo.json"}) REQUIRE(::mkfifo((dir / name).c_str(), 0644) == 0);
  fs::create_symlink("/dev/zero", dir / "zero.csv");
  fs::create_symlink("/dev/zero", dir / "zero.npz");
  fs::create_directory(dir / "dir.csv");
  fs::create_directory(dir / "adir");
  fs::create_symlink("good.csv", dir / "link_to_good.csv");
  write_external_h5(dir / "ext_fifo.h5", dir / "ext_fifo.raw");
  fs::remove(dir / "ext_fifo.raw");
  REQUIRE(::mkfifo((dir / "ext_fifo.raw").c_str(), 0644) == 0);
  write_external_h5(dir / "ext_zero.h5", dir / "ext_zero.raw");
  fs::remove(dir / "ext_zero.raw");
  fs::create_symlink("/dev/zero", dir / "ext_zero.raw");
  io::save_params(dir / "nanparams.npz",
                  {{"W1", io::Matrix({4, 3}, 0.1)}, {"b1", io::Matrix({4, 1})},
                   {"W2", io::Matrix({1, 4}, std::numeric_limits<double>::quiet_NaN())}, {"b2", io::Matrix({1, 1})}},
                  DType::f64);
  // A graph that names the optimizer's fused op: Z = W X + b as matmul_bias.
  {
    Graph g(DType::f64);
    auto X = g.input("X", {3, 8});
    auto Y = g.input("Y", {1, 8});
    auto W = g.param("W1", {1, 3});
    auto b = g.param("b1", {1, 1});
    auto Z = g.add(OpKind::matmul_bias, {W.id, X.id, b.id}).named("Z1");
    binary_cross_entropy(sigmoid(Z), Y).named("J");
    put_text(dir / "fused.json", to_json(g));
  }
  // A last column that is a feature: the "labels" are not class numbers.
  std::string features;
  for (int i = 0; i < 8; ++i) features += fmt::format("{},{},{},{}\n", 0.1 * i, 1 - 0.2 * i, 0.3, 0.37 * i + 0.11);
  put_text(dir / "feature_last.csv", features);
  // A NUL and an escape byte in a field, and a UTF-16 file.
  put_text(dir / "nul.csv", std::string("1,2,0\n3,4\0x\x1b[31m,1\n", 19));
  put_bytes(dir / "utf16.csv", {0xFF, 0xFE, '1', 0, ',', 0, '0', 0, '\n', 0});
  // Values whose cost overflows before any update: with W = 10 every
  // Z1 = 10 (x1 + x2 + x3) is 5.1e309, past the largest double.
  std::string huge;
  for (int i = 0; i < 8; ++i) huge += fmt::format("1.7e308,1.7e308,1.7e308,{}\n", i % 2);
  put_text(dir / "huge.csv", huge);
  io::save_params(dir / "big341.npz",
                  {{"W1", io::Matrix({4, 3}, 10.0)}, {"b1", io::Matrix({4, 1})}, {"W2", io::Matrix({1, 4}, 10.0)},
                   {"b2", io::Matrix({1, 1})}},
                  DType::f64);
}

// ---- issue 19 part B (B2, B4, B7, B8, B10): the files of their rows

// Good model files trained on good.csv, and whole files (fresh CRCs) whose
// model.json or arrays say something that contradicts the graph (B7).
void make_issue19_model_files(const std::filesystem::path& dir) {
  const io::Dataset data = io::load_dataset(dir / "good.csv");
  auto trained = [&](train::OptimizerKind kind, double decay) {
    models::ModelSpec spec;
    spec.layers = {3, 4, 1};
    models::Model m = models::build_mlp(spec);
    train::FitOptions o;
    o.iterations = 3;
    o.optimizer.kind = kind;
    o.optimizer.learning_rate = 0.01;
    o.optimizer.decay_rate = decay;
    o.out = nullptr;
    train::fit(m, data, nullptr, o);
    return models::model_bytes(m);
  };
  const std::vector<std::uint8_t> gd = trained(train::OptimizerKind::gd, 0.0);
  const std::vector<std::uint8_t> adam = trained(train::OptimizerKind::adam, 0.1);
  put_bytes(dir / "m.dagrad", gd);
  put_bytes(dir / "adam.dagrad", adam);
  using test::ModelJson;
  const std::pair<const char*, std::function<void(ModelJson&)>> meta[] = {
      {"out_X.dagrad", [](ModelJson& j) { j["outputs"] = {"X"}; }},
      {"out_J.dagrad", [](ModelJson& j) { j["outputs"] = {"J"}; }},
      {"out_W1.dagrad", [](ModelJson& j) { j["outputs"] = {"W1"}; }},
      {"out_dW1.dagrad", [](ModelJson& j) { j["outputs"] = {"dW1"}; }},
      {"out_alpha.dagrad", [](ModelJson& j) { j["outputs"] = {"alpha"}; }},
      {"params_none.dagrad", [](ModelJson& j) { j["params"] = ModelJson::array(); }},
      {"params_twice.dagrad", [](ModelJson& j) { j["params"] = {"W1", "W1"}; }},
      {"swapped.dagrad", [](ModelJson& j) { j["features"] = "Y", j["labels"] = "X"; }},
      {"adam_on_gd.dagrad", [](ModelJson& j) { j["optimizer"]["kind"] = "adam"; }},
      {"spec_other.dagrad", [](ModelJson& j) { j["spec"]["layers"] = {3, 5, 1}; }},
  };
  for (const auto& [name, edit] : meta) put_bytes(dir / name, test::edited_model(gd, edit));
  put_bytes(dir / "t_negative.dagrad",
            test::edited_model(adam, {}, [](io::ZipArchive& a) { test::put_entry(a, "t.npy", test::npy_of(1, 1, {-1})); }));
  put_bytes(dir / "s_negative.dagrad", test::edited_model(adam, {}, [](io::ZipArchive& a) {
              test::put_entry(a, "s_db2.npy", test::npy_of(1, 1, {-0.5}));
            }));
  put_bytes(dir / "duplicate.dagrad", test::edited_model(gd, {}, [](io::ZipArchive& a) {
              a.entries.push_back({"W1.npy", test::zip_entry(a, "W1.npy")->data});
            }));
  // Graph files whose user names are the ones dagrad gives its own nodes (B8).
  auto graph_named = [&](const char* file, const char* name) {
    Graph g(DType::f64);
    auto X = g.input("X", {3, m_dim});
    auto Y = g.input("Y", {1, m_dim});
    auto W = g.param("W1", {1, 3});
    auto b = g.param(name, {1, 1});
    binary_cross_entropy(sigmoid(W * X + b), Y).named("J");
    put_text(dir / file, to_json(g));
  };
  graph_named("named_norm_mu.json", "norm_mu");
  graph_named("named_dW1.json", "dW1");
  graph_named("named_alpha.json", "alpha");
  graph_named("named_t.json", "t");
  // Features of 1e4: the first update with --lr 1e308 makes W infinite (B4).
  std::string big;
  for (int i = 0; i < 8; ++i) big += fmt::format("{},{},{},{}\n", 1e4 * (i - 3.5), 2e4, -1e4 * (i % 3), i % 2);
  put_text(dir / "big.csv", big);
  // Parameters of a 3,4,3 network: three sigmoid units (B10).
  io::save_params(dir / "arch343.npz",
                  {{"W1", io::Matrix({4, 3}, 0.1)}, {"b1", io::Matrix({4, 1})}, {"W2", io::Matrix({3, 4}, 0.2)},
                   {"b2", io::Matrix({3, 1})}},
                  DType::f64);
  // Two working directories whose d.csv differ in shape (B2).
  std::filesystem::create_directory(dir / "rank_a");
  std::filesystem::create_directory(dir / "rank_b");
  put_text(dir / "rank_a" / "d.csv", csv_text());
  put_text(dir / "rank_b" / "d.csv", "1,2,3,4,5,0\n5,4,3,2,1,1\n1,1,1,1,1,0\n2,2,2,2,2,1\n");
}
void make_issue19b_files(const std::filesystem::path& dir);

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
    if (e.path().filename().string().starts_with("crash-"))
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
  make_hostile_files(dir);
  make_issue19_model_files(dir);
  make_issue19b_files(dir);
}

// ---------------------------------------------------------------- the CLI rows

struct Row {
  std::string what;                  // the bad input
  std::vector<std::string> args;     // args[0] is the subcommand
  std::vector<std::string> expect;   // fragments the error line must contain
  std::string output;                // an output path the command would write, guarded
  std::vector<std::string> guarded;  // more files that must keep their bytes
  int exit_code = 2;                 // 1: a failed run (training diverged)
  CliLimits limits;
  std::string kind;                  // the class of bad input, for the counts in docs/reliability.md

  Row(std::string w, std::vector<std::string> a, std::vector<std::string> e, std::string o = "")
      : what(std::move(w)), args(std::move(a)), expect(std::move(e)), output(std::move(o)) {}
  Row& guard(std::vector<std::string> files) {
    guarded.insert(guarded.end(), files.begin(), files.end());
    return *this;
  }
  Row& exits(int code) {
    exit_code = code;
    return *this;
  }
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
  if (r.exit_code != row.exit_code) return fmt::format("exit code {} instead of {}", r.exit_code, row.exit_code);
  auto lines = robustness::lines_of(r.err);
  if (!row.limits.launcher.empty())  // mpirun's own report of the exit codes
    std::erase_if(lines, [](const std::string& l) { return !l.starts_with("dagrad"); });
  if (lines.empty()) return "no error message on stderr";
  if (lines.size() > 1) return fmt::format("{} lines on stderr, want one", lines.size());
  const std::string& line = lines[0];
  if (row.exit_code == 2 && !line.starts_with("dagrad: error: ")) return "the line does not start with 'dagrad: error: '";
  for (unsigned char c : r.err)
    if (c < 0x20 && c != '\n') return fmt::format("raw control byte 0x{:02x} on stderr", c);
  if (std::regex_search(line, std::regex("[0-9]{40}"))) return "a number of 40 digits or more in the message";
  if (std::regex_search(r.out, std::regex("[0-9]{40}"))) return "a number of 40 digits or more on stdout";
  if (line.find("json.exception") != std::string::npos) return "a library's exception tag in the message";
  for (const std::string& e : row.expect)
    if (line.find(e) == std::string::npos) return fmt::format("error line does not mention '{}'", e);
  return "";
}

// ---- issue 14: hostile input, one block per class

std::vector<Row> crash_rows() {
  return {
      {"bench: negative --warmup (no timed steps)", {"bench", "--layers", "2,4,1", "--warmup", "-5", "--steps", "3"},
       {"--warmup", "-5"}},
      {"bench: --steps 0", {"bench", "--layers", "2,4,1", "--steps", "0"}, {"--steps"}},
  };
}

// `train` with `extra`, plus --layers 3,2,1, --iters 5 and --data good.csv
// where `extra` does not give its own.
Row train_row(std::string what, std::vector<std::string> extra, std::vector<std::string> expect, std::string output = "") {
  auto has = [&](const char* f) { return std::find(extra.begin(), extra.end(), f) != extra.end(); };
  std::vector<std::string> args{"train"};
  if (!has("--layers")) args.insert(args.end(), {"--layers", "3,2,1"});
  if (!has("--iters") && !has("--epochs")) args.insert(args.end(), {"--iters", "5"});
  if (!has("--data")) args.insert(args.end(), {"--data", "good.csv"});
  args.insert(args.end(), extra.begin(), extra.end());
  return Row("train: " + what, args, expect, output);
}

std::vector<Row> hang_rows() {
  return {
      train_row("a FIFO as --data", {"--data", "fifo.csv"}, {"fifo.csv", "FIFO"}),
      train_row("/dev/zero behind a .csv name", {"--data", "zero.csv"}, {"zero.csv", "character device"}),
      train_row("a directory as --data", {"--data", "dir.csv"}, {"dir.csv", "directory"}),
      Row("train: /dev/zero as --labels", {"train", "--layers", "4,2,1", "--iters", "5", "--data", "good.csv", "--labels", "zero.csv"},
          {"zero.csv", "character device"}),
      train_row("a FIFO as --init-from", {"--data", "good.csv", "--init-from", "fifo.npz"}, {"fifo.npz", "FIFO"}),
      Row("eval: /dev/zero as --params", {"eval", "--layers", "3,4,1", "--params", "zero.npz", "--data", "good.csv"},
          {"zero.npz", "character device"}),
      Row("gradcheck: a FIFO as --graph", {"gradcheck", "--graph", "fifo.json"}, {"fifo.json", "FIFO"}),
      Row("dot: a FIFO as --graph", {"dot", "--graph", "fifo.json"}, {"fifo.json", "FIFO"}),
      // External storage is refused whatever it names (issue 19, B11).
      train_row(".h5 with external storage on a FIFO", {"--data", "ext_fifo.h5"}, {"ext_fifo.h5", "external", "ext_fifo.raw"}),
      train_row(".h5 with external storage on /dev/zero", {"--data", "ext_zero.h5"},
                {"ext_zero.h5", "external", "ext_zero.raw"}),
  };
}

std::vector<Row> lost_data_rows() {
  std::vector<Row> rows{
      train_row("--cost-log onto --data", {"--data", "good.csv", "--cost-log", "good.csv"},
                {"--cost-log", "--data", "same file"}),
      train_row("--save through a symlink onto --data", {"--data", "good.csv", "--save", "link_to_good.csv"},
                {"--save", "--data", "same file"}),
      train_row("--save and --cost-log on one path", {"--data", "good.csv", "--save", "out.npz", "--cost-log", "out.npz"},
                {"--save", "--cost-log", "same file"}, "out.npz"),
      train_row("--plot with an unknown extension", {"--data", "good.csv", "--save", "out.npz", "--plot", "cost.jpg"},
                {"--plot", "cost.jpg", ".jpg"}, "out.npz"),
      train_row("--plot-boundary on 3-feature data", {"--data", "good.csv", "--save", "out.npz", "--plot-boundary", "b.svg"},
                {"--plot-boundary", "2-feature", "good.csv"}, "out.npz"),
      train_row("--save onto a directory", {"--data", "good.csv", "--cost-log", "log.csv", "--save", "adir"},
                {"--save", "adir", "directory"}, "log.csv"),
      Row("gradcheck: --dump onto --data", {"gradcheck", "--layers", "3,2,1", "--data", "good.csv", "--dump", "good.csv"},
          {"--dump", "--data", "same file"}),
      Row("generate: -o and --labels-out on one path", {"generate", "planar", "--m", "10", "-o", "out.csv", "--labels-out", "out.csv"},
          {"-o", "--labels-out", "same file"}, "out.csv"),
      Row("dot: -o onto --graph", {"dot", "--graph", "good.json", "-o", "good.json"}, {"-o", "--graph", "same file"}),
  };
  // A run that diverges is a failure (exit 1): it writes nothing at all.
  rows.push_back(train_row("training diverges (--lr 1e300)",
                           {"--data", "good.csv", "--lr", "1e300", "--iters", "50", "--print-every", "0", "--save",
                            "out.npz", "--cost-log", "log.csv"},
                           {"at iteration", "no output file was written"}, "out.npz")
                     .exits(1)
                     .guard({"log.csv"}));
  // Every row guards the good inputs it names, too.
  for (Row& r : rows) r.guard({"good.csv", "good.json"});
  return rows;
}

std::vector<Row> bad_value_rows() {
  const auto t = [](std::string what, std::vector<std::string> extra, std::vector<std::string> expect) {
    return train_row(std::move(what), std::move(extra), std::move(expect));
  };
  std::vector<Row> rows{
      t("--lr nan", {"--lr", "nan"}, {"--lr", "nan", "finite"}),
      t("--lr inf", {"--lr", "inf"}, {"--lr", "inf", "finite"}),
      t("--lr 1e999 (past a double)", {"--lr", "1e999"}, {"--lr", "1e999"}),
      t("--l2 -1", {"--l2", "-1"}, {"--l2", "-1"}),
      t("--keep-prob nan", {"--keep-prob", "nan"}, {"--keep-prob", "nan"}),
      t("--keep-prob 1e300", {"--keep-prob", "1e300"}, {"--keep-prob", "1e300", "(0, 1]"}),
      t("--dev-ratio 0", {"--dev-ratio", "0"}, {"--dev-ratio", "(0, 1)"}),
      t("--dev-ratio 1", {"--dev-ratio", "1"}, {"--dev-ratio", "(0, 1)"}),
      t("--seed -1", {"--seed", "-1"}, {"--seed", "-1", "negative"}),
      t("--seed 2^64", {"--seed", "18446744073709551616"}, {"--seed", "too large"}),
      t("--iters 1.5", {"--iters", "1.5"}, {"--iters", "whole number"}),
      t("--threads 0", {"--threads", "0"}, {"--threads", "[1, 1024]"}),
      t("--threads 100000", {"--threads", "100000"}, {"--threads", "[1, 1024]"}),
      t("--layers with an empty element", {"--layers", "3,,1"}, {"--layers", "empty element"}),
      t("--layers with a trailing comma", {"--layers", "3,2,"}, {"--layers", "empty element"}),
      t("--keep-prob with an empty element", {"--layers", "3,2,2,1", "--keep-prob", "0.5,,0.5"},
        {"--keep-prob", "empty element"}),
      t("--lr given twice", {"--lr", "0.1", "--lr", "0.2"}, {"--lr", "more than once"}),
      t("--layers given twice", {"--layers", "3,4,1", "--layers", "3,2,1"}, {"--layers", "more than once"}),
      t("--normalize given twice", {"--normalize", "--normalize"}, {"--normalize", "more than once"}),
      t("--test-labels without --test", {"--test-labels", "labels.csv"}, {"--test-labels", "--test"}),
      t("--plot-log without --plot", {"--plot-log"}, {"--plot-log", "--plot"}),
      t("--patience without --dev-ratio", {"--patience", "3"}, {"--patience", "--dev-ratio"}),
      t("--beta2 with plain gradient descent", {"--beta2", "0.99"}, {"--beta2", "--optimizer", "rmsprop or adam"}),
      t("--epsilon with momentum", {"--optimizer", "momentum", "--epsilon", "1e-7"}, {"--epsilon", "momentum"}),
      t("NaN in --init-from", {"--init-from", "nanparams.npz", "--layers", "3,4,1"}, {"nanparams.npz", "W2", "nan"}),
      t("data whose cost overflows before any update",
        {"--data", "huge.csv", "--layers", "3,4,1", "--init-from", "big341.npz"}, {"huge.csv", "iteration 0", "scale"}),
  };
  // Over the int64 count of updates: 2^62 epochs of 4 batches of 2.
  rows.push_back(t("--epochs 2^62 (the update count overflows)",
                   {"--epochs", "4611686018427387904", "--batch-size", "2"}, {"--epochs", "4611686018427387904"}));
  rows.push_back(t("--iters 10^15 (the cost list would not fit)", {"--iters", "1000000000000000"}, {"needs", "bytes", "memory"}));
  rows.push_back({"eval: NaN in --params", {"eval", "--layers", "3,4,1", "--params", "nanparams.npz", "--data", "good.csv"},
                  {"nanparams.npz", "W2", "nan"}});
  rows.push_back({"gradcheck: NaN in --params", {"gradcheck", "--layers", "3,4,1", "--params", "nanparams.npz"},
                  {"nanparams.npz", "W2", "nan"}});
  rows.push_back({"gradcheck: --cost without --graph", {"gradcheck", "--layers", "3,2,1", "--cost", "J"}, {"--cost", "--graph"}});
  rows.push_back({"gradcheck: a graph file with a fused op", {"gradcheck", "--graph", "fused.json"},
                  {"fused.json", "Z1", "matmul_bias"}});
  rows.push_back({"gradcheck: a model larger than memory", {"gradcheck", "--layers", "8000000,8000,1", "--m", "1"},
                  {"needs", "bytes", "memory"}});
  rows.push_back({"generate: --m larger than memory", {"generate", "planar", "--m", "1000000000000000", "-o", "out.csv"},
                  {"--m", "needs", "memory"}, "out.csv"});
  return rows;
}

std::vector<Row> csv_rows() {
  return {
      train_row("a NUL and an escape byte in a field", {"--data", "nul.csv", "--layers", "2,2,1"}, {"nul.csv:2", "\\0x\\x1b"}),
      train_row("a UTF-16 file", {"--data", "utf16.csv"}, {"utf16.csv", "UTF-16"}),
      train_row("a last column that is a feature", {"--data", "feature_last.csv"}, {"feature_last.csv", "--labels"}),
      train_row("a last column of integers that are not 0/1", {"--data", "labels2.csv"}, {"labels2.csv", "--labels"}),
  };
}

std::vector<Row> usage_rows() {
  return {
      {"an unknown command", {"tarin", "--layers", "3,2,1"}, {"unknown command 'tarin'", "did you mean train?"}},
      {"no command", {}, {"give a command"}},
      {"a flag before the command", {"--layers", "3,2,1"}, {"--layers", "before the command"}},
      train_row("an unknown flag with a near one", {"--data", "good.csv", "--iter", "5"}, {"--iter", "did you mean --iters?"}),
      {"train: neither --iters nor --epochs", {"train", "--layers", "3,2,1", "--data", "good.csv"}, {"--iters", "--epochs"}},
      {"a value missing at the end", {"train", "--layers", "3,2,1", "--data", "good.csv", "--lr"}, {"--lr"}},
      {"an unexpected positional argument", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "extra"},
       {"unexpected argument", "extra"}},
  };
}

// Library misuse: a thread count the system cannot create. Under a 1 GB
// address-space limit, 1000 threads' stacks cannot all be mapped. (ASan
// reserves terabytes of address space, so there the row cannot run.)
std::vector<Row> misuse_rows() {
#if defined(__SANITIZE_ADDRESS__)
  WARN("ASan build: the --threads row under an address-space limit is skipped");
  return {};
#else
  Row r = train_row("--threads the system cannot start", {"--threads", "1000"}, {"--threads 1000", "could not start thread"});
  r.limits.address_space = std::uint64_t{1} << 30;
  return {r};
#endif
}

// ---- issue 19 part B: one family per class

// B2: the processes of an mpirun job disagree (an MPMD launch): refused at
// start-up on every process, one line naming the process and the flag, no hang.
std::vector<Row> rank_rows() {
#ifndef DAGRAD_MPIEXEC
#if !DAGRAD_TEST_MPI_EXCLUDED  // the sanitizer build leaves MPI out on purpose (tests/CMakeLists.txt)
  dagrad::support::missing_dependency("MPI (libopenmpi-dev, openmpi-bin)", "the rows of ranks that disagree");
#endif
  return {};
#else
  const std::vector<std::string> mpirun{"/usr/bin/env", "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1",
                                        "OMPI_MCA_btl=self,vader", "OMPI_MCA_oob_tcp_if_include=lo",
                                        "OMPI_MCA_rmaps_base_oversubscribe=1", DAGRAD_MPIEXEC};
  const std::vector<std::string> base{"--layers", "3,2,1", "--iters", "5", "--data", "good.csv", "--print-every", "0"};
  // `mpirun -np 1 [first] dagrad train base a : -np 1 [second] dagrad b...`
  auto row = [&](std::string what, std::vector<std::string> a, std::vector<std::string> b, std::vector<std::string> expect,
                 std::vector<std::string> first = {}, std::vector<std::string> second = {}) {
    std::vector<std::string> args{"train"};
    args.insert(args.end(), base.begin(), base.end());
    args.insert(args.end(), a.begin(), a.end());
    args.insert(args.end(), {":", "-np", "1"});
    args.insert(args.end(), second.begin(), second.end());
    args.push_back(DAGRAD_CLI_PATH);
    args.insert(args.end(), b.begin(), b.end());
    Row r("mpirun: " + what, args, expect);
    r.limits.launcher = mpirun;
    r.limits.launcher.insert(r.limits.launcher.end(), {"-np", "1"});
    r.limits.launcher.insert(r.limits.launcher.end(), first.begin(), first.end());
    return r;
  };
  auto train_with = [&](std::vector<std::string> extra) {
    std::vector<std::string> b{"train"};
    b.insert(b.end(), base.begin(), base.end());
    b.insert(b.end(), extra.begin(), extra.end());
    return b;
  };
  std::vector<Row> rows{
      row("--batch-size differs per process", {"--batch-size", "4"}, train_with({"--batch-size", "8"}),
          {"process 1 of 2", "'--batch-size 8'", "'--batch-size 4'"}),
      row("--lr differs per process", {}, train_with({"--lr", "0.5"}), {"process 1 of 2", "'--lr 0.5'", "nothing"}),
      row("a flag on one process only", {"--normalize"}, train_with({}), {"process 1 of 2", "nothing", "'--normalize'"}),
      row("another command on one process", {}, {"eval", "--model", "m.dagrad", "--data", "good.csv"},
          {"process 1 of 2", "'eval'", "'train'"}),
      row("another --save on one process", {"--save", "a.dagrad"}, train_with({"--save", "b.dagrad"}),
          {"process 1 of 2", "'--save b.dagrad'", "'--save a.dagrad'"}),
  };
  // The same command in two working directories whose d.csv differ: the
  // data's shape is compared once it is read.
  std::vector<std::string> same{"--layers", "3,2,1", "--iters", "5", "--data", "d.csv", "--print-every", "0"};
  std::vector<std::string> b{"train"};
  b.insert(b.end(), same.begin(), same.end());
  Row data = row("the data differs in shape between processes", {}, b, {"process 1 of 2", "--data", "5 features", "3 features"},
                 {"-wdir", "rank_a"}, {"-wdir", "rank_b"});
  data.args = b;
  data.args.insert(data.args.end(), {":", "-np", "1", "-wdir", "rank_b", DAGRAD_CLI_PATH});
  data.args.insert(data.args.end(), b.begin(), b.end());
  rows.push_back(data);
  const std::vector<std::string> ev{"eval", "--model", "../m.dagrad", "--data", "d.csv"};
  Row eval = row("eval: the data differs in shape between processes", {}, {}, {"process 1 of 2", "--data", "5 features"},
                 {"-wdir", "rank_a"});
  eval.args = ev;
  eval.args.insert(eval.args.end(), {":", "-np", "1", "-wdir", "rank_b", DAGRAD_CLI_PATH});
  eval.args.insert(eval.args.end(), ev.begin(), ev.end());
  rows.push_back(eval);
  return rows;
#endif
}

// B4: a run that diverges after its checkpoints says what --save holds, and
// a state that is not finite is never checkpointed.
std::vector<Row> divergence_rows() {
  return {
      // A linear unit with lr 20 diverges slowly (the cost overflows about
      // a hundred updates in): its last checkpoint with a finite cost stays.
      train_row("diverges after checkpoints (--checkpoint-every 10)",
                {"--layers", "3,1", "--output", "linear", "--lr", "20", "--iters", "2000", "--print-every", "0",
                 "--checkpoint-every", "10", "--save", "ck1.dagrad", "--cost-log", "ck1.csv"},
                {"at iteration", "--save ck1.dagrad holds the checkpoint after update", "no other output file"})
          .exits(1)
          .guard({"ck1.csv"}),
      // The first update (lr 1e308 on features of 1e4) makes W2 infinite:
      // never written, so the earlier file keeps its bytes.
      train_row("an update that makes W infinite is not checkpointed",
                {"--data", "big.csv", "--lr", "1e308", "--iters", "50", "--print-every", "0", "--checkpoint-every", "1",
                 "--save", "out.dagrad"},
                {"at iteration", "no output file was written"}, "out.dagrad")
          .exits(1),
      // lr 1e300: update 1 leaves W finite but its cost is NaN: the
      // checkpoint of update 1 is not written either.
      train_row("a finite update whose cost is NaN is not checkpointed",
                {"--lr", "1e300", "--iters", "50", "--print-every", "0", "--checkpoint-every", "1", "--save", "out.dagrad"},
                {"at iteration 1:", "no output file was written"}, "out.dagrad")
          .exits(1),
  };
}

// B7: a model file whose model.json or arrays contradict its graph (whole:
// fresh CRCs) is refused naming the file and the field.
std::vector<Row> contradiction_rows() {
  const std::vector<std::pair<std::string, std::vector<std::string>>> files{
      {"out_X.dagrad", {"'outputs'", "'X'"}},
      {"out_J.dagrad", {"'outputs'", "'J'"}},
      {"out_W1.dagrad", {"'outputs'", "'W1'"}},
      {"out_dW1.dagrad", {"'outputs'", "'dW1'"}},
      {"out_alpha.dagrad", {"'outputs'", "'alpha'"}},
      {"params_none.dagrad", {"'params'"}},
      {"params_twice.dagrad", {"'params'", "twice"}},
      {"swapped.dagrad", {"'features'", "'Y'"}},
      {"adam_on_gd.dagrad", {"'optimizer.kind'", "adam"}},
      {"spec_other.dagrad", {"'spec'", "3,5,1"}},
      {"t_negative.dagrad", {"t = -1"}},
      {"s_negative.dagrad", {"s_db2", "negative"}},
      {"duplicate.dagrad", {"W1.npy", "twice"}},
  };
  std::vector<Row> rows;
  for (const auto& [file, expect] : files) {
    std::vector<std::string> e = expect;
    e.insert(e.begin(), file);
    rows.push_back({"predict: a model file whose meaning contradicts itself, " + file,
                    {"predict", "--model", file, "--data", "good.csv", "-o", "out.csv"}, e, "out.csv"});
  }
  rows.push_back(Row("train --resume: adam named on a gd graph",
                     {"train", "--resume", "adam_on_gd.dagrad", "--data", "good.csv", "--iters", "6", "--save", "out.dagrad"},
                     {"adam_on_gd.dagrad", "'optimizer.kind'"}, "out.dagrad"));
  rows.push_back(Row("eval: Adam's t = -1 is a bad file, not a divergence",
                     {"eval", "--model", "t_negative.dagrad", "--data", "good.csv"}, {"t_negative.dagrad", "t = -1"}));
  return rows;
}

// A1-A3: a resumed model goes on with the settings that chose its training
// stream (seed, batch size, dev split, the features' scaling); a total it
// has reached trains nothing.
// m.dagrad: 3 full-batch updates on every sample of good.csv.
std::vector<Row> resume_setting_rows() {
  auto row = [](std::string what, std::vector<std::string> extra, std::vector<std::string> expect) {
    std::vector<std::string> args{"train", "--resume", "m.dagrad", "--data", "good.csv", "--save", "out.dagrad"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Row("train --resume: " + what, args, expect, "out.dagrad");
  };
  return {
      row("--iters a total already reached", {"--iters", "3"}, {"--iters 3", "m.dagrad", "already made 3 updates"}),
      row("--epochs below the epochs done", {"--epochs", "2"}, {"--epochs 2", "already completed 3 epochs"}),
      row("--batch-size on a full-batch model", {"--iters", "6", "--batch-size", "4"},
          {"--batch-size 4", "full batch", "m.dagrad"}),
      row("--dev-ratio on a model trained on every sample", {"--iters", "6", "--dev-ratio", "0.5"},
          {"--dev-ratio 0.5", "every sample", "m.dagrad"}),
      row("--scale on a model trained with the default scaling", {"--iters", "6", "--scale", "255"},
          {"--scale 255", "default scaling", "m.dagrad"}),
      row("--no-scale on a model trained with the default scaling", {"--iters", "6", "--no-scale"},
          {"--no-scale", "default scaling", "m.dagrad"}),
  };
}

// B8: a user's node named as dagrad names its own (the normalization's
// arrays, a gradient, the optimizer's state) is refused at once.
std::vector<Row> reserved_name_rows() {
  auto row = [](std::string what, std::string graph, std::vector<std::string> extra, std::vector<std::string> expect) {
    std::vector<std::string> args{"train", "--graph", graph, "--data", "good.csv", "--iters", "5", "--save", "out.dagrad"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Row("train: " + what, args, expect, "out.dagrad");
  };
  return {
      row("a parameter named norm_mu with --normalize", "named_norm_mu.json", {"--normalize"}, {"norm_mu", "reserved"}),
      row("a parameter named norm_mu", "named_norm_mu.json", {}, {"norm_mu", "reserved"}),
      row("a parameter named dW1 beside W1", "named_dW1.json", {}, {"'dW1'", "gradient of W1", "rename"}),
      row("a parameter named alpha", "named_alpha.json", {}, {"'alpha'", "rename"}),
      row("a parameter named t with adam", "named_t.json", {"--optimizer", "adam"}, {"'t'", "rename"}),
  };
}

// B10: labels of another shape than the output are refused, not broadcast.
std::vector<Row> label_shape_rows() {
  const std::vector<std::string> expect{"good.csv", "(1x8)", "(3xm)", "--output softmax", "--output linear"};
  return {
      train_row("one label column for 3 sigmoid units", {"--layers", "3,4,3", "--save", "out.dagrad"}, expect, "out.dagrad"),
      train_row("one label column for 3 linear outputs", {"--layers", "3,4,3", "--output", "linear", "--save", "out.dagrad"},
                expect, "out.dagrad"),
      train_row("one label column for 3 sigmoid units, mini-batches",
                {"--layers", "3,4,3", "--batch-size", "4", "--epochs", "2", "--save", "out.dagrad"}, expect, "out.dagrad"),
      Row("eval: one label column for 3 sigmoid units",
          {"eval", "--layers", "3,4,3", "--params", "arch343.npz", "--data", "good.csv"}, expect),
  };
}

// ---- issue 19, part B: the hostile run's classes (B1, B3, B5, B6, B9, B11, B12)

// An .h5 whose x (8 x 3) is made by `make_x` (external storage, a link, a
// virtual dataset) and whose y is an ordinary dataset. Nothing is written
// through x, so no file outside `file`'s folder is ever touched.
void write_h5_with_x(const std::filesystem::path& file, const std::function<void(hid_t f, hid_t space)>& make_x) {
  const io::NamedArrays xy = xy_arrays();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t f = H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hsize_t xdims[2] = {8, 3}, ydims[1] = {8};
  const hid_t xs = H5Screate_simple(2, xdims, nullptr), ys = H5Screate_simple(1, ydims, nullptr);
  make_x(f, xs);
  const hid_t y = H5Dcreate2(f, "y", H5T_IEEE_F64LE, ys, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(y, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xy[1].second.values.data());
  H5Dclose(y);
  for (hid_t sp : {xs, ys}) H5Sclose(sp);
  REQUIRE(H5Fclose(f) >= 0);
}

// x's values in the external raw file `raw`, a name as the file stores it.
void h5_external(const std::filesystem::path& file, const std::string& raw) {
  write_h5_with_x(file, [&](hid_t f, hid_t space) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_external(dcpl, raw.c_str(), 0, 8 * 3 * sizeof(double));
    const hid_t x = H5Dcreate2(f, "x", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(x >= 0);
    H5Dclose(x);
    H5Pclose(dcpl);
  });
}

// The files of issue 19's rows. The model files come from the CLI itself.
void make_issue19b_files(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::string features;  // good.csv without its label column
  for (const std::string& line : robustness::lines_of(csv_text())) features += line.substr(0, line.rfind(',')) + "\n";
  put_text(dir / "feat.csv", features);
  const auto ran = [&](std::vector<std::string> args) {
    const robustness::CliResult r = robustness::run_cli(dir, args);
    INFO("making a file: dagrad " << fmt::format("{}", fmt::join(args, " ")) << "\n" << r.err);
    REQUIRE(r.exit_code == 0);
  };
  ran({"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "--print-every", "0", "--save", "model.dagrad"});
  ran({"export", "--model", "model.dagrad", "-o", "model.onnx"});
  // B1: FIFOs with no reader, one per output kind.
  for (const char* name : {"fifo_out.csv", "fifo_out.npz", "fifo_out.dagrad", "fifo_out.dot", "fifo_out.svg",
                           "fifo_out.onnx", "fifo_in.dagrad", "fifo_in.onnx"})
    REQUIRE(::mkfifo((dir / name).c_str(), 0644) == 0);
  // B3: other spellings of the inputs.
  fs::create_hard_link(dir / "feat.csv", dir / "feat_hard.csv");
  fs::create_symlink("model.dagrad", dir / "link_model.dagrad");
  fs::create_symlink("model.dagrad", dir / "model_as.onnx");
  fs::create_hard_link(dir / "model.dagrad", dir / "model_hard.onnx");
  fs::create_symlink("model.onnx", dir / "onnx_as.dagrad");
  fs::create_hard_link(dir / "model.onnx", dir / "onnx_hard.dagrad");
  // B5: a parameter name with an escape sequence in a graph file.
  put_text(dir / "ctl_name.json", graph_with([](Json& nodes) {
             for (auto& n : nodes)
               if (n.value("name", "") == "W1") n["name"] = "W\x1b[31m1";
           }));
  // B9: damaged first lines.
  put_text(dir / "bom2.csv", "\xEF\xBB\xBF\xEF\xBB\xBF" + csv_text());
  put_text(dir / "nul1.csv", std::string("x1,x2\0,x3,y\n", 12) + csv_text());
  put_text(dir / "esc1.csv", "x1,\x1b[31mx2,x3,y\n" + csv_text());
  std::string letter = csv_text();
  letter.replace(letter.find(','), 1, ",a");  // the first line's second field gets a letter
  put_text(dir / "letter1.csv", letter);
  std::string nul3 = features;
  nul3.insert(nul3.find('\n', nul3.find('\n', nul3.find('\n') + 1) + 1) - 1, std::string("\0", 1));
  put_text(dir / "nul3.csv", nul3);
  put_text(dir / "lab_esc.csv", "\x1b\n0\n1\n0\n1\n0\n1\n0\n1\n");
  put_text(dir / "lab_nul.csv", std::string("0\n1\n0\n1\0\n0\n1\n0\n1\n", 17));
  // B11: reads outside the named files.
  put_text(dir / "ext_raw.raw", std::string(8 * 3 * sizeof(double), '\0'));
  h5_external(dir / "ext_raw.h5", (dir / "ext_raw.raw").string());
  fs::create_directory(dir / "sub");
  h5_external(dir / "sub" / "ext_rel.h5", "../ext_raw.raw");
  write_h5_with_x(dir / "elink.h5", [](hid_t f, hid_t) {
    REQUIRE(H5Lcreate_external("good.h5", "/x", f, "x", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  });
  write_h5_with_x(dir / "soft_elink.h5", [](hid_t f, hid_t) {
    const hid_t g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(H5Lcreate_external("good.h5", "/x", g, "hidden", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Gclose(g);
    REQUIRE(H5Lcreate_soft("/g/hidden", f, "x", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  });
  write_h5_with_x(dir / "vds.h5", [](hid_t f, hid_t space) {
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    REQUIRE(H5Pset_virtual(dcpl, space, "good.h5", "/x", space) >= 0);
    const hid_t x = H5Dcreate2(f, "x", H5T_IEEE_F64LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    REQUIRE(x >= 0);
    H5Dclose(x);
    H5Pclose(dcpl);
  });
  // B12: a model file whose model.json lost its "version" (the zip is
  // rewritten whole, so its CRCs are right), a 400-digit field, huge costs.
  io::ZipArchive model = io::read_zip_bytes(file_bytes(dir / "model.dagrad"), "model.dagrad");
  for (io::ZipEntry& e : model.entries)
    if (e.name == "model.json") {
      Json meta = Json::parse(std::string(e.data.begin(), e.data.end()));
      meta.erase("version");
      const std::string text = meta.dump();
      e.data.assign(text.begin(), text.end());
    }
  {  // the file's own integrity record (tag, version, checksum) recomputed
    std::istringstream comment(model.comment);
    std::string tag;
    int version = 0;
    comment >> tag >> version;
    put_bytes(dir / "nover.dagrad", io::write_checked_zip(model, tag, version));
  }
  put_text(dir / "longnum.csv", csv_text() + "1" + std::string(400, '0') + ",0.5,0.3,1\n");
  std::string long_json = small_graph_json().dump(2);
  long_json.replace(long_json.find("\"id\": 0"), 8, "\"id\": 1" + std::string(400, '0'));
  put_text(dir / "longnum.json", long_json);
  std::string big;
  for (int i = 0; i < 8; ++i) big += fmt::format("1e100,{}e100,-1e100,{}\n", i + 1, i % 2);
  put_text(dir / "big100.csv", big);
}

// `args` plus the flags that make it a complete run of its command.
Row r19(std::string what, std::vector<std::string> args, std::vector<std::string> expect) {
  const std::string cmd = args.at(0);
  return Row(cmd + ": " + what, std::move(args), std::move(expect));
}

const std::vector<std::string> predict_base{"predict", "--model", "model.dagrad", "--data", "feat.csv"};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& extra) {
  base.insert(base.end(), extra.begin(), extra.end());
  return base;
}

// B1: every output path of every command, a FIFO with no reader: refused at
// once, naming the flag and the path, instead of a hang after the work.
std::vector<Row> fifo_output_rows() {
  const std::vector<std::string> train{"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5",
                                       "--print-every", "0"};
  return {
      r19("-o a FIFO with no reader", with(predict_base, {"-o", "fifo_out.csv"}), {"-o", "fifo_out.csv", "no reader"}),
      r19("--save .npz a FIFO with no reader", with(train, {"--save", "fifo_out.npz"}), {"--save", "fifo_out.npz", "no reader"}),
      r19("--save .dagrad a FIFO with no reader", with(train, {"--save", "fifo_out.dagrad"}),
          {"--save", "fifo_out.dagrad", "no reader"}),
      r19("--cost-log a FIFO with no reader", with(train, {"--cost-log", "fifo_out.csv"}),
          {"--cost-log", "fifo_out.csv", "no reader"}),
      r19("--plot a FIFO with no reader", with(train, {"--plot", "fifo_out.svg"}), {"--plot", "fifo_out.svg", "no reader"}),
      r19("-o .dot a FIFO with no reader", {"dot", "--layers", "3,2,1", "-o", "fifo_out.dot"}, {"-o", "fifo_out.dot", "no reader"}),
      r19("-o .svg (Graphviz) a FIFO with no reader", {"dot", "--layers", "3,2,1", "-o", "fifo_out.svg"},
          {"-o", "fifo_out.svg", "no reader"}),
      r19("-o a FIFO with no reader", {"import", "model.onnx", "-o", "fifo_out.dagrad"}, {"-o", "fifo_out.dagrad", "no reader"}),
      r19("-o a FIFO with no reader", {"export", "--model", "model.dagrad", "-o", "fifo_out.onnx"},
          {"-o", "fifo_out.onnx", "no reader"}),
      r19("-o a FIFO with no reader", {"generate", "planar", "--m", "10", "-o", "fifo_out.csv"}, {"-o", "fifo_out.csv", "no reader"}),
      r19("--dump a FIFO with no reader", {"gradcheck", "--layers", "3,2,1", "--dump", "fifo_out.npz"},
          {"--dump", "fifo_out.npz", "no reader"}),
      // Inputs that are FIFOs are refused too, before any read could wait.
      r19("--model a FIFO", {"predict", "--model", "fifo_in.dagrad", "--data", "feat.csv", "-o", "p.csv"}, {"fifo_in.dagrad", "FIFO"}),
      r19("an ONNX file that is a FIFO", {"import", "fifo_in.onnx", "-o", "i.dagrad"}, {"fifo_in.onnx", "FIFO"}),
  };
}

// B3: an output that is one of the command's inputs, however it is spelled.
std::vector<Row> output_is_input_rows() {
  std::vector<Row> rows{
      r19("-o the --data file", with(predict_base, {"-o", "feat.csv"}), {"-o", "--data", "same file"}),
      r19("-o the --model file", with(predict_base, {"-o", "model.dagrad"}), {"-o", "--model", "same file"}),
      r19("-o ./ the --data file", with(predict_base, {"-o", "./feat.csv"}), {"-o", "--data", "same file"}),
      r19("-o dir/../ the --data file", with(predict_base, {"-o", "adir/../feat.csv"}), {"-o", "--data", "same file"}),
      r19("-o a hard link to the --data file", with(predict_base, {"-o", "feat_hard.csv"}), {"-o", "--data", "same file"}),
      r19("-o a symlink to the --model file", with(predict_base, {"-o", "link_model.dagrad"}), {"-o", "--model", "same file"}),
      r19("-o a symlink to the --model file", {"export", "--model", "model.dagrad", "-o", "model_as.onnx"},
          {"-o", "--model", "same file"}),
      r19("-o a hard link to the --model file", {"export", "--model", "model.dagrad", "-o", "model_hard.onnx"},
          {"-o", "--model", "same file"}),
      r19("-o a symlink to the ONNX file", {"import", "model.onnx", "-o", "onnx_as.dagrad"}, {"-o", "ONNX file", "same file"}),
      r19("-o a hard link to the ONNX file", {"import", "./model.onnx", "-o", "onnx_hard.dagrad"},
          {"-o", "ONNX file", "same file"}),
      r19("--dump ./ the --data file", {"gradcheck", "--layers", "3,2,1", "--data", "good.csv", "--dump", "./good.csv"},
          {"--dump", "--data", "same file"}),
  };
  for (Row& r : rows) r.guard({"feat.csv", "model.dagrad", "model.onnx", "good.csv"});
  return rows;
}

// B5: a name that could not be written into a model file is refused where
// it enters (any printable UTF-8 name round-trips: see the test case below).
std::vector<Row> name_rows() {
  return {
      r19("a node name with an escape sequence", {"train", "--graph", "ctl_name.json", "--iters", "2", "--data", "good.csv"},
          {"ctl_name.json", "name", "printable"}),
      r19("a node name with an escape sequence", {"gradcheck", "--graph", "ctl_name.json"}, {"ctl_name.json", "name", "printable"}),
      r19("a node name with an escape sequence", {"dot", "--graph", "ctl_name.json", "-o", "n.dot"},
          {"ctl_name.json", "name", "printable"}),
  };
}

// B9: a first line that is neither a header nor data, and NUL bytes anywhere.
std::vector<Row> first_line_rows() {
  const auto t = [](std::string what, std::string data, std::vector<std::string> expect) {
    return r19(std::move(what), {"train", "--layers", "3,2,1", "--iters", "5", "--data", data}, std::move(expect));
  };
  const auto p = [](std::string what, std::string data, std::vector<std::string> expect) {
    return r19(std::move(what), {"predict", "--model", "model.dagrad", "--data", data, "-o", "p.csv"}, std::move(expect));
  };
  return {
      t("two byte-order marks", "bom2.csv", {"bom2.csv:1", "byte-order mark"}),
      p("two byte-order marks", "bom2.csv", {"bom2.csv:1", "byte-order mark"}),
      t("a NUL in the header", "nul1.csv", {"nul1.csv:1", "NUL"}),
      p("a NUL in the header", "nul1.csv", {"nul1.csv:1", "NUL"}),
      p("a NUL in line 3", "nul3.csv", {"nul3.csv:3", "NUL"}),
      t("an escape byte in the header", "esc1.csv", {"esc1.csv:1", "0x1b"}),
      t("one letter in the first data line", "letter1.csv", {"letter1.csv:1", "neither a header"}),
      p("one letter in the first data line", "letter1.csv", {"letter1.csv:1", "neither a header"}),
      r19("an escape byte as the label file's header",
          {"train", "--layers", "4,2,1", "--iters", "5", "--data", "good.csv", "--labels", "lab_esc.csv"},
          {"lab_esc.csv:1", "0x1b"}),
      r19("a NUL in the label file",
          {"train", "--layers", "4,2,1", "--iters", "5", "--data", "good.csv", "--labels", "lab_nul.csv"},
          {"lab_nul.csv:4", "NUL"}),
  };
}

// B11: an .h5 that makes libhdf5 open other files.
std::vector<Row> outside_read_rows() {
  const auto t = [](std::string what, std::string data, std::vector<std::string> expect) {
    return r19(std::move(what), {"train", "--layers", "3,2,1", "--iters", "5", "--data", data}, std::move(expect));
  };
  return {
      t("an .h5 dataset stored in an external raw file", "ext_raw.h5", {"ext_raw.h5", "'x'", "external file"}),
      t("an .h5 dataset stored in ../ (external raw file)", "sub/ext_rel.h5", {"ext_rel.h5", "'x'", "../ext_raw.raw"}),
      t("an external link", "elink.h5", {"elink.h5", "'x'", "external link", "good.h5"}),
      t("a soft link to an external link", "soft_elink.h5", {"soft_elink.h5", "'x'", "external link", "good.h5"}),
      t("a virtual dataset", "vds.h5", {"vds.h5", "'x'", "virtual"}),
      r19("an .h5 dataset stored in an external raw file",
          {"predict", "--model", "model.dagrad", "--data", "ext_raw.h5", "-o", "p.csv"}, {"ext_raw.h5", "'x'", "external file"}),
      r19("--test: an external link", {"train", "--layers", "3,2,1", "--iters", "5", "--data", "good.h5", "--test", "elink.h5"},
          {"elink.h5", "'x'", "external link"}),
  };
}

// B12: messages a user can read: no library tags, no 300-digit numbers.
std::vector<Row> message_rows() {
  const std::string digits45(45, '9'), digits400 = "1" + std::string(400, '0');
  std::vector<Row> rows{
      r19("model.json without \"version\"", with(predict_base, {"-o", "p.csv"}), {}),
      r19("--layer -1", {"dot", "--layers", "3,2,1", "--layer", "-1"}, {"--layer", "[0, 2147483647]"}),
      r19("--layer past an int", {"dot", "--layers", "3,2,1", "--layer", "99999999999"}, {"--layer", "[0, 2147483647]"}),
      r19("--layer 1e400", {"dot", "--layers", "3,2,1", "--layer", "1e400"}, {"--layer", "whole number"}),
      r19("--layer past the network", {"dot", "--layers", "3,2,1", "--layer", "7"}, {"--layer 7", "no node"}),
      r19("a 45-digit --iters", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", digits45}, {"--iters", "too large"}),
      r19("a 45-digit --seed", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "--seed", digits45},
          {"--seed", "too large"}),
      r19("a 401-digit --lr", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "--lr", digits400},
          {"--lr", "out of the range"}),
      r19("a 401-digit field in the data", {"train", "--layers", "3,2,1", "--data", "longnum.csv", "--iters", "5"},
          {"longnum.csv:9", "out of the range"}),
      r19("a 401-digit number in a graph file", {"dot", "--graph", "longnum.json"}, {"longnum.json"}),
      r19("-o without an extension", {"dot", "--layers", "3,2,1", "-o", "graph"}, {"-o", "'graph'", "no extension"}),
      r19("--plot without an extension", {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "5", "--plot", "cost"},
          {"--plot", "'cost'", "no extension"}),
      r19("a CSV given as --model", {"eval", "--model", "good.csv", "--data", "good.csv"},
          {"good.csv: not a dagrad model file", "starts with"}),
      r19("label 2 with one sigmoid unit", {"train", "--layers", "3,2,1", "--data", "labels2.csv", "--iters", "5"},
          {"labels2.csv", "is 2", "--output softmax"}),
      r19("a real-valued label with one sigmoid unit", {"train", "--layers", "3,2,1", "--data", "feature_last.csv", "--iters", "5"},
          {"feature_last.csv", "--output linear"}),
  };
  rows[0].args[2] = "nover.dagrad";
  rows[0].expect = {"nover.dagrad", "version"};
  // Costs near 1e196 are printed every iteration before the run diverges:
  // the verdict checks stdout for 40-digit numbers too.
  rows.push_back(r19("costs of 1e196 printed", {"train", "--layers", "3,1", "--output", "linear", "--data", "big100.csv",
                                                "--iters", "50", "--print-every", "1"},
                     {"iteration"})
                     .exits(1));
  return rows;
}

std::vector<Row> hostile_rows() {
  std::vector<Row> rows;
  const std::pair<const char*, std::vector<Row>> parts[] = {
      {"crashes", crash_rows()},        {"hangs", hang_rows()},           {"lost data", lost_data_rows()},
      {"bad values", bad_value_rows()}, {"CSV as written", csv_rows()},   {"CLI usage", usage_rows()},
      {"library misuse", misuse_rows()},
      {"issue 19: ranks that disagree under mpirun", rank_rows()},
      {"issue 19: --checkpoint-every and divergence", divergence_rows()},
      {"issue 19: a model file that contradicts itself", contradiction_rows()},
      {"issue 19: reserved names", reserved_name_rows()},
      {"issue 19: settings a model file holds", resume_setting_rows()},
      {"issue 19: labels of another shape than the output", label_shape_rows()},
      // issue 19, part B: one family per class
      {"issue 19: a FIFO output with no reader", fifo_output_rows()},
      {"issue 19: an output that is an input", output_is_input_rows()},
      {"issue 19: names a model file cannot hold", name_rows()},
      {"issue 19: the first line of a CSV", first_line_rows()},
      {"issue 19: reads outside the named files", outside_read_rows()},
      {"issue 19: messages", message_rows()}};
  for (const auto& [kind, part] : parts)
    for (Row r : part) {
      r.kind = kind;
      rows.push_back(std::move(r));
    }
  return rows;
}

std::vector<Row> all_rows() {
  std::vector<Row> rows = hostile_rows();
  const std::size_t hostile = rows.size();
  for (auto& part : {train_rows(), gradcheck_rows(), eval_rows(), graph_command_rows("dot", true), graph_command_rows("explain", false)})
    rows.insert(rows.end(), part.begin(), part.end());
  rows.push_back({"generate: unwritable output", {"generate", "planar", "--m", "10", "-o", "notadir/d.csv"}, {"notadir/d.csv"}, ""});
  rows.push_back({"generate: --m 0", {"generate", "planar", "--m", "0", "-o", "out.csv"}, {"--m"}, "out.csv"});
  rows.push_back(unknown_flag_row("generate", {"planar", "-o", "out.csv"}));
  rows.back().output = "out.csv";
  for (const char* cmd : {"bench", "plan"}) rows.push_back(unknown_flag_row(cmd, {"--layers", "3,2,1"}));
  const std::vector<std::pair<std::vector<std::string>, std::string>> bench_flags{
      {{"--warmup", "-5", "--steps", "3"}, "--warmup"}, {{"--steps", "0"}, "--steps"},
      {{"--steps", "-2"}, "--steps"}, {{"--m", "0"}, "--m"}, {{"--gemm", "mkl"}, "--gemm"},
      {{"--batch-size", "16"}, "--samples"}, {{"--samples", "100"}, "--batch-size"},
      {{"--batch-size", "0", "--samples", "100"}, "--batch-size"}, {{"--optimizer", "sgd"}, "--optimizer"}};
  for (const auto& [flags, name] : bench_flags) {
    std::vector<std::string> args{"bench", "--layers", "2,4,1"};
    args.insert(args.end(), flags.begin(), flags.end());
    rows.push_back({"bench: " + fmt::format("{}", fmt::join(flags, " ")), args, {name}, ""});
  }
  rows.push_back({"plan: --gemm mkl", {"plan", "--layers", "3,2,1", "--gemm", "mkl"}, {"--gemm"}, ""});
  for (std::size_t k = hostile; k < rows.size(); ++k) rows[k].kind = "issue 6: bad files, values and paths";
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
    const bool usage_row = row.args.empty() || row.args[0].starts_with("-") || row.args[0] == "tarin";
    if (!usage_row && !have.count(row.args[0])) {
      FAIL_CHECK("subcommand '" << row.args[0] << "' is not in the binary yet");
      continue;
    }
    if (!row.output.empty()) put_text(dir / row.output, precious);
    std::map<std::string, std::string> before;
    for (const std::string& f : row.guarded)
      if (std::filesystem::is_regular_file(dir / f)) before[f] = robustness::slurp(dir / f);
      else if (!std::filesystem::exists(dir / f)) put_text(dir / f, precious), before[f] = precious;
    const robustness::CliResult r = robustness::run_cli(dir.path(), row.args, row.limits);
    INFO("stderr: " << r.err);
    CHECK(verdict(r, row) == "");
    if (!row.output.empty()) CHECK(robustness::slurp(dir / row.output) == precious);
    for (const auto& [f, bytes] : before) {
      INFO("guarded file " << f);
      CHECK(robustness::slurp(dir / f) == bytes);
    }
    CHECK(io::test::temp_files_in(dir.path()) == 0);
    CHECK_FALSE(std::filesystem::exists(dir / "cost.jpg"));
    CHECK_FALSE(std::filesystem::exists(dir / "b.svg"));
  }
}

TEST_CASE("catalogue: a signal during training leaves no temp file and every earlier file whole",
          "[robustness]") {
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << sig);
    io::test::TempDir dir;
    put_text(dir / "good.csv", csv_text());
    for (const char* f : {"out.npz", "log.csv"}) put_text(dir / f, precious);
    robustness::CliProcess p(dir.path(), {"train", "--layers", "3,64,64,1", "--data", "good.csv", "--iters", "5000000",
                                          "--print-every", "0", "--save", "out.npz", "--cost-log", "log.csv", "--plot",
                                          "cost.svg"});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    int status = 0;
    REQUIRE(::waitpid(p.pid(), &status, WNOHANG) == 0);  // still training
    ::kill(p.pid(), sig);
    const robustness::CliResult r = p.wait();
    INFO("stderr: " << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.signal == sig);
    for (const char* f : {"out.npz", "log.csv"}) CHECK(robustness::slurp(dir / f) == precious);
    CHECK_FALSE(std::filesystem::exists(dir / "cost.svg"));
    CHECK(io::test::temp_files_in(dir.path()) == 0);
  }
}

TEST_CASE("catalogue: --help shows every flag's default, range and what is required", "[robustness]") {
  io::test::TempDir dir;
  const robustness::CliResult train = robustness::run_cli(dir.path(), {"train", "--help"});
  CHECK(train.exit_code == 0);
  CHECK(train.out.find("--lr FLOAT:(0, inf)=0.0075") != std::string::npos);
  CHECK(train.out.find("--data TEXT REQUIRED") != std::string::npos);
  CHECK(train.out.find("Required: --iters or --epochs") != std::string::npos);
  CHECK(train.out.find("--test-labels TEXT Needs: --test") != std::string::npos);
  // Every numeric flag of every command states its range, so none is
  // checked for finiteness alone: a new flag without a row in cli/flags.cpp's
  // table fails here, named.
  for (const std::string& cmd : robustness::cli_commands(dir.path())) {
    const robustness::CliResult help = robustness::run_cli(dir.path(), {cmd, "--help"});
    CHECK(help.exit_code == 0);
    for (const std::string& line : robustness::lines_of(help.out)) {
      const std::regex numeric(R"(^\s+(--?[a-z0-9-]+)\S* (INT|UINT|FLOAT)(\S*))");
      std::smatch m;
      if (!std::regex_search(line, m, numeric)) continue;
      INFO(cmd << " " << m[1] << ": " << line);
      CHECK(m[3].str().starts_with(":"));
    }
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

// A library row: the call throws `type`, with one line holding every
// expected fragment.
void check_library_row(const LibRow& row) {
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

}  // namespace

TEST_CASE("catalogue: the library refuses each bad input with the right exception and message",
          "[robustness]") {
  io::test::TempDir dir;
  make_files(dir.path());
  for (const LibRow& row : library_rows(dir.path())) check_library_row(row);
}

// ---------------------------------------------------------------- issue 19, part B

namespace {

// The pids whose parent is `parent` (from /proc/<pid>/stat).
// /proc/<pid>/stat, or "" when the process is gone: a process that exits
// while its file is read makes the read fail (ESRCH), which libstdc++'s
// filebuf reports by throwing.
std::string proc_stat(const std::filesystem::path& dir) {
  try {
    return robustness::slurp(dir / "stat");
  } catch (const std::exception&) {
    return "";
  }
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const std::string stat = proc_stat(e.path());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    char state = 0;
    pid_t ppid = 0;
    if (rest >> state >> ppid && ppid == parent) out.push_back(std::stoi(name));
  }
  return out;
}

// Gone, or a zombie nobody reaped: either way it writes nothing more.
bool process_ended(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  const std::string stat = proc_stat("/proc/" + std::to_string(pid));
  const auto close = stat.rfind(')');
  return close == std::string::npos || stat.compare(close + 2, 1, "Z") == 0;
}

struct SignalRow {
  std::string what, output;
  int sig;
};

std::vector<SignalRow> signal_rows() {
  std::vector<SignalRow> rows;
  for (const char* out : {"g.png", "g.svg"})
    for (const auto& [sig, name] :
         {std::pair{SIGINT, "SIGINT"}, std::pair{SIGTERM, "SIGTERM"}, std::pair{SIGHUP, "SIGHUP"}})
      rows.push_back({fmt::format("dot -o {}: {} while Graphviz renders", out, name), out, sig});
  return rows;
}

}  // namespace

// B6: Graphviz outlived dagrad and wrote g.png.tmp-* after dagrad had
// removed its temp files. The signal comes while the child runs (seen in
// /proc), the moment the hostile run found.
TEST_CASE("catalogue: every bad input: a signal while Graphviz renders leaves no temp file and no orphan",
          "[robustness]") {
  // A deep network: Graphviz lays it out for a while.
  std::string layers = "3";
  for (int i = 0; i < 60; ++i) layers += ",4";
  layers += ",1";
  for (const SignalRow& row : signal_rows()) {
    INFO("row: " << row.what);
    io::test::TempDir dir;
    robustness::CliProcess p(dir.path(), {"dot", "--layers", layers, "-o", row.output});
    std::vector<pid_t> kids;
    for (int i = 0; i < 30000 && kids.empty(); ++i) {  // bounded: up to about 30 s for dagrad to start dot
      int status = 0;
      if (::waitpid(p.pid(), &status, WNOHANG) != 0) break;  // it ended before it started a child
      kids = children_of(p.pid());
      if (kids.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(kids.size() == 1);
    ::kill(p.pid(), row.sig);
    const robustness::CliResult r = p.wait();
    INFO("stderr: " << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK(r.signal == row.sig);
    CHECK(process_ended(kids[0]));  // killed and reaped before dagrad ended
    CHECK(io::test::temp_files_in(dir.path()) == 0);
    CHECK_FALSE(std::filesystem::exists(dir / row.output));
  }
}

// B5: any printable UTF-8 name round-trips: a graph file's parameter
// "Poids_é1" through train --save, predict and export; ONNX names through
// import (the exported file's initializers carry the same names).
TEST_CASE("a parameter named in UTF-8 round-trips through the model file, ONNX and back", "[robustness]") {
  io::test::TempDir dir;
  put_text(dir / "good.csv", csv_text());
  std::string features;
  for (const std::string& line : robustness::lines_of(csv_text())) features += line.substr(0, line.rfind(',')) + "\n";
  put_text(dir / "feat.csv", features);
  const std::string w = "Poids_\xc3\xa9" "1", b = "\xc3\xa9" "chelle";
  {
    Graph g(DType::f64);
    auto X = g.input("X", {3, m_dim});
    auto Y = g.input("Y", {1, m_dim});
    auto P = sigmoid(g.param(w, {1, 3}) * X + g.param(b, {1, 1})).named("P");
    binary_cross_entropy(P, Y).named("J");
    put_text(dir / "utf8.json", to_json(g, GraphRoles{"J", {"P"}, {}}));
  }
  const auto run = [&](std::vector<std::string> args) {
    const robustness::CliResult r = robustness::run_cli(dir.path(), args);
    INFO("dagrad " << fmt::format("{}", fmt::join(args, " ")) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 0);
    return r;
  };
  run({"train", "--graph", "utf8.json", "--data", "good.csv", "--iters", "3", "--print-every", "0", "--save", "u.dagrad"});
  run({"train", "--resume", "u.dagrad", "--data", "good.csv", "--iters", "6", "--print-every", "0", "--save", "u.dagrad"});
  run({"predict", "--model", "u.dagrad", "--data", "feat.csv", "-o", "p1.csv"});
  run({"export", "--model", "u.dagrad", "-o", "u.onnx"});
  const robustness::CliResult imported = run({"import", "u.onnx", "-o", "back.dagrad"});
  CHECK(imported.out.find(w) != std::string::npos);
  run({"predict", "--model", "back.dagrad", "--data", "feat.csv", "-o", "p2.csv"});
  // The same model both ways: the same predictions, line for line.
  const auto p1 = robustness::lines_of(robustness::slurp(dir / "p1.csv")),
             p2 = robustness::lines_of(robustness::slurp(dir / "p2.csv"));
  REQUIRE(p1.size() == 8);
  REQUIRE(p2.size() == 8);
  for (std::size_t i = 0; i < 8; ++i) CHECK(std::stod(p1[i]) == Approx(std::stod(p2[i])).epsilon(1e-12));
}

// B9: predict dropped a first line as a header without a word.
TEST_CASE("predict says in one note line when it takes line 1 as a header", "[robustness]") {
  io::test::TempDir dir;
  put_text(dir / "good.csv", csv_text());
  std::string features = "x1,x2,x3\n";
  for (const std::string& line : robustness::lines_of(csv_text())) features += line.substr(0, line.rfind(',')) + "\n";
  put_text(dir / "named.csv", features);
  REQUIRE(robustness::run_cli(dir.path(), {"train", "--layers", "3,2,1", "--data", "good.csv", "--iters", "2", "--print-every",
                                           "0", "--save", "m.dagrad"})
              .exit_code == 0);
  const robustness::CliResult r = robustness::run_cli(dir.path(), {"predict", "--model", "m.dagrad", "--data", "named.csv", "-o", "p.csv"});
  CHECK(r.exit_code == 0);
  const auto err = robustness::lines_of(r.err);
  REQUIRE(err.size() == 1);
  CHECK(err[0] == "dagrad: note: named.csv: line 1 is a header (x1, x2, x3); skipped");
  CHECK(robustness::lines_of(robustness::slurp(dir / "p.csv")).size() == 8);
}

namespace {

std::vector<LibRow> issue19_library_rows(const std::filesystem::path& dir) {
  const auto shard = [](int part, int parts) {
    io::LoadOptions o;
    o.shard = {part, parts};
    return o;
  };
  return {
      {"more processes than samples (a CSV part)", [&, shard] { io::load_dataset(dir / "two.csv", shard(0, 3)); }, "InputError",
       {"two.csv", "2 samples for 3 processes", "mpirun -np 2"}},
      {"more processes than samples (an .npz)", [&, shard] { io::load_dataset(dir / "good.npz", shard(9, 10)); }, "InputError",
       {"good.npz", "8 samples for 10 processes"}},
      {"more processes than samples (shard_of)", [&] { io::shard_of(io::load_dataset(dir / "two.csv"), 0, 5); }, "InputError",
       {"two.csv", "2 samples for 5 processes"}},
      {"an .h5 dataset in an external raw file", [&] { io::load_dataset(dir / "ext_raw.h5"); }, "InputError",
       {"ext_raw.h5", "'x'", "external file"}},
      {"an .h5 external link (part of a file)", [&, shard] { io::load_dataset(dir / "elink.h5", shard(0, 2)); }, "InputError",
       {"elink.h5", "'x'", "external link"}},
      {"an .h5 virtual dataset", [&] { io::read_h5(dir / "vds.h5"); }, "InputError", {"vds.h5", "'x'", "virtual"}},
  };
}

}  // namespace

TEST_CASE("catalogue: the library refuses issue 19's inputs with one line naming the thing", "[robustness]") {
  io::test::TempDir dir;
  make_files(dir.path());
  put_text(dir / "two.csv", "0.1,0.2,0.3,0\n0.4,0.5,0.6,1\n");
  for (const LibRow& row : issue19_library_rows(dir.path())) check_library_row(row);
}

// scripts/reliability.py counts the rows per class for docs/reliability.md:
// a hidden test case (run only when named by its tag) prints
// "row<TAB>class<TAB>what" for each row of every table above and runs none.
// The tests themselves never skip their checks.
TEST_CASE("catalogue: list the rows of every table", "[.][catalogue_rows]") {
  io::test::TempDir dir;
  std::vector<std::pair<std::string, std::string>> listed;
  for (const Row& row : all_rows()) listed.emplace_back(row.kind, row.what);
  for (const LibRow& row : library_rows(dir.path())) listed.emplace_back("issue 6: library calls", row.what);
  for (const SignalRow& row : signal_rows()) listed.emplace_back("issue 19: a signal while a child renders", row.what);
  for (const LibRow& row : issue19_library_rows(dir.path())) listed.emplace_back("issue 19: library calls", row.what);
  for (const auto& [kind, what] : listed) {
    CHECK_FALSE(kind.empty());
    CHECK_FALSE(what.empty());
    std::printf("row\t%s\t%s\n", kind.c_str(), what.c_str());
  }
  CHECK(listed.size() > 100);
}
