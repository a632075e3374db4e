// Mirrors migrations/; the isolation and schema tests fail when the two disagree.

pub mod auth {
    diesel::table! {
        auth.users (id) {
            id -> Uuid,
            email -> Text,
            password_hash -> Text,
            email_verified_at -> Nullable<Timestamptz>,
            display_name -> Nullable<Text>,
            time_zone -> Text,
            locale -> Text,
            week_start -> Int2,
            plan -> Text,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        auth.sessions (id) {
            id -> Uuid,
            user_id -> Uuid,
            mode -> Text,
            user_agent -> Nullable<Text>,
            ip -> Nullable<Text>,
            created_at -> Timestamptz,
            last_used_at -> Timestamptz,
            expires_at -> Timestamptz,
            revoked_at -> Nullable<Timestamptz>,
            revoked_reason -> Nullable<Text>,
        }
    }

    diesel::table! {
        auth.refresh_tokens (token_hash) {
            token_hash -> Bytea,
            session_id -> Uuid,
            created_at -> Timestamptz,
            used_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        auth.email_tokens (token_hash) {
            token_hash -> Bytea,
            user_id -> Uuid,
            purpose -> Text,
            created_at -> Timestamptz,
            expires_at -> Timestamptz,
            used_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        auth.personal_access_tokens (id) {
            id -> Uuid,
            user_id -> Uuid,
            name -> Text,
            token_hash -> Bytea,
            scope -> Text,
            created_at -> Timestamptz,
            expires_at -> Nullable<Timestamptz>,
            last_used_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        auth.signin_failures (email_hash) {
            email_hash -> Bytea,
            failures -> Int4,
            locked_until -> Nullable<Timestamptz>,
            updated_at -> Timestamptz,
        }
    }

    diesel::joinable!(sessions -> users (user_id));
    diesel::joinable!(refresh_tokens -> sessions (session_id));
    diesel::joinable!(email_tokens -> users (user_id));
    diesel::joinable!(personal_access_tokens -> users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(
        users,
        sessions,
        refresh_tokens,
        email_tokens,
        personal_access_tokens
    );
}

pub mod app {
    diesel::table! {
        app.workspaces (id) {
            id -> Uuid,
            name -> Text,
            kind -> Text,
            owner_id -> Uuid,
            created_by -> Uuid,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.workspace_members (workspace_id, user_id) {
            workspace_id -> Uuid,
            user_id -> Uuid,
            role -> Text,
            created_by -> Uuid,
            created_at -> Timestamptz,
        }
    }

    diesel::joinable!(workspace_members -> workspaces (workspace_id));
    diesel::allow_tables_to_appear_in_same_query!(workspaces, workspace_members);
}

pub mod ops {
    diesel::table! {
        ops.outbox (id) {
            id -> Uuid,
            user_id -> Nullable<Uuid>,
            kind -> Text,
            to_address -> Text,
            subject -> Text,
            body_text -> Nullable<Text>,
            attempts -> Int4,
            next_attempt_at -> Timestamptz,
            locked_until -> Nullable<Timestamptz>,
            sent_at -> Nullable<Timestamptz>,
            failed_at -> Nullable<Timestamptz>,
            last_error -> Nullable<Text>,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        ops.rate_limits (key) {
            key -> Text,
            window_start -> Timestamptz,
            hits -> Int4,
        }
    }
}
