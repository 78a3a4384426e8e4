//===- ShapeChecks.h - Helpers of the kiln ops' type inference ------------===//
//
// Private to the kiln IR library: the vocabulary in which KilnShapes.cpp and
// KilnNNShapes.cpp state each op's rules.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_IR_SHAPECHECKS_H
#define KILN_IR_SHAPECHECKS_H

#include "Kiln/Rules/Shapes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Value.h"
#include "mlir/IR/ValueRange.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdio>
#include <optional>
#include <string>

namespace kiln::detail {

using mlir::failure;
using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::RankedTensorType;
using mlir::success;
using mlir::Value;
using llvm::ArrayRef;
using llvm::StringRef;


static_assert(kiln::kDynamic == mlir::ShapedType::kDynamic,
              "the rules and MLIR must agree on unknown sizes");

/// The element type of the rules for `type`: f32, f64 or i64.
std::optional<ElementType> ruleElement(mlir::Type type);
mlir::Type mlirElement(mlir::MLIRContext *context, ElementType element);
RankedTensorType mlirType(mlir::MLIRContext *context,
                          const kiln::TensorType &type);

/// Reports problems of an op being built or verified, worded as MLIR's own
/// verifiers word them: "'kiln.conv2d' op ...".
class Checker {
public:
  Checker(std::optional<mlir::Location> loc, StringRef opName)
      : loc(loc), opName(opName) {}

  /// Reports the first problem found; later ones usually follow from it.
  template <typename... Args>
  LogicalResult fail(Args &&...args) const {
    if (reported)
      return failure();
    reported = true;
    return mlir::emitOptionalError(loc, "'", opName, "' op ",
                                   std::forward<Args>(args)...);
  }

  /// The ranked tensor type of `value`, or a failure that names it.
  FailureOr<RankedTensorType> tensor(Value value, StringRef name) const {
    if (!value)
      return fail("is missing its ", name, " operand");
    if (auto type = llvm::dyn_cast<RankedTensorType>(value.getType()))
      return type;
    return fail(name, " must be a ranked tensor, got ", value.getType());
  }

  /// The rules' view of `value`'s type.
  FailureOr<kiln::TensorType> operand(Value value, StringRef name) const {
    FailureOr<RankedTensorType> type = tensor(value, name);
    if (failed(type))
      return failure();
    std::optional<ElementType> element = ruleElement(type->getElementType());
    if (!element)
      return fail(name, " must have f32, f64 or i64 elements, got ",
                  type->getElementType());
    return kiln::TensorType{*element, Shape(type->getShape())};
  }

  /// The same for an optional operand; nullopt when it is absent.
  FailureOr<std::optional<kiln::TensorType>>
  optionalOperand(Value value, StringRef name) const {
    if (!value)
      return std::optional<kiln::TensorType>();
    FailureOr<kiln::TensorType> type = operand(value, name);
    if (failed(type))
      return failure();
    return std::optional<kiln::TensorType>(*type);
  }

  /// The rules' view of each of `values`' types, named "name #i".
  FailureOr<std::vector<kiln::TensorType>> operands(mlir::ValueRange values,
                                                    StringRef name) const {
    std::vector<kiln::TensorType> types;
    for (auto [i, value] : llvm::enumerate(values)) {
      FailureOr<kiln::TensorType> type =
          operand(value, (name + " #" + llvm::Twine(i)).str());
      if (failed(type))
        return failure();
      types.push_back(*type);
    }
    return types;
  }

  /// Appends the result types a rule gave, or reports its problem.
  LogicalResult results(mlir::MLIRContext *context,
                        const Checked<kiln::TensorType> &rule,
                        llvm::SmallVectorImpl<mlir::Type> &types) const {
    if (!rule)
      return fail(rule.problem().message);
    types.push_back(mlirType(context, *rule));
    return success();
  }
  LogicalResult results(mlir::MLIRContext *context,
                        const Checked<std::vector<kiln::TensorType>> &rule,
                        llvm::SmallVectorImpl<mlir::Type> &types) const {
    if (!rule)
      return fail(rule.problem().message);
    for (const kiln::TensorType &type : *rule)
      types.push_back(mlirType(context, type));
    return success();
  }

  /// Fails unless `type` has exactly `rank` dimensions.
  LogicalResult rank(RankedTensorType type, int64_t rank,
                     StringRef name) const {
    if (type.getRank() == rank)
      return success();
    return fail(name, " must have rank ", rank, ", got ",
                formatShape(type.getShape()));
  }

  /// Fails unless every type in `types` has the element type of the first.
  LogicalResult sameElementType(ArrayRef<RankedTensorType> types,
                                ArrayRef<StringRef> names) const {
    for (size_t i = 1; i < types.size(); ++i)
      if (types[i].getElementType() != types[0].getElementType())
        return fail(names[i], " has element type ", types[i].getElementType(),
                    " but ", names[0], " has ", types[0].getElementType());
    return success();
  }

  /// `axis` counted from the front, or a failure if it is not an axis of a
  /// tensor of rank `rank`.
  FailureOr<int64_t> axis(int64_t axis, int64_t rank, StringRef name) const {
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank)
      return fail(name, " ", axis, " is out of range for rank ", rank,
                  " (expected ", -rank, " to ", rank - 1, ")");
    return normalized;
  }

  /// Fails unless `shape` agrees with `expected` size by size.
  LogicalResult shapeIs(RankedTensorType type, ArrayRef<int64_t> expected,
                        StringRef name) const {
    ArrayRef<int64_t> shape = type.getShape();
    bool agree = shape.size() == expected.size() &&
                 llvm::all_of(llvm::zip(shape, expected), [](auto pair) {
                   return sizesAgree(std::get<0>(pair), std::get<1>(pair));
                 });
    if (agree)
      return success();
    return fail(name, " must have shape ", formatShape(expected), ", got ",
                formatShape(shape));
  }

private:
  std::optional<mlir::Location> loc;
  StringRef opName;
  mutable bool reported = false;
};

/// The [N, outChannels, OH, OW] result shape of a convolution of an input
/// [N, C, H, W] by a window of `kernel` sizes; checks the window attributes.
FailureOr<llvm::SmallVector<int64_t>>
convolutionShape(const Checker &check, ArrayRef<int64_t> inputShape,
                 int64_t outChannels, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                 ArrayRef<int64_t> dilation);

/// The [N, C, OH, OW] result shape of pooling an input [N, C, H, W].
FailureOr<llvm::SmallVector<int64_t>>
poolShape(const Checker &check, ArrayRef<int64_t> inputShape,
          ArrayRef<int64_t> kernel, ArrayRef<int64_t> stride,
          ArrayRef<int64_t> padding);

/// The rule of a recurrent layer: rules::lstm or rules::gru.
using RecurrentRule = Checked<std::vector<kiln::TensorType>> (*)(
    const kiln::TensorType &input, ArrayRef<kiln::TensorType> weights,
    int64_t hidden, int64_t layers);

/// Result types of lstm and gru by `rule` (also checked by their gradients).
LogicalResult inferRecurrent(const Checker &check, RecurrentRule rule,
                             Value input, mlir::ValueRange weights,
                             int64_t hidden, int64_t layers,
                             llvm::SmallVectorImpl<mlir::Type> &types);

/// Result type of attention (also checked by attention_backward): the
/// step `counter` must be given exactly when `dropout` is positive.
LogicalResult inferAttention(const Checker &check, Value query, Value key,
                             Value value, Value counter,
                             std::optional<double> scale, double dropout,
                             llvm::SmallVectorImpl<mlir::Type> &types);

/// Result type of the reductions (also checked by reduce_max_backward).
LogicalResult inferReduction(const Checker &check, Value input,
                             ArrayRef<int64_t> axes, bool keepDims,
                             llvm::SmallVectorImpl<mlir::Type> &types);

} // namespace kiln::detail

#endif // KILN_IR_SHAPECHECKS_H
