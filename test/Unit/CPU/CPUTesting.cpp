//===- CPUTesting.cpp - Runs CPU runtime sites against the reference ------===//

#include "CPUTesting.h"

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
