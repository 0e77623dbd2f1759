// Model files that are whole but say something else: a good file's
// model.json, graph.json or .npy entries edited, then zipped again with
// fresh CRCs and a fresh checksum, so only the meaning is wrong (issue 19,
// B7). Shared by tests/models/model_validate_test.cpp and the catalogue.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dagrad/io/checked_zip.hpp"
#include "dagrad/io/npy.hpp"
#include "dagrad/io/zip.hpp"
#include "dagrad/models/model_file.hpp"

namespace dagrad::test {

using ModelJson = nlohmann::json;

inline io::ZipEntry* zip_entry(io::ZipArchive& a, const std::string& name) {
  for (io::ZipEntry& e : a.entries)
    if (e.name == name) return &e;
  return nullptr;
}

inline ModelJson json_entry(io::ZipArchive& a, const std::string& name) {
  const io::ZipEntry* e = zip_entry(a, name);
  return ModelJson::parse(std::string(e->data.begin(), e->data.end()));
}

inline void put_entry(io::ZipArchive& a, const std::string& name, std::vector<std::uint8_t> bytes) {
  if (io::ZipEntry* e = zip_entry(a, name)) e->data = std::move(bytes);
  else a.entries.push_back({name, std::move(bytes)});
}

inline void put_json(io::ZipArchive& a, const std::string& name, const ModelJson& j) {
  const std::string text = j.dump(1);
  put_entry(a, name, {text.begin(), text.end()});
}

// An f64 array (rows x cols) of `values` as .npy bytes.
inline std::vector<std::uint8_t> npy_of(std::int64_t rows, std::int64_t cols, std::vector<double> values) {
  io::Array arr{{rows, cols}, DType::f64, "<f8", std::move(values)};
  return io::write_npy_bytes(arr);
}

// `good` with model.json edited by `meta` and the archive by `archive`.
inline std::vector<std::uint8_t> edited_model(std::span<const std::uint8_t> good,
                                              const std::function<void(ModelJson&)>& meta,
                                              const std::function<void(io::ZipArchive&)>& archive = {}) {
  io::ZipArchive a = io::read_zip_bytes(good, "good model");
  ModelJson j = json_entry(a, "model.json");
  if (meta) meta(j);
  put_json(a, "model.json", j);
  if (archive) archive(a);
  return io::write_checked_zip(std::move(a), "dagrad-model", models::model_format_version);
}

}  // namespace dagrad::test
