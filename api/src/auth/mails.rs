//! The texts of account mails. Each link carries its token as `token=...`.

use url::Url;
use uuid::Uuid;

use crate::common::outbox::queue::Mail;

fn link(app_url: &Url, path: &str, token: &str) -> String {
    let mut url = app_url.clone();
    url.set_path(path);
    url.query_pairs_mut().clear().append_pair("token", token);
    url.into()
}

pub fn verify_email(app_url: &Url, user_id: Uuid, to: &str, token: &str) -> Mail {
    Mail {
        user_id: Some(user_id),
        kind: "verify_email",
        to: to.to_owned(),
        subject: "Confirm your email for minime".into(),
        body: format!(
            "Welcome to minime.\n\nConfirm this address by opening the link below (valid for 24 hours):\n\n{}\n\n\
             The link sets the password chosen in the sign-up that sent it: if you signed up more than once, \
             open the newest mail.\n\nIf you did not sign up, ignore this mail.\n",
            link(app_url, "/verify-email", token)
        ),
    }
}

pub fn already_registered(app_url: &Url, user_id: Uuid, to: &str) -> Mail {
    let mut signin = app_url.clone();
    signin.set_path("/signin");
    Mail {
        user_id: Some(user_id),
        kind: "already_registered",
        to: to.to_owned(),
        subject: "Someone tried to sign up with your email".into(),
        body: format!(
            "Someone (maybe you) tried to create a minime account with this address, which already has one.\n\n\
             Sign in at {signin}, or reset your password from there if you forgot it.\n\
             If it was not you, no action is needed.\n"
        ),
    }
}

pub fn password_reset(app_url: &Url, user_id: Uuid, to: &str, token: &str) -> Mail {
    Mail {
        user_id: Some(user_id),
        kind: "password_reset",
        to: to.to_owned(),
        subject: "Reset your minime password".into(),
        body: format!(
            "Open the link below within one hour to choose a new password:\n\n{}\n\n\
             Resetting signs you out everywhere. If you did not ask for this, ignore this mail.\n",
            link(app_url, "/reset-password", token)
        ),
    }
}
