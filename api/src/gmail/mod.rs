//! Gmail (Max plan), read-only: a user connects a mailbox through Google's consent (OAuth 2
//! authorization code with PKCE), and a sync on demand keeps the sender, subject and snippet of
//! the latest 30 INBOX messages. No body is read, nothing is sent, archived or changed. The
//! refresh token is sealed with the key ring; disconnecting revokes it at Google and deletes it
//! with every kept message.

pub mod connect;
pub mod google;
pub mod mailbox;
pub mod routes;
pub mod store;
