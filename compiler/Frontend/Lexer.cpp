//===- Lexer.cpp - Splits Kiln source into tokens -------------------------===//

#include "Frontend/Lexer.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

using namespace kiln;

bool Token::isKeyword() const {
  switch (kind) {
#define KEYWORD(spelling)                                                      \
  case kw_##spelling:                                                          \
    return true;
#include "Frontend/Token.def"
  default:
    return false;
  }
}

llvm::StringRef Token::describe(Kind kind) {
  switch (kind) {
  case eof:
    return "the end of the file";
  case error:
    return "an invalid token";
  case identifier:
    return "a name";
  case integer:
    return "an integer";
  case real:
    return "a real number";
  case string:
    return "a string";
#define KEYWORD(spelling)                                                      \
  case kw_##spelling:                                                          \
    return "'" #spelling "'";
#define PUNCT(name, spelling)                                                  \
  case name:                                                                   \
    return "'" spelling "'";
#define PUNCT2(name, spelling) PUNCT(name, spelling)
#include "Frontend/Token.def"
  }
  return "a token";
}

Token Lexer::fail(const char *loc, const llvm::Twine &message) {
  diags.error(llvm::SMLoc::getFromPointer(loc), message);
  return Token(Token::error, llvm::StringRef(loc, current - loc));
}

Token Lexer::fail(const char *loc, const llvm::Twine &message,
                  const llvm::Twine &hint) {
  diags.error(llvm::SMLoc::getFromPointer(loc), message, hint);
  return Token(Token::error, llvm::StringRef(loc, current - loc));
}

void Lexer::skipSpaceAndComments() {
  while (current != buffer.end()) {
    char c = *current;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v') {
      ++current;
    } else if (c == '#') {
      while (current != buffer.end() && *current != '\n')
        ++current;
    } else {
      return;
    }
  }
}

static bool isIdentifierStart(char c) {
  return llvm::isAlpha(c) || c == '_';
}

static bool isIdentifierChar(char c) { return llvm::isAlnum(c) || c == '_'; }

Token Lexer::lex() {
  skipSpaceAndComments();
  const char *start = current;
  if (current == buffer.end())
    return make(Token::eof, start);

  char c = *current++;
  if (isIdentifierStart(c))
    return lexIdentifier(start);
  if (llvm::isDigit(c) || (c == '.' && current != buffer.end() &&
                           llvm::isDigit(*current)))
    return lexNumber(start);
  // Two-character punctuation before the one character it starts with.
#define PUNCT2(name, spelling)                                                 \
  if (c == spelling[0] && current != buffer.end() &&                           \
      *current == spelling[1]) {                                               \
    ++current;                                                                 \
    return make(Token::name, start);                                           \
  }
#include "Frontend/Token.def"
  switch (c) {
  case '"':
    return lexString(start);
#define PUNCT(name, spelling)                                                  \
  case spelling[0]:                                                            \
    return make(Token::name, start);
#include "Frontend/Token.def"
  default:
    break;
  }
  if (static_cast<unsigned char>(c) >= 0x80)
    return fail(start, "non-ASCII character outside a string",
                "names and operators are ASCII; put other text in a string "
                "or a comment");
  if (llvm::isPrint(c))
    return fail(start, llvm::Twine("unexpected character '") + llvm::Twine(c) +
                           "'");
  return fail(start, "unexpected control character (code " +
                         llvm::Twine(static_cast<unsigned>(
                             static_cast<unsigned char>(c))) +
                         ")");
}

Token Lexer::lexIdentifier(const char *start) {
  while (current != buffer.end() && isIdentifierChar(*current))
    ++current;
  llvm::StringRef spelling(start, current - start);
  Token::Kind kind = llvm::StringSwitch<Token::Kind>(spelling)
#define KEYWORD(spelling) .Case(#spelling, Token::kw_##spelling)
#include "Frontend/Token.def"
                         .Default(Token::identifier);
  return make(kind, start);
}

Token Lexer::lexNumber(const char *start) {
  auto atEnd = [&] { return current == buffer.end(); };
  // Hexadecimal integers: 0x1F.
  if (*start == '0' && !atEnd() && (*current == 'x' || *current == 'X')) {
    ++current;
    const char *digits = current;
    while (!atEnd() && (llvm::isHexDigit(*current) || *current == '_'))
      ++current;
    if (current == digits)
      return fail(start, "'0x' must be followed by hexadecimal digits");
    if (!atEnd() && isIdentifierChar(*current))
      return fail(current, "unexpected character in a hexadecimal number");
    return make(Token::integer, start);
  }

  bool isReal = *start == '.';
  auto skipDigits = [&] {
    while (!atEnd() && (llvm::isDigit(*current) || *current == '_'))
      ++current;
  };
  skipDigits();
  if (!isReal && !atEnd() && *current == '.' &&
      !(current + 1 != buffer.end() && isIdentifierStart(current[1]))) {
    isReal = true;
    ++current;
    skipDigits();
  }
  if (!atEnd() && (*current == 'e' || *current == 'E')) {
    isReal = true;
    ++current;
    if (!atEnd() && (*current == '+' || *current == '-'))
      ++current;
    if (atEnd() || !llvm::isDigit(*current))
      return fail(start, "the exponent of a number needs digits",
                  "write for example 1e-3 or 2.5E+2");
    skipDigits();
  }
  if (!atEnd() && isIdentifierChar(*current))
    return fail(current, "unexpected character '" + llvm::Twine(*current) +
                             "' after a number",
                "separate a number from a name with a space or an operator");
  if (current[-1] == '_')
    return fail(start, "a number cannot end with '_'");
  return make(isReal ? Token::real : Token::integer, start);
}

Token Lexer::lexString(const char *start) {
  while (true) {
    if (current == buffer.end() || *current == '\n')
      return fail(start, "string is not terminated",
                  "end it with '\"' on the same line");
    char c = *current++;
    if (c == '"')
      return make(Token::string, start);
    if (c == '\\') {
      if (current == buffer.end())
        continue;
      char escaped = *current++;
      if (escaped != '"' && escaped != '\\' && escaped != 'n' && escaped != 't')
        return fail(current - 2,
                    "unknown escape sequence '\\" + llvm::Twine(escaped) + "'",
                    "strings know \\\", \\\\, \\n and \\t");
    }
  }
}
