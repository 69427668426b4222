// Check digits and registry rules for the detectors that have them.
#include "masking/validators.h"

#include <array>
#include <cstdint>

namespace portcullis::masking {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

int number(std::string_view digits) {
  int n = 0;
  for (char c : digits) n = n * 10 + (c - '0');
  return n;
}

struct IbanCountry {
  char code[3];
  int length;
};

// IBAN lengths from the SWIFT IBAN Registry (release 95, 2023).
constexpr std::array<IbanCountry, 77> kIbanCountries{{
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
    {"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
    {"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29},
    {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31}, {"SD", 18},
    {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23},
}};
// Registered too, kept apart only to keep the table above a round size.
constexpr std::array<IbanCountry, 8> kIbanCountriesMore{{
    {"ST", 25},
    {"SV", 28},
    {"TL", 23},
    {"TN", 24},
    {"TR", 26},
    {"UA", 29},
    {"VA", 22},
    {"XK", 20},
}};

}  // namespace

bool luhn_valid(std::string_view text) {
  int sum = 0;
  int count = 0;
  bool twice = false;
  for (auto it = text.rbegin(); it != text.rend(); ++it) {
    if (!is_digit(*it)) continue;
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
    ++count;
  }
  return count > 0 && sum % 10 == 0;
}

bool known_card_prefix(std::string_view digits) {
  if (digits.size() < 4) return false;
  const int p1 = digits[0] - '0';
  const int p2 = number(digits.substr(0, 2));
  const int p4 = number(digits.substr(0, 4));
  switch (p1) {
    case 2:  // Mastercard 2-series
      return p4 >= 2221 && p4 <= 2720;
    case 3:  // Amex 34/37, JCB 35, Diners 30/36/38/39
      return p2 == 30 || (p2 >= 34 && p2 <= 39);
    case 4:  // Visa
      return true;
    case 5:  // Maestro 50/56-58, Mastercard 51-55
      return p2 != 59;
    case 6:  // Discover, UnionPay, Maestro, RuPay
      return true;
    default:
      return false;
  }
}

bool us_ssn_valid(std::string_view area, std::string_view group, std::string_view serial) {
  if (area.size() != 3 || group.size() != 2 || serial.size() != 4) return false;
  const int a = number(area);
  return a != 0 && a != 666 && a < 900 && number(group) != 0 && number(serial) != 0;
}

int iban_length(std::string_view country) {
  if (country.size() != 2) return 0;
  for (const auto& c : kIbanCountries)
    if (country == c.code) return c.length;
  for (const auto& c : kIbanCountriesMore)
    if (country == c.code) return c.length;
  return 0;
}

bool iban_valid(std::string_view compact) {
  if (compact.size() < 15 || static_cast<int>(compact.size()) != iban_length(compact.substr(0, 2)))
    return false;
  if (!is_digit(compact[2]) || !is_digit(compact[3])) return false;
  // Move the first four characters to the end, letters become 10..35, then mod 97 == 1.
  uint32_t rest = 0;
  for (std::size_t k = 0; k < compact.size(); ++k) {
    const char c = compact[(k + 4) % compact.size()];
    if (is_digit(c)) {
      rest = (rest * 10 + static_cast<uint32_t>(c - '0')) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      rest = (rest * 100 + static_cast<uint32_t>(c - 'A' + 10)) % 97;
    } else {
      return false;
    }
  }
  return rest == 1;
}

}  // namespace portcullis::masking
