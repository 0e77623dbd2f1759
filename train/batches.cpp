#include "dagrad/train/batches.hpp"

#include <utility>

#include <fmt/format.h>

#include "dagrad/graph/error.hpp"

namespace dagrad::train {

namespace {

// Uniform in [0, n) by rejection, so shuffles are the same with every
// standard library (std::uniform_int_distribution is implementation-defined).
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);
  std::uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % n;
}

}  // namespace

BatchSampler::BatchSampler(std::int64_t m, std::int64_t batch_size, std::uint64_t seed)
    : m_(m), batch_size_(batch_size), seed_(seed) {
  if (m < 1) throw InputError(fmt::format("mini-batches: {} samples, need at least one", m));
  if (batch_size < 1) throw InputError(fmt::format("--batch-size {} must be at least 1", batch_size));
  order_.resize(static_cast<std::size_t>(m));
  for (std::int64_t i = 0; i < m; ++i) order_[static_cast<std::size_t>(i)] = i;
}

void BatchSampler::start_epoch(std::int64_t epoch) {
  // Fisher-Yates over 0..m-1 with a generator seeded by (seed, epoch): a
  // uniform permutation per epoch, the same wherever the epoch is drawn.
  std::seed_seq seq{static_cast<std::uint32_t>(seed_), static_cast<std::uint32_t>(seed_ >> 32),
                    static_cast<std::uint32_t>(epoch), static_cast<std::uint32_t>(epoch >> 32)};
  std::mt19937_64 rng(seq);
  for (std::int64_t i = 0; i < m_; ++i) order_[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = m_ - 1; i > 0; --i)
    std::swap(order_[static_cast<std::size_t>(i)],
              order_[uniform_below(rng, static_cast<std::uint64_t>(i) + 1)]);
}

std::span<const std::int64_t> BatchSampler::batch(std::int64_t k) const {
  const std::int64_t begin = k * batch_size_;
  const std::int64_t end = std::min(begin + batch_size_, m_);
  if (k < 0 || begin >= m_)
    throw InputError(fmt::format("mini-batch {} does not exist ({} per epoch)", k, batches()));
  return std::span<const std::int64_t>(order_).subspan(static_cast<std::size_t>(begin),
                                                       static_cast<std::size_t>(end - begin));
}

BatchSchedule::BatchSchedule(std::int64_t m, std::int64_t batch_size, std::uint64_t model_seed)
    : B_(batch_size <= 0 || batch_size >= m ? m : batch_size), per_epoch_(B_ > 0 ? (m + B_ - 1) / B_ : 1) {
  if (B_ < m) sampler_.emplace(m, B_, shuffle_seed(model_seed));
}

std::span<const std::int64_t> BatchSchedule::batch(std::int64_t step) {
  if (!sampler_) return {};
  const std::int64_t epoch = step / per_epoch_;
  if (epoch != drawn_epoch_) {
    sampler_->start_epoch(epoch);
    drawn_epoch_ = epoch;
  }
  return sampler_->batch(step % per_epoch_);
}

}  // namespace dagrad::train
