//! Renders invoices, credit notes and quotes to PDF.
//!
//! Layout is done here with fixed metrics read from the embedded DejaVu fonts, so
//! the output depends only on the input: no clock, no system fonts, no random IDs.
//! Text is positioned glyph by glyph (no shaping engine): invoices are short Latin
//! text in practice, and skipping shaping keeps the dependency tree small. krilla
//! subsets the fonts and writes a ToUnicode map, so the text stays extractable.

use std::fmt;
use std::ops::Range;

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size as FontSize};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

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
    /// Already formatted, e.g. "£19.99".
    pub unit_price: String,
    /// e.g. "20%", "Zero rated", "Exempt"; `None` when the supplier is not VAT registered.
    pub vat_rate: Option<String>,
    pub net_pence: i64,
    pub vat_pence: Option<i64>,
}

pub struct PdfDocument {
    pub title: String,
    /// `None` marks the document as a draft.
    pub number: Option<String>,
    pub supplier: Party,
    pub customer: Party,
    pub dates: Vec<(String, String)>,
    pub lines: Vec<PdfLine>,
    /// Rate label, net pence, VAT pence. Empty means no VAT summary table.
    pub vat_summary: Vec<(String, i64, i64)>,
    /// Shown in order; the last one is emphasised as the grand total.
    pub totals: Vec<(String, i64)>,
    pub notes: Vec<String>,
    pub logo: Option<Logo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfError {
    /// The logo could not be decoded or is unreasonably large.
    InvalidLogo(String),
    /// The PDF could not be produced.
    Render(String),
}

impl fmt::Display for PdfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PdfError::InvalidLogo(msg) => write!(f, "invalid logo image: {msg}"),
            PdfError::Render(msg) => write!(f, "could not render PDF: {msg}"),
        }
    }
}

impl std::error::Error for PdfError {}

/// Formats pence as pounds with thousands separators: `123456` -> `"£1,234.56"`,
/// `-300` -> `"-£3.00"`.
pub fn format_pence(pence: i64) -> String {
    // unsigned_abs so that i64::MIN does not overflow.
    let abs = pence.unsigned_abs();
    let pounds = (abs / 100).to_string();
    // Groups of three counted from the right; the digits are ASCII, so every
    // chunk is valid UTF-8.
    let groups: Vec<&str> = pounds
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    let grouped = groups.join(",");
    let sign = if pence < 0 { "-" } else { "" };
    format!("{sign}£{grouped}.{:02}", abs % 100)
}

/// Renders the document to PDF bytes. The same input always yields the same bytes.
pub fn render(doc: &PdfDocument) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::load()?;
    let logo = doc.logo.as_ref().map(load_logo).transpose()?;
    let pages = layout(doc, &fonts, logo.as_ref());
    emit(doc, &fonts, logo.as_ref(), &pages)
}

/// The text of every page: what tests check a generated PDF says, and what the offline reader
/// of receipts reads. Empty when the bytes are not a PDF it can parse.
pub fn text_of(pdf: &[u8]) -> String {
    let Ok(parsed) = lopdf::Document::load_mem(pdf) else {
        return String::new();
    };
    let pages: Vec<u32> = parsed.get_pages().keys().copied().collect();
    parsed.extract_text(&pages).unwrap_or_default()
}

// A4 in PostScript points; krilla's origin is the top-left corner with y growing down.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.5;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const BODY_BOTTOM: f32 = PAGE_H - 56.0;
const FOOTER_BASELINE: f32 = PAGE_H - 30.0;

// Caps on the lines of a single block that must stay on one page, so that no
// input, however long, can push a block past the bottom edge.
const MAX_CELL_LINES: usize = 30;
const MAX_COLUMN_LINES: usize = 24;
const MAX_LABEL_LINES: usize = 4;

/// Decoding a logo allocates width * height * 4 bytes, so absurd headers are refused.
const MAX_LOGO_PIXELS: u64 = 25_000_000;
const LOGO_BOX_W: f32 = 160.0;
const LOGO_BOX_H: f32 = 64.0;

const BLACK: u8 = 0;
const GREY: u8 = 100;
const RULE_GREY: u8 = 200;
const HEADER_FILL: u8 = 235;
const WATERMARK_GREY: u8 = 225;

struct Face {
    pdf: Font,
    charmap: Charmap<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
}

impl Face {
    fn load(data: &'static [u8]) -> Result<Self, PdfError> {
        let font_ref = FontRef::new(data).map_err(|e| PdfError::Render(e.to_string()))?;
        let units_per_em = f32::from(
            font_ref
                .metrics(FontSize::unscaled(), LocationRef::default())
                .units_per_em,
        );
        let pdf = Font::new(data.into(), 0)
            .ok_or_else(|| PdfError::Render("embedded font is unreadable".into()))?;
        Ok(Face {
            pdf,
            charmap: font_ref.charmap(),
            metrics: font_ref.glyph_metrics(FontSize::unscaled(), LocationRef::default()),
            units_per_em: units_per_em.max(1.0),
        })
    }

    /// Glyph id and advance as a fraction of the em; unknown characters map to
    /// glyph 0 (.notdef) so they show as a box instead of failing.
    fn glyph(&self, c: char) -> (u32, f32) {
        let gid = self.charmap.map(c).unwrap_or_default();
        let advance = self.metrics.advance_width(gid).unwrap_or(0.0) / self.units_per_em;
        (gid.to_u32(), advance)
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    fn glyphs(&self, text: &str) -> Vec<KrillaGlyph> {
        text.char_indices()
            .map(|(i, c)| {
                let (gid, advance) = self.glyph(c);
                KrillaGlyph {
                    glyph_id: GlyphId::new(gid),
                    text_range: Range {
                        start: i,
                        end: i + c.len_utf8(),
                    },
                    x_advance: advance,
                    x_offset: 0.0,
                    y_offset: 0.0,
                    y_advance: 0.0,
                    location: None,
                }
            })
            .collect()
    }
}

struct Fonts {
    regular: Face,
    bold: Face,
}

impl Fonts {
    fn load() -> Result<Self, PdfError> {
        Ok(Fonts {
            regular: Face::load(REGULAR_TTF)?,
            bold: Face::load(BOLD_TTF)?,
        })
    }

    fn face(&self, bold: bool) -> &Face {
        if bold {
            &self.bold
        } else {
            &self.regular
        }
    }
}

/// Whether `logo` renders: an upload is checked by drawing it once, since some broken images
/// only fail when their pixels are read.
pub fn check_logo(logo: Logo) -> Result<(), PdfError> {
    let empty = || Party {
        name: String::new(),
        address_lines: Vec::new(),
        vat_number: None,
        email: None,
        phone: None,
    };
    render(&PdfDocument {
        title: String::new(),
        number: None,
        supplier: empty(),
        customer: empty(),
        dates: Vec::new(),
        lines: Vec::new(),
        vat_summary: Vec::new(),
        totals: Vec::new(),
        notes: Vec::new(),
        logo: Some(logo),
    })
    .map(drop)
}

fn load_logo(logo: &Logo) -> Result<Image, PdfError> {
    let data = logo.bytes.clone().into();
    let image = match logo.kind {
        LogoKind::Png => Image::from_png(data, true),
        LogoKind::Jpeg => Image::from_jpeg(data, true),
    }
    .map_err(PdfError::InvalidLogo)?;
    let (w, h) = image.size();
    if w == 0 || h == 0 {
        return Err(PdfError::InvalidLogo("image has no pixels".into()));
    }
    if u64::from(w) * u64::from(h) > MAX_LOGO_PIXELS {
        return Err(PdfError::InvalidLogo(format!(
            "image is too large ({w}x{h})"
        )));
    }
    Ok(image)
}

#[derive(Clone, Copy)]
struct Style {
    size: f32,
    bold: bool,
    grey: u8,
}

impl Style {
    const fn new(size: f32, bold: bool, grey: u8) -> Self {
        Style { size, bold, grey }
    }

    fn line_height(self) -> f32 {
        self.size * 1.3
    }
}

const BODY: Style = Style::new(9.0, false, BLACK);
const BODY_BOLD: Style = Style::new(9.0, true, BLACK);
const SMALL: Style = Style::new(8.0, false, GREY);
const SMALL_BOLD: Style = Style::new(8.0, true, GREY);
const TABLE: Style = Style::new(8.5, false, BLACK);
const TABLE_HEAD: Style = Style::new(8.5, true, BLACK);
const NAME: Style = Style::new(10.5, true, BLACK);
const TITLE: Style = Style::new(20.0, true, BLACK);
const NUMBER: Style = Style::new(11.0, true, BLACK);
const TOTAL_BOLD: Style = Style::new(10.5, true, BLACK);

enum Item {
    Text {
        x: f32,
        baseline: f32,
        style: Style,
        text: String,
    },
    Fill {
        rect: (f32, f32, f32, f32),
        grey: u8,
    },
    Logo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Align {
    Left,
    Right,
}

struct Layout<'a> {
    fonts: &'a Fonts,
    pages: Vec<Vec<Item>>,
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts) -> Self {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    /// Starts a new page unless `height` still fits; returns whether it broke.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height <= BODY_BOTTOM || self.y <= MARGIN {
            return false;
        }
        self.pages.push(Vec::new());
        self.y = MARGIN;
        true
    }

    /// Draws one already-wrapped line whose top edge is at `top`.
    fn text_at(&mut self, x: f32, width: f32, top: f32, align: Align, style: Style, text: &str) {
        if text.is_empty() {
            return;
        }
        let x = match align {
            Align::Left => x,
            Align::Right => x + width - self.fonts.face(style.bold).width(text, style.size),
        };
        self.push(Item::Text {
            x,
            baseline: top + style.size,
            style,
            text: text.to_owned(),
        });
    }

    fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, grey: u8) {
        self.push(Item::Fill {
            rect: (x, y, w, h),
            grey,
        });
    }

    fn wrap(&self, text: &str, style: Style, width: f32, max_lines: usize) -> Vec<String> {
        wrap(
            self.fonts.face(style.bold),
            text,
            style.size,
            width,
            max_lines,
        )
    }
}

/// A run of styled lines drawn as one unit in a column.
type Column = Vec<(Style, String)>;

fn column(layout: &Layout<'_>, entries: &[(Style, &str)], width: f32, max_lines: usize) -> Column {
    let mut out = Column::new();
    for (style, text) in entries {
        for line in layout.wrap(text, *style, width, MAX_CELL_LINES) {
            out.push((*style, line));
        }
    }
    if out.len() > max_lines {
        out.truncate(max_lines);
        if let Some((style, last)) = out.last_mut() {
            *last = ellipsize(layout.fonts.face(style.bold), last, style.size, width);
        }
    }
    out
}

fn column_height(col: &Column) -> f32 {
    col.iter().map(|(s, _)| s.line_height()).sum()
}

fn draw_column(layout: &mut Layout<'_>, col: &Column, x: f32, width: f32, top: f32, align: Align) {
    let mut y = top;
    for (style, line) in col {
        layout.text_at(x, width, y, align, *style, line);
        y += style.line_height();
    }
}

fn party_column(layout: &Layout<'_>, heading: &str, party: &Party, width: f32) -> Column {
    let vat = party
        .vat_number
        .as_ref()
        .map(|v| format!("VAT number: {v}"));
    let mut entries: Vec<(Style, &str)> = vec![(SMALL_BOLD, heading), (NAME, party.name.as_str())];
    entries.extend(party.address_lines.iter().map(|l| (BODY, l.as_str())));
    entries.extend(vat.as_deref().map(|v| (BODY, v)));
    entries.extend(party.email.as_deref().map(|v| (BODY, v)));
    entries.extend(party.phone.as_deref().map(|v| (BODY, v)));
    column(layout, &entries, width, MAX_COLUMN_LINES)
}

fn layout(doc: &PdfDocument, fonts: &Fonts, logo: Option<&Image>) -> Vec<Vec<Item>> {
    let mut l = Layout::new(fonts);
    header(&mut l, doc, logo);
    parties(&mut l, doc);
    lines_table(&mut l, doc);
    vat_summary(&mut l, doc);
    totals(&mut l, doc);
    notes(&mut l, doc);
    l.pages
}

fn header(l: &mut Layout<'_>, doc: &PdfDocument, logo: Option<&Image>) {
    let top = l.y;
    let mut left_bottom = top;
    if let Some(image) = logo {
        let (pw, ph) = image.size();
        let scale = (LOGO_BOX_W / pw as f32).min(LOGO_BOX_H / ph as f32);
        let (w, h) = (pw as f32 * scale, ph as f32 * scale);
        l.push(Item::Logo {
            x: MARGIN,
            y: top,
            w,
            h,
        });
        left_bottom = top + h;
    }

    let right_w = CONTENT_W - LOGO_BOX_W - 20.0;
    let right_x = PAGE_W - MARGIN - right_w;
    let number = doc.number.as_deref().unwrap_or("DRAFT");
    let dates: Vec<String> = doc
        .dates
        .iter()
        .map(|(label, value)| format!("{label}: {value}"))
        .collect();
    let mut entries: Vec<(Style, &str)> = vec![(TITLE, doc.title.as_str()), (NUMBER, number)];
    entries.extend(dates.iter().map(|d| (BODY, d.as_str())));
    let col = column(l, &entries, right_w, MAX_COLUMN_LINES);
    draw_column(l, &col, right_x, right_w, top, Align::Right);

    l.y = left_bottom.max(top + column_height(&col)) + 22.0;
}

fn parties(l: &mut Layout<'_>, doc: &PdfDocument) {
    let gap = 24.0;
    let width = (CONTENT_W - gap) / 2.0;
    let from = party_column(l, "FROM", &doc.supplier, width);
    let to = party_column(l, "TO", &doc.customer, width);
    let height = column_height(&from).max(column_height(&to));
    l.ensure(height);
    let top = l.y;
    draw_column(l, &from, MARGIN, width, top, Align::Left);
    draw_column(l, &to, MARGIN + width + gap, width, top, Align::Left);
    l.y = top + height + 22.0;
}

struct Col {
    title: &'static str,
    width: f32,
    align: Align,
}

const fn col(title: &'static str, width: f32, align: Align) -> Col {
    Col {
        title,
        width,
        align,
    }
}

const CELL_PAD: f32 = 4.0;

/// A table row wrapped to its column widths, ready to draw.
struct Row {
    cells: Vec<Vec<String>>,
    style: Style,
    height: f32,
}

fn measure_row(l: &Layout<'_>, cols: &[Col], cells: &[String], style: Style) -> Row {
    let cells: Vec<Vec<String>> = cols
        .iter()
        .zip(cells)
        .map(|(c, text)| l.wrap(text, style, c.width - 2.0 * CELL_PAD, MAX_CELL_LINES))
        .collect();
    let lines = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
    Row {
        cells,
        style,
        height: lines as f32 * style.line_height() + 2.0 * CELL_PAD,
    }
}

fn draw_row(l: &mut Layout<'_>, cols: &[Col], row: &Row, x0: f32) {
    let top = l.y;
    let mut x = x0;
    for (c, cell) in cols.iter().zip(&row.cells) {
        let mut y = top + CELL_PAD;
        for line in cell {
            let width = c.width - 2.0 * CELL_PAD;
            l.text_at(x + CELL_PAD, width, y, c.align, row.style, line);
            y += row.style.line_height();
        }
        x += c.width;
    }
    l.y = top + row.height;
}

fn table_header(l: &mut Layout<'_>, cols: &[Col], x0: f32) {
    let titles: Vec<String> = cols.iter().map(|c| c.title.to_owned()).collect();
    let header = measure_row(l, cols, &titles, TABLE_HEAD);
    let width: f32 = cols.iter().map(|c| c.width).sum();
    // Keep the header with at least one body row.
    l.ensure(header.height + TABLE.line_height() + 2.0 * CELL_PAD);
    l.rect(x0, l.y, width, header.height, HEADER_FILL);
    draw_row(l, cols, &header, x0);
}

/// Draws a body row with a rule under it, repeating the header after a page break.
fn body_row(l: &mut Layout<'_>, cols: &[Col], cells: &[String], x0: f32) {
    let row = measure_row(l, cols, cells, TABLE);
    if l.ensure(row.height) {
        table_header(l, cols, x0);
    }
    draw_row(l, cols, &row, x0);
    let width: f32 = cols.iter().map(|c| c.width).sum();
    rule(l, x0, width, RULE_GREY);
}

/// Widens each right-aligned (number) column to its widest cell, taking the room from the
/// first column: a split figure ("£1,000,000.0" over "3") would misread on paper, a narrower
/// description only wraps.
fn fit_numbers(l: &Layout<'_>, cols: &mut [Col], rows: &[Vec<String>]) {
    let mut taken = 0.0;
    for (i, c) in cols.iter_mut().enumerate().skip(1) {
        if c.align != Align::Right {
            continue;
        }
        let head = l.fonts.face(true).width(c.title, TABLE_HEAD.size);
        let widest = rows
            .iter()
            .filter_map(|r| r.get(i))
            .map(|t| l.fonts.face(false).width(t, TABLE.size))
            .fold(head, f32::max);
        let needed = widest + 2.0 * CELL_PAD + 1.0;
        if needed > c.width {
            taken += needed - c.width;
            c.width = needed;
        }
    }
    if let Some(first) = cols.first_mut() {
        first.width = (first.width - taken).max(48.0);
    }
}

fn rule(l: &mut Layout<'_>, x: f32, width: f32, grey: u8) {
    l.rect(x, l.y, width, 0.5, grey);
}

fn lines_table(l: &mut Layout<'_>, doc: &PdfDocument) {
    let with_vat = !doc.vat_summary.is_empty()
        || doc
            .lines
            .iter()
            .any(|line| line.vat_rate.is_some() || line.vat_pence.is_some());
    let cols: Vec<Col> = if with_vat {
        vec![
            col("Description", CONTENT_W - 308.0, Align::Left),
            col("Qty", 44.0, Align::Right),
            col("Unit price", 70.0, Align::Right),
            col("VAT rate", 70.0, Align::Left),
            col("Net", 66.0, Align::Right),
            col("VAT", 58.0, Align::Right),
        ]
    } else {
        vec![
            col("Description", CONTENT_W - 216.0, Align::Left),
            col("Qty", 56.0, Align::Right),
            col("Unit price", 80.0, Align::Right),
            col("Net", 80.0, Align::Right),
        ]
    };

    let rows: Vec<Vec<String>> = doc
        .lines
        .iter()
        .map(|line| {
            let mut cells = vec![
                line.description.clone(),
                line.quantity.clone(),
                line.unit_price.clone(),
            ];
            if with_vat {
                cells.push(line.vat_rate.clone().unwrap_or_default());
            }
            cells.push(format_pence(line.net_pence));
            if with_vat {
                cells.push(line.vat_pence.map(format_pence).unwrap_or_default());
            }
            cells
        })
        .collect();
    let mut cols = cols;
    fit_numbers(l, &mut cols, &rows);
    table_header(l, &cols, MARGIN);
    for cells in &rows {
        body_row(l, &cols, cells, MARGIN);
    }
    l.y += 16.0;
}

fn vat_summary(l: &mut Layout<'_>, doc: &PdfDocument) {
    if doc.vat_summary.is_empty() {
        return;
    }
    let x0 = MARGIN + CONTENT_W / 2.0;
    let cols = [
        col("VAT rate", CONTENT_W / 2.0 - 160.0, Align::Left),
        col("Net", 80.0, Align::Right),
        col("VAT", 80.0, Align::Right),
    ];
    let width: f32 = cols.iter().map(|c| c.width).sum();
    l.ensure(BODY_BOLD.line_height() * 2.0 + 40.0);
    let top = l.y;
    l.text_at(
        x0 + CELL_PAD,
        width,
        top,
        Align::Left,
        BODY_BOLD,
        "VAT summary",
    );
    l.y = top + BODY_BOLD.line_height() + 2.0;
    let rows: Vec<Vec<String>> = doc
        .vat_summary
        .iter()
        .map(|(rate, net, vat)| vec![rate.clone(), format_pence(*net), format_pence(*vat)])
        .collect();
    let mut cols = cols;
    fit_numbers(l, &mut cols, &rows);
    table_header(l, &cols, x0);
    for cells in &rows {
        body_row(l, &cols, cells, x0);
    }
    l.y += 14.0;
}

fn totals(l: &mut Layout<'_>, doc: &PdfDocument) {
    let x0 = MARGIN + CONTENT_W / 2.0;
    let value_w = doc
        .totals
        .iter()
        .map(|(_, p)| l.fonts.face(true).width(&format_pence(*p), TOTAL_BOLD.size) + 2.0 * CELL_PAD)
        .fold(110.0, f32::max);
    let label_w = CONTENT_W / 2.0 - value_w - CELL_PAD;
    let count = doc.totals.len();
    for (i, (label, pence)) in doc.totals.iter().enumerate() {
        let last = i + 1 == count;
        let style = if last { TOTAL_BOLD } else { BODY };
        let value = format_pence(*pence);
        let labels = l.wrap(label, style, label_w - CELL_PAD, MAX_LABEL_LINES);
        let values = l.wrap(&value, style, value_w - CELL_PAD, MAX_LABEL_LINES);
        let lines = labels.len().max(values.len()).max(1);
        let height = lines as f32 * style.line_height() + 6.0;
        l.ensure(height + 4.0);
        if last {
            rule(l, x0, CONTENT_W / 2.0, BLACK);
            l.y += 3.0;
        }
        let top = l.y + 3.0;
        for (n, line) in labels.iter().enumerate() {
            let y = top + n as f32 * style.line_height();
            l.text_at(x0 + CELL_PAD, label_w, y, Align::Left, style, line);
        }
        for (n, line) in values.iter().enumerate() {
            let y = top + n as f32 * style.line_height();
            l.text_at(
                x0 + label_w,
                value_w - CELL_PAD,
                y,
                Align::Right,
                style,
                line,
            );
        }
        l.y += height;
    }
    l.y += 18.0;
}

fn notes(l: &mut Layout<'_>, doc: &PdfDocument) {
    for paragraph in &doc.notes {
        for source_line in paragraph.split('\n') {
            for line in l.wrap(source_line, BODY, CONTENT_W, usize::MAX) {
                l.ensure(BODY.line_height());
                let top = l.y;
                l.text_at(MARGIN, CONTENT_W, top, Align::Left, BODY, &line);
                l.y += BODY.line_height();
            }
        }
        l.y += 6.0;
    }
}

/// Replaces C0/C1 control characters (NUL, tabs, newlines) with spaces: they have
/// no glyphs, and as spaces they still separate words for wrapping.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Greedy word wrap. Words wider than the column are split between characters, so
/// nothing (long URLs, IBANs, huge amounts) can overflow the column. At most
/// `max_lines` lines are kept, the last one ending in an ellipsis if cut short.
fn wrap(face: &Face, text: &str, size: f32, width: f32, max_lines: usize) -> Vec<String> {
    let text = clean(text);
    let space = face.width(" ", size);
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_w = 0.0;
    let mut truncated = false;

    'words: for word in text.split_whitespace() {
        let word_w = face.width(word, size);
        let needed = if current.is_empty() {
            word_w
        } else {
            current_w + space + word_w
        };
        if needed <= width {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            current_w = needed;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
            current_w = 0.0;
            if lines.len() >= max_lines {
                truncated = true;
                break 'words;
            }
        }
        if word_w <= width {
            current.push_str(word);
            current_w = word_w;
            continue;
        }
        for c in word.chars() {
            let cw = face.width(c.encode_utf8(&mut [0; 4]), size);
            if current_w + cw > width && !current.is_empty() {
                lines.push(std::mem::take(&mut current));
                current_w = 0.0;
                if lines.len() >= max_lines {
                    truncated = true;
                    break 'words;
                }
            }
            current.push(c);
            current_w += cw;
        }
    }
    if !truncated && !current.is_empty() {
        if lines.len() >= max_lines {
            truncated = true;
        } else {
            lines.push(current);
        }
    }
    if truncated {
        if let Some(last) = lines.last_mut() {
            *last = ellipsize(face, last, size, width);
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Shortens `text` until it plus a trailing ellipsis fits in `width`.
fn ellipsize(face: &Face, text: &str, size: f32, width: f32) -> String {
    let mut out: String = text.to_owned();
    let ellipsis_w = face.width("…", size);
    while !out.is_empty() && face.width(&out, size) + ellipsis_w > width {
        out.pop();
    }
    out.push('…');
    out
}

fn fill_of(grey: u8) -> Fill {
    Fill {
        paint: rgb::Color::new(grey, grey, grey).into(),
        ..Fill::default()
    }
}

fn draw_text(surface: &mut Surface<'_>, fonts: &Fonts, x: f32, y: f32, style: Style, text: &str) {
    if text.is_empty() {
        return;
    }
    let face = fonts.face(style.bold);
    surface.set_fill(Some(fill_of(style.grey)));
    surface.draw_glyphs(
        Point::from_xy(x, y),
        &face.glyphs(text),
        face.pdf.clone(),
        text,
        style.size,
        false,
    );
}

fn draw_watermark(surface: &mut Surface<'_>, fonts: &Fonts) {
    let style = Style::new(110.0, true, WATERMARK_GREY);
    let text = "DRAFT";
    let width = fonts.bold.width(text, style.size);
    let (cx, cy) = (PAGE_W / 2.0, PAGE_H / 2.0);
    surface.push_transform(&Transform::from_rotate_at(-45.0, cx, cy));
    draw_text(
        surface,
        fonts,
        cx - width / 2.0,
        cy + style.size * 0.35,
        style,
        text,
    );
    surface.pop();
}

fn emit(
    doc: &PdfDocument,
    fonts: &Fonts,
    logo: Option<&Image>,
    pages: &[Vec<Item>],
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    let number = doc.number.as_deref().unwrap_or("DRAFT");
    let footer_left = clean(&format!("{} {}", doc.title, number));
    let footer_left = wrap(
        &fonts.regular,
        &footer_left,
        SMALL.size,
        CONTENT_W - 120.0,
        1,
    )
    .into_iter()
    .next()
    .unwrap_or_default();
    // Only a title: krilla writes no dates unless asked, and derives the document
    // ID from the content, which keeps the output reproducible.
    document.set_metadata(Metadata::new().title(footer_left.clone()));
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| PdfError::Render("invalid page size".into()))?;
    let total = pages.len();

    for (index, items) in pages.iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        if doc.number.is_none() {
            draw_watermark(&mut surface, fonts);
        }
        for item in items {
            match item {
                Item::Text {
                    x,
                    baseline,
                    style,
                    text,
                } => draw_text(&mut surface, fonts, *x, *baseline, *style, text),
                Item::Fill {
                    rect: (x, y, w, h),
                    grey,
                } => {
                    let mut builder = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) {
                        builder.push_rect(rect);
                    }
                    if let Some(path) = builder.finish() {
                        surface.set_fill(Some(fill_of(*grey)));
                        surface.draw_path(&path);
                    }
                }
                Item::Logo { x, y, w, h } => {
                    if let (Some(image), Some(size)) = (logo, Size::from_wh(*w, *h)) {
                        surface.push_transform(&Transform::from_translate(*x, *y));
                        surface.draw_image(image.clone(), size);
                        surface.pop();
                    }
                }
            }
        }
        draw_text(
            &mut surface,
            fonts,
            MARGIN,
            FOOTER_BASELINE,
            SMALL,
            &footer_left,
        );
        let page_label = format!("Page {} of {}", index + 1, total);
        let label_w = fonts.regular.width(&page_label, SMALL.size);
        draw_text(
            &mut surface,
            fonts,
            PAGE_W - MARGIN - label_w,
            FOOTER_BASELINE,
            SMALL,
            &page_label,
        );
        surface.finish();
        page.finish();
    }

    document.finish().map_err(|e| match e {
        krilla::error::KrillaError::Image(_, _, msg) => PdfError::InvalidLogo(msg),
        other => PdfError::Render(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A 1x1 RGB PNG, built by hand (signature, IHDR, one zlib IDAT, IEND).
    const TINY_PNG: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90,
        0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x38,
        0xa3, 0x24, 0x08, 0x00, 0x02, 0xbd, 0x01, 0x00, 0xa7, 0xc4, 0x97, 0x87, 0x00, 0x00, 0x00,
        0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    /// A 1x1 baseline JPEG (libjpeg output for a single pixel).
    const TINY_JPEG: &[u8] = &[
        0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x10, 0x0b, 0x0c, 0x0e, 0x0c,
        0x0a, 0x10, 0x0e, 0x0d, 0x0e, 0x12, 0x11, 0x10, 0x13, 0x18, 0x28, 0x1a, 0x18, 0x16, 0x16,
        0x18, 0x31, 0x23, 0x25, 0x1d, 0x28, 0x3a, 0x33, 0x3d, 0x3c, 0x39, 0x33, 0x38, 0x37, 0x40,
        0x48, 0x5c, 0x4e, 0x40, 0x44, 0x57, 0x45, 0x37, 0x38, 0x50, 0x6d, 0x51, 0x57, 0x5f, 0x62,
        0x67, 0x68, 0x67, 0x3e, 0x4d, 0x71, 0x79, 0x70, 0x64, 0x78, 0x5c, 0x65, 0x67, 0x63, 0xff,
        0xdb, 0x00, 0x43, 0x01, 0x11, 0x12, 0x12, 0x18, 0x15, 0x18, 0x2f, 0x1a, 0x1a, 0x2f, 0x63,
        0x42, 0x38, 0x42, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63,
        0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0x63, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x01,
        0x00, 0x01, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x00,
        0x15, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xc4, 0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc4, 0x00,
        0x15, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x05, 0x06, 0xff, 0xc4, 0x00, 0x14, 0x11, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xda, 0x00,
        0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x90, 0x00, 0xe5, 0x43,
        0xff, 0xd9,
    ];

    fn party(name: &str) -> Party {
        Party {
            name: name.to_owned(),
            address_lines: vec!["1 High Street".into(), "Leeds".into(), "LS1 1AA".into()],
            vat_number: Some("GB123456789".into()),
            email: Some("accounts@example.co.uk".into()),
            phone: Some("0113 496 0000".into()),
        }
    }

    fn line(n: usize) -> PdfLine {
        PdfLine {
            description: format!("Consulting item {n}"),
            quantity: "2".into(),
            unit_price: "£19.99".into(),
            vat_rate: Some("20%".into()),
            net_pence: 3998,
            vat_pence: Some(800),
        }
    }

    fn sample(lines: usize) -> PdfDocument {
        let lines: Vec<PdfLine> = (1..=lines).map(line).collect();
        let net: i64 = lines.iter().map(|l| l.net_pence).sum();
        let vat: i64 = lines.iter().filter_map(|l| l.vat_pence).sum();
        PdfDocument {
            title: "VAT invoice".into(),
            number: Some("INV-0042".into()),
            supplier: party("Acme Widgets Ltd"),
            customer: party("Bobs Bakery"),
            dates: vec![
                ("Invoice date".into(), "7 December 2026".into()),
                ("Tax point".into(), "7 December 2026".into()),
                ("Due date".into(), "6 January 2027".into()),
            ],
            lines,
            vat_summary: vec![("20%".into(), net, vat)],
            totals: vec![
                ("Total excluding VAT".into(), net),
                ("VAT".into(), vat),
                ("Total".into(), net + vat),
            ],
            notes: vec![
                "Payment terms: 30 days.".into(),
                "Bank: Example Bank, sort code 00-00-00, account 12345678".into(),
            ],
            logo: None,
        }
    }

    fn page_count(pdf: &[u8]) -> usize {
        lopdf::Document::load_mem(pdf)
            .map(|d| d.get_pages().len())
            .unwrap_or(0)
    }

    #[test]
    fn rendering_is_deterministic() {
        let doc = sample(5);
        let a = render(&doc).unwrap();
        let b = render(&doc).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b);
    }

    #[test]
    fn text_is_extractable() {
        let doc = sample(3);
        let text = text_of(&render(&doc).unwrap());
        let mut expected = vec![
            doc.title.clone(),
            "INV-0042".to_owned(),
            doc.supplier.name.clone(),
            doc.customer.name.clone(),
            "GB123456789".to_owned(),
            "Payment terms: 30 days.".to_owned(),
        ];
        expected.extend(doc.lines.iter().map(|l| l.description.clone()));
        expected.extend(doc.totals.iter().map(|(_, p)| format_pence(*p)));
        expected.extend(doc.totals.iter().map(|(label, _)| label.clone()));
        for (_, net, vat) in &doc.vat_summary {
            expected.push(format_pence(*net));
            expected.push(format_pence(*vat));
        }
        for want in expected {
            assert!(text.contains(&want), "missing {want:?} in {text:?}");
        }
    }

    #[test]
    fn draft_shows_draft_instead_of_number() {
        let mut doc = sample(1);
        doc.number = None;
        let text = text_of(&render(&doc).unwrap());
        assert!(text.contains("DRAFT"));
        assert!(!text.contains("INV-0042"));
    }

    #[test]
    fn png_and_jpeg_logos_render() {
        for (kind, bytes) in [(LogoKind::Png, TINY_PNG), (LogoKind::Jpeg, TINY_JPEG)] {
            let mut doc = sample(1);
            doc.logo = Some(Logo {
                kind,
                bytes: bytes.to_vec(),
            });
            let pdf = render(&doc).unwrap();
            assert!(pdf.windows(6).any(|w| w == b"/Image"));
            assert!(text_of(&pdf).contains("INV-0042"));
        }
    }

    #[test]
    fn corrupt_logos_are_errors() {
        let truncated_png = TINY_PNG[..40].to_vec();
        let mut bad_crc_png = TINY_PNG.to_vec();
        bad_crc_png[50] ^= 0xff;
        let cases = [
            (LogoKind::Png, b"not an image".to_vec()),
            (LogoKind::Png, Vec::new()),
            (LogoKind::Png, truncated_png),
            (LogoKind::Png, bad_crc_png),
            (LogoKind::Jpeg, TINY_PNG.to_vec()),
            (LogoKind::Jpeg, TINY_JPEG[..20].to_vec()),
        ];
        for (kind, bytes) in cases {
            let mut doc = sample(1);
            doc.logo = Some(Logo { kind, bytes });
            match render(&doc) {
                Err(PdfError::InvalidLogo(msg)) => assert!(!msg.is_empty()),
                other => panic!("expected a logo error, got {other:?}"),
            }
        }
    }

    #[test]
    fn three_hundred_lines_flow_onto_pages() {
        let doc = sample(300);
        let pdf = render(&doc).unwrap();
        assert!(page_count(&pdf) >= 5, "pages: {}", page_count(&pdf));
        let text = text_of(&pdf);
        for (_, pence) in &doc.totals {
            assert!(text.contains(&format_pence(*pence)));
        }
        for line in &doc.lines {
            assert!(text.contains(&line.description), "{}", line.description);
        }
        assert!(text.contains(&format!("Page 1 of {}", page_count(&pdf))));
    }

    #[test]
    fn hostile_text_does_not_panic() {
        let long = "x".repeat(20_000);
        let mut doc = sample(2);
        doc.title = String::new();
        doc.supplier.name = format!("{long} 漢字 🦀 \u{202e}rtl\u{0}\t\r\n");
        doc.customer = Party {
            name: String::new(),
            address_lines: vec![String::new(); 200],
            vat_number: None,
            email: None,
            phone: None,
        };
        doc.lines[0].description = "word ".repeat(5_000);
        doc.lines[0].quantity = long.clone();
        doc.lines[1].vat_rate = Some("Reverse charge 20%".into());
        doc.lines[1].net_pence = i64::MIN;
        doc.lines[1].vat_pence = Some(i64::MAX);
        doc.dates = vec![(long.clone(), long.clone()); 50];
        doc.vat_summary = vec![(long.clone(), i64::MIN, i64::MAX); 100];
        doc.totals.push((long.clone(), i64::MIN));
        doc.notes = vec![long.clone(), String::new(), "a\n\nb".into()];
        let pdf = render(&doc).unwrap();
        assert!(page_count(&pdf) >= 2);
    }

    #[test]
    fn unregistered_supplier_has_no_vat_columns() {
        let mut doc = sample(2);
        doc.title = "Invoice".into();
        doc.vat_summary.clear();
        for line in &mut doc.lines {
            line.vat_rate = None;
            line.vat_pence = None;
        }
        doc.totals = vec![("Total".into(), 7996)];
        let text = text_of(&render(&doc).unwrap());
        assert!(text.contains("Unit price"));
        assert!(text.contains("£79.96"));
        assert!(!text.contains("VAT rate"));
        assert!(!text.contains("VAT summary"));
    }

    #[test]
    fn empty_document_renders() {
        let doc = PdfDocument {
            title: String::new(),
            number: None,
            supplier: party(""),
            customer: party(""),
            dates: Vec::new(),
            lines: Vec::new(),
            vat_summary: Vec::new(),
            totals: Vec::new(),
            notes: Vec::new(),
            logo: None,
        };
        assert_eq!(page_count(&render(&doc).unwrap()), 1);
    }

    #[test]
    fn format_pence_cases() {
        assert_eq!(format_pence(0), "£0.00");
        assert_eq!(format_pence(5), "£0.05");
        assert_eq!(format_pence(99), "£0.99");
        assert_eq!(format_pence(100), "£1.00");
        assert_eq!(format_pence(1999), "£19.99");
        assert_eq!(format_pence(100_000), "£1,000.00");
        assert_eq!(format_pence(123_456), "£1,234.56");
        assert_eq!(format_pence(12_345_678_901), "£123,456,789.01");
        assert_eq!(format_pence(-300), "-£3.00");
        assert_eq!(format_pence(-1), "-£0.01");
        assert_eq!(format_pence(i64::MAX), "£92,233,720,368,547,758.07");
        assert_eq!(format_pence(i64::MIN), "-£92,233,720,368,547,758.08");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn format_pence_round_trips(pence in any::<i64>()) {
            let s = format_pence(pence);
            let negative = s.starts_with('-');
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            let magnitude: u64 = digits.parse().unwrap();
            prop_assert_eq!(magnitude, pence.unsigned_abs());
            prop_assert_eq!(negative, pence < 0);
        }

        #[test]
        fn arbitrary_text_renders(desc in any::<String>(), name in any::<String>(), note in any::<String>()) {
            let mut doc = sample(1);
            doc.lines[0].description = desc;
            doc.customer.name = name;
            doc.notes = vec![note];
            prop_assert!(render(&doc).is_ok());
        }
    }
}
