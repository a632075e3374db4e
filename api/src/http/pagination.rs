//! Keyset pagination: `?limit=` and an opaque `?cursor=` holding the last row's sort key and a
//! fingerprint of the page's other query parameters, so a cursor is only accepted with the
//! filters that produced it.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpRequest};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::problem::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// The documented shape of `?limit=&cursor=`; handlers take [`Paging`], which reads it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page: 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page, sent with the same other parameters.
    pub cursor: Option<String>,
}

/// Position after the last row of a page ordered by `(created_at desc, id desc)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

/// What a cursor carries on the wire.
#[derive(Serialize, Deserialize)]
struct Token {
    created_at: DateTime<Utc>,
    id: Uuid,
    /// Fingerprint of the other query parameters of the request that made it.
    q: String,
}

/// One page request: its size, where it starts, and the filters it is bound to.
#[derive(Debug, Clone)]
pub struct Paging {
    pub limit: i64,
    pub after: Option<Cursor>,
    filters: String,
}

impl Paging {
    /// Rows to fetch: the page size plus one, to learn whether more follow.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    fn parse(query: &str) -> Result<Self, ApiError> {
        let mut limit = None;
        let mut cursor = None;
        let mut others: Vec<(String, String)> = Vec::new();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "limit" => limit = Some(value.into_owned()),
                "cursor" => cursor = Some(value.into_owned()),
                _ => others.push((key.into_owned(), value.into_owned())),
            }
        }
        others.sort();
        let filters = fingerprint(&others);
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| {
                    ApiError::field(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    )
                })?,
        };
        let after = match cursor {
            None => None,
            Some(raw) => {
                let token: Token = URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API issued"))?;
                if token.q != filters {
                    return Err(ApiError::field(
                        "cursor",
                        "belongs to a list with other filters: send the parameters of the page it came from, or start again without a cursor",
                    ));
                }
                Some(Cursor {
                    created_at: token.created_at,
                    id: token.id,
                })
            }
        };
        Ok(Self {
            limit,
            after,
            filters,
        })
    }

    fn encode(&self, at: Cursor) -> String {
        let token = Token {
            created_at: at.created_at,
            id: at.id,
            q: self.filters.clone(),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
    }
}

fn fingerprint(pairs: &[(String, String)]) -> String {
    let mut hash = Sha256::new();
    for (key, value) in pairs {
        hash.update(key.as_bytes());
        hash.update([0]);
        hash.update(value.as_bytes());
        hash.update([0]);
    }
    URL_SAFE_NO_PAD.encode(&hash.finalize()[..9])
}

impl FromRequest for Paging {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::parse(req.query_string()))
    }
}

/// A page of a list; `next_cursor` is null on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// `rows` was fetched with [`Paging::fetch`] rows to learn whether another page exists.
    pub fn from_rows(mut rows: Vec<T>, paging: &Paging, key: impl Fn(&T) -> Cursor) -> Self {
        let more = rows.len() as i64 > paging.limit;
        rows.truncate(paging.limit as usize);
        let next_cursor = if more {
            rows.last().map(|row| paging.encode(key(row)))
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: u32) -> Cursor {
        Cursor {
            created_at: DateTime::from_timestamp(1_700_000_000 + i64::from(second), 0).unwrap(),
            id: Uuid::nil(),
        }
    }

    #[test]
    fn a_cursor_is_accepted_with_the_same_filters_in_any_order() {
        let first = Paging::parse("status=open&workspace_id=w&limit=2").unwrap();
        let page = Page::from_rows(vec![1, 2, 3], &first, |n| at(*n));
        assert_eq!(page.items, vec![1, 2]);
        let cursor = page.next_cursor.unwrap();
        let next = Paging::parse(&format!("workspace_id=w&cursor={cursor}&status=open")).unwrap();
        assert_eq!(next.after, Some(at(2)));
        assert_eq!(next.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn a_cursor_with_other_filters_is_refused() {
        let first = Paging::parse("status=open&limit=1").unwrap();
        let cursor = Page::from_rows(vec![1, 2], &first, |n| at(*n))
            .next_cursor
            .unwrap();
        for query in [
            format!("status=done&cursor={cursor}"),
            format!("cursor={cursor}"),
            format!("status=open&workspace_id=w&cursor={cursor}"),
        ] {
            assert!(Paging::parse(&query).is_err(), "{query}");
        }
    }

    #[test]
    fn the_last_page_has_no_cursor_and_limits_are_bounded() {
        let paging = Paging::parse("limit=3").unwrap();
        assert_eq!(
            Page::from_rows(vec![1, 2, 3], &paging, |n| at(*n)).next_cursor,
            None
        );
        for bad in ["limit=0", "limit=201", "limit=x", "cursor=nope"] {
            assert!(Paging::parse(bad).is_err(), "{bad}");
        }
    }
}
