#include "dagrad/studio/assets.hpp"

namespace dagrad::studio {

const EmbeddedAsset* find_asset(std::string_view name) {
  for (const EmbeddedAsset& a : embedded_assets())
    if (name == a.name) return &a;
  return nullptr;
}

}  // namespace dagrad::studio
