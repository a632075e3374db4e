//! The two parties of a document as it was issued: copied into the document then, so a later
//! change to the profile or the client leaves issued documents as they were.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    #[schema(example = "Ada Lovelace Carpentry")]
    pub name: String,
    #[schema(example = json!(["1 High Street", "Bristol", "BS1 1AA"]))]
    pub address_lines: Vec<String>,
    /// A UK VAT number, `GB` and its digits.
    #[schema(example = "GB980780684")]
    pub vat_number: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}
