//===- Sources.cpp - Every data source, by the name the recipe calls it ---===//
//
// The runtime's half of a source: its name and open function. The compiler's
// half (arguments, types, defaults, the inputs it fills) is its entry in
// compiler/Frontend/DataSources.cpp, under the same name.
//
//===----------------------------------------------------------------------===//

#include "data/Source.h"

#include <algorithm>

using namespace kiln;
using namespace kiln::data;

namespace kiln::data {
bool openFashionMnist(const SourceRequest &, OpenedSource &, std::string &);
bool openWordLang(const SourceRequest &, OpenedSource &, std::string &);
bool openSynthetic(const SourceRequest &, OpenedSource &, std::string &);
bool openIdx(const SourceRequest &, OpenedSource &, std::string &);
bool openTensors(const SourceRequest &, OpenedSource &, std::string &);
bool openCsv(const SourceRequest &, OpenedSource &, std::string &);
bool openText(const SourceRequest &, OpenedSource &, std::string &);
bool openImages(const SourceRequest &, OpenedSource &, std::string &);
} // namespace kiln::data

const std::vector<SourceEntry> &data::sources() {
  static const std::vector<SourceEntry> entries = {
      {"fashion_mnist", openFashionMnist},
      {"wordlang", openWordLang},
      {"synthetic", openSynthetic},
      {"idx", openIdx},
      {"tensors", openTensors},
      {"csv", openCsv},
      {"text", openText},
      {"images", openImages},
  };
  return entries;
}

const SourceEntry *data::findSource(std::string_view name) {
  const std::vector<SourceEntry> &all = sources();
  auto it = std::find_if(all.begin(), all.end(), [&](const SourceEntry &entry) {
    return name == entry.name;
  });
  return it == all.end() ? nullptr : &*it;
}
