//! Web push (`/v1/push`): browsers subscribe with what `PushManager.subscribe()` gave them, and
//! `push.notify` jobs reach every subscribed device of a user, encrypted to the browser
//! (RFC 8291, `aes128gcm`) and signed with the server's VAPID key (RFC 8292).

pub mod routes;
pub mod sender;
pub mod subscription;
pub mod test_notification;
pub mod vapid;
