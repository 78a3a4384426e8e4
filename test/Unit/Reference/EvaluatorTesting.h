//===- EvaluatorTesting.h - A fixture that runs kiln functions ------------===//
//
// Parses a function written in the kiln dialect, evaluates it on given
// tensors and keeps every diagnostic with its location, so that tests state
// an op's inputs and the hand-computed outputs in a few lines.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_UNIT_REFERENCE_EVALUATORTESTING_H
#define KILN_TEST_UNIT_REFERENCE_EVALUATORTESTING_H

#include "Kiln/IR/KilnDialect.h"
#include "Reference/Evaluator.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

namespace kiln::reference {

class EvaluatorTest : public ::testing::Test {
protected:
  EvaluatorTest()
      : handler(&context, [this](mlir::Diagnostic &diagnostic) {
          llvm::raw_string_ostream os(messages);
          os << diagnostic.getLocation() << ": " << diagnostic << "\n";
          return mlir::success();
        }) {
    context.loadDialect<KilnDialect, mlir::func::FuncDialect>();
    context.allowUnregisteredDialects();
  }

  /// Evaluates the only function of `source` on `args`; a parse error
  /// fails the test.
  mlir::FailureOr<std::vector<Tensor>>
  run(llvm::StringRef source, llvm::ArrayRef<Tensor> args,
      Precision precision = Precision::F64) {
    module = mlir::parseSourceString<mlir::ModuleOp>(source, &context);
    EXPECT_TRUE(module) << messages;
    if (!module)
      return mlir::failure();
    auto func = *module->getOps<mlir::func::FuncOp>().begin();
    return evaluate(func, args, precision);
  }

  /// The results of a run that must succeed.
  std::vector<Tensor> results(llvm::StringRef source,
                              llvm::ArrayRef<Tensor> args,
                              Precision precision = Precision::F64) {
    auto values = run(source, args, precision);
    EXPECT_TRUE(mlir::succeeded(values)) << messages;
    return mlir::succeeded(values) ? *values : std::vector<Tensor>();
  }

  /// The single result of a run that must succeed.
  Tensor result(llvm::StringRef source, llvm::ArrayRef<Tensor> args,
                Precision precision = Precision::F64) {
    std::vector<Tensor> values = results(source, args, precision);
    EXPECT_EQ(values.size(), 1u);
    return values.empty() ? Tensor() : values.front();
  }

  /// The diagnostics of a run that must fail.
  std::string error(llvm::StringRef source, llvm::ArrayRef<Tensor> args) {
    EXPECT_TRUE(mlir::failed(run(source, args)));
    return messages;
  }

  mlir::MLIRContext context;
  mlir::ScopedDiagnosticHandler handler;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string messages;
};

inline Tensor real(std::vector<int64_t> shape, std::vector<double> values) {
  return Tensor::real(std::move(shape), std::move(values));
}

inline Tensor integer(std::vector<int64_t> shape, std::vector<int64_t> values) {
  return Tensor::integer(std::move(shape), std::move(values));
}

/// Checks that `actual` is a real tensor of `shape` whose elements are
/// within `tolerance` of `expected`.
inline void expectReals(const Tensor &actual, std::vector<int64_t> shape,
                        std::vector<double> expected,
                        double tolerance = 1e-12) {
  EXPECT_FALSE(actual.isInteger);
  EXPECT_EQ(actual.shape, shape);
  ASSERT_EQ(actual.reals.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual.reals[i], expected[i], tolerance) << "element " << i;
}

inline void expectIntegers(const Tensor &actual, std::vector<int64_t> shape,
                           std::vector<int64_t> expected) {
  EXPECT_TRUE(actual.isInteger);
  EXPECT_EQ(actual.shape, shape);
  EXPECT_EQ(actual.integers, expected);
}

} // namespace kiln::reference

#endif // KILN_TEST_UNIT_REFERENCE_EVALUATORTESTING_H
