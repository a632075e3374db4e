//! Gap-free document numbers, one sequence per business and kind.
//!
//! The next number is taken by an UPDATE of the business profile's counter inside the issuing
//! transaction: the row lock makes concurrent issues wait their turn, and a transaction that
//! rolls back releases its number with it, so numbers are never shared nor skipped (which a
//! PostgreSQL `SEQUENCE`, non-transactional by design, would allow).

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    db::{pool::Conn, schema::app::business_profiles as p},
    http::problem::ApiResult,
};

#[derive(Clone, Copy)]
pub enum Kind {
    Invoice,
    CreditNote,
    Quote,
}

/// The next number of `kind` for `workspace`, held by this transaction until it ends.
pub async fn next(conn: &mut Conn, workspace: Uuid, kind: Kind) -> ApiResult<i64> {
    let profile = p::table.filter(p::workspace_id.eq(workspace));
    Ok(match kind {
        Kind::Invoice => {
            diesel::update(profile)
                .set(p::last_invoice_number.eq(p::last_invoice_number + 1))
                .returning(p::last_invoice_number)
                .get_result(conn)
                .await?
        }
        Kind::Quote => {
            diesel::update(profile)
                .set(p::last_quote_number.eq(p::last_quote_number + 1))
                .returning(p::last_quote_number)
                .get_result(conn)
                .await?
        }
        Kind::CreditNote => {
            diesel::update(profile)
                .set(p::last_credit_note_number.eq(p::last_credit_note_number + 1))
                .returning(p::last_credit_note_number)
                .get_result(conn)
                .await?
        }
    })
}

/// `prefix` and the number padded with zeros to `padding` digits (never cut: 10000 stays whole).
pub fn format(prefix: &str, padding: usize, number: i64) -> String {
    format!("{prefix}{number:0padding$}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn pads_without_cutting() {
        assert_eq!(super::format("INV-", 4, 7), "INV-0007");
        assert_eq!(super::format("", 1, 12345), "12345");
        assert_eq!(super::format("CN-", 4, 10000), "CN-10000");
    }
}
