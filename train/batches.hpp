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

#include <algorithm>
#include <cstdint>
#include <optional>
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

// The seed of the batch shuffle, from the model's seed: a stream of its own,
// apart from the initializer's and dropout's draws, which use the seed itself.
constexpr std::uint64_t shuffle_seed(std::uint64_t model_seed) { return model_seed ^ 0x9e3779b97f4a7c15ull; }

// The batch of every step of a training run over m samples: the whole set
// (batch_size 0 or >= m: full batch) or the shuffled mini-batches of each
// epoch, ceil(m / B) to an epoch, from shuffle_seed(model_seed). train::fit,
// dagrad bench and the studio feed their steps from it, so they draw the same
// batches for the same step.
class BatchSchedule {
 public:
  BatchSchedule(std::int64_t m, std::int64_t batch_size, std::uint64_t model_seed);

  bool full_batch() const { return !sampler_; }
  std::int64_t batch_size() const { return B_; }  // m for the full batch
  std::int64_t per_epoch() const { return per_epoch_; }
  // Step `step`'s sample indices (empty for the full batch). The epoch's
  // permutation is drawn when a step of a new epoch is asked for, so a run
  // resumed mid-epoch draws what an uninterrupted one drew.
  std::span<const std::int64_t> batch(std::int64_t step);

 private:
  std::int64_t B_, per_epoch_;
  std::optional<BatchSampler> sampler_;
  std::int64_t drawn_epoch_ = -1;
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

// The batch's samples as rows: dst (idx.size() x rows), row j = sample
// idx[j] of by_sample (m x rows), one contiguous copy each.
template <class T>
void gather_rows(const T* by_sample, std::int64_t rows, std::span<const std::int64_t> idx, T* dst) {
  for (std::size_t j = 0; j < idx.size(); ++j)
    std::copy_n(by_sample + idx[j] * rows, rows, dst + static_cast<std::int64_t>(j) * rows);
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
