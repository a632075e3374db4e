use crate::http::ApiError;

/// Trimmed and lower-cased, so that one mailbox has one account.
pub fn normalize(field: &str, raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 {
        return Err(ApiError::field(field, "must be at most 254 characters"));
    }
    let parsed: email_address::EmailAddress = email
        .parse()
        .map_err(|_| ApiError::field(field, "is not an email address"))?;
    if !parsed.domain().contains('.') || parsed.display_part() != "" {
        return Err(ApiError::field(field, "is not an email address"));
    }
    Ok(email)
}

/// The key of per-address counters: a hash, so that counters hold no addresses.
pub fn key_hash(email: &str) -> Vec<u8> {
    super::tokens::hash(&format!("email:{email}"))
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
