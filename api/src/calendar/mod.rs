//! A private iCal calendar, read-only: its events of the next days feed the planner as busy time
//! and show in Today.

pub mod expand;
mod windows_zones;
