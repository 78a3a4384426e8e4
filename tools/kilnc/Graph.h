//===- Graph.h - kilnc -emit=graph: a picture of the model ----------------===//

#ifndef KILN_TOOLS_KILNC_GRAPH_H
#define KILN_TOOLS_KILNC_GRAPH_H

#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace kiln {

/// Draws `module` (the kiln stage, with its gradient function or not) as
/// MLIR's view-op-graph sees it, an op per node with its result types, into
/// `output`: Graphviz's text for a .dot file, else the picture that Graphviz's
/// `dot` makes in the format the extension names (svg, png, pdf). Fails with
/// `error` when `dot` is missing or fails.
mlir::LogicalResult drawGraph(mlir::ModuleOp module, llvm::StringRef output,
                              std::string &error);

} // namespace kiln

#endif // KILN_TOOLS_KILNC_GRAPH_H
