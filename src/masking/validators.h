// Checks that turn a candidate that has the right shape into a detection: check digits,
// registry rules and country lengths. A near-miss (an order number failing Luhn, an SSN with
// area 000) stays unmasked because of these.
#pragma once

#include <string_view>

namespace portcullis::masking {

// Luhn (ISO/IEC 7812-1 annex B) over the digits of `text`; other bytes are ignored.
bool luhn_valid(std::string_view text);

// The issuer identification number belongs to a card network that issues 13-19 digit cards
// (Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro).
bool known_card_prefix(std::string_view digits);

// Social Security Administration rules (area not 000, 666 or 900-999; group not 00; serial
// not 0000). Each argument holds digits only.
bool us_ssn_valid(std::string_view area, std::string_view group, std::string_view serial);

// ISO 13616: the length registered for the country and the mod-97 check. `compact` holds
// the IBAN without spaces, upper case.
bool iban_valid(std::string_view compact);

// The IBAN length registered for a two-letter country code, or 0 when unknown.
int iban_length(std::string_view country);

}  // namespace portcullis::masking
