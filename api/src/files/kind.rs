//! What a file is, read from its first bytes, and whether its name agrees.

use crate::http::problem::{ApiError, ProblemKind};

/// The kinds of file the store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Webp,
    Heic,
    Csv,
    Ofx,
    Xml,
}

/// What receipts and business documents may be.
pub const DOCUMENTS: &[Kind] = &[Kind::Pdf, Kind::Png, Kind::Jpeg, Kind::Webp, Kind::Heic];
/// What a bank statement export may be.
pub const STATEMENTS: &[Kind] = &[Kind::Csv, Kind::Ofx, Kind::Xml];

impl Kind {
    pub fn content_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Webp => "image/webp",
            Kind::Heic => "image/heic",
            Kind::Csv => "text/csv",
            Kind::Ofx => "application/x-ofx",
            Kind::Xml => "application/xml",
        }
    }

    pub fn from_content_type(ct: &str) -> Option<Kind> {
        ALL.iter().copied().find(|k| k.content_type() == ct)
    }

    /// Name endings that may carry this kind; the first is the one given to a nameless file.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Png => &["png"],
            Kind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Kind::Webp => &["webp"],
            Kind::Heic => &["heic", "heif"],
            Kind::Csv => &["csv", "txt"],
            Kind::Ofx => &["ofx", "qfx"],
            Kind::Xml => &["xml", "053"],
        }
    }

    fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "a PDF document",
            Kind::Png => "a PNG image",
            Kind::Jpeg => "a JPEG image",
            Kind::Webp => "a WebP image",
            Kind::Heic => "a HEIC image",
            Kind::Csv => "CSV text",
            Kind::Ofx => "an OFX statement",
            Kind::Xml => "an XML document",
        }
    }
}

const ALL: &[Kind] = &[
    Kind::Pdf,
    Kind::Png,
    Kind::Jpeg,
    Kind::Webp,
    Kind::Heic,
    Kind::Csv,
    Kind::Ofx,
    Kind::Xml,
];

/// The kind of `bytes`: binary formats by their signature (`infer`), text formats by their
/// shape (OFX's header or root element, an XML declaration or root, else UTF-8 text as CSV).
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if let Some(t) = infer::get(bytes) {
        return match t.mime_type() {
            "application/pdf" => Some(Kind::Pdf),
            "image/png" => Some(Kind::Png),
            "image/jpeg" => Some(Kind::Jpeg),
            "image/webp" => Some(Kind::Webp),
            "image/heif" | "image/heic" => Some(Kind::Heic),
            "text/xml" | "application/xml" => Some(text_kind(bytes)).flatten(),
            _ => None,
        };
    }
    text_kind(bytes)
}

fn text_kind(bytes: &[u8]) -> Option<Kind> {
    let text: std::borrow::Cow<str> = match std::str::from_utf8(bytes) {
        Ok(text) => text.into(),
        // Some banks export Windows-1252 (a `£` as 0xA3): read as Latin-1 to classify it.
        Err(_) => bytes.iter().map(|&b| b as char).collect::<String>().into(),
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let head = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_uppercase();
    if head.starts_with("OFXHEADER") || head.contains("<OFX>") {
        Some(Kind::Ofx)
    } else if head.starts_with('<') {
        Some(Kind::Xml)
    } else {
        Some(Kind::Csv)
    }
}

/// Recognises `bytes` as one of `allowed` and checks that `name` (if it has an ending) and the
/// declared `content_type` (if it says anything specific) agree with what the bytes are.
pub fn check(
    bytes: &[u8],
    allowed: &[Kind],
    name: Option<&str>,
    declared: Option<&str>,
) -> Result<Kind, ApiError> {
    let refuse = |why: String| ApiError::new(ProblemKind::UnsupportedMediaType, why);
    let wanted = allowed
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join(", ");
    let kind = sniff(bytes)
        .filter(|k| allowed.contains(k))
        .ok_or_else(|| refuse(format!("the file's content is not one of: {wanted}")))?;
    if let Some(ext) = name.and_then(extension) {
        if !kind.extensions().contains(&ext.as_str()) {
            return Err(refuse(format!(
                "the file's content is {} but its name ends in .{ext}",
                kind.label()
            )));
        }
    }
    if let Some(declared) = declared.map(|d| d.split(';').next().unwrap_or("").trim()) {
        let vague = declared.is_empty()
            || declared == "application/octet-stream"
            || declared.starts_with("text/plain")
            || (kind == Kind::Xml && declared == "text/xml")
            || (kind == Kind::Heic && declared == "image/heif");
        if !vague && declared != kind.content_type() {
            return Err(refuse(format!(
                "the file's content is {} but it was sent as {declared}",
                kind.label()
            )));
        }
    }
    Ok(kind)
}

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

/// A name to show and to offer on download: the last path segment of what the client sent,
/// without control characters, at most 200 characters; a nameless file is named by its kind.
pub fn display_name(name: Option<&str>, kind: Kind) -> String {
    let raw = name.unwrap_or("");
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .chars()
        .take(200)
        .collect();
    if clean.is_empty() {
        format!("file.{}", kind.extensions()[0])
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn content_decides_and_names_must_agree() {
        assert_eq!(
            check(PDF, DOCUMENTS, Some("r.pdf"), None).unwrap(),
            Kind::Pdf
        );
        assert_eq!(
            check(PNG, DOCUMENTS, Some("R.PNG"), Some("image/png")).unwrap(),
            Kind::Png
        );
        assert!(check(PNG, DOCUMENTS, Some("receipt.pdf"), None).is_err());
        assert!(check(PDF, DOCUMENTS, None, Some("image/png")).is_err());
        assert!(check(b"<html><script>", DOCUMENTS, Some("x.pdf"), None).is_err());
        assert!(check(b"MZ\x90\0", DOCUMENTS, None, None).is_err());
        assert_eq!(
            check(PDF, DOCUMENTS, None, Some("application/octet-stream")).unwrap(),
            Kind::Pdf
        );
    }

    #[test]
    fn statements_are_told_apart() {
        assert_eq!(sniff(b"Date,Amount\n01/02/2026,1.00\n"), Some(Kind::Csv));
        assert_eq!(
            sniff(b"OFXHEADER:100\nDATA:OFXSGML\n<OFX>"),
            Some(Kind::Ofx)
        );
        assert_eq!(sniff(b"<?xml version=\"1.0\"?><Document>"), Some(Kind::Xml));
        assert_eq!(sniff(b"\xa312.00,coffee\n"), Some(Kind::Csv));
        assert_eq!(sniff(b"\0\x01\x02"), None);
    }

    #[test]
    fn names_lose_their_paths() {
        assert_eq!(display_name(Some("../../etc/passwd"), Kind::Pdf), "passwd");
        assert_eq!(
            display_name(Some("C:\\Users\\me\\r.pdf"), Kind::Pdf),
            "r.pdf"
        );
        assert_eq!(display_name(Some("a\u{0}b\n.pdf"), Kind::Pdf), "ab.pdf");
        assert_eq!(display_name(Some("..."), Kind::Png), "file.png");
        assert_eq!(display_name(None, Kind::Jpeg), "file.jpg");
    }
}
