//! Validation of profile fields, shared by sign-up and `PATCH /v1/me`.

use crate::http::problem::FieldError;

pub const MAX_DISPLAY_NAME: usize = 100;

pub struct Preferences {
    pub display_name: Option<String>,
    pub time_zone: String,
    pub locale: String,
}

pub fn display_name(raw: String, errors: &mut Vec<FieldError>) -> Option<String> {
    let name = raw.trim().to_owned();
    if name.is_empty()
        || name.chars().count() > MAX_DISPLAY_NAME
        || name.chars().any(char::is_control)
    {
        errors.push(FieldError {
            field: "display_name".into(),
            message: format!("must be 1 to {MAX_DISPLAY_NAME} printable characters"),
        });
    }
    Some(name)
}

/// An IANA zone name such as `Europe/Berlin`, as known to chrono-tz.
pub fn time_zone(raw: String, errors: &mut Vec<FieldError>) -> String {
    if raw.parse::<chrono_tz::Tz>().is_err() {
        errors.push(FieldError {
            field: "time_zone".into(),
            message: "is not an IANA time zone such as Europe/Berlin".into(),
        });
    }
    raw
}

/// A BCP 47 language tag in its common shape: `en`, `en-GB`, `zh-Hant-TW`.
pub fn locale(raw: String, errors: &mut Vec<FieldError>) -> String {
    let mut parts = raw.split('-');
    let language = parts.next().unwrap_or("");
    let ok = (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
        && raw.len() <= 35;
    if !ok {
        errors.push(FieldError {
            field: "locale".into(),
            message: "is not a language tag such as en or en-GB".into(),
        });
    }
    raw
}

impl Preferences {
    pub fn validate(
        display_name: Option<String>,
        time_zone: Option<String>,
        locale: Option<String>,
        errors: &mut Vec<FieldError>,
    ) -> Self {
        Self {
            display_name: display_name.and_then(|n| self::display_name(n, errors)),
            time_zone: self::time_zone(time_zone.unwrap_or_else(|| "UTC".into()), errors),
            locale: self::locale(locale.unwrap_or_else(|| "en".into()), errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_zones_and_locales() {
        let mut errors = Vec::new();
        time_zone("Europe/Berlin".into(), &mut errors);
        locale("en-GB".into(), &mut errors);
        locale("zh-Hant-TW".into(), &mut errors);
        assert!(errors.is_empty());
        time_zone("Mars/Olympus".into(), &mut errors);
        locale("english".into(), &mut errors);
        display_name("   ".into(), &mut errors);
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["time_zone", "locale", "display_name"]);
    }
}
