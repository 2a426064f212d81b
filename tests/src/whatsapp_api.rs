//! A local stand-in for the WhatsApp Cloud API's `POST /{version}/{phone_number_id}/messages`,
//! for end-to-end tests: it records what Qamqor sends, and can answer the next sends
//! with an error status (e.g. 429 with `Retry-After: 1`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Inner {
    /// Every accepted message, in order, as (phone number id, body).
    sent: Vec<(String, Value)>,
    /// Statuses and Meta error codes to answer the next sends with, before accepting again.
    failures: VecDeque<(u16, i64)>,
    /// Sends that were answered with a failure.
    refused: usize,
}

#[derive(Clone)]
pub struct GraphStandIn {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl GraphStandIn {
    pub async fn start() -> GraphStandIn {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/{version}/{phone}/messages", post(send)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the stand-in");
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        GraphStandIn { addr, inner }
    }

    /// What `WHATSAPP_API_URL` should be.
    pub fn api_url(&self) -> String {
        format!("http://{}/v21.0", self.addr)
    }

    /// The next sends are answered with these statuses, one each.
    pub fn fail_next(&self, statuses: &[u16]) {
        self.inner.lock().unwrap().failures.extend(statuses.iter().map(|&s| (s, 130429)));
    }

    /// The next send is refused as Meta refuses a free-form message more than 24 hours
    /// after the person's last one.
    pub fn refuse_next_as_outside_the_window(&self) {
        self.inner.lock().unwrap().failures.push_back((400, 131047));
    }

    pub fn refused(&self) -> usize {
        self.inner.lock().unwrap().refused
    }

    /// Everything accepted so far for one recipient.
    pub fn sent_to(&self, to: &str) -> Vec<Value> {
        self.inner.lock().unwrap().sent.iter().filter(|(_, m)| m["to"] == to).map(|(_, m)| m.clone()).collect()
    }

    /// Waits until `to` has received at least `n` messages, and returns them all.
    pub async fn wait_for(&self, to: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let sent = self.sent_to(to);
            if sent.len() >= n || tokio::time::Instant::now() > deadline {
                assert!(sent.len() >= n, "{to} got {} messages, expected {n}: {sent:#?}", sent.len());
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn send(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((_version, phone)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let authorised =
        headers.get("authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer "));
    if !authorised {
        return (StatusCode::UNAUTHORIZED, "{\"error\":{\"message\":\"no token\"}}").into_response();
    }
    let Ok(message) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "{\"error\":{\"message\":\"bad json\"}}").into_response();
    };
    let mut inner = inner.lock().unwrap();
    if let Some((status, code)) = inner.failures.pop_front() {
        inner.refused += 1;
        let status = StatusCode::from_u16(status).unwrap();
        let error = json!({"error": {"message": "stand-in failure", "code": code}});
        return (status, [("retry-after", "1")], error.to_string()).into_response();
    }
    inner.sent.push((phone, message));
    let id = format!("wamid.out.{}", inner.sent.len());
    (StatusCode::OK, axum::Json(json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}))).into_response()
}
