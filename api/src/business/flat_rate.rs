//! The Flat Rate Scheme (HMRC VAT Notice 733): the sector percentages, the first-year
//! discount and the limited cost trader test, which together turn a period's VAT-inclusive
//! turnover into its box 1: pure, no I/O.
//!
//! Under the scheme the business still charges VAT as usual, but pays HMRC a fixed percentage
//! of its VAT-inclusive turnover instead of output VAT less input VAT; it reclaims only the VAT
//! on capital expenditure goods of £2,000 or more. [`super::vat_return`] builds the rest of the
//! return around the figures here.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::money::{RateTotal, VatRate};
use super::vat_period::{round_div, Period, VatReturnError};

/// The limited cost business percentage, in basis points (16.5 %), from 1 April 2017.
pub const LIMITED_COST_BUSINESS_BP: i64 = 1_650;
/// The first-year discount: one percentage point off until the day before the first
/// anniversary of VAT registration.
pub const FIRST_YEAR_DISCOUNT_BP: i64 = 100;
/// A capital expenditure item is reclaimable under the scheme only as a single purchase of
/// £2,000 or more including VAT (Notice 733 §15): pence, gross.
pub const CAPITAL_GOODS_THRESHOLD: i64 = 200_000;
/// £1,000 a year: the limited cost test's floor, in pence, before it is pro-rated.
const LIMITED_COST_YEARLY: i128 = 100_000;

/// A trade sector and its flat rate percentage.
///
/// Serialize only: the table is fixed at compile time, and a sector is named in input by its
/// `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Sector {
    /// Stable: it is stored with the business's scheme settings.
    pub id: &'static str,
    /// As HMRC's table words it; the trader picks the sector from it.
    pub label: &'static str,
    /// 1,450 = 14.5 %.
    pub basis_points: i64,
}

const fn s(id: &'static str, label: &'static str, basis_points: i64) -> Sector {
    Sector {
        id,
        label,
        basis_points,
    }
}

/// HMRC's table of flat rate percentages by type of business (Notice 733 §4.4 and "VAT Flat
/// Rate Scheme: flat rates for types of business"): the rates in force from 1 April 2017, the
/// date the limited cost business rate was added; the other rates are unchanged since
/// 4 January 2011. Written from Notice 733 as updated 17 February 2022 and spot-checked against
/// published copies of the table on 7 December 2026; check it again after any Budget that
/// touches the scheme. Not modelled: the temporary hospitality rates of 15 July 2020 to
/// 31 March 2022 (catering, hotels and pubs; [`working`] adds a note for such a period), and
/// the older tables.
///
/// "Labour-only" building or construction means materials under 10 % of turnover from those
/// services; otherwise the general building rate applies.
#[rustfmt::skip]
static SECTORS: [Sector; 56] = [
    s("accountancy_or_book_keeping", "Accountancy or book-keeping", 1_450),
    s("advertising", "Advertising", 1_100),
    s("agricultural_services", "Agricultural services", 1_100),
    s("any_other_activity", "Any other activity not listed elsewhere", 1_200),
    s("architect_engineer_or_surveyor", "Architect, civil and structural engineer or surveyor", 1_450),
    s("boarding_or_care_of_animals", "Boarding or care of animals", 1_200),
    s("business_services", "Business services not listed elsewhere", 1_200),
    s("catering", "Catering services including restaurants and takeaways", 1_250),
    s("computer_and_it_consultancy", "Computer and IT consultancy or data processing", 1_450),
    s("computer_repair", "Computer repair services", 1_050),
    s("dealing_in_waste_or_scrap", "Dealing in waste or scrap", 1_050),
    s("entertainment_or_journalism", "Entertainment or journalism", 1_250),
    s("estate_agency_or_property_management", "Estate agency or property management services", 1_200),
    s("farming_or_agriculture", "Farming or agriculture not listed elsewhere", 650),
    s("film_radio_tv_or_video_production", "Film, radio, television or video production", 1_300),
    s("financial_services", "Financial services", 1_350),
    s("forestry_or_fishing", "Forestry or fishing", 1_050),
    s("general_building_or_construction", "General building or construction services", 950),
    s("hairdressing_or_beauty", "Hairdressing or other beauty treatment services", 1_300),
    s("hiring_or_renting_goods", "Hiring or renting goods", 950),
    s("hotel_or_accommodation", "Hotel or accommodation", 1_050),
    s("investigation_or_security", "Investigation or security", 1_200),
    s("labour_only_building_or_construction", "Labour-only building or construction services", 1_450),
    s("laundry_or_dry_cleaning", "Laundry or dry-cleaning services", 1_200),
    s("lawyer_or_legal_services", "Lawyer or legal services", 1_450),
    s("library_archive_museum_or_cultural", "Library, archive, museum or other cultural activity", 950),
    s("limited_cost_business", "Limited cost business", LIMITED_COST_BUSINESS_BP),
    s("management_consultancy", "Management consultancy", 1_400),
    s("manufacturing_fabricated_metal_products", "Manufacturing fabricated metal products", 1_050),
    s("manufacturing_food", "Manufacturing food", 900),
    s("manufacturing_other", "Manufacturing not listed elsewhere", 950),
    s("manufacturing_yarn_textiles_or_clothing", "Manufacturing yarn, textiles or clothing", 900),
    s("membership_organisation", "Membership organisation", 800),
    s("mining_or_quarrying", "Mining or quarrying", 1_000),
    s("packaging", "Packaging", 900),
    s("photography", "Photography", 1_100),
    s("post_offices", "Post offices", 500),
    s("printing", "Printing", 850),
    s("publishing", "Publishing", 1_100),
    s("pubs", "Pubs", 650),
    s("real_estate_other", "Real estate activity not listed elsewhere", 1_400),
    s("repairing_personal_or_household_goods", "Repairing personal or household goods", 1_000),
    s("repairing_vehicles", "Repairing vehicles", 850),
    s("retailing_food_tobacco_newspapers_or_childrens_clothing", "Retailing food, confectionery, tobacco, newspapers or children's clothing", 400),
    s("retailing_pharmaceuticals_medical_cosmetics_or_toiletries", "Retailing pharmaceuticals, medical goods, cosmetics or toiletries", 800),
    s("retailing_other", "Retailing not listed elsewhere", 750),
    s("retailing_vehicles_or_fuel", "Retailing vehicles or fuel", 650),
    s("secretarial_services", "Secretarial services", 1_300),
    s("social_work", "Social work", 1_100),
    s("sport_or_recreation", "Sport or recreation", 850),
    s("transport_or_storage", "Transport or storage, including couriers, freight, removals and taxis", 1_000),
    s("travel_agency", "Travel agency", 1_050),
    s("veterinary_medicine", "Veterinary medicine", 1_100),
    s("wholesaling_agricultural_products", "Wholesaling agricultural products", 800),
    s("wholesaling_food", "Wholesaling food", 750),
    s("wholesaling_other", "Wholesaling not listed elsewhere", 850),
];

/// Every sector, alphabetical by label as HMRC lists them, for the trader to choose from.
pub fn sectors() -> &'static [Sector] {
    &SECTORS
}

pub fn sector(id: &str) -> Option<&'static Sector> {
    SECTORS.iter().find(|s| s.id == id)
}

/// The business's flat rate: a sector from the table, or a percentage HMRC confirmed that the
/// table does not give (an older letter, a rate changed since the table was checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlatRateSector {
    Sector { id: String },
    BasisPoints { basis_points: i64 },
}

/// One stretch of the period at one percentage: the whole period, or the parts before and from
/// the first anniversary of registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlatRatePart {
    pub start: NaiveDate,
    /// Inclusive.
    pub end: NaiveDate,
    pub first_year_discount: bool,
    pub applied_rate_bp: i64,
    /// VAT-inclusive turnover of the supplies dated in this part.
    pub turnover_inclusive: i64,
    /// `turnover_inclusive × applied_rate_bp / 10,000`, rounded half-up to the penny.
    pub vat: i64,
}

/// How box 1 was reached under the scheme, and the limited cost trader test, which HMRC expects
/// the trader to carry out and be able to show for every period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FlatRateWorking {
    /// `None` when the business gave a percentage rather than a sector.
    pub sector_id: Option<String>,
    pub sector_rate_bp: i64,
    /// The rate in force at the end of the period (after the anniversary when the period
    /// straddles it); `parts` has each part's rate.
    pub applied_rate_bp: i64,
    /// Any of the period had the first-year discount.
    pub first_year_discount: bool,
    /// The first day without the discount.
    pub first_anniversary: NaiveDate,
    pub parts: Vec<FlatRatePart>,
    /// VAT-inclusive flat rate turnover of the period: every supply but outside-the-scope and
    /// reverse-charge ones (those are outside the scheme), credit notes deducted.
    pub turnover_inclusive: i64,
    /// VAT-inclusive cost of relevant goods in the period (capital items excluded).
    pub relevant_goods: i64,
    /// 2 % of `turnover_inclusive`, rounded half-up; the test itself compares exactly.
    pub threshold_pct_2: i64,
    /// £1,000 a year pro-rated to the period, rounded half-up; the test compares exactly. By
    /// months when the period is whole calendar months (£250 a quarter, £83.33 a month, as
    /// HMRC's examples use), else by days out of 365.
    pub threshold_pro_rata: i64,
    /// Relevant goods below either threshold: the 16.5 % rate replaces the sector's.
    pub limited_cost_trader: bool,
    /// Box 1: the sum of the parts' VAT.
    pub vat: i64,
}

/// The VAT-inclusive flat rate turnover of one document: net plus VAT of every line but
/// outside-the-scope (not a supply in the scope of UK VAT) and reverse-charge ones (no VAT
/// charged, and VAT Regulations 1995 reg 55C(6) puts them outside the scheme). Zero-rated and
/// exempt supplies are in: the flat rate applies to all of the business's turnover.
pub(crate) fn turnover_of(by_rate: &[RateTotal]) -> i128 {
    by_rate
        .iter()
        .filter(|r| !matches!(r.rate, VatRate::OutsideScope | VatRate::ReverseCharge))
        .map(|r| i128::from(r.net) + i128::from(r.vat))
        .sum()
}

/// The first day after the first year of registration. The year from 29 February ends on
/// 28 February, so its anniversary is 1 March.
pub fn first_anniversary(registered_on: NaiveDate) -> NaiveDate {
    let next = registered_on.year().saturating_add(1);
    registered_on
        .with_year(next)
        .or_else(|| NaiveDate::from_ymd_opt(next, 3, 1))
        .unwrap_or(NaiveDate::MAX)
}

/// The £1,000 a year as a fraction of pence (numerator, denominator) for the period.
fn pro_rata(period: &Period) -> (i128, i128) {
    let after = period.end.succ_opt();
    match after {
        Some(after) if period.start.day() == 1 && after.day() == 1 => {
            let index = |d: NaiveDate| i128::from(d.year()) * 12 + i128::from(d.month0());
            (
                LIMITED_COST_YEARLY * (index(after) - index(period.start)),
                12,
            )
        }
        _ => {
            let days = i128::from((period.end - period.start).num_days()) + 1;
            (LIMITED_COST_YEARLY * days, 365)
        }
    }
}

fn to_i64(v: i128, what: &'static str) -> Result<i64, VatReturnError> {
    i64::try_from(v).map_err(|_| VatReturnError::TooLarge { what })
}

/// The scheme's working for a period, from its dated turnover (supplies, or on the cash-based
/// method payments, each already apportioned and signed) and its relevant goods.
///
/// Each part's VAT is rounded on its own and box 1 is their sum, so the working shown to the
/// trader adds up to the penny; a period has at most two parts.
pub(crate) fn working(
    period: &Period,
    rate: &FlatRateSector,
    registered_on: NaiveDate,
    turnover: &[(NaiveDate, i128)],
    relevant_goods: i128,
    notes: &mut Vec<String>,
) -> Result<FlatRateWorking, VatReturnError> {
    let (sector_id, sector_rate_bp) = match rate {
        FlatRateSector::Sector { id } => {
            let s = sector(id).ok_or_else(|| VatReturnError::UnknownSector { id: id.clone() })?;
            (Some(s.id.to_string()), s.basis_points)
        }
        FlatRateSector::BasisPoints { basis_points } => {
            if !(0..=10_000).contains(basis_points) {
                return Err(VatReturnError::FlatRateOutOfRange);
            }
            (None, *basis_points)
        }
    };
    let total: i128 = turnover.iter().map(|(_, t)| t).sum();

    // "Less than" both times (Notice 733 §4.5), compared without rounding: goods × 100 < 2 % of
    // turnover × 100, and goods < the pro-rated £1,000.
    let (num, den) = pro_rata(period);
    let limited_cost_trader = relevant_goods * 50 < total || relevant_goods * den < num;
    let scheme_rate = if limited_cost_trader {
        LIMITED_COST_BUSINESS_BP
    } else {
        sector_rate_bp
    };
    if limited_cost_trader && sector_rate_bp != LIMITED_COST_BUSINESS_BP {
        notes.push(format!(
            "limited cost trader this period: {}.{:02} % replaces the sector's {}.{:02} %",
            LIMITED_COST_BUSINESS_BP / 100,
            LIMITED_COST_BUSINESS_BP % 100,
            sector_rate_bp / 100,
            sector_rate_bp % 100
        ));
    }

    let anniversary = first_anniversary(registered_on);
    let mut bounds = vec![(period.start, period.end)];
    if period.start < anniversary && anniversary <= period.end {
        notes.push(format!(
            "the period straddles the first anniversary of registration ({anniversary}): the \
             1 % first-year discount applies to supplies dated before it"
        ));
        bounds = vec![
            (period.start, anniversary.pred_opt().unwrap_or(period.start)),
            (anniversary, period.end),
        ];
    }
    let mut parts = Vec::with_capacity(bounds.len());
    for (start, end) in bounds {
        let discounted = start < anniversary;
        let applied = if discounted {
            (scheme_rate - FIRST_YEAR_DISCOUNT_BP).max(0)
        } else {
            scheme_rate
        };
        let part_turnover: i128 = turnover
            .iter()
            .filter(|(d, _)| (start..=end).contains(d))
            .map(|(_, t)| t)
            .sum();
        parts.push(FlatRatePart {
            start,
            end,
            first_year_discount: discounted,
            applied_rate_bp: applied,
            turnover_inclusive: to_i64(part_turnover, "the flat rate turnover")?,
            vat: to_i64(
                round_div(part_turnover * i128::from(applied), 10_000),
                "the flat rate VAT",
            )?,
        });
    }

    if matches!(
        sector_id.as_deref(),
        Some("catering" | "hotel_or_accommodation" | "pubs")
    ) && period.start <= ymd(2022, 3, 31)
        && period.end >= ymd(2020, 7, 15)
    {
        notes.push(
            "the temporary hospitality flat rates of 15 July 2020 to 31 March 2022 are not \
             applied: enter the rate HMRC set for the period as a percentage"
                .to_string(),
        );
    }
    if period.start < ymd(2017, 4, 1) {
        notes.push(
            "the period starts before 1 April 2017: the limited cost trader rate and this \
             table did not apply then"
                .to_string(),
        );
    }

    let vat = parts.iter().map(|p| i128::from(p.vat)).sum();
    Ok(FlatRateWorking {
        sector_id,
        sector_rate_bp,
        applied_rate_bp: parts.last().map_or(scheme_rate, |p| p.applied_rate_bp),
        first_year_discount: parts.iter().any(|p| p.first_year_discount),
        first_anniversary: anniversary,
        parts,
        turnover_inclusive: to_i64(total, "the flat rate turnover")?,
        relevant_goods: to_i64(relevant_goods, "relevant goods")?,
        threshold_pct_2: to_i64(round_div(total * 2, 100), "the 2 % threshold")?,
        threshold_pro_rata: to_i64(round_div(num, den), "the pro-rata threshold")?,
        limited_cost_trader,
        vat: to_i64(vat, "the flat rate VAT")?,
    })
}

/// A date written in this module's source, always valid.
fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

#[cfg(test)]
mod tests {
    use super::super::vat_return::tests::{credit, d, expense, invoice, period, q1, q2, rt};
    use super::super::vat_return::{vat_return, Basis, Direction, Purchase, Scheme, VatReturn};
    use super::*;

    fn frs(id: &str, registered_on: NaiveDate, basis: Basis) -> Scheme {
        Scheme::FlatRate {
            sector: FlatRateSector::Sector { id: id.to_string() },
            registered_on,
            basis,
        }
    }

    /// Long registered: no first-year discount.
    fn it(basis: Basis) -> Scheme {
        frs("computer_and_it_consultancy", d(2020, 1, 1), basis)
    }

    fn run(
        scheme: &Scheme,
        p: &Period,
        sales: &[super::super::vat_return::Sale],
        purchases: &[Purchase],
    ) -> VatReturn {
        vat_return(p, scheme, sales, purchases).unwrap()
    }

    fn relevant(date: NaiveDate, net: i64, vat: i64) -> Purchase {
        Purchase {
            relevant_goods: true,
            ..expense(date, net, vat)
        }
    }

    fn capital(date: NaiveDate, net: i64, vat: i64) -> Purchase {
        Purchase {
            capital_item: true,
            ..expense(date, net, vat)
        }
    }

    #[test]
    fn the_table_is_whole_and_well_formed() {
        let all = sectors();
        assert_eq!(all.len(), 56);
        for (i, s) in all.iter().enumerate() {
            assert!(
                s.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                s.id
            );
            assert!((400..=1_650).contains(&s.basis_points), "{}", s.id);
            assert_eq!(s.basis_points % 50, 0, "{}", s.id);
            assert!(all[i + 1..]
                .iter()
                .all(|o| o.id != s.id && o.label != s.label));
            assert_eq!(sector(s.id), Some(s));
        }
        let bp = |id| sector(id).map(|s| s.basis_points);
        assert_eq!(bp("accountancy_or_book_keeping"), Some(1_450));
        assert_eq!(bp("advertising"), Some(1_100));
        assert_eq!(bp("computer_and_it_consultancy"), Some(1_450));
        assert_eq!(bp("computer_repair"), Some(1_050));
        assert_eq!(bp("management_consultancy"), Some(1_400));
        assert_eq!(bp("photography"), Some(1_100));
        assert_eq!(bp("labour_only_building_or_construction"), Some(1_450));
        assert_eq!(bp("general_building_or_construction"), Some(950));
        assert_eq!(bp("hairdressing_or_beauty"), Some(1_300));
        assert_eq!(bp("any_other_activity"), Some(1_200));
        assert_eq!(bp("limited_cost_business"), Some(1_650));
        assert_eq!(sector("no_such_sector"), None);
    }

    #[test]
    fn the_first_anniversary() {
        assert_eq!(first_anniversary(d(2024, 2, 15)), d(2025, 2, 15));
        // The year from 29 February 2024 ends on 28 February 2025.
        assert_eq!(first_anniversary(d(2024, 2, 29)), d(2025, 3, 1));
    }

    #[test]
    fn the_pro_rata_threshold_is_by_months_when_it_can_be() {
        let t = |start, end| {
            round_div(
                pro_rata(&period(start, end, "x")).0,
                pro_rata(&period(start, end, "x")).1,
            )
        };
        // A quarter: £1,000 × 3 / 12 = £250.00.
        assert_eq!(t(d(2025, 1, 1), d(2025, 3, 31)), 25_000);
        // A month: £1,000 / 12 = £83.333 → £83.33, but compared exactly.
        assert_eq!(t(d(2025, 2, 1), d(2025, 2, 28)), 8_333);
        // A year: £1,000.
        assert_eq!(t(d(2024, 1, 1), d(2024, 12, 31)), 100_000);
        // 15 Jan to 14 Apr 2025: 17 + 28 + 31 + 14 = 90 days; £1,000 × 90 / 365 = £246.575 →
        // £246.58.
        assert_eq!(t(d(2025, 1, 15), d(2025, 4, 14)), 24_658);
    }

    #[test]
    fn flat_rate_without_the_discount() {
        // IT consultancy, 14.5 %. Turnover incl. VAT: £5,000.00 + £1,000.00 VAT, £200.00
        // zero-rated, £100.00 exempt = £6,300.00; the £50.00 outside the scope is not turnover.
        // Box 1 = 6,300.00 × 14.5 % = £913.50. Box 6 £6,300.
        // Relevant goods £600.00 incl. VAT: not under 2 % (£126.00) nor £250.00: sector rate.
        // The £120.00 expense is not capital: nothing in box 4 or 7 under the scheme.
        let sales = [invoice(
            d(2025, 1, 10),
            vec![
                rt(VatRate::Standard, 500_000, 100_000),
                rt(VatRate::Zero, 20_000, 0),
                rt(VatRate::Exempt, 10_000, 0),
                rt(VatRate::OutsideScope, 5_000, 0),
            ],
        )];
        let purchases = [
            relevant(d(2025, 2, 15), 50_000, 10_000),
            expense(d(2025, 2, 16), 10_000, 2_000),
        ];
        let r = run(&it(Basis::Accrual), &q1(), &sales, &purchases);
        assert_eq!(
            (
                r.boxes.box1,
                r.boxes.box4,
                r.boxes.box5,
                r.boxes.box6,
                r.boxes.box7
            ),
            (91_350, 0, 91_350, 6_300, 0)
        );
        let w = r.flat_rate.unwrap();
        assert_eq!(
            w,
            FlatRateWorking {
                sector_id: Some("computer_and_it_consultancy".to_string()),
                sector_rate_bp: 1_450,
                applied_rate_bp: 1_450,
                first_year_discount: false,
                first_anniversary: d(2021, 1, 1),
                parts: vec![FlatRatePart {
                    start: d(2025, 1, 1),
                    end: d(2025, 3, 31),
                    first_year_discount: false,
                    applied_rate_bp: 1_450,
                    turnover_inclusive: 630_000,
                    vat: 91_350,
                }],
                turnover_inclusive: 630_000,
                relevant_goods: 60_000,
                threshold_pct_2: 12_600,
                threshold_pro_rata: 25_000,
                limited_cost_trader: false,
                vat: 91_350,
            }
        );
    }

    #[test]
    fn flat_rate_in_the_first_year() {
        // Registered 1 Oct 2024: all of Q1 2025 is in the first year, 14.5 − 1 = 13.5 %.
        // Turnover £5,250.00 + £1,050.00 VAT + £1.00 zero-rated = £6,301.00;
        // × 13.5 % = £850.635 → £850.64 (half a penny rounds up).
        let sales = [invoice(
            d(2025, 3, 1),
            vec![
                rt(VatRate::Standard, 525_000, 105_000),
                rt(VatRate::Zero, 100, 0),
            ],
        )];
        let scheme = frs(
            "computer_and_it_consultancy",
            d(2024, 10, 1),
            Basis::Accrual,
        );
        let r = run(
            &scheme,
            &q1(),
            &sales,
            &[relevant(d(2025, 2, 1), 50_000, 10_000)],
        );
        assert_eq!((r.boxes.box1, r.boxes.box6), (85_064, 6_301));
        let w = r.flat_rate.unwrap();
        assert_eq!((w.applied_rate_bp, w.first_year_discount), (1_350, true));
        assert_eq!(w.first_anniversary, d(2025, 10, 1));
    }

    #[test]
    fn flat_rate_straddling_the_first_anniversary() {
        // Management consultancy 14 %, registered 15 Feb 2024: 13 % until 14 Feb 2025.
        // 1 Jan – 14 Feb: £1,200.00 (10 Jan) + £600.00 (14 Feb, the last discounted day) =
        // £1,800.00 × 13 % = £234.00.
        // 15 Feb – 31 Mar: £600.00 (15 Feb) + £148.14 (£123.45 + £24.69, 20 Mar) = £748.14 ×
        // 14 % = £104.7396 → £104.74.
        // Box 1 = 234.00 + 104.74 = £338.74; box 6 = 1,800.00 + 748.14 = £2,548.14 → 2548.
        // Relevant goods £300.00: over 2 % (£50.96) and £250.00, so the sector rate stands.
        let std = |net, vat| vec![rt(VatRate::Standard, net, vat)];
        let sales = [
            invoice(d(2025, 1, 10), std(100_000, 20_000)),
            invoice(d(2025, 2, 14), std(50_000, 10_000)),
            invoice(d(2025, 2, 15), std(50_000, 10_000)),
            invoice(d(2025, 3, 20), std(12_345, 2_469)),
        ];
        let scheme = frs("management_consultancy", d(2024, 2, 15), Basis::Accrual);
        let r = run(
            &scheme,
            &q1(),
            &sales,
            &[relevant(d(2025, 1, 5), 25_000, 5_000)],
        );
        assert_eq!((r.boxes.box1, r.boxes.box6), (33_874, 2_548));
        let w = r.flat_rate.unwrap();
        let parts: Vec<_> = w
            .parts
            .iter()
            .map(|p| {
                (
                    p.start,
                    p.end,
                    p.applied_rate_bp,
                    p.turnover_inclusive,
                    p.vat,
                )
            })
            .collect();
        assert_eq!(
            parts,
            vec![
                (d(2025, 1, 1), d(2025, 2, 14), 1_300, 180_000, 23_400),
                (d(2025, 2, 15), d(2025, 3, 31), 1_400, 74_814, 10_474),
            ]
        );
        assert_eq!((w.applied_rate_bp, w.first_year_discount), (1_400, true));
        assert_eq!((w.threshold_pct_2, w.limited_cost_trader), (5_096, false));
        assert!(r.notes.iter().any(|n| n.contains("straddles")));
    }

    /// Photography (11 %), Q2 2025, one sale of £8,333.33 + £1,666.67 VAT = £10,000.00, and
    /// `goods` of relevant goods plus a £1,000.00 capital item also flagged relevant, which
    /// the test leaves out.
    fn photography_q2(goods: Purchase) -> VatReturn {
        let sales = [invoice(
            d(2025, 5, 1),
            vec![rt(VatRate::Standard, 833_333, 166_667)],
        )];
        let cap = Purchase {
            relevant_goods: true,
            ..capital(d(2025, 5, 2), 83_333, 16_667)
        };
        let scheme = frs("photography", d(2020, 1, 1), Basis::Accrual);
        run(&scheme, &q2(), &sales, &[goods, cap])
    }

    #[test]
    fn a_limited_cost_trader_pays_16_5_percent() {
        // Relevant goods £249.99: at least 2 % of £10,000.00 (£200.00) but under the quarter's
        // £250.00: limited cost trader. Box 1 = 10,000.00 × 16.5 % = £1,650.00.
        let r = photography_q2(relevant(d(2025, 4, 20), 20_833, 4_166));
        let w = r.flat_rate.as_ref().unwrap();
        assert_eq!(
            (w.relevant_goods, w.threshold_pct_2, w.threshold_pro_rata),
            (24_999, 20_000, 25_000)
        );
        assert!(w.limited_cost_trader);
        assert_eq!((w.sector_rate_bp, w.applied_rate_bp), (1_100, 1_650));
        assert_eq!(r.boxes.box1, 165_000);
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("16.50 % replaces the sector's 11.00 %")));
    }

    #[test]
    fn just_at_the_threshold_is_not_a_limited_cost_trader() {
        // Relevant goods £250.00: not less than £250.00 nor than £200.00. Box 1 = 10,000.00 ×
        // 11 % = £1,100.00.
        let r = photography_q2(relevant(d(2025, 4, 20), 20_834, 4_166));
        let w = r.flat_rate.as_ref().unwrap();
        assert_eq!((w.relevant_goods, w.limited_cost_trader), (25_000, false));
        assert_eq!((w.applied_rate_bp, r.boxes.box1), (1_100, 110_000));
    }

    #[test]
    fn the_two_percent_limb_of_the_test() {
        // Turnover £16,666.67 + £3,333.33 = £20,000.00; 2 % = £400.00, above the £250.00.
        // £399.99 of goods: under 2 %, limited cost: 20,000.00 × 16.5 % = £3,300.00.
        // £400.00: not under either: 20,000.00 × 11 % = £2,200.00.
        let sales = [invoice(
            d(2025, 5, 1),
            vec![rt(VatRate::Standard, 1_666_667, 333_333)],
        )];
        let scheme = frs("photography", d(2020, 1, 1), Basis::Accrual);
        let r = run(
            &scheme,
            &q2(),
            &sales,
            &[relevant(d(2025, 6, 1), 33_333, 6_666)],
        );
        assert_eq!(
            (r.flat_rate.unwrap().threshold_pct_2, r.boxes.box1),
            (40_000, 330_000)
        );
        let r = run(
            &scheme,
            &q2(),
            &sales,
            &[relevant(d(2025, 6, 1), 33_334, 6_666)],
        );
        assert_eq!(r.boxes.box1, 220_000);
    }

    #[test]
    fn a_monthly_period_compares_against_a_twelfth_exactly() {
        // No turnover, so the 2 % limb never holds; £1,000 / 12 = £83.333...: £83.33 is under
        // it, £83.34 is not.
        let feb = period(d(2025, 2, 1), d(2025, 2, 28), "25B2");
        let scheme = frs("photography", d(2020, 1, 1), Basis::Accrual);
        let lct = |net| {
            run(&scheme, &feb, &[], &[relevant(d(2025, 2, 3), net, 0)])
                .flat_rate
                .unwrap()
                .limited_cost_trader
        };
        assert!(lct(8_333));
        assert!(!lct(8_334));
    }

    #[test]
    fn a_limited_cost_trader_in_the_first_year_pays_15_5_percent() {
        // Registered 1 Jan 2025, Q2 2025, no goods: 16.5 − 1 = 15.5 % of £10,000.00 =
        // £1,550.00.
        let sales = [invoice(
            d(2025, 5, 1),
            vec![rt(VatRate::Standard, 833_333, 166_667)],
        )];
        let scheme = frs("photography", d(2025, 1, 1), Basis::Accrual);
        let r = run(&scheme, &q2(), &sales, &[]);
        let w = r.flat_rate.unwrap();
        assert!(w.limited_cost_trader && w.first_year_discount);
        assert_eq!((w.applied_rate_bp, r.boxes.box1), (1_550, 155_000));
    }

    #[test]
    fn only_capital_items_of_2000_pounds_or_more_are_reclaimed() {
        // IT 14.5 %: £1,200.00 turnover → box 1 £174.00 (£300.00 of goods keeps the business
        // off the limited cost rate; they are not capital, so not in box 4 or 7).
        // A laptop £2,000.00 + £400.00 = £2,400.00: box 4 £400.00, box 7 £2,000.
        // A camera £1,666.66 + £333.33 = £1,999.99: under £2,000 incl. VAT, not reclaimed.
        // Box 5 = |174.00 − 400.00| = £226.00, repayable.
        let sales = [invoice(
            d(2025, 1, 10),
            vec![rt(VatRate::Standard, 100_000, 20_000)],
        )];
        let laptop = capital(d(2025, 2, 1), 200_000, 40_000);
        let camera = capital(d(2025, 2, 2), 166_666, 33_333);
        let goods = relevant(d(2025, 1, 2), 30_000, 0);
        let r = run(
            &it(Basis::Accrual),
            &q1(),
            &sales,
            &[laptop, camera, goods.clone()],
        );
        assert_eq!(
            (r.boxes.box1, r.boxes.box4, r.boxes.box5, r.boxes.box7),
            (17_400, 40_000, 22_600, 2_000)
        );
        assert_eq!(r.direction, Direction::Repayable);
        assert!(r
            .notes
            .iter()
            .any(|n| n.starts_with("purchase 1: a capital item under")));
        // Exactly £2,000.00 incl. VAT (£1,666.67 + £333.33) qualifies: box 4 £333.33, box 7
        // £1,666. Not if the VAT is not reclaimable.
        let exact = capital(d(2025, 2, 3), 166_667, 33_333);
        let r = run(
            &it(Basis::Accrual),
            &q1(),
            &sales,
            &[exact.clone(), goods.clone()],
        );
        assert_eq!((r.boxes.box4, r.boxes.box7), (33_333, 1_666));
        let blocked = Purchase {
            vat_reclaimable: false,
            ..exact
        };
        let r = run(&it(Basis::Accrual), &q1(), &sales, &[blocked, goods]);
        assert_eq!((r.boxes.box4, r.boxes.box7), (0, 0));
    }

    #[test]
    fn reverse_charge_sales_are_outside_the_scheme() {
        // Labour-only construction 14.5 %: a reverse-charge £1,000.00 (£200.00 VAT shown) and a
        // standard £100.00 + £20.00. Flat rate turnover £120.00 → box 1 £17.40; box 6 =
        // 120.00 + 1,000.00 = £1,120. £300.00 of goods: not a limited cost trader.
        let sales = [invoice(
            d(2025, 2, 1),
            vec![
                rt(VatRate::Standard, 10_000, 2_000),
                rt(VatRate::ReverseCharge, 100_000, 20_000),
            ],
        )];
        let scheme = frs(
            "labour_only_building_or_construction",
            d(2020, 1, 1),
            Basis::Accrual,
        );
        let r = run(
            &scheme,
            &q1(),
            &sales,
            &[relevant(d(2025, 2, 2), 30_000, 0)],
        );
        assert_eq!((r.boxes.box1, r.boxes.box6), (1_740, 1_120));
        assert_eq!(r.flat_rate.unwrap().turnover_inclusive, 12_000);
        assert!(r
            .notes
            .iter()
            .any(|n| n.contains("outside the Flat Rate Scheme")));
    }

    #[test]
    fn cash_based_turnover_is_the_payments_received() {
        // IT 14.5 %: £1,000.00 + £200.00 VAT + £300.00 outside the scope = £1,500.00, of which
        // £1,200.00 is flat rate turnover. £600.00 paid in Q1 → turnover 600.00 × 1,200 /
        // 1,500 = £480.00 → box 1 £69.60, box 6 £480. £900.00 paid in Q2 → turnover 1,200.00 −
        // 480.00 = £720.00 → £104.40. Accrual Q1: £1,200.00 → £174.00 = 69.60 + 104.40.
        // £300.00 of goods paid in each quarter keeps the sector rate.
        let mut inv = invoice(
            d(2025, 2, 10),
            vec![
                rt(VatRate::Standard, 100_000, 20_000),
                rt(VatRate::OutsideScope, 30_000, 0),
            ],
        );
        inv.payments = vec![(d(2025, 3, 1), 60_000), (d(2025, 4, 2), 90_000)];
        let sales = [inv];
        let goods = [
            relevant(d(2025, 1, 2), 30_000, 0),
            relevant(d(2025, 4, 2), 30_000, 0),
        ];
        let r = run(&it(Basis::Cash), &q1(), &sales, &goods);
        assert_eq!((r.boxes.box1, r.boxes.box6), (6_960, 480));
        let r = run(&it(Basis::Cash), &q2(), &sales, &goods);
        assert_eq!((r.boxes.box1, r.boxes.box6), (10_440, 720));
        let r = run(&it(Basis::Accrual), &q1(), &sales, &goods);
        assert_eq!((r.boxes.box1, r.boxes.box6), (17_400, 1_200));
    }

    #[test]
    fn a_credit_note_reduces_flat_rate_turnover() {
        // Q2 holds only a credit note of £100.00 + £20.00: turnover −£120.00, IT 14.5 % →
        // box 1 −£17.40, box 6 −£120, box 5 £17.40 repayable (£300.00 of goods: sector rate).
        let sales = [
            invoice(d(2025, 3, 1), vec![rt(VatRate::Standard, 50_000, 10_000)]),
            credit(d(2025, 4, 3), vec![rt(VatRate::Standard, 10_000, 2_000)]),
        ];
        let r = run(
            &it(Basis::Accrual),
            &q2(),
            &sales,
            &[relevant(d(2025, 4, 4), 30_000, 0)],
        );
        assert_eq!(
            (r.boxes.box1, r.boxes.box5, r.boxes.box6),
            (-1_740, 1_740, -120)
        );
        assert_eq!(r.direction, Direction::Repayable);
    }

    #[test]
    fn acquisitions_under_the_scheme() {
        // Acquisition VAT is due in box 2 whatever the scheme; it is reclaimed only on a
        // capital item of £2,000 or more. Stock £100.00 + £20.00: box 2 £20.00, nothing in
        // box 4. A machine £2,500.00 + £500.00: box 2 £500.00 and box 4 £500.00.
        // Box 2 £520.00, box 4 £500.00, box 7 = box 9 = 100 + 2,500 = £2,600, box 5 £20.00.
        let acq = |p: Purchase| Purchase {
            ni_eu_goods_acquisition: true,
            ..p
        };
        let purchases = [
            acq(expense(d(2025, 1, 20), 10_000, 2_000)),
            acq(capital(d(2025, 1, 21), 250_000, 50_000)),
        ];
        let r = run(&it(Basis::Accrual), &q1(), &[], &purchases);
        assert_eq!(
            (
                r.boxes.box1,
                r.boxes.box2,
                r.boxes.box4,
                r.boxes.box5,
                r.boxes.box7,
                r.boxes.box9
            ),
            (0, 52_000, 50_000, 2_000, 2_600, 2_600)
        );
        assert!(r
            .notes
            .iter()
            .any(|n| n.starts_with("purchase 0: acquisition VAT")));
    }

    #[test]
    fn sector_choices_are_checked() {
        let scheme = frs("astrology", d(2020, 1, 1), Basis::Accrual);
        assert_eq!(
            vat_return(&q1(), &scheme, &[], &[]),
            Err(VatReturnError::UnknownSector {
                id: "astrology".to_string()
            })
        );
        let pct = |basis_points| Scheme::FlatRate {
            sector: FlatRateSector::BasisPoints { basis_points },
            registered_on: d(2020, 1, 1),
            basis: Basis::Accrual,
        };
        assert_eq!(
            vat_return(&q1(), &pct(10_001), &[], &[]),
            Err(VatReturnError::FlatRateOutOfRange)
        );
        // A given 4.5 %: £1,200.00 × 4.5 % = £54.00; £400 of goods keeps it off 16.5 %.
        let sales = [invoice(
            d(2025, 1, 10),
            vec![rt(VatRate::Standard, 100_000, 20_000)],
        )];
        let r = run(
            &pct(450),
            &q1(),
            &sales,
            &[relevant(d(2025, 1, 2), 40_000, 0)],
        );
        assert_eq!(r.boxes.box1, 5_400);
        assert_eq!(r.flat_rate.unwrap().sector_id, None);
    }

    #[test]
    fn hospitality_periods_of_the_temporary_rates_are_flagged() {
        let scheme = frs("catering", d(2015, 1, 1), Basis::Accrual);
        let q = period(d(2021, 1, 1), d(2021, 3, 31), "21A1");
        let r = run(&scheme, &q, &[], &[]);
        assert!(r.notes.iter().any(|n| n.contains("temporary hospitality")));
        assert!(!run(&scheme, &q1(), &[], &[])
            .notes
            .iter()
            .any(|n| n.contains("temporary")));
    }
}
