//! UK VAT registration numbers, sort codes and account numbers: format and check-digit
//! validation and normalisation, pure. Catching a typo here keeps a wrong VAT number off an
//! invoice (the customer could not reclaim its VAT) and a wrong account off a payment slip.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdentifierError {
    #[error("a UK VAT number is GB followed by 9 or 12 digits, or GD/HA and 3 digits")]
    VatNumberFormat,
    #[error("the VAT number's check digits do not match (is there a typo?)")]
    VatNumberCheckDigits,
    #[error("a sort code is 6 digits, like 12-34-56")]
    SortCode,
    #[error("an account number is 8 digits")]
    AccountNumber,
}

/// Removes the separators people type: spaces everywhere, dashes in bank details.
fn compact(input: &str, separators: &[char]) -> String {
    input
        .chars()
        .filter(|c| !c.is_whitespace() && !separators.contains(c))
        .collect()
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// The check digits of the 9-digit main form, computed from its first seven digits weighted
/// 8..2: HMRC subtracts 97 from the sum (plus 55 in the "9755" scheme) until it is negative and
/// the check digits are what is left, negated; so they run from 01 to 97. Comparing with
/// these exactly, rather than testing `(sum + check) % 97 == 0`, also refuses 00 and the
/// aliases 98 and 99, which HMRC never issues.
fn expected_check_digits(seven: &[u8], offset: u32) -> u32 {
    let weighted: u32 = seven
        .iter()
        .zip((2..=8).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    97 - (weighted + offset) % 97
}

/// Validates a UK VAT registration number and returns it in canonical form, `GB` + digits
/// with no spaces (e.g. "gb 980 7806 84" → "GB980780684").
///
/// Accepted: an optional `GB` prefix (any case) and spaces anywhere, then
/// - the 9-digit main form, whose check digits must satisfy the classic mod-97 scheme
///   (weighted sum + check ≡ 0 mod 97, check 01..97) or, for numbers from 100 0000 00 upwards,
///   the "9755" scheme HMRC added when the classic range ran out (weighted sum + 55 + check
///   ≡ 0 mod 97);
/// - the 12-digit branch form: the 9-digit number checked as above and a 3-digit branch code;
/// - `GD` + 3 digits below 500 (government departments) and `HA` + 3 digits from 500 (health
///   authorities), which carry no check digits.
///
/// Not accepted: the `XI` prefix (Northern Ireland goods trade with the EU), which a sole
/// trader's UK invoice does not need. A number that passes is well formed, not necessarily
/// registered: only HMRC's lookup service knows that.
pub fn normalise_vat_number(input: &str) -> Result<String, IdentifierError> {
    let compacted = compact(input, &[]).to_ascii_uppercase();
    let number = compacted.strip_prefix("GB").unwrap_or(&compacted);
    // `get` rather than slicing: the input may not be ASCII.
    let (prefix, rest) = number.get(..2).zip(number.get(2..)).unwrap_or(("", number));
    match (prefix, rest.len()) {
        ("GD" | "HA", 3) if all_digits(rest) => {
            let n: u16 = rest.parse().map_err(|_| IdentifierError::VatNumberFormat)?;
            if (prefix == "GD") == (n < 500) {
                Ok(format!("GB{number}"))
            } else {
                Err(IdentifierError::VatNumberFormat)
            }
        }
        _ if all_digits(number) && (number.len() == 9 || number.len() == 12) => {
            let digits = number.as_bytes();
            let check = u32::from(digits[7] - b'0') * 10 + u32::from(digits[8] - b'0');
            let new_range = &number[..3] >= "100";
            if check == expected_check_digits(&digits[..7], 0)
                || (new_range && check == expected_check_digits(&digits[..7], 55))
            {
                Ok(format!("GB{number}"))
            } else {
                Err(IdentifierError::VatNumberCheckDigits)
            }
        }
        _ => Err(IdentifierError::VatNumberFormat),
    }
}

/// A sort code as its 6 digits ("12-34-56" and "12 34 56" → "123456"); display formats it.
pub fn normalise_sort_code(input: &str) -> Result<String, IdentifierError> {
    let digits = compact(input, &['-']);
    (digits.len() == 6 && all_digits(&digits))
        .then_some(digits)
        .ok_or(IdentifierError::SortCode)
}

/// An account number as its 8 digits. Banks with shorter numbers show them zero-padded to 8
/// for Faster Payments, so that is the form we ask for. No modulus check: the tables for it
/// are published by Pay.UK, change several times a year and are not ours to ship.
pub fn normalise_account_number(input: &str) -> Result<String, IdentifierError> {
    let digits = compact(input, &['-']);
    (digits.len() == 8 && all_digits(&digits))
        .then_some(digits)
        .ok_or(IdentifierError::AccountNumber)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_vat_numbers() {
        // 9·8 + 8·7 + 0·6 + 7·5 + 8·4 + 0·3 + 6·2 = 207; 207 + 84 = 291 = 3 × 97.
        for ok in [
            "GB980780684",
            "980780684",
            "gb 980 7806 84",
            " GB 980 7806 84 ",
        ] {
            assert_eq!(
                normalise_vat_number(ok).as_deref(),
                Ok("GB980780684"),
                "{ok}"
            );
        }
        // 1234567: weighted 112 ≡ 15; classic check 82, 9755 check 27 (15 + 55 + 27 = 97).
        assert_eq!(
            normalise_vat_number("123456782").as_deref(),
            Ok("GB123456782")
        );
        assert_eq!(
            normalise_vat_number("123456727").as_deref(),
            Ok("GB123456727")
        );
        // The 9755 scheme applies only from 100 0000 00: 0012345 weighs 50, so classic 47 and
        // 9755 would be 89.
        assert_eq!(
            normalise_vat_number("001234547").as_deref(),
            Ok("GB001234547")
        );
        assert_eq!(
            normalise_vat_number("001234589"),
            Err(IdentifierError::VatNumberCheckDigits)
        );
        assert_eq!(
            normalise_vat_number("802311781"),
            Err(IdentifierError::VatNumberCheckDigits)
        );
        assert_eq!(
            normalise_vat_number("GB 980 7806 84 001").as_deref(),
            Ok("GB980780684001")
        );
        assert_eq!(
            normalise_vat_number("802311781001"),
            Err(IdentifierError::VatNumberCheckDigits)
        );
        assert_eq!(normalise_vat_number("gd001").as_deref(), Ok("GBGD001"));
        assert_eq!(normalise_vat_number("GBHA599").as_deref(), Ok("GBHA599"));
        for bad in [
            "",
            "GB",
            "GD500",
            "HA499",
            "GD01",
            "98078068",
            "9807806840",
            "98078068A",
            "XI980780684",
            "GBGB980780684",
            "980-780-684",
            "GD 1 2 x",
            "٩٨٠٧٨٠٦٨٤",
        ] {
            assert_eq!(
                normalise_vat_number(bad),
                Err(IdentifierError::VatNumberFormat),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bank_details() {
        for ok in ["12-34-56", "12 34 56", "123456"] {
            assert_eq!(normalise_sort_code(ok).as_deref(), Ok("123456"));
        }
        for bad in ["12345", "1234567", "12-34-5a", "12.34.56", ""] {
            assert_eq!(normalise_sort_code(bad), Err(IdentifierError::SortCode));
        }
        assert_eq!(
            normalise_account_number("1234 5678").as_deref(),
            Ok("12345678")
        );
        for bad in ["1234567", "123456789", "1234567x", "１２３４５６７８"] {
            assert_eq!(
                normalise_account_number(bad),
                Err(IdentifierError::AccountNumber)
            );
        }
    }

    proptest! {
        #[test]
        fn exactly_the_computed_check_digits_pass(first in 1_000_000u32..10_000_000) {
            let seven = first.to_string();
            let weighted: u32 = seven.bytes().zip([8, 7, 6, 5, 4, 3, 2]).map(|(d, w)| u32::from(d - b'0') * w).sum();
            // The check digits bring the sum (+ 55 in the 9755 scheme) to a multiple of 97.
            let classic = (1..=97).find(|c| (weighted + c).is_multiple_of(97)).unwrap();
            let new_scheme = (1..=97).find(|c| (weighted + 55 + c).is_multiple_of(97)).unwrap();
            for check in 0..100u32 {
                let number = format!("{seven}{check:02}");
                let ok = check == classic || check == new_scheme;
                prop_assert_eq!(normalise_vat_number(&number).is_ok(), ok, "{}", number);
            }
        }

        #[test]
        fn anything_else_is_an_error_not_a_panic(s in "\\PC{0,20}") {
            let _ = normalise_vat_number(&s);
            let _ = normalise_sort_code(&s);
            let _ = normalise_account_number(&s);
        }
    }
}
