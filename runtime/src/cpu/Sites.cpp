//===- Sites.cpp - kiln_rt_create and kiln_rt_execute over the sites ------===//
//
// The tables of call sites, the dispatch of each kind to its factory, and
// the C boundary: oneDNN's C++ API reports errors by throwing, and no
// exception may reach generated code, so every one is caught here, becomes
// a Failure that names the site, and goes to the current site table, which
// ends the process (a trainer) or keeps it for its caller (a library).
//
//===----------------------------------------------------------------------===//

#include "cpu/Runtime.h"
#include "cpu/Site.h"

#include <oneapi/dnnl/dnnl_debug.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

using namespace kiln::cpu;

namespace {

/// Site numbers beyond this are garbage rather than a program's.
constexpr int64_t kMaxSites = int64_t(1) << 24;

constexpr const char *kMismatchHint =
    "the trainer and this runtime disagree on the call; rebuild the trainer "
    "with the kilnc that comes with this runtime";

struct Entry {
  int32_t kind = 0;
  std::vector<int64_t> config;
  std::unique_ptr<Site> site;
};

} // namespace

struct kiln::cpu::SiteTable::Entries : std::vector<Entry> {};

namespace {

/// The sites of the calling thread's current table.
std::vector<Entry> &registry() { return currentSiteTable().entries(); }

thread_local SiteTable *currentTable = nullptr;

const char *kindName(int32_t kind) {
  switch (kind) {
  case KILN_CONV2D_FORWARD:
    return "conv2d forward";
  case KILN_CONV2D_BACKWARD_DATA:
    return "conv2d backward data";
  case KILN_CONV2D_BACKWARD_WEIGHTS:
    return "conv2d backward weights";
  case KILN_POOL2D_FORWARD:
    return "pool2d forward";
  case KILN_POOL2D_BACKWARD:
    return "pool2d backward";
  case KILN_MATMUL:
    return "matmul";
  case KILN_SOFTMAX_FORWARD:
    return "softmax forward";
  case KILN_SOFTMAX_BACKWARD:
    return "softmax backward";
  case KILN_LAYER_NORM_FORWARD:
    return "layer norm forward";
  case KILN_LAYER_NORM_BACKWARD:
    return "layer norm backward";
  case KILN_LSTM_FORWARD:
    return "lstm forward";
  case KILN_LSTM_BACKWARD:
    return "lstm backward";
  case KILN_GRU_FORWARD:
    return "gru forward";
  case KILN_GRU_BACKWARD:
    return "gru backward";
  case KILN_ATTENTION_FORWARD:
    return "attention forward";
  case KILN_ATTENTION_BACKWARD:
    return "attention backward";
  case KILN_BATCH_NORM_FORWARD:
    return "batch norm forward";
  case KILN_BATCH_NORM_BACKWARD:
    return "batch norm backward";
  case KILN_ALL_REDUCE_START:
    return "all-reduce start";
  case KILN_ALL_REDUCE_WAIT:
    return "all-reduce wait";
  default:
    return nullptr;
  }
}

std::string describeSite(int64_t site, int32_t kind) {
  return "call site " + std::to_string(site) + " (" + kindName(kind) + ")";
}

std::unique_ptr<Site> createSite(Config &config, int32_t kind) {
  switch (kind) {
  case KILN_CONV2D_FORWARD:
    return createConv2DForward(config);
  case KILN_CONV2D_BACKWARD_DATA:
    return createConv2DBackwardData(config);
  case KILN_CONV2D_BACKWARD_WEIGHTS:
    return createConv2DBackwardWeights(config);
  case KILN_POOL2D_FORWARD:
    return createPool2DForward(config);
  case KILN_POOL2D_BACKWARD:
    return createPool2DBackward(config);
  case KILN_MATMUL:
    return createMatmul(config);
  case KILN_SOFTMAX_FORWARD:
    return createSoftmaxForward(config);
  case KILN_SOFTMAX_BACKWARD:
    return createSoftmaxBackward(config);
  case KILN_LAYER_NORM_FORWARD:
    return createLayerNormForward(config);
  case KILN_LAYER_NORM_BACKWARD:
    return createLayerNormBackward(config);
  case KILN_LSTM_FORWARD:
    return createLSTMForward(config);
  case KILN_LSTM_BACKWARD:
    return createLSTMBackward(config);
  case KILN_GRU_FORWARD:
    return createGRUForward(config);
  case KILN_GRU_BACKWARD:
    return createGRUBackward(config);
  case KILN_ATTENTION_FORWARD:
    return createAttentionForward(config);
  case KILN_ATTENTION_BACKWARD:
    return createAttentionBackward(config);
  case KILN_BATCH_NORM_FORWARD:
    return createBatchNormForward(config);
  case KILN_BATCH_NORM_BACKWARD:
    return createBatchNormBackward(config);
  case KILN_ALL_REDUCE_START:
    return createAllReduceStart(config);
  case KILN_ALL_REDUCE_WAIT:
    return createAllReduceWait(config);
  default:
    return nullptr;
  }
}

/// Runs `action` for `site`, turning any exception into a fatal error.
template <typename Action>
void guarded(int64_t site, int32_t kind, const char *stage, Action action) {
  try {
    action();
  } catch (const Failure &) {
    throw;
  } catch (const dnnl::error &e) {
    fatal(describeSite(site, kind) + ": oneDNN failed to " + stage + ": " +
              e.what() + " (" + dnnl_status2str(e.status) + ")",
          "this CPU or this oneDNN may not support the configuration; run "
          "again with ONEDNN_VERBOSE=all to see oneDNN's reason, and report "
          "it with the model");
  } catch (const std::bad_alloc &) {
    fatal(describeSite(site, kind) + ": out of memory while trying to " + stage,
          "use a smaller batch size, or a machine with more memory");
  } catch (const std::exception &e) {
    fatal(describeSite(site, kind) + ": failed to " + stage + ": " + e.what(),
          "this is a bug of the Kiln runtime; please report it with the model");
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared pieces of the sites
//===----------------------------------------------------------------------===//

const dnnl::engine &kiln::cpu::cpuEngine() {
  static const dnnl::engine cpu(dnnl::engine::kind::cpu, 0);
  return cpu;
}

dnnl::stream &kiln::cpu::cpuStream() {
  // One per thread: models of an inference library may run on several.
  thread_local dnnl::stream cpu(cpuEngine());
  return cpu;
}

memory::desc kiln::cpu::f32Desc(const Dims &dims, Tag tag) {
  return memory::desc(dims, memory::data_type::f32, tag);
}

memory::desc kiln::cpu::plainDesc(const Dims &dims) {
  Dims strides(dims.size(), 1);
  for (size_t i = dims.size(); i > 1; --i)
    strides[i - 2] = strides[i - 1] * dims[i - 1];
  return memory::desc(dims, memory::data_type::f32, strides);
}

int64_t kiln::cpu::blockedChannels(int64_t channels) {
  static const bool avx512 = [] {
    auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    auto core = static_cast<unsigned>(dnnl::cpu_isa::avx512_core);
    return (isa & core) == core;
  }();
  return avx512 && channels % 16 == 0 ? 16 : 8;
}

Tag kiln::cpu::blockedTag(int64_t channels) {
  return blockedChannels(channels) == 16 ? Tag::aBcd16b : Tag::aBcd8b;
}

memory::desc kiln::cpu::argumentDesc(const Config &config, const Dims &dims,
                                     bool blocked) {
  if (!blocked)
    return plainDesc(dims);
  if (dims.size() != 4 || dims[1] % 8 != 0)
    config.fail("a blocked argument must be NCHW with a multiple of 8 "
                "channels");
  return f32Desc(dims, blockedTag(dims[1]));
}

Config::Config(int64_t site, int32_t kind, int32_t count, const int64_t *values)
    : siteIndex(site), kind(kind) {
  if (count < 0 || (count > 0 && !values))
    fail("invalid configuration array of " + std::to_string(count) + " values");
  all.assign(values, values + count);
}

int64_t Config::next(const char *name) {
  if (position == all.size())
    fail("missing configuration value '" + std::string(name) + "' (got " +
         std::to_string(all.size()) + " values)");
  return all[position++];
}

int64_t Config::size(const char *name, int64_t min) {
  int64_t value = next(name);
  if (value < min)
    fail("configuration value '" + std::string(name) + "' is " +
         std::to_string(value) + ", below its minimum " + std::to_string(min));
  return value;
}

bool Config::flag(const char *name) { return choice(name, 2) != 0; }

int64_t Config::choice(const char *name, int64_t count) {
  int64_t value = next(name);
  if (value < 0 || value >= count)
    fail("configuration value '" + std::string(name) + "' is " +
         std::to_string(value) + ", not one of 0 to " +
         std::to_string(count - 1));
  return value;
}

int64_t Config::siteNumber(const char *name) {
  int64_t value = next(name);
  if (value < -1 || value >= kMaxSites)
    fail("configuration value '" + std::string(name) + "' is " +
         std::to_string(value) + ", neither a site number nor -1");
  return value;
}

double Config::real(const char *name) {
  int64_t bits = next(name);
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

uint32_t Config::blockedArguments(unsigned count) {
  if (position == all.size())
    return 0;
  int64_t mask = next("blocked");
  if (mask < 0 || mask >= (int64_t(1) << count))
    fail("configuration value 'blocked' is " + std::to_string(mask) +
         ", not a mask of " + std::to_string(count) + " arguments");
  return static_cast<uint32_t>(mask);
}

void Config::finish() const {
  if (position != all.size())
    fail("expected " + std::to_string(position) +
         " configuration values, got " + std::to_string(all.size()));
}

void Config::fail(const std::string &message) const {
  fatal(describeSite(siteIndex, kind) + ": " + message, kMismatchHint);
}

Input::Input(const memory::desc &plain, const memory::desc &wanted)
    : user(plain, cpuEngine(), DNNL_MEMORY_NONE) {
  if (wanted == plain)
    return;
  internal = memory(wanted, cpuEngine());
  toInternal = dnnl::reorder(user, internal);
}

const memory &Input::bind(void *data) {
  user.set_data_handle(data);
  if (!internal)
    return user;
  toInternal.execute(cpuStream(), user, internal);
  return internal;
}

Output::Output(const memory::desc &plain, const memory::desc &wanted)
    : user(plain, cpuEngine(), DNNL_MEMORY_NONE) {
  if (wanted == plain)
    return;
  internal = memory(wanted, cpuEngine());
  toUser = dnnl::reorder(internal, user);
}

const memory &Output::bind(void *data) {
  user.set_data_handle(data);
  return internal ? internal : user;
}

const memory &Output::bindZeroed(void *data) {
  const memory &target = bind(data);
  std::memset(target.get_data_handle(), 0, target.get_desc().get_size());
  return target;
}

void Output::flush() {
  if (internal)
    toUser.execute(cpuStream(), internal, user);
}

Site &kiln::cpu::pairedSite(int64_t site, int64_t index, int32_t kind,
                            const std::vector<int64_t> &config) {
  const std::vector<Entry> &entries = registry();
  const Entry *forward =
      index < static_cast<int64_t>(entries.size()) ? &entries[index] : nullptr;
  if (!forward || !forward->site)
    fatal("call site " + std::to_string(site) + " reuses call site " +
              std::to_string(index) + ", which was not created",
          kMismatchHint);
  if (forward->kind != kind || forward->config.size() < config.size() ||
      !std::equal(config.begin(), config.end(), forward->config.begin()))
    fatal("call site " + std::to_string(site) + " reuses " +
              describeSite(index, forward->kind) +
              ", which is not the site it pairs with (a forward operation, or "
              "the start of an all-reduce)",
          kMismatchHint);
  return *forward->site;
}

//===----------------------------------------------------------------------===//
// Site tables
//===----------------------------------------------------------------------===//

SiteTable::SiteTable(OnFailure onFailure)
    : onFailure(onFailure), sites(std::make_unique<Entries>()) {}

SiteTable::~SiteTable() = default;

void SiteTable::fail(const Failure &failure) {
  if (onFailure == OnFailure::Keep) {
    if (!kept)
      kept = failure;
    return;
  }
  std::fprintf(stderr, "kiln: error: %s\nkiln: note: %s\n",
               failure.message.c_str(), failure.hint.c_str());
  std::fflush(stderr);
  std::exit(1);
}

SiteTable &kiln::cpu::currentSiteTable() {
  static SiteTable process(SiteTable::OnFailure::Exit);
  return currentTable ? *currentTable : process;
}

ScopedSiteTable::ScopedSiteTable(SiteTable &table) : previous(currentTable) {
  currentTable = &table;
}

ScopedSiteTable::~ScopedSiteTable() { currentTable = previous; }

//===----------------------------------------------------------------------===//
// The C interface
//===----------------------------------------------------------------------===//

extern "C" void kiln_rt_create(int64_t site, int32_t kind, int32_t num_config,
                               const int64_t *config) {
  SiteTable &table = currentSiteTable();
  if (table.failure())
    return;
  try {
    if (!kindName(kind))
      fatal("call site " + std::to_string(site) + " has unknown kind " +
                std::to_string(kind),
            kMismatchHint);
    if (site < 0 || site >= kMaxSites)
      fatal("invalid call site number " + std::to_string(site), kMismatchHint);
    std::vector<Entry> &entries = table.entries();
    if (site >= static_cast<int64_t>(entries.size()))
      entries.resize(site + 1);
    Entry &entry = entries[site];
    if (entry.site)
      fatal(describeSite(site, kind) + " is created twice",
            "the trainer's init must run once, before any step");
    guarded(site, kind, "create the call site", [&] {
      Config values(site, kind, num_config, config);
      std::unique_ptr<Site> created = createSite(values, kind);
      values.finish();
      entry.kind = kind;
      entry.config = values.values();
      entry.site = std::move(created);
    });
  } catch (const Failure &failure) {
    table.fail(failure);
  }
}

extern "C" void kiln_rt_execute(int64_t site, void **args) {
  SiteTable &table = currentSiteTable();
  if (table.failure())
    return;
  try {
    std::vector<Entry> &entries = table.entries();
    if (site < 0 || site >= static_cast<int64_t>(entries.size()) ||
        !entries[site].site)
      fatal("call site " + std::to_string(site) + " was not created",
            "the trainer's init must create every call site before any step");
    Entry &entry = entries[site];
    // The gradients' averages started by all-reduce sites advance between
    // the heavy operations of the backward pass.
    progressAverages();
    guarded(site, entry.kind, "execute the call site", [&] {
      entry.site->execute(args);
      cpuStream().wait();
    });
  } catch (const Failure &failure) {
    table.fail(failure);
  }
}
