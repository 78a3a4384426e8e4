//===- CPUTesting.cpp - Runs CPU runtime sites against the reference ------===//

#include "CPUTesting.h"

#include "cpu/Runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include <cmath>
#include <cstring>
#include <sstream>

using namespace kiln::cpu::testing;

namespace {

int64_t elementCount(const Shape &shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

/// The place of element (n, c, p) of an NCHW tensor of `s` in the blocked
/// layout of kiln_runtime.h: (n, c, h, w) at ((n * C/B + c/B) * H * W + h *
/// W + w) * B + c % B, B the runtime's block of channels.
int64_t blockedIndex(const Shape &s, int64_t n, int64_t c, int64_t p) {
  int64_t b = kiln::cpu::blockedChannels(s[1]), hw = s[2] * s[3];
  return ((n * (s[1] / b) + c / b) * hw + p) * b + c % b;
}

} // namespace

Buffer::Buffer(Shape shape)
    : shape(std::move(shape)), count(elementCount(this->shape)),
      storage(64 + 16 + count * sizeof(float)) {
  auto address = reinterpret_cast<uintptr_t>(storage.data());
  offset = (64 - address % 64) % 64 + 16;
  // Unwritten outputs read NaN, which fails every comparison.
  std::fill(data(), data() + count, std::nanf(""));
}

Buffer::Buffer(const Tensor &tensor) : Buffer(tensor.shape) {
  for (int64_t i = 0; i < count; ++i)
    data()[i] = static_cast<float>(tensor.reals[i]);
}

Tensor Buffer::tensor() const {
  return Tensor::real(shape, std::vector<double>(data(), data() + count));
}

std::string kiln::cpu::testing::type(const Shape &shape) {
  std::string text = "tensor<";
  for (int64_t size : shape)
    text += std::to_string(size) + "x";
  return text + "f64>";
}

std::string kiln::cpu::testing::array(const Shape &values) {
  std::string text = "array<i64: ";
  for (size_t i = 0; i < values.size(); ++i)
    text += (i ? ", " : "") + std::to_string(values[i]);
  return text + ">";
}

std::string kiln::cpu::testing::f64(double value) {
  std::ostringstream text;
  text.precision(17);
  text << std::scientific << value << " : f64";
  return text.str();
}

int64_t kiln::cpu::testing::bits(double value) {
  int64_t result;
  std::memcpy(&result, &value, sizeof(result));
  return result;
}

std::string kiln::cpu::testing::function(const Signature &args,
                                         const std::string &body,
                                         const Signature &results) {
  std::string text = "func.func @f(";
  for (size_t i = 0; i < args.size(); ++i)
    text += (i ? ", %" : "%") + args[i].first + ": " + type(args[i].second);
  text += ") -> (";
  std::string names, types;
  for (size_t i = 0; i < results.size(); ++i) {
    names += (i ? ", %" : "%") + results[i].first;
    types += (i ? ", " : "") + type(results[i].second);
  }
  return text + types + ") {\n" + body + "\nreturn " + names + " : " + types +
         "\n}\n";
}

CPUTest::CPUTest()
    : handler(&context, [this](mlir::Diagnostic &diagnostic) {
        messages += diagnostic.str() + "\n";
        return mlir::success();
      }) {
  context.loadDialect<KilnDialect, mlir::func::FuncDialect>();
}

Tensor CPUTest::random(Shape shape, double scale) {
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<double> values(elementCount(shape));
  for (double &value : values)
    value = static_cast<float>(scale * uniform(generator));
  return Tensor::real(std::move(shape), std::move(values));
}

std::vector<kiln::reference::Tensor>
CPUTest::evaluate(const std::string &source, const std::vector<Tensor> &args) {
  auto module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
  EXPECT_TRUE(module) << messages << source;
  if (!module)
    return {};
  auto func = *module->getOps<mlir::func::FuncOp>().begin();
  auto values = reference::evaluate(func, args, reference::Precision::F64);
  EXPECT_TRUE(mlir::succeeded(values)) << messages << source;
  return mlir::succeeded(values) ? *values : std::vector<Tensor>();
}

int64_t CPUTest::create(int32_t kind, const std::vector<int64_t> &config) {
  static int64_t nextSite = 0;
  int64_t site = nextSite++;
  kiln_rt_create(site, kind, static_cast<int32_t>(config.size()),
                 config.data());
  return site;
}

void CPUTest::execute(int64_t site, const std::vector<Buffer *> &args) {
  std::vector<void *> pointers;
  for (Buffer *buffer : args)
    pointers.push_back(buffer->data());
  kiln_rt_execute(site, pointers.data());
}

Buffer kiln::cpu::testing::toBlocked(const Buffer &plain) {
  const Shape &s = plain.getShape();
  Buffer blocked(s);
  int64_t hw = s[2] * s[3];
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t p = 0; p < hw; ++p)
        blocked.data()[blockedIndex(s, n, c, p)] =
            plain.data()[(n * s[1] + c) * hw + p];
  return blocked;
}

Buffer kiln::cpu::testing::fromBlocked(const Buffer &blocked) {
  const Shape &s = blocked.getShape();
  Buffer plain(s);
  int64_t hw = s[2] * s[3];
  for (int64_t n = 0; n < s[0]; ++n)
    for (int64_t c = 0; c < s[1]; ++c)
      for (int64_t p = 0; p < hw; ++p)
        plain.data()[(n * s[1] + c) * hw + p] =
            blocked.data()[blockedIndex(s, n, c, p)];
  return plain;
}

void kiln::cpu::testing::expectClose(const Buffer &actual,
                                     const Tensor &expected,
                                     const std::string &what,
                                     double tolerance) {
  ASSERT_EQ(actual.getShape(), expected.shape) << what;
  double error = 0, norm = 0;
  for (int64_t i = 0; i < actual.size(); ++i) {
    double difference = actual.data()[i] - expected.reals[i];
    error += difference * difference;
    norm += expected.reals[i] * expected.reals[i];
  }
  // NaN (an unwritten output) fails the comparison too.
  double relative = std::sqrt(error) / std::max(std::sqrt(norm), 1e-30);
  EXPECT_TRUE(relative <= tolerance) << what << ": relative error " << relative;
}
