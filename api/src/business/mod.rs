//! Sole-trader business: invoices, quotes and credit notes for UK sole traders.

pub mod money;
pub mod vat_number;
