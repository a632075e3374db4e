//! Field rules shared by workspace resources.

use crate::http::problem::FieldError;

/// A short label as [`labels`] accepts it: 1 to 50 characters with at least one visible
/// (`contract.rs` writes the bounds into the document). Only the document uses this type;
/// bodies carry plain strings.
#[derive(utoipa::ToSchema)]
#[schema(example = "phone")]
pub struct Label(pub String);

/// Trimmed, 1 to `max` characters, no control characters.
pub fn title(field: &str, raw: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = raw.trim().to_owned();
    let n = value.chars().count();
    if n == 0 || n > max || value.chars().any(char::is_control) {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be 1 to {max} printable characters"),
        });
    }
    value
}

/// Optional free text up to `max` characters; blank becomes none.
pub fn text(
    field: &str,
    raw: Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = raw.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be at most {max} characters"),
        });
    }
    Some(value)
}

/// One of `allowed`, or the default when absent.
pub fn one_of(
    field: &str,
    raw: Option<String>,
    allowed: &[&str],
    default: &str,
    errors: &mut Vec<FieldError>,
) -> String {
    let value = raw.unwrap_or_else(|| default.to_owned());
    if !allowed.contains(&value.as_str()) {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be one of {}", allowed.join(", ")),
        });
    }
    value
}

pub fn range(field: &str, value: Option<i64>, min: i64, max: i64, errors: &mut Vec<FieldError>) {
    if value.is_some_and(|v| !(min..=max).contains(&v)) {
        errors.push(FieldError {
            field: field.into(),
            message: format!("must be between {min} and {max}"),
        });
    }
}

/// Short labels: trimmed, unique, each 1 to 50 characters, at most 20.
pub fn labels(field: &str, raw: Option<Vec<String>>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for label in raw.unwrap_or_default() {
        let label = label.trim().to_owned();
        if label.is_empty() || label.chars().count() > 50 {
            errors.push(FieldError {
                field: field.into(),
                message: "each must be 1 to 50 characters".into(),
            });
            break;
        }
        if !out.contains(&label) {
            out.push(label);
        }
    }
    if out.len() > 20 {
        errors.push(FieldError {
            field: field.into(),
            message: "at most 20".into(),
        });
    }
    out
}
