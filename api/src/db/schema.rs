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
            locked_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        auth.admins (user_id) {
            user_id -> Uuid,
            granted_at -> Timestamptz,
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
            auth_method -> Text,
            authenticated_at -> Timestamptz,
        }
    }

    diesel::table! {
        auth.totp_factors (user_id) {
            user_id -> Uuid,
            secret -> Bytea,
            created_at -> Timestamptz,
            confirmed_at -> Nullable<Timestamptz>,
            last_step -> Nullable<Int8>,
        }
    }

    diesel::table! {
        auth.recovery_codes (user_id, code_hash) {
            user_id -> Uuid,
            code_hash -> Bytea,
            created_at -> Timestamptz,
            used_at -> Nullable<Timestamptz>,
        }
    }

    diesel::table! {
        auth.passkeys (id) {
            id -> Uuid,
            user_id -> Uuid,
            credential_id -> Bytea,
            name -> Text,
            credential -> Jsonb,
            sign_count -> Int8,
            backup_eligible -> Bool,
            backup_state -> Bool,
            created_at -> Timestamptz,
            last_used_at -> Nullable<Timestamptz>,
            possibly_cloned_at -> Nullable<Timestamptz>,
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
            password_hash -> Nullable<Text>,
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
            address_hash -> Bytea,
        }
    }

    diesel::joinable!(sessions -> users (user_id));
    diesel::joinable!(refresh_tokens -> sessions (session_id));
    diesel::joinable!(email_tokens -> users (user_id));
    diesel::joinable!(personal_access_tokens -> users (user_id));
    diesel::allow_tables_to_appear_in_same_query!(
        users,
        admins,
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

    diesel::table! {
        app.workspace_invites (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            token_hash -> Bytea,
            email -> Nullable<Text>,
            expires_at -> Timestamptz,
            accepted_by -> Nullable<Uuid>,
            accepted_at -> Nullable<Timestamptz>,
            revoked_at -> Nullable<Timestamptz>,
            created_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.life_areas (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            name -> Text,
            color -> Text,
            position -> Int4,
            archived -> Bool,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.goals (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            why -> Nullable<Text>,
            target_date -> Nullable<Date>,
            status -> Text,
            area_id -> Nullable<Uuid>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.milestones (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            goal_id -> Uuid,
            title -> Text,
            due_date -> Nullable<Date>,
            completed_at -> Nullable<Timestamptz>,
            position -> Int4,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.projects (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            notes -> Nullable<Text>,
            status -> Text,
            area_id -> Nullable<Uuid>,
            goal_id -> Nullable<Uuid>,
            target_date -> Nullable<Date>,
            completed_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.business_profiles (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            business_name -> Text,
            address_lines -> Array<Text>,
            postcode -> Nullable<Text>,
            country -> Text,
            phone -> Nullable<Text>,
            email -> Nullable<Text>,
            vat_registered -> Bool,
            vrn -> Nullable<Text>,
            work_type -> Text,
            agency_commission_bp -> Nullable<Int4>,
            payment_terms_days -> Int4,
            invoice_prefix -> Text,
            invoice_padding -> Int4,
            credit_note_prefix -> Text,
            last_invoice_number -> Int8,
            last_credit_note_number -> Int8,
            quote_prefix -> Text,
            last_quote_number -> Int8,
            email_templates -> Jsonb,
            bank_details -> Nullable<Bytea>,
            sort_code_masked -> Nullable<Text>,
            account_number_masked -> Nullable<Text>,
            accountant_name -> Nullable<Text>,
            accountant_email -> Nullable<Text>,
            accountant_phone -> Nullable<Text>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.clients (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            name -> Text,
            contact_name -> Nullable<Text>,
            email -> Nullable<Text>,
            phone -> Nullable<Text>,
            address -> Nullable<Text>,
            payment_terms_days -> Nullable<Int4>,
            vat_number -> Nullable<Text>,
            vat_registered -> Bool,
            cis_registered -> Bool,
            end_user -> Bool,
            notes -> Nullable<Text>,
            archived -> Bool,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.business_jobs (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            client_id -> Uuid,
            title -> Text,
            start_date -> Nullable<Date>,
            end_date -> Nullable<Date>,
            fee_kind -> Text,
            quantity -> Numeric,
            rate_pence -> Int8,
            agency_commission_bp -> Nullable<Int4>,
            status -> Text,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.stripe_accounts (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            api_key -> Bytea,
            api_key_hint -> Text,
            endpoint_id -> Uuid,
            webhook_secret -> Bytea,
            previous_webhook_secret -> Nullable<Bytea>,
            previous_valid_until -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.stripe_events (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            event_id -> Text,
            event_type -> Text,
            outcome -> Text,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.quotes (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            client_id -> Uuid,
            status -> Text,
            number -> Nullable<Text>,
            valid_until -> Nullable<Date>,
            vat_registered -> Bool,
            lines -> Jsonb,
            net_pence -> Int8,
            vat_pence -> Int8,
            reverse_charge_vat_pence -> Int8,
            total_pence -> Int8,
            by_rate -> Jsonb,
            notes -> Nullable<Text>,
            supplier -> Nullable<Jsonb>,
            customer -> Nullable<Jsonb>,
            sent_at -> Nullable<Timestamptz>,
            link_hash -> Nullable<Bytea>,
            link_expires_at -> Nullable<Timestamptz>,
            answered_at -> Nullable<Timestamptz>,
            signer_name -> Nullable<Text>,
            signer_fingerprint -> Nullable<Bytea>,
            invoice_id -> Nullable<Uuid>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.document_emails (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            document_id -> Uuid,
            to_address -> Text,
            subject -> Text,
            status -> Text,
            provider_id -> Nullable<Text>,
            error -> Nullable<Text>,
            sent_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.recurring_invoices (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            client_id -> Uuid,
            lines -> Jsonb,
            rrule -> Text,
            start_date -> Date,
            next_date -> Nullable<Date>,
            action -> Text,
            payment_terms_days -> Nullable<Int4>,
            notes -> Nullable<Text>,
            active -> Bool,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.recurring_invoice_runs (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            recurring_id -> Uuid,
            occurrence -> Date,
            invoice_id -> Uuid,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.business_logos (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            content_type -> Text,
            sha256 -> Bytea,
            size_bytes -> Int4,
            content -> Bytea,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.files (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            store_key -> Text,
            purpose -> Text,
            name -> Text,
            content_type -> Text,
            sha256 -> Bytea,
            size_bytes -> Int8,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.expenses (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            spent_on -> Date,
            paid_on -> Nullable<Date>,
            supplier -> Text,
            description -> Nullable<Text>,
            category -> Text,
            net_pence -> Int8,
            vat_pence -> Int8,
            vat_reclaimable -> Bool,
            payment_method -> Text,
            capital_item -> Bool,
            relevant_goods -> Bool,
            ni_eu_acquisition -> Bool,
            receipt_file_id -> Nullable<Uuid>,
            notes -> Nullable<Text>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.vat_settings (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            scheme -> Text,
            basis -> Text,
            flat_rate_sector -> Nullable<Text>,
            flat_rate_bp -> Nullable<Int4>,
            registered_on -> Nullable<Date>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.bank_csv_mappings (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            name -> Text,
            mapping -> Jsonb,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.bank_statements (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            account -> Text,
            format -> Text,
            layout -> Nullable<Text>,
            file_id -> Nullable<Uuid>,
            lines_read -> Int4,
            lines_new -> Int4,
            closing_balance_pence -> Nullable<Int8>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.bank_transactions (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            statement_id -> Uuid,
            account -> Text,
            posted_on -> Date,
            amount_pence -> Int8,
            description -> Text,
            reference -> Nullable<Text>,
            counterparty -> Nullable<Text>,
            balance_pence -> Nullable<Int8>,
            fitid -> Nullable<Text>,
            dedup_key -> Text,
            status -> Text,
            payment_id -> Nullable<Uuid>,
            expense_id -> Nullable<Uuid>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.assistant_conversations (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.assistant_messages (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            conversation_id -> Uuid,
            role -> Text,
            text -> Text,
            figures -> Jsonb,
            rows_used -> Jsonb,
            sent -> Nullable<Jsonb>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.invoices (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            client_id -> Uuid,
            job_id -> Nullable<Uuid>,
            status -> Text,
            form -> Text,
            number -> Nullable<Text>,
            sequence_number -> Nullable<Int8>,
            supply_date -> Nullable<Date>,
            invoice_date -> Nullable<Date>,
            tax_point -> Nullable<Date>,
            due_date -> Nullable<Date>,
            payment_terms_days -> Nullable<Int4>,
            vat_registered -> Bool,
            lines -> Jsonb,
            net_pence -> Int8,
            vat_pence -> Int8,
            reverse_charge_vat_pence -> Int8,
            total_pence -> Int8,
            by_rate -> Jsonb,
            paid_pence -> Int8,
            credited_pence -> Int8,
            notes -> Nullable<Text>,
            supplier -> Nullable<Jsonb>,
            customer -> Nullable<Jsonb>,
            issued_at -> Nullable<Timestamptz>,
            voided_at -> Nullable<Timestamptz>,
            void_reason -> Nullable<Text>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.credit_notes (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            invoice_id -> Uuid,
            number -> Text,
            sequence_number -> Int8,
            credit_date -> Date,
            reason -> Nullable<Text>,
            vat_registered -> Bool,
            lines -> Jsonb,
            net_pence -> Int8,
            vat_pence -> Int8,
            reverse_charge_vat_pence -> Int8,
            total_pence -> Int8,
            by_rate -> Jsonb,
            supplier -> Jsonb,
            customer -> Jsonb,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.invoice_payments (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            invoice_id -> Uuid,
            paid_on -> Date,
            amount_pence -> Int8,
            method -> Text,
            reference -> Nullable<Text>,
            stripe_event_id -> Nullable<Text>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.business_documents (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            kind -> Text,
            invoice_id -> Nullable<Uuid>,
            credit_note_id -> Nullable<Uuid>,
            title -> Text,
            file_name -> Text,
            content_type -> Text,
            sha256 -> Bytea,
            size_bytes -> Int4,
            content -> Bytea,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.tasks (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            notes -> Nullable<Text>,
            status -> Text,
            priority -> Int2,
            energy -> Nullable<Text>,
            estimate_minutes -> Nullable<Int4>,
            due_date -> Nullable<Date>,
            due_time -> Nullable<Time>,
            due_time_zone -> Nullable<Text>,
            scheduled_date -> Nullable<Date>,
            parent_id -> Nullable<Uuid>,
            project_id -> Nullable<Uuid>,
            area_id -> Nullable<Uuid>,
            goal_id -> Nullable<Uuid>,
            position -> Int4,
            labels -> Array<Text>,
            recurrence -> Nullable<Text>,
            recurrence_start -> Nullable<Date>,
            reset_steps -> Bool,
            completed_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
            made_by_rule -> Bool,
        }
    }

    diesel::table! {
        app.routines (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            rrule -> Text,
            start_date -> Date,
            time_of_day -> Nullable<Time>,
            duration_minutes -> Nullable<Int4>,
            steps -> Jsonb,
            reset_steps -> Bool,
            area_id -> Nullable<Uuid>,
            ended_on -> Nullable<Date>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.routine_completions (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            routine_id -> Uuid,
            occurrence_date -> Date,
            outcome -> Text,
            steps_done -> Jsonb,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.capture_items (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            text -> Text,
            source -> Text,
            status -> Text,
            converted_task_id -> Nullable<Uuid>,
            converted_project_id -> Nullable<Uuid>,
            converted_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.reviews (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            kind -> Text,
            period_start -> Date,
            period_end -> Date,
            answers -> Jsonb,
            stats -> Jsonb,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.decisions (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            title -> Text,
            context -> Nullable<Text>,
            status -> Text,
            chosen_option_id -> Nullable<Uuid>,
            decided_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.decision_options (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            decision_id -> Uuid,
            title -> Text,
            pros -> Array<Text>,
            cons -> Array<Text>,
            score -> Nullable<Int2>,
            position -> Int4,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.automation_rules (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            name -> Text,
            enabled -> Bool,
            trigger -> Jsonb,
            conditions -> Jsonb,
            actions -> Jsonb,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.focus_sessions (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            task_id -> Nullable<Uuid>,
            started_at -> Timestamptz,
            ended_at -> Nullable<Timestamptz>,
            planned_minutes -> Nullable<Int4>,
            note -> Nullable<Text>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.rule_settings (user_id) {
            user_id -> Uuid,
            day_starts_at -> Time,
            work_start -> Time,
            work_end -> Time,
            max_block_minutes -> Int4,
            high_energy_start -> Time,
            high_energy_end -> Time,
            morning_recap -> Bool,
            morning_recap_at -> Time,
            ai_enabled -> Bool,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.onboarding_answers (user_id) {
            user_id -> Uuid,
            primary_needs -> Array<Text>,
            guidance_level -> Text,
            available_time -> Text,
            default_energy -> Text,
            completed_at -> Nullable<Timestamptz>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.day_plans (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            plan_date -> Date,
            time_zone -> Text,
            window_start -> Timestamptz,
            window_end -> Timestamptz,
            available_minutes -> Int4,
            busy -> Jsonb,
            unplanned -> Jsonb,
            computed_at -> Timestamptz,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.day_plan_items (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            plan_id -> Uuid,
            task_id -> Nullable<Uuid>,
            routine_id -> Nullable<Uuid>,
            start_at -> Timestamptz,
            end_at -> Timestamptz,
            reason -> Text,
            status -> Text,
            position -> Int4,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.ai_previews (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            feature -> Text,
            provider -> Text,
            sent -> Jsonb,
            proposal -> Jsonb,
            status -> Text,
            expires_at -> Timestamptz,
            answered_at -> Nullable<Timestamptz>,
            result -> Nullable<Jsonb>,
            version -> Int4,
            created_at -> Timestamptz,
            updated_at -> Timestamptz,
        }
    }

    diesel::table! {
        app.rule_runs (id) {
            id -> Uuid,
            workspace_id -> Uuid,
            created_by -> Uuid,
            rule_id -> Uuid,
            trigger -> Text,
            subject_id -> Nullable<Uuid>,
            event -> Text,
            outcome -> Text,
            error -> Nullable<Text>,
            ran_at -> Timestamptz,
            created_at -> Timestamptz,
        }
    }

    diesel::joinable!(workspace_members -> workspaces (workspace_id));
    diesel::joinable!(day_plan_items -> day_plans (plan_id));
    diesel::allow_tables_to_appear_in_same_query!(day_plans, day_plan_items, tasks, routines);
    diesel::allow_tables_to_appear_in_same_query!(invoices, invoice_payments);
    diesel::allow_tables_to_appear_in_same_query!(workspaces, workspace_members, workspace_invites);
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
            attachment_workspace -> Nullable<Uuid>,
            attachment_document -> Nullable<Uuid>,
        }
    }

    diesel::table! {
        ops.idempotency_keys (user_id, key) {
            user_id -> Uuid,
            key -> Text,
            method -> Text,
            path -> Text,
            request_hash -> Bytea,
            status -> Int2,
            body -> Bytea,
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

/// Joins across schemas.
mod cross {
    use super::{app::workspace_members, auth::users};
    diesel::allow_tables_to_appear_in_same_query!(users, workspace_members);
}
