//! `/v1/admin/...`: statistics and non-personal account status, users named only by a keyed hash
//! of their id. After checking the caller is an administrator the transaction switches to the
//! `minime_admin` role, which can read no table but the audit log: aggregates and actions come
//! from SECURITY DEFINER functions, and every call is appended to the audit log. The hash key
//! stays in the database (`minime migrate` stores it), so an administrator's session cannot
//! choose how ids are hashed. Anyone else — including an administrator's personal access token —
//! gets 404 on every admin route.

pub mod cli;
pub mod console;
pub mod routes;
