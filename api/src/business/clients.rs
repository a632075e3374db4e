use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::parties::Party;
use crate::{
    common::{
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::clients as t},
    http::problem::{ApiError, ApiResult},
    keyset,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    name: String,
    contact_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    payment_terms_days: Option<i32>,
    vat_number: Option<String>,
    vat_registered: bool,
    cis_registered: bool,
    end_user: bool,
    notes: Option<String>,
    archived: bool,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Client {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Acme Builders Ltd")]
    pub name: String,
    #[schema(example = "Sam Acme")]
    pub contact_name: Option<String>,
    #[schema(example = "accounts@acme.example")]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    /// Days to pay; none means the business profile's default.
    #[schema(example = 14)]
    pub payment_terms_days: Option<i32>,
    /// The client's UK VAT number, `GB` and its digits.
    #[schema(example = "GB980780684")]
    pub vat_number: Option<String>,
    pub vat_registered: bool,
    /// Registered for the Construction Industry Scheme.
    pub cis_registered: bool,
    /// Uses the building work itself rather than selling it on.
    pub end_user: bool,
    /// Whether the domestic reverse charge for construction applies to this client: VAT- and
    /// CIS-registered, and not an end user.
    pub reverse_charge_applies: bool,
    pub notes: Option<String>,
    pub archived: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Acme Builders Ltd")]
    pub name: String,
    pub contact_name: Option<String>,
    #[schema(example = "accounts@acme.example")]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    #[schema(example = 14, minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    /// A UK VAT number with valid check digits, optionally after `GB`.
    #[schema(example = "GB980780684")]
    pub vat_number: Option<String>,
    pub vat_registered: Option<bool>,
    pub cis_registered: Option<bool>,
    pub end_user: Option<bool>,
    pub notes: Option<String>,
    pub archived: Option<bool>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    name: String,
    contact_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    payment_terms_days: Option<i32>,
    vat_number: Option<String>,
    vat_registered: bool,
    cis_registered: bool,
    end_user: bool,
    notes: Option<String>,
    archived: bool,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    /// Archived clients, or the others (default: both).
    pub archived: Option<bool>,
}

/// The domestic reverse charge (VAT Notice 735) applies only to a customer registered for VAT
/// and for CIS who sells the work on, not to an end user.
pub fn reverse_charge_applies(vat_registered: bool, cis_registered: bool, end_user: bool) -> bool {
    vat_registered && cis_registered && !end_user
}

pub struct Clients;

impl Resource for Clients {
    const TABLE: &'static str = "app.clients";
    type Row = Row;
    type Out = Client;
    type Input = ClientInput;
    type Values = Values;
    type Filter = ClientFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Client {
        Client {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            name: r.name,
            contact_name: r.contact_name,
            email: r.email,
            phone: r.phone,
            address: r.address,
            payment_terms_days: r.payment_terms_days,
            vat_number: r.vat_number,
            vat_registered: r.vat_registered,
            cis_registered: r.cis_registered,
            end_user: r.end_user,
            reverse_charge_applies: reverse_charge_applies(
                r.vat_registered,
                r.cis_registered,
                r.end_user,
            ),
            notes: r.notes,
            archived: r.archived,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> ClientInput {
        ClientInput {
            workspace_id: Some(r.workspace_id),
            name: r.name.clone(),
            contact_name: r.contact_name.clone(),
            email: r.email.clone(),
            phone: r.phone.clone(),
            address: r.address.clone(),
            payment_terms_days: r.payment_terms_days,
            vat_number: r.vat_number.clone(),
            vat_registered: Some(r.vat_registered),
            cis_registered: Some(r.cis_registered),
            end_user: Some(r.end_user),
            notes: r.notes.clone(),
            archived: Some(r.archived),
        }
    }

    fn input_workspace(input: &ClientInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        _conn: &mut Conn,
        _ctx: Ctx,
        _: Option<&Row>,
        i: ClientInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let values = Values {
            name: fields::title("name", &i.name, 200, &mut errors),
            contact_name: fields::text("contact_name", i.contact_name, 200, &mut errors),
            email: fields::text("email", i.email, 320, &mut errors),
            phone: fields::text("phone", i.phone, 50, &mut errors),
            address: fields::text("address", i.address, 1000, &mut errors),
            payment_terms_days: i.payment_terms_days,
            vat_number: super::vrn("vat_number", i.vat_number, &mut errors),
            vat_registered: i.vat_registered.unwrap_or(false),
            cis_registered: i.cis_registered.unwrap_or(false),
            end_user: i.end_user.unwrap_or(false),
            notes: fields::text("notes", i.notes, 20_000, &mut errors),
            archived: i.archived.unwrap_or(false),
        };
        fields::range(
            "payment_terms_days",
            i.payment_terms_days.map(i64::from),
            0,
            365,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(values)
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<ClientFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(archived) = q.filter.archived {
            query = query.filter(t::archived.eq(archived));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

/// A client as a document shows it, and whether the reverse charge applies to it.
pub struct Customer {
    pub party: Party,
    pub reverse_charge: bool,
    pub payment_terms_days: Option<i32>,
}

/// The client `id` of `workspace` as a document's customer; `None` when there is none.
pub async fn customer(conn: &mut Conn, workspace: Uuid, id: Uuid) -> ApiResult<Option<Customer>> {
    let row: Option<Row> = t::table
        .filter(t::workspace_id.eq(workspace))
        .filter(t::id.eq(id))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map(|r| Customer {
        reverse_charge: reverse_charge_applies(r.vat_registered, r.cis_registered, r.end_user),
        payment_terms_days: r.payment_terms_days,
        party: Party {
            name: r.name,
            address_lines: r
                .address
                .as_deref()
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            vat_number: r.vat_number,
            email: r.email,
            phone: r.phone,
        },
    }))
}
