// The storage of a Graph's nodes, in id order. Internal to graph/, not part
// of the API; graph/graph.hpp holds one by value so that Graph::node, called
// hundreds of thousands of times while a deep net compiles, inlines. The
// edges and the views Boost.Graph walks are in graph/edges.hpp.

#pragma once

#include <bit>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "dagrad/graph/node.hpp"

namespace dagrad::detail {

// The nodes, indexed by NodeId, in segments that never move: 16 nodes, 16,
// 32, ..., 256, then 512 at a time. A growing graph allocates one segment at
// a time instead of copying itself into twice the memory (on a VM, first
// touching a page costs more than the copy), a small graph takes little,
// and segments of 80 KB come from the heap, where a dropped graph's memory
// serves the next one (larger blocks are mapped and unmapped each time).
class NodeStore {
 public:
  NodeStore() = default;
  NodeStore(const NodeStore& o) {
    for (std::size_t i = 0; i < o.size_; ++i) push_back(Node(o[i]));
  }
  NodeStore(NodeStore&& o) noexcept
      : segments_(std::exchange(o.segments_, {})), size_(std::exchange(o.size_, 0)) {}
  NodeStore& operator=(const NodeStore&) = delete;
  NodeStore& operator=(NodeStore&& o) noexcept {
    if (this != &o) {
      clear();
      segments_ = std::exchange(o.segments_, {});
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~NodeStore() { clear(); }

  std::size_t size() const { return size_; }
  const Node& operator[](std::size_t i) const {
    const std::size_t s = segment(i);
    return segments_[s][i - start(s)];
  }
  Node& operator[](std::size_t i) {
    const std::size_t s = segment(i);
    return segments_[s][i - start(s)];
  }
  void push_back(Node&& n) {  // moved once, into its slot
    const std::size_t s = segment(size_);
    if (s == segments_.size()) segments_.push_back(std::allocator<Node>().allocate(capacity(s)));
    new (segments_[s] + (size_ - start(s))) Node(std::move(n));
    ++size_;
  }

 private:
  // Segments 0-5 hold [0, 16), [16, 32), ..., [256, 512); segment s > 5
  // holds [512 (s - 5), 512 (s - 4)).
  static std::size_t segment(std::size_t i) {
    return i < 512 ? static_cast<std::size_t>(std::bit_width(i >> 4)) : 5 + (i >> 9);
  }
  static std::size_t start(std::size_t s) {
    return s == 0 ? 0 : s <= 5 ? std::size_t{16} << (s - 1) : (s - 5) << 9;
  }
  static std::size_t capacity(std::size_t s) {
    return s == 0 ? 16 : s <= 5 ? std::size_t{16} << (s - 1) : 512;
  }
  void clear() {
    for (std::size_t i = 0; i < size_; ++i) (*this)[i].~Node();
    for (std::size_t s = 0; s < segments_.size(); ++s)
      std::allocator<Node>().deallocate(segments_[s], capacity(s));
    segments_.clear();
    size_ = 0;
  }
  std::vector<Node*> segments_;
  std::size_t size_ = 0;
};

}  // namespace dagrad::detail
