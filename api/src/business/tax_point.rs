//! The tax point (time of supply) of an invoice, pure: VAT Act 1994 s6, as HMRC's VAT Notice
//! 700 §14 explains it.
//!
//! The basic tax point is the date of supply. An invoice issued within 14 days after it moves
//! the tax point to the invoice date (s6(5)); an invoice issued, or a payment received, before
//! the supply moves it to that earlier date (s6(4)). Payments can only be recorded here
//! against an issued invoice, so no payment ever comes before the invoice and only the
//! invoice date can be the earlier event.

use chrono::NaiveDate;

/// Days after the supply within which the invoice date becomes the tax point.
pub const FOURTEEN_DAY_RULE: i64 = 14;

/// The tax point of an invoice dated `invoice_date` for a supply made on `supply_date`
/// (`None`: the supply is the invoice date, as when a trader leaves it out).
pub fn tax_point(supply_date: Option<NaiveDate>, invoice_date: NaiveDate) -> NaiveDate {
    let Some(supply) = supply_date else {
        return invoice_date;
    };
    let days_after_supply = (invoice_date - supply).num_days();
    if days_after_supply <= FOURTEEN_DAY_RULE {
        // Before the supply (an advance invoice) or within 14 days after it.
        invoice_date
    } else {
        supply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("a valid date")
    }

    #[test]
    fn worked_examples() {
        // Issued 14 days after the supply: the invoice date.
        assert_eq!(
            tax_point(Some(d(2027, 1, 1)), d(2027, 1, 15)),
            d(2027, 1, 15)
        );
        // 15 days after: the supply date stays.
        assert_eq!(
            tax_point(Some(d(2027, 1, 1)), d(2027, 1, 16)),
            d(2027, 1, 1)
        );
        // An advance invoice: the earlier invoice date.
        assert_eq!(
            tax_point(Some(d(2027, 2, 1)), d(2027, 1, 20)),
            d(2027, 1, 20)
        );
        // Same day, and no supply date.
        assert_eq!(tax_point(Some(d(2027, 1, 1)), d(2027, 1, 1)), d(2027, 1, 1));
        assert_eq!(tax_point(None, d(2027, 3, 3)), d(2027, 3, 3));
    }

    proptest! {
        #[test]
        fn the_tax_point_is_one_of_the_two_dates_and_never_after_the_invoice(
            supply in 0i64..20_000, gap in -400i64..400,
        ) {
            let supply = d(2000, 1, 1) + chrono::Duration::days(supply);
            let invoice = supply + chrono::Duration::days(gap);
            let point = tax_point(Some(supply), invoice);
            prop_assert!(point == supply || point == invoice);
            prop_assert!(point <= invoice);
            prop_assert_eq!(point == invoice, gap <= FOURTEEN_DAY_RULE);
        }
    }
}
