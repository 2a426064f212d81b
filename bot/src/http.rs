//! The HTTP server: health check and the messengers' webhooks.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use qamqor_flows::Db;

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub fn router(db: Db) -> Router {
    Router::new().route("/healthz", get(healthz)).with_state(db)
}

async fn healthz(State(db): State<Db>) -> (StatusCode, &'static str) {
    match sqlx_ping(&db).await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn sqlx_ping(db: &Db) -> anyhow::Result<()> {
    db.begin().await?.rollback().await?;
    Ok(())
}
