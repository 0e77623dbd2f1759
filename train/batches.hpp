// Shuffled mini-batches without copying the data set: every epoch draws a
// fresh permutation of the sample indices 0..m-1 and cuts it into
// ceil(m / B) batches of B; when B does not divide m the last batch keeps the
// m mod B samples left over (as the notes' random_mini_batches does). A batch
// is gathered column by column into a buffer the caller reuses.
//
// Epoch e's permutation depends on (seed, e) alone, as the notebook reseeds
// numpy with seed + epoch: a run resumed at epoch 21 shuffles as an
// uninterrupted one does, and every process of a data-parallel run draws the
// same permutation.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace dagrad::train {

class BatchSampler {
 public:
  // Throws InputError unless 1 <= batch_size and m >= 1.
  BatchSampler(std::int64_t m, std::int64_t batch_size, std::uint64_t seed);

  // Starts epoch `epoch`: its permutation, drawn in place (no allocation).
  void start_epoch(std::int64_t epoch);
  std::int64_t batches() const { return (m_ + batch_size_ - 1) / batch_size_; }
  std::int64_t batch_size() const { return batch_size_; }
  // The sample indices of batch k of the current epoch.
  std::span<const std::int64_t> batch(std::int64_t k) const;

 private:
  std::int64_t m_, batch_size_;
  std::vector<std::int64_t> order_;
  std::uint64_t seed_;
};

// dst(r, j) = src(r, idx[j]) for a (rows x m) row-major src and a
// (rows x idx.size()) dst: the columns of one mini-batch.
template <class T>
void gather_columns(const T* src, std::int64_t rows, std::int64_t m,
                    std::span<const std::int64_t> idx, T* dst) {
  const auto b = static_cast<std::int64_t>(idx.size());
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = src + r * m;
    T* out = dst + r * b;
    for (std::int64_t j = 0; j < b; ++j) out[j] = row[idx[static_cast<std::size_t>(j)]];
  }
}

// The same batch from the data stored sample by sample (by_sample is
// m x rows: sample s's features at s * rows): each sample is one contiguous
// read, where the columns of a row-major (rows x m) matrix are a cache miss
// per element once the data outgrows the caches.
template <class T>
void gather_samples(const T* by_sample, std::int64_t rows, std::span<const std::int64_t> idx,
                    T* dst) {
  const auto b = static_cast<std::int64_t>(idx.size());
  for (std::int64_t j = 0; j < b; ++j) {
    const T* sample = by_sample + idx[static_cast<std::size_t>(j)] * rows;
    for (std::int64_t r = 0; r < rows; ++r) dst[r * b + j] = sample[r];
  }
}

}  // namespace dagrad::train
