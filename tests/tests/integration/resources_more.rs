//! The shared resource contract for captures, reviews, decisions, rules and focus sessions.
