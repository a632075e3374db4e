//! Placeholder with the renderer's interface.
pub struct Party {
    pub name: String,
    pub address_lines: Vec<String>,
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}
pub enum LogoKind {
    Png,
    Jpeg,
}
pub struct Logo {
    pub kind: LogoKind,
    pub bytes: Vec<u8>,
}
pub struct PdfLine {
    pub description: String,
    pub quantity: String,
    pub unit_price: String,
    pub vat_rate: Option<String>,
    pub net_pence: i64,
    pub vat_pence: Option<i64>,
}
pub struct PdfDocument {
    pub title: String,
    pub number: Option<String>,
    pub supplier: Party,
    pub customer: Party,
    pub dates: Vec<(String, String)>,
    pub lines: Vec<PdfLine>,
    pub vat_summary: Vec<(String, i64, i64)>,
    pub totals: Vec<(String, i64)>,
    pub notes: Vec<String>,
    pub logo: Option<Logo>,
}
#[derive(Debug)]
pub struct PdfError(pub String);
impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
pub fn format_pence(pence: i64) -> String {
    format!("£{}.{:02}", pence / 100, pence % 100)
}
pub fn render(doc: &PdfDocument) -> Result<Vec<u8>, PdfError> {
    Ok(format!("%PDF-1.7 {}", doc.title).into_bytes())
}
