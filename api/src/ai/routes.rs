//! The routes of this capability, registered in one place.

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::features::disclosure);
    super::previews::configure(cfg);
    super::transcriptions::configure(cfg);
    cfg.service(super::pricing::job_pricing_preview)
        .service(super::documents::document_preview);
    super::assistant::configure(cfg);
}
