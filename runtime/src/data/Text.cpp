//===- Text.cpp - How the data sources write shapes, numbers and names ----===//

#include "data/Text.h"

#include <array>
#include <cstdio>
#include <cstdlib>

using namespace kiln;
using namespace kiln::data;

std::string data::formatShape(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string data::formatBatchShape(const std::vector<int64_t> &shape) {
  std::string text = "[batch";
  for (int64_t dim : shape)
    text += ", " + std::to_string(dim);
  return text + "]";
}

const char *data::dtypeText(io::DType dtype) {
  switch (dtype) {
  case io::DType::F32:
    return "f32";
  case io::DType::F64:
    return "f64";
  case io::DType::I64:
    return "i64";
  }
  return "?";
}

std::string data::formatField(const Field &field) {
  return dtypeText(field.dtype) + formatShape(field.shape);
}

std::string data::formatDeclaredField(const Field &field) {
  return dtypeText(field.dtype) + formatBatchShape(field.shape);
}

std::string data::shortNumber(double value) {
  std::array<char, 32> text;
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text.data(), text.size(), "%.*g", digits, value);
    if (std::strtod(text.data(), nullptr) == value)
      break;
  }
  return text.data();
}

size_t data::utf8Length(std::string_view text, size_t at) {
  auto byte = [&](size_t i) -> unsigned {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0;
  };
  unsigned lead = byte(at);
  size_t length;
  unsigned low = 0x80, high = 0xBF;
  if (lead < 0x80)
    return 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0)
      low = 0xA0;
    if (lead == 0xED)
      high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0)
      low = 0x90;
    if (lead == 0xF4)
      high = 0x8F;
  } else
    return 0;
  if (byte(at + 1) < low || byte(at + 1) > high)
    return 0;
  for (size_t i = 2; i < length; ++i)
    if (byte(at + i) < 0x80 || byte(at + i) > 0xBF)
      return 0;
  return length;
}

std::string data::jsonString(std::string_view text) {
  std::string json = "\"";
  for (size_t at = 0; at < text.size();) {
    auto c = static_cast<unsigned char>(text[at]);
    size_t length = utf8Length(text, at);
    switch (c) {
    case '"':
      json += "\\\"";
      break;
    case '\\':
      json += "\\\\";
      break;
    case '\b':
      json += "\\b";
      break;
    case '\f':
      json += "\\f";
      break;
    case '\n':
      json += "\\n";
      break;
    case '\r':
      json += "\\r";
      break;
    case '\t':
      json += "\\t";
      break;
    default:
      if (c < 0x20 || length == 0) {
        std::array<char, 8> escape;
        std::snprintf(escape.data(), escape.size(),
                      length == 0 ? "\\udc%02x" : "\\u%04x", c);
        json += escape.data();
      } else {
        json.append(text, at, length);
        at += length;
        continue;
      }
    }
    ++at;
  }
  return json + "\"";
}

std::string data::jsonStringList(const std::vector<std::string> &names) {
  std::string json = "[";
  for (size_t i = 0; i < names.size(); ++i)
    json += (i ? ", " : "") + jsonString(names[i]);
  return json + "]";
}

std::string data::quotedList(const std::vector<std::string> &names,
                             size_t limit) {
  std::string list;
  for (size_t i = 0; i < names.size() && i < limit; ++i)
    list += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > limit)
    list += " and " + std::to_string(names.size() - limit) + " more";
  return list;
}
