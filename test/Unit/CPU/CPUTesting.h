//===- CPUTesting.h - Runs CPU runtime sites against the reference --------===//
//
// Each test writes a small kiln function, evaluates it with the reference
// evaluator in double precision on random inputs, runs the runtime's call
// sites in float on the same inputs, and compares norm-wise.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_CPU_CPUTESTING_H
#define KILN_TEST_UNIT_CPU_CPUTESTING_H

#include "Kiln/IR/KilnDialect.h"
#include "Reference/Evaluator.h"
#include "kiln/kiln_runtime.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace kiln::cpu::testing {

using reference::Tensor;
using Shape = std::vector<int64_t>;

/// Floats at an address 16 bytes past a 64-byte boundary: the least
/// alignment that generated code guarantees (for parameters).
class Buffer {
public:
  explicit Buffer(Shape shape);
  explicit Buffer(const Tensor &tensor);

  float *data() { return reinterpret_cast<float *>(storage.data() + offset); }
  const float *data() const {
    return reinterpret_cast<const float *>(storage.data() + offset);
  }
  int64_t size() const { return count; }
  const Shape &getShape() const { return shape; }
  /// The values as a reference tensor.
  Tensor tensor() const;

private:
  Shape shape;
  int64_t count;
  std::vector<unsigned char> storage;
  size_t offset;
};

/// "tensor<2x3xf64>".
std::string type(const Shape &shape);
/// "array<i64: 2, 3>".
std::string array(const Shape &values);
/// A double attribute that reads back exactly.
std::string f64(double value);
/// The bits of `value`, as configurations store doubles.
int64_t bits(double value);

/// The arguments and results of a kiln function: names and shapes.
using Signature = std::vector<std::pair<std::string, Shape>>;

/// `func.func @f` with these arguments and results, whose body computes
/// each result under its name.
std::string function(const Signature &args, const std::string &body,
                     const Signature &results);

class CPUTest : public ::testing::Test {
protected:
  CPUTest();

  /// A tensor of `shape` with reproducible values in [-scale, scale), each
  /// exactly a float, so that both sides compute on the same inputs.
  Tensor random(Shape shape, double scale = 1.0);

  /// Evaluates the only function of `source` in double precision; a failure
  /// fails the test and returns nothing.
  std::vector<Tensor> evaluate(const std::string &source,
                               const std::vector<Tensor> &args);

  /// Creates a call site of `kind`, numbered after every site that this test
  /// program has created, and returns its number.
  int64_t create(int32_t kind, const std::vector<int64_t> &config);
  /// Executes `site` on the buffers, in order.
  void execute(int64_t site, const std::vector<Buffer *> &args);

  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler handler;
  std::string messages;
  std::mt19937_64 generator{42};
};

/// `plain`, an NCHW tensor of a multiple of 8 channels, in the runtime's
/// blocked layout (kiln_runtime.h), and back.
Buffer toBlocked(const Buffer &plain);
Buffer fromBlocked(const Buffer &blocked);

/// Expects `actual` to hold `expected` with a norm-wise relative error
/// ||actual - expected|| / ||expected|| of at most `tolerance`.
void expectClose(const Buffer &actual, const Tensor &expected,
                 const std::string &what, double tolerance = 1e-4);

} // namespace kiln::cpu::testing

#endif // KILN_TEST_UNIT_CPU_CPUTESTING_H
