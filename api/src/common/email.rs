use unicode_normalization::UnicodeNormalization;

use crate::http::problem::ApiError;

/// One mailbox, one spelling, so that one mailbox has one account and one set of counters:
/// Unicode NFKC (full-width and compatibility forms fold), surrounding space trimmed, the
/// domain in its ASCII (IDNA) form, and the local part lower-cased too. RFC 5321 lets a server
/// treat local parts case-sensitively, but no mainstream provider does, and an identity
/// provider that did would let `Ada@` and `ada@` be two accounts of one person. Dots and
/// `+tags` are kept: providers differ on them.
pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let folded: String = raw.nfkc().collect();
    let trimmed = folded.trim();
    let invalid = || ApiError::field(field, "is not an email address");
    let (local, domain) = trimmed.rsplit_once('@').ok_or_else(invalid)?;
    if local.is_empty() || domain.is_empty() {
        return Err(invalid());
    }
    let domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
    let email = format!("{}@{}", local.to_lowercase(), domain);
    if email.chars().count() > 254 {
        return Err(ApiError::field(field, "must be at most 254 characters"));
    }
    let parsed: email_address::EmailAddress = email.parse().map_err(|_| invalid())?;
    if !parsed.domain().contains('.') || parsed.display_part() != "" {
        return Err(invalid());
    }
    Ok(email)
}

/// The key of per-address counters: a hash, so that counters hold no addresses.
pub fn key_hash(email: &str) -> Vec<u8> {
    crate::tokens::hash(&format!("email:{email}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_rejects() {
        assert_eq!(
            normalize("email", "  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        // Full-width letters and an upper-case internationalised domain fold to one spelling.
        assert_eq!(
            normalize("email", "ＡＤＡ@Example.com").unwrap(),
            "ada@example.com"
        );
        assert_eq!(
            normalize("email", "ada@BÜCHER.de").unwrap(),
            "ada@xn--bcher-kva.de"
        );
        assert_eq!(
            normalize("email", "Ada.Lovelace+x@example.com").unwrap(),
            "ada.lovelace+x@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@localhost",
            "Ada <ada@example.com>",
        ] {
            assert!(normalize("email", bad).is_err(), "{bad}");
        }
    }
}
