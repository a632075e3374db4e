//! The daily plan: which open tasks and routines go where on one local date, and why. Pure: the
//! same input always gives the same plan, and nothing here reads a clock or a database.
//!
//! Rules, in order: routines keep their time; the working window minus busy blocks is the room;
//! tasks go overdue first, then due today, scheduled today, the rest — each group by priority;
//! a task is placed whole or not at all, in blocks no longer than the maximum; high-energy work
//! goes into the high-energy hours when they have room, other work outside them first; the day
//! never takes more than the available time.

pub mod day;
