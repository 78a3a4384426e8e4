//===- Generate.cpp - `trainer generate`: text from a language model ------===//
//
// A language model here is what examples/charlm.kiln is: one input of token
// ids i64[batch, T] and per-position logits [batch, T, V] out, trained on
// text(...) data, whose vocabulary the checkpoint keeps. Each new token is
// drawn from the logits at the last position of a window of the last T
// tokens (or fewer, at the start), in the first row of the batch. A shorter
// window is padded after its end, which a causal model does not see; the
// first step checks that the model is causal.
//
//===----------------------------------------------------------------------===//

#include "train/Commands.h"
#include "train/Error.h"
#include "train/Executor.h"
#include "train/Flags.h"
#include "train/Init.h"
#include "train/Program.h"

#include "data/Text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>

using namespace kiln;
using namespace kiln::train;

namespace {

/// The random stream of sampling (any constant: the seed varies the draws).
constexpr uint64_t kSamplingStream = 0x67656e6572617465; // "generate"

/// The slots of a language model.
struct LanguageModel {
  size_t tokens = 0, logits = 0;
  int64_t length = 0, vocabulary = 0;
};

LanguageModel checkLanguageModel(const Program &program) {
  const char *hint = "generate runs language models: one input of token ids "
                     "i64[batch, length] and per-position logits "
                     "[batch, length, vocabulary] out, as examples/charlm.kiln";
  if (program.recipe.data.kind != "text")
    throw Error("model '" + program.model + "' was trained on " +
                    program.recipe.data.kind +
                    " data, not on text(...): it has no tokens to generate",
                hint);
  if (program.predictInputs.size() != 1)
    throw Error("model '" + program.model + "' reads " +
                    std::to_string(program.predictInputs.size()) +
                    " inputs, not one of token ids",
                hint);
  LanguageModel model;
  model.tokens = program.predictInputs.front();
  model.logits = program.predictOutputs.front();
  const Slot &tokens = program.slots[model.tokens];
  const Slot &logits = program.slots[model.logits];
  if (tokens.type != ElementType::I64 || tokens.shape.size() != 2 ||
      logits.type != ElementType::F32 || logits.shape.size() != 3 ||
      logits.shape[1] != tokens.shape[1])
    throw Error("model '" + program.model + "' maps " + tokens.name + " " +
                    elementTypeName(tokens.type) + formatShape(tokens.shape) +
                    " to " + logits.name + " " + elementTypeName(logits.type) +
                    formatShape(logits.shape) + ", not token ids to logits",
                hint);
  model.length = tokens.shape[1];
  model.vocabulary = logits.shape[2];
  return model;
}

/// The tokens of a text(...) model: bytes, or the characters that the
/// checkpoint's "data.vocabulary" lists.
class Vocabulary {
public:
  Vocabulary(const Program &program,
             const std::map<std::string, std::string> &metadata,
             const std::string &checkpoint, int64_t size) {
    bytes = program.recipe.data.args.string("vocab") == "bytes";
    if (bytes) {
      for (int byte = 0; byte < 256; ++byte)
        pieces.push_back(std::string(1, static_cast<char>(byte)));
    } else {
      auto it = metadata.find("data.vocabulary");
      nlohmann::json list =
          it == metadata.end()
              ? nlohmann::json()
              : nlohmann::json::parse(it->second, nullptr, false);
      if (!list.is_array() ||
          !std::all_of(list.begin(), list.end(),
                       [](const nlohmann::json &c) { return c.is_string(); }))
        throw Error(checkpoint + ": no character vocabulary (\"data."
                                 "vocabulary\"), which the model's tokens "
                                 "are indices into",
                    "give the checkpoint that the trainer saved (--save)");
      pieces = list.get<std::vector<std::string>>();
    }
    if (static_cast<int64_t>(pieces.size()) > size)
      throw Error("the vocabulary has " + std::to_string(pieces.size()) +
                  " tokens, more than the model's " + std::to_string(size) +
                  " logits");
  }

  /// The tokens of `text`; throws a usage Error at a character that is not
  /// in the vocabulary.
  std::vector<int64_t> encode(const std::string &text) const {
    std::vector<int64_t> tokens;
    for (size_t at = 0; at < text.size();) {
      size_t length = bytes ? 1 : data::utf8Length(text, at);
      if (length == 0)
        throw usageError("--prompt: byte " + std::to_string(at) +
                         " is not valid UTF-8");
      std::string piece = text.substr(at, length);
      auto it = std::find(pieces.begin(), pieces.end(), piece);
      if (it == pieces.end())
        throw usageError("--prompt: the character " + data::jsonString(piece) +
                             " at byte " + std::to_string(at) +
                             " is not in the vocabulary of the training text",
                         "write the prompt with the text's characters");
      tokens.push_back(it - pieces.begin());
      at += length;
    }
    return tokens;
  }

  const std::string &decode(int64_t token) const { return pieces[token]; }

  int64_t size() const { return static_cast<int64_t>(pieces.size()); }

private:
  /// vocab: "bytes": token i is byte i.
  bool bytes = false;
  std::vector<std::string> pieces;
};

/// Draws a token from `logits`: the largest at temperature 0, else from the
/// softmax of logits / temperature over the `topK` largest (0: all).
int64_t sample(const float *logits, int64_t count, double temperature,
               int64_t topK, Random &random) {
  if (temperature == 0)
    return std::max_element(logits, logits + count) - logits;
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  int64_t kept = topK && topK < count ? topK : count;
  // Largest first; equal logits keep their token order.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return logits[a] > logits[b];
  });
  double largest = logits[order.front()];
  std::vector<double> weights(kept);
  double total = 0;
  for (int64_t i = 0; i < kept; ++i)
    total += weights[i] = std::exp((logits[order[i]] - largest) / temperature);
  double target = random.unit() * total;
  for (int64_t i = 0; i < kept; ++i) {
    target -= weights[i];
    if (target < 0)
      return order[i];
  }
  return order[kept - 1];
}

} // namespace

int kiln::train::runGenerate(const Options &options,
                             const kiln_program &compiled,
                             const Program &program, const Notes &notes) {
  LanguageModel model = checkLanguageModel(program);
  SlotBuffers buffers(program);
  std::map<std::string, std::string> metadata =
      loadTrained(options.checkpoint, program, buffers, notes);
  Vocabulary vocabulary(program, metadata, options.checkpoint,
                        model.vocabulary);
  std::vector<int64_t> tokens = vocabulary.encode(*options.prompt);

  std::unique_ptr<Executor> executor =
      startProgram(compiled, program, buffers, options.threads);
  size_t tokenInput = std::find(program.inputs.begin(), program.inputs.end(),
                                model.tokens) -
                      program.inputs.begin();
  auto *window = static_cast<int64_t *>(executor->inputs()[tokenInput]);
  const float *logits = buffers.get<float>(model.logits);
  // Runs the model on the window that ends with the last token, padded with
  // `padding`, and returns the logits of its last position.
  std::vector<float> last(model.vocabulary);
  auto forward = [&](int64_t padding) {
    int64_t used = std::min<int64_t>(tokens.size(), model.length);
    std::copy(tokens.end() - used, tokens.end(), window);
    std::fill(window + used, window + model.length, padding);
    executor->predict();
    const float *row = logits + (used - 1) * model.vocabulary;
    std::copy(row, row + model.vocabulary, last.begin());
    return used;
  };

  Random random(options.seed.value_or(0), kSamplingStream);
  std::fputs(options.prompt->c_str(), stdout);
  std::fflush(stdout);
  auto begin = std::chrono::steady_clock::now();
  for (int64_t n = 0; n < options.tokens; ++n) {
    int64_t used = forward(0);
    if (n == 0 && used < model.length && model.vocabulary > 1) {
      std::vector<float> padded = last;
      forward(model.vocabulary - 1);
      if (padded != last)
        throw Error("model '" + program.model +
                        "' is not causal: its logits at a position depend on "
                        "the tokens after it",
                    "generate needs a model that predicts each token from "
                    "those before it, as multihead_attention(causal: true) "
                    "does");
    }
    // The logits past the vocabulary's tokens (a model wider than its
    // text's characters) name nothing that can be printed.
    int64_t next = sample(last.data(), vocabulary.size(), options.temperature,
                          options.topK, random);
    tokens.push_back(next);
    const std::string &piece = vocabulary.decode(next);
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
  }
  std::fputs("\n", stdout);
  std::fflush(stdout);
  std::chrono::duration<double> seconds =
      std::chrono::steady_clock::now() - begin;
  char rate[96];
  std::snprintf(rate, sizeof(rate), "generated %lld tokens in %.2f s (%.1f "
                "tokens/s)",
                static_cast<long long>(options.tokens), seconds.count(),
                options.tokens / std::max(seconds.count(), 1e-9));
  notes(rate);
  return kExitSuccess;
}
