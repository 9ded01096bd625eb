//! Every route of the server, in one table. To find an endpoint, look here.

use actix_web::web;

use super::health;

/// Register every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg
        // Operations
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
}
