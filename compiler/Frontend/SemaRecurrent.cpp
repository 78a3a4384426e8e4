//===- SemaRecurrent.cpp - The recurrent layers: lstm and gru -------------===//
//
// Both are one kiln op over the whole batch-first sequence, from zero
// states, with PyTorch's four parameters per layer (the LSTM stacks four
// gates in them, the GRU three) and PyTorch's initialization. A call gives
// the output sequence and the final states as a tuple, which stands for the
// output sequence where one tensor is expected.
//
//===----------------------------------------------------------------------===//

#include "Frontend/SemaInternal.h"

#include <cmath>

using namespace kiln;
using namespace kiln::sema;
using llvm::SMLoc;
using Kind = LayerInstance::Kind;

std::optional<Value> Elaborator::callRecurrent(LayerInstance &layer, ValueId x,
                                               SMLoc loc) {
  bool lstm = layer.kind == Kind::LSTM;
  TensorType type = typeOf(x);
  if (type.element != ElementType::F32 || type.rank() != 3)
    return error(loc,
                 "layer '" + layer.path +
                     "' runs over f32[batch, steps, features] sequences, got " +
                     type.str(),
                 type.element == ElementType::I64
                     ? "for token ids, use one_hot(ids, classes) or an "
                       "embedding"
                     : "sequences are batch-first; reshape a [batch, "
                       "features] input to [batch, 1, features] for one step");
  int64_t h = layer.hidden, gates = (lstm ? 4 : 3) * h;
  if (!checkInputSize(*this, layer, type.shape[2], loc, "input features"))
    return std::nullopt;
  if (layer.params.empty()) {
    Init init = uniform(1 / std::sqrt(static_cast<double>(h)));
    for (int64_t l = 0; l < layer.layers; ++l) {
      std::string suffix = "_l" + std::to_string(l);
      int64_t in = l == 0 ? type.shape[2] : h;
      newParam(layer, "weight_ih" + suffix, {gates, in},
               weightInit(layer, {gates, in}, init));
      newParam(layer, "weight_hh" + suffix, {gates, h},
               weightInit(layer, {gates, h}, init));
      newParam(layer, "bias_ih" + suffix, {gates}, init);
      newParam(layer, "bias_hh" + suffix, {gates}, init);
    }
  }
  std::vector<ValueId> operands = {x};
  operands.insert(operands.end(), layer.params.begin(), layer.params.end());
  std::vector<TensorType> weights;
  for (ValueId param : layer.params)
    weights.push_back(typeOf(param));
  std::optional<std::vector<ValueId>> results =
      emitChecked(lstm ? OpKind::LSTM : OpKind::GRU, operands,
                  {{"hidden_size", h}, {"num_layers", layer.layers}},
                  lstm ? rules::lstm(type, weights, h, layer.layers)
                       : rules::gru(type, weights, h, layer.layers),
                  loc, "layer '" + layer.path + "'");
  if (!results)
    return std::nullopt;
  std::vector<Value> values;
  for (ValueId result : *results)
    values.push_back(Value::ofTensor(result));
  return Value::ofTuple(std::move(values));
}
