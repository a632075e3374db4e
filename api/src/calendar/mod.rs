//! A private iCal calendar, read-only (Pro and Max): its events of the next 7 days feed the
//! planner as busy time, show in Today and are listed at `/v1/calendar/events`.

pub mod connection;
pub mod events;
pub mod expand;
pub mod feed;
pub mod routes;
pub mod sync;
mod windows_zones;
