//===- Source.cpp - Fields, in-memory examples and recipe arguments -------===//

#include "data/Source.h"

#include <algorithm>
#include <cassert>
#include <cstring>

using namespace kiln;
using namespace kiln::data;

int64_t Field::numElements() const {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  return count;
}

Examples::~Examples() = default;

namespace {
class NoExamples : public Examples {
public:
  int64_t size() const override { return 0; }
  bool read(int64_t, void *const *, std::string &error) const override {
    error = "the split has no examples";
    return false;
  }
};
} // namespace

std::unique_ptr<Examples> data::noExamples() {
  return std::make_unique<NoExamples>();
}

TensorExamples::TensorExamples(std::vector<io::TensorData> fields)
    : tensors(std::move(fields)) {
  assert(std::all_of(tensors.begin(), tensors.end(),
                     [&](const io::TensorData &tensor) {
                       return !tensor.shape.empty() &&
                              tensor.shape[0] == tensors[0].shape[0];
                     }) &&
         "every field has one entry per example");
}

int64_t TensorExamples::size() const {
  return tensors.empty() ? 0 : tensors.front().shape.front();
}

bool TensorExamples::read(int64_t index, void *const *rows,
                          std::string &) const {
  assert(index >= 0 && index < size() && "an example of the split");
  for (size_t f = 0; f < tensors.size(); ++f) {
    const io::TensorData &tensor = tensors[f];
    size_t bytes = tensor.bytes.size() / tensor.shape.front();
    std::memcpy(rows[f], tensor.bytes.data() + index * bytes, bytes);
  }
  return true;
}

const ArgumentValue &Arguments::find(const std::string &name) const {
  auto it = values.find(name);
  if (it == values.end())
    throw BadArgument("argument '" + name + "' is missing");
  return it->second;
}

namespace {
[[noreturn]] void wrongType(const std::string &name, const char *type) {
  throw BadArgument("argument '" + name + "' is not " + type);
}
} // namespace

bool Arguments::boolean(const std::string &name) const {
  if (const bool *value = std::get_if<bool>(&find(name)))
    return *value;
  wrongType(name, "a boolean");
}

int64_t Arguments::integer(const std::string &name) const {
  if (const int64_t *value = std::get_if<int64_t>(&find(name)))
    return *value;
  wrongType(name, "an integer");
}

double Arguments::real(const std::string &name) const {
  const ArgumentValue &value = find(name);
  if (const double *real = std::get_if<double>(&value))
    return *real;
  if (const int64_t *integer = std::get_if<int64_t>(&value))
    return static_cast<double>(*integer);
  wrongType(name, "a number");
}

const std::string &Arguments::string(const std::string &name) const {
  if (const std::string *value =
          std::get_if<std::string>(&find(name)))
    return *value;
  wrongType(name, "a string");
}

std::vector<double> Arguments::reals(const std::string &name) const {
  const ArgumentValue &value = find(name);
  if (const auto *list = std::get_if<std::vector<double>>(&value))
    return *list;
  if (const auto *list = std::get_if<std::vector<std::string>>(&value);
      list && list->empty())
    return {};
  wrongType(name, "a list of numbers");
}

std::vector<std::string> Arguments::strings(const std::string &name) const {
  const ArgumentValue &value = find(name);
  if (const auto *list = std::get_if<std::vector<std::string>>(&value))
    return *list;
  if (const auto *list = std::get_if<std::vector<double>>(&value);
      list && list->empty())
    return {};
  wrongType(name, "a list of strings");
}

std::string SourceRequest::resolve(const std::string &path) const {
  if (dataDir.empty() || path.empty() || path.front() == '/')
    return path;
  return dataDir.back() == '/' ? dataDir + path : dataDir + "/" + path;
}
