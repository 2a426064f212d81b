//! A local stand-in for the Telegram Bot API, for end-to-end tests.
//!
//! Point a real teloxide client at it with
//! `Bot::new("123:ABC").set_api_url(standin.api_url().parse().unwrap())`.
//! Any token is accepted; the number before the `:` is used as the bot's user id.
//!
//! What it implements (method names are matched case-insensitively, so both
//! teloxide's `SendMessage` and Telegram's `sendMessage` work):
//!
//! * `getMe`, `getWebhookInfo` (empty url), `deleteWebhook`, `setWebhook`
//! * `getUpdates` with `offset` (confirms and drops older updates; a negative
//!   offset keeps only the last `-offset` updates), `limit` and `timeout`
//!   (long polling, capped at [`MAX_POLL_WAIT`] and woken as soon as an update
//!   is queued)
//! * `sendMessage`, `editMessageText` (both can be made to fail with
//!   [`TelegramStandIn::fail_next_sends`]), `answerCallbackQuery`
//!
//! Any other method is answered like Telegram answers unknown methods
//! (HTTP 404, `{"ok":false,"error_code":404,"description":"Not Found"}`; teloxide
//! maps that to `ApiError::InvalidToken`) and recorded in
//! [`TelegramStandIn::unknown_methods`].
//!
//! Request bodies may be JSON (what teloxide uses for most methods),
//! `application/x-www-form-urlencoded` or `multipart/form-data` (teloxide uses
//! multipart for `setWebhook` and methods that upload files); query-string
//! parameters are accepted too. Malformed input is answered with
//! `ok:false` / 400, never with a panic.
//!
//! Notes on teloxide behaviour worth knowing when writing tests:
//!
//! * On any HTTP 5xx answer teloxide sleeps 10 seconds *before* reading the body
//!   (`DELAY_ON_SERVER_ERROR` in teloxide-core), so [`Failure::ServerError`]
//!   makes the failing call take ~10 s.
//! * [`Failure::RetryAfter`] surfaces as `RequestError::RetryAfter(Seconds)` on a
//!   plain `Bot`; the `Throttle` adaptor instead freezes and retries the request
//!   itself after that many seconds.
//! * teloxide parses `Message` as an untagged enum with a catch-all `Empty {}`
//!   variant, so a message whose media object lacks a mandatory field does not
//!   fail to parse: it silently becomes a content-less message. Use the
//!   `user_sends_*` helpers, whose JSON is known to parse into the right kind.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// Long polling never waits longer than this, whatever `timeout` the client asks for.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(1);

/// One successful `sendMessage` or `editMessageText` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// `"sendMessage"` or `"editMessageText"`.
    pub method: String,
    pub chat_id: i64,
    pub message_id: i64,
    pub text: String,
    /// Inline keyboard rows as `(label, callback_data)`; buttons without
    /// `callback_data` (url buttons etc.) have an empty string. Empty if none.
    pub buttons: Vec<Vec<(String, String)>>,
}

/// How an injected failure is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 429, `error_code` 429, `parameters.retry_after` = the given seconds.
    RetryAfter(u32),
    /// HTTP 500, `error_code` 500 (teloxide waits 10 s before reading it).
    ServerError,
}

/// One API call as the stand-in received it (any method, successful or not).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Canonical camelCase name for known methods, otherwise the name as
    /// requested with its first letter lower-cased.
    pub method: String,
    /// The parameters, merged from query string and body. Values from form or
    /// multipart bodies are strings (JSON-valued fields stay JSON text).
    pub params: Value,
}

#[derive(Default)]
struct State {
    next_update_id: i64,
    /// Queued, not yet confirmed updates, ascending by id.
    pending: VecDeque<(i64, Value)>,
    /// Every update ever queued, for `redeliver`.
    history: HashMap<i64, Value>,
    redeliver: Vec<i64>,
    /// Last used message id per chat.
    message_ids: HashMap<i64, i64>,
    /// Latest version of every message the bot sent, by (chat_id, message_id).
    bot_messages: HashMap<(i64, i64), Value>,
    language_codes: HashMap<i64, String>,
    file_seq: u64,
    failures: VecDeque<Failure>,
    failed_attempts: usize,
    sent: Vec<Sent>,
    answered_callbacks: Vec<String>,
    unknown_methods: Vec<String>,
    calls: Vec<Call>,
}

struct Shared {
    state: Mutex<State>,
    /// Woken whenever an update is queued or redelivered.
    updates: Notify,
    /// Woken whenever something is recorded in `sent`.
    sent: Notify,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not turn every later request into a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn shutting_down(&self) -> bool {
        *self.shutdown.borrow() || self.shutdown.has_changed().is_err()
    }
}

/// The stand-in server. Dropping it shuts the server down.
pub struct TelegramStandIn {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown_tx: watch::Sender<bool>,
    server: Mutex<Option<JoinHandle<()>>>,
}

impl TelegramStandIn {
    /// Binds 127.0.0.1 on a free port and starts serving (any bot token).
    pub async fn start() -> Self {
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("telegram stand-in: cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("telegram stand-in: no local address");
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            state: Mutex::new(State { next_update_id: 1, ..State::default() }),
            updates: Notify::new(),
            sent: Notify::new(),
            shutdown: shutdown_rx.clone(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let mut signal = shutdown_rx;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = signal.wait_for(|stop| *stop).await;
                })
                .await;
        });
        Self { addr, shared, shutdown_tx, server: Mutex::new(Some(server)) }
    }

    /// Base URL for teloxide's `Bot::set_api_url`, e.g. `http://127.0.0.1:PORT/`.
    pub fn api_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits (up to 5 s) until it has closed its connections.
    /// Dropping the stand-in also stops it, without waiting.
    pub async fn shutdown(&self) {
        let _ = self.shutdown_tx.send(true);
        self.shared.updates.notify_waiters();
        let handle = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            let _ = tokio::time::timeout(Duration::from_secs(5), handle).await;
        }
    }

    // ----- updates from the user -------------------------------------------------

    /// Sets the `language_code` of the user in this chat (none by default).
    pub fn set_language_code(&self, chat_id: i64, code: Option<&str>) {
        let mut st = self.shared.lock();
        match code {
            Some(code) => st.language_codes.insert(chat_id, code.to_owned()),
            None => st.language_codes.remove(&chat_id),
        };
    }

    /// Queues a text message from the user of this private chat; returns the update_id.
    /// A leading `/command` gets a `bot_command` entity, as Telegram does.
    pub fn user_sends_text(&self, chat_id: i64, text: &str) -> i64 {
        let mut fields = json!({ "text": text });
        if text.starts_with('/') {
            let command = text.split_whitespace().next().unwrap_or(text);
            let length = command.encode_utf16().count();
            fields["entities"] = json!([{ "type": "bot_command", "offset": 0, "length": length }]);
        }
        self.user_sends(chat_id, fields)
    }

    /// Queues a message update whose message has `fields` merged into the
    /// standard `message_id`/`from`/`chat`/`date` fields; returns the update_id.
    /// Panics if `fields` is not a JSON object.
    pub fn user_sends(&self, chat_id: i64, fields: Value) -> i64 {
        let Value::Object(fields) = fields else {
            panic!("telegram stand-in: user_sends expects a JSON object, got {fields}");
        };
        let id = {
            let mut st = self.shared.lock();
            let message_id = st.next_message_id(chat_id);
            let mut message = Map::new();
            message.insert("message_id".into(), json!(message_id));
            message.insert("from".into(), st.user_json(chat_id));
            message.insert("chat".into(), chat_json(chat_id));
            message.insert("date".into(), json!(now()));
            message.extend(fields);
            st.queue_update("message", Value::Object(message))
        };
        self.shared.updates.notify_waiters();
        id
    }

    /// The user sends a (regular, static) sticker.
    pub fn user_sends_sticker(&self, chat_id: i64) -> i64 {
        let (file_id, unique_id) = self.file_ids("sticker");
        self.user_sends(
            chat_id,
            json!({ "sticker": {
                "file_id": file_id, "file_unique_id": unique_id, "file_size": 12345,
                "width": 512, "height": 512, "type": "regular",
                "is_animated": false, "is_video": false, "emoji": "👍"
            }}),
        )
    }

    /// The user sends a photo (two sizes), optionally with a caption.
    pub fn user_sends_photo(&self, chat_id: i64, caption: Option<&str>) -> i64 {
        let (small_id, small_unique) = self.file_ids("photo-small");
        let (big_id, big_unique) = self.file_ids("photo-big");
        let mut fields = json!({ "photo": [
            { "file_id": small_id, "file_unique_id": small_unique, "file_size": 1500, "width": 90, "height": 67 },
            { "file_id": big_id, "file_unique_id": big_unique, "file_size": 65000, "width": 800, "height": 600 }
        ]});
        if let Some(caption) = caption {
            fields["caption"] = json!(caption);
        }
        self.user_sends(chat_id, fields)
    }

    /// The user sends a voice note of `duration_secs` seconds.
    pub fn user_sends_voice(&self, chat_id: i64, duration_secs: u32) -> i64 {
        let (file_id, unique_id) = self.file_ids("voice");
        self.user_sends(
            chat_id,
            json!({ "voice": {
                "file_id": file_id, "file_unique_id": unique_id, "file_size": 8000,
                "duration": duration_secs, "mime_type": "audio/ogg"
            }}),
        )
    }

    /// The user sends a video of `duration_secs` seconds.
    pub fn user_sends_video(&self, chat_id: i64, duration_secs: u32) -> i64 {
        let (file_id, unique_id) = self.file_ids("video");
        self.user_sends(
            chat_id,
            json!({ "video": {
                "file_id": file_id, "file_unique_id": unique_id, "file_size": 250000,
                "width": 640, "height": 360, "duration": duration_secs, "mime_type": "video/mp4"
            }}),
        )
    }

    /// The user sends a file as a document.
    pub fn user_sends_document(&self, chat_id: i64, file_name: &str) -> i64 {
        let (file_id, unique_id) = self.file_ids("document");
        self.user_sends(
            chat_id,
            json!({ "document": {
                "file_id": file_id, "file_unique_id": unique_id, "file_size": 4096,
                "file_name": file_name, "mime_type": "application/octet-stream"
            }}),
        )
    }

    /// The user shares a location.
    pub fn user_sends_location(&self, chat_id: i64, latitude: f64, longitude: f64) -> i64 {
        self.user_sends(chat_id, json!({ "location": { "latitude": latitude, "longitude": longitude } }))
    }

    /// The user shares a contact (their own, i.e. `user_id` = the chat's user).
    pub fn user_sends_contact(&self, chat_id: i64, phone_number: &str, first_name: &str) -> i64 {
        self.user_sends(
            chat_id,
            json!({ "contact": {
                "phone_number": phone_number, "first_name": first_name, "user_id": chat_id
            }}),
        )
    }

    /// The user presses an inline button with `data` under the bot's message
    /// `message_id`; returns the update_id. The callback query id is the
    /// update_id as a string. The query carries the bot message as last sent or
    /// edited; an unknown message is given as an inaccessible message (date 0).
    pub fn user_presses(&self, chat_id: i64, message_id: i64, data: &str) -> i64 {
        let id = {
            let mut st = self.shared.lock();
            let message = st
                .bot_messages
                .get(&(chat_id, message_id))
                .cloned()
                .unwrap_or_else(|| json!({ "message_id": message_id, "chat": chat_json(chat_id), "date": 0 }));
            let update_id = st.next_update_id;
            let query = json!({
                "id": update_id.to_string(),
                "from": st.user_json(chat_id),
                "message": message,
                "chat_instance": format!("ci{chat_id}"),
                "data": data,
            });
            st.queue_update("callback_query", query)
        };
        self.shared.updates.notify_waiters();
        id
    }

    /// Returns an already delivered update once more from the next `getUpdates`,
    /// whatever the client's offset. Panics if the update_id was never queued.
    pub fn redeliver(&self, update_id: i64) {
        {
            let mut st = self.shared.lock();
            assert!(st.history.contains_key(&update_id), "telegram stand-in: redeliver({update_id}): no such update");
            st.redeliver.push(update_id);
        }
        self.shared.updates.notify_waiters();
    }

    /// Number of queued updates the client has not confirmed yet (plus pending redeliveries).
    pub fn pending_updates(&self) -> usize {
        let st = self.shared.lock();
        st.pending.len() + st.redeliver.len()
    }

    // ----- what the bot did ------------------------------------------------------

    /// The next `n` sendMessage/editMessageText calls fail with `failure`.
    pub fn fail_next_sends(&self, n: usize, failure: Failure) {
        self.shared.lock().failures.extend(std::iter::repeat_n(failure, n));
    }

    /// Every successful sendMessage/editMessageText, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    /// Every successful sendMessage/editMessageText to this chat, in order.
    pub fn sent_to(&self, chat_id: i64) -> Vec<Sent> {
        self.shared.lock().sent.iter().filter(|s| s.chat_id == chat_id).cloned().collect()
    }

    /// Waits until the chat has at least `n` sent items and returns all of them.
    /// Panics on timeout, listing everything that was sent.
    pub async fn wait_for_sent(&self, chat_id: i64, n: usize, timeout: Duration) -> Vec<Sent> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.sent.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let items = self.sent_to(chat_id);
            if items.len() >= n {
                return items;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let items = self.sent_to(chat_id);
                if items.len() >= n {
                    return items;
                }
                panic!(
                    "telegram stand-in: timed out after {timeout:?} waiting for {n} sent item(s) \
                     in chat {chat_id}, got {}.\n{}",
                    items.len(),
                    self.report()
                );
            }
        }
    }

    /// A human-readable summary of everything the stand-in saw (for failure messages).
    pub fn report(&self) -> String {
        use std::fmt::Write;
        let st = self.shared.lock();
        let mut out = String::new();
        let _ = writeln!(out, "sent ({}):", st.sent.len());
        for s in &st.sent {
            let _ = writeln!(
                out,
                "  {} chat={} message_id={} text={:?} buttons={:?}",
                s.method, s.chat_id, s.message_id, s.text, s.buttons
            );
        }
        let _ = writeln!(out, "answered callbacks: {:?}", st.answered_callbacks);
        let _ = writeln!(out, "failed attempts: {}", st.failed_attempts);
        let _ = writeln!(out, "unknown methods: {:?}", st.unknown_methods);
        let _ = writeln!(out, "unconfirmed updates: {:?}", st.pending.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let calls: Vec<&str> = st.calls.iter().map(|c| c.method.as_str()).collect();
        let _ = write!(out, "calls ({}): {:?}", calls.len(), calls);
        out
    }

    /// callback_query ids answered with answerCallbackQuery, in order.
    pub fn answered_callbacks(&self) -> Vec<String> {
        self.shared.lock().answered_callbacks.clone()
    }

    /// How many send attempts were answered with an injected failure.
    pub fn failed_attempts(&self) -> usize {
        self.shared.lock().failed_attempts
    }

    /// Methods called that the stand-in does not implement, in call order
    /// (canonical camelCase, e.g. `"sendChatAction"`). Requests whose path is not
    /// `/bot<token>/<method>` at all are recorded with their raw path.
    pub fn unknown_methods(&self) -> Vec<String> {
        self.shared.lock().unknown_methods.clone()
    }

    /// Every API call received, in order (including getUpdates and failures).
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// The bot's message as last sent or edited, in Telegram's JSON shape.
    pub fn bot_message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.shared.lock().bot_messages.get(&(chat_id, message_id)).cloned()
    }

    fn file_ids(&self, kind: &str) -> (String, String) {
        let mut st = self.shared.lock();
        st.file_seq += 1;
        (format!("{kind}-file-{}", st.file_seq), format!("{kind}-unique-{}", st.file_seq))
    }
}

impl Drop for TelegramStandIn {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        self.shared.updates.notify_waiters();
    }
}

impl State {
    fn next_message_id(&mut self, chat_id: i64) -> i64 {
        let id = self.message_ids.entry(chat_id).or_insert(0);
        *id += 1;
        *id
    }

    fn queue_update(&mut self, kind: &str, payload: Value) -> i64 {
        let id = self.next_update_id;
        self.next_update_id += 1;
        let mut update = Map::new();
        update.insert("update_id".into(), json!(id));
        update.insert(kind.into(), payload);
        let update = Value::Object(update);
        self.history.insert(id, update.clone());
        self.pending.push_back((id, update));
        id
    }

    fn user_json(&self, chat_id: i64) -> Value {
        let user_id = chat_id.unsigned_abs();
        let mut user = json!({
            "id": user_id, "is_bot": false, "first_name": "Test", "last_name": "User",
            "username": format!("user{user_id}")
        });
        if let Some(code) = self.language_codes.get(&chat_id) {
            user["language_code"] = json!(code);
        }
        user
    }

    /// Applies `offset` and takes the next batch (ascending ids, so that the
    /// client's next offset, computed from the last update, never skips one).
    fn take_updates(&mut self, offset: Option<i64>, limit: usize) -> Vec<Value> {
        match offset {
            Some(o) if o > 0 => self.pending.retain(|(id, _)| *id >= o),
            Some(o) if o < 0 => {
                let keep = o.unsigned_abs() as usize;
                while self.pending.len() > keep {
                    self.pending.pop_front();
                }
            }
            _ => {}
        }
        let mut batch: Vec<(i64, Value)> = self.pending.iter().cloned().collect();
        for id in &self.redeliver {
            if let Some(update) = self.history.get(id) {
                batch.push((*id, update.clone()));
            }
        }
        batch.sort_by_key(|(id, _)| *id);
        batch.dedup_by_key(|(id, _)| *id);
        batch.truncate(limit);
        self.redeliver.retain(|id| !batch.iter().any(|(b, _)| b == id));
        batch.into_iter().map(|(_, update)| update).collect()
    }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(1)
}

fn chat_json(chat_id: i64) -> Value {
    if chat_id > 0 {
        json!({ "id": chat_id, "type": "private", "first_name": "Test", "last_name": "User",
                "username": format!("user{chat_id}") })
    } else {
        json!({ "id": chat_id, "type": "supergroup", "title": "Test group" })
    }
}

fn bot_user_json(token: &str) -> Value {
    let id: i64 = token.split(':').next().and_then(|s| s.parse().ok()).unwrap_or(1);
    json!({ "id": id, "is_bot": true, "first_name": "Stand-in Bot", "username": "standin_bot" })
}

// ----- HTTP ----------------------------------------------------------------------

fn reply_ok(result: Value) -> Response {
    json_response(StatusCode::OK, json!({ "ok": true, "result": result }))
}

fn reply_err(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    json_response(status, json!({ "ok": false, "error_code": code, "description": description }))
}

fn bad_request(description: &str) -> Response {
    reply_err(400, &format!("Bad Request: {description}"))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

const KNOWN_METHODS: &[&str] = &[
    "getMe",
    "getWebhookInfo",
    "deleteWebhook",
    "setWebhook",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "answerCallbackQuery",
];

async fn handle(AxumState(shared): AxumState<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    // Expected path: /bot<token>/<method>
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let (token, requested) = match segments.as_slice() {
        [bot, method] if bot.starts_with("bot") && !method.is_empty() => (&bot[3..], *method),
        _ => {
            shared.lock().unknown_methods.push(uri.path().to_owned());
            return reply_err(404, "Not Found");
        }
    };
    let lower = requested.to_ascii_lowercase();
    let method = KNOWN_METHODS
        .iter()
        .find(|m| m.to_ascii_lowercase() == lower)
        .map(|m| (*m).to_owned())
        .unwrap_or_else(|| lower_first(requested));

    let params = match parse_params(&uri, &headers, &body) {
        Ok(params) => params,
        Err(e) => {
            shared.lock().calls.push(Call { method: method.clone(), params: Value::Null });
            return bad_request(&e);
        }
    };
    shared.lock().calls.push(Call { method: method.clone(), params: Value::Object(params.clone()) });

    let p = Params(&params);
    match method.as_str() {
        "getMe" => {
            let mut me = bot_user_json(token);
            me["can_join_groups"] = json!(true);
            me["can_read_all_group_messages"] = json!(false);
            me["supports_inline_queries"] = json!(false);
            me["can_connect_to_business"] = json!(false);
            me["has_main_web_app"] = json!(false);
            reply_ok(me)
        }
        "getWebhookInfo" => {
            let pending = shared.lock().pending.len();
            reply_ok(json!({ "url": "", "has_custom_certificate": false, "pending_update_count": pending }))
        }
        "deleteWebhook" | "setWebhook" => reply_ok(json!(true)),
        "getUpdates" => get_updates(&shared, p).await,
        "sendMessage" => send_message(&shared, p, token),
        "editMessageText" => edit_message_text(&shared, p),
        "answerCallbackQuery" => match p.string("callback_query_id") {
            Some(id) if !id.is_empty() => {
                shared.lock().answered_callbacks.push(id);
                reply_ok(json!(true))
            }
            _ => bad_request("callback_query_id is required"),
        },
        _ => {
            shared.lock().unknown_methods.push(method);
            reply_err(404, "Not Found")
        }
    }
}

async fn get_updates(shared: &Shared, p: Params<'_>) -> Response {
    let offset = match p.int("offset") {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    let limit = match p.int("limit") {
        Ok(v) => v.unwrap_or(100).clamp(1, 100) as usize,
        Err(e) => return bad_request(&e),
    };
    let timeout = match p.int("timeout") {
        Ok(v) => Duration::from_secs(v.unwrap_or(0).max(0) as u64).min(MAX_POLL_WAIT),
        Err(e) => return bad_request(&e),
    };
    let deadline = tokio::time::Instant::now() + timeout;
    let mut shutdown = shared.shutdown.clone();
    loop {
        let notified = shared.updates.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let batch = shared.lock().take_updates(offset, limit);
        if !batch.is_empty() || tokio::time::Instant::now() >= deadline || shared.shutting_down() {
            return reply_ok(Value::Array(batch));
        }
        tokio::select! {
            _ = &mut notified => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Consumes an injected failure, if any, and answers with it.
fn injected_failure(shared: &Shared) -> Option<Response> {
    let mut st = shared.lock();
    let failure = st.failures.pop_front()?;
    st.failed_attempts += 1;
    Some(match failure {
        Failure::RetryAfter(secs) => json_response(
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {secs}"),
                "parameters": { "retry_after": secs }
            }),
        ),
        Failure::ServerError => reply_err(500, "Internal Server Error"),
    })
}

fn send_message(shared: &Shared, p: Params<'_>, token: &str) -> Response {
    let chat_id = match p.chat_id() {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    let text = match p.string("text") {
        Some(t) if !t.is_empty() => t,
        _ => return bad_request("message text is empty"),
    };
    let keyboard = p.inline_keyboard();
    if let Some(failure) = injected_failure(shared) {
        return failure;
    }
    let message = {
        let mut st = shared.lock();
        let message_id = st.next_message_id(chat_id);
        let mut message = json!({
            "message_id": message_id,
            "from": bot_user_json(token),
            "chat": chat_json(chat_id),
            "date": now(),
            "text": text,
        });
        if let Some(markup) = &keyboard {
            message["reply_markup"] = markup.clone();
        }
        st.bot_messages.insert((chat_id, message_id), message.clone());
        record_sent(&mut st, "sendMessage", chat_id, message_id, text, &keyboard);
        message
    };
    shared.sent.notify_waiters();
    reply_ok(message)
}

fn edit_message_text(shared: &Shared, p: Params<'_>) -> Response {
    let text = match p.string("text") {
        Some(t) if !t.is_empty() => t,
        _ => return bad_request("message text is empty"),
    };
    let keyboard = p.inline_keyboard();
    let chat_id = match p.chat_id() {
        Ok(id) => id,
        Err(e) => return bad_request(e),
    };
    let message_id = match p.int("message_id") {
        Ok(Some(id)) => id,
        Ok(None) => return bad_request("message_id is required"),
        Err(e) => return bad_request(&e),
    };
    if !shared.lock().bot_messages.contains_key(&(chat_id, message_id)) {
        return bad_request("message to edit not found");
    }
    if let Some(failure) = injected_failure(shared) {
        return failure;
    }
    let message = {
        let mut st = shared.lock();
        let Some(message) = st.bot_messages.get_mut(&(chat_id, message_id)) else {
            return bad_request("message to edit not found");
        };
        message["text"] = json!(text);
        message["edit_date"] = json!(now());
        match (&keyboard, message.as_object_mut()) {
            (Some(markup), _) => message["reply_markup"] = markup.clone(),
            (None, Some(obj)) => {
                obj.remove("reply_markup");
            }
            (None, None) => {}
        }
        let message = message.clone();
        record_sent(&mut st, "editMessageText", chat_id, message_id, text, &keyboard);
        message
    };
    shared.sent.notify_waiters();
    reply_ok(message)
}

/// Records a message the bot sent or edited, for the test to inspect.
fn record_sent(st: &mut State, method: &str, chat_id: i64, message_id: i64, text: String, keyboard: &Option<Value>) {
    let buttons = keyboard.as_ref().map(buttons_of).unwrap_or_default();
    st.sent.push(Sent { method: method.into(), chat_id, message_id, text, buttons });
}

fn buttons_of(markup: &Value) -> Vec<Vec<(String, String)>> {
    let Some(rows) = markup.get("inline_keyboard").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .map(|row| {
            row.as_array()
                .map(|buttons| {
                    buttons
                        .iter()
                        .map(|b| {
                            let label = b.get("text").and_then(Value::as_str).unwrap_or_default();
                            let data = b.get("callback_data").and_then(Value::as_str).unwrap_or_default();
                            (label.to_owned(), data.to_owned())
                        })
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect()
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ----- parameters ----------------------------------------------------------------

#[derive(Clone, Copy)]
struct Params<'a>(&'a Map<String, Value>);

impl Params<'_> {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    fn int(&self, key: &str) -> Result<Option<i64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| format!("{key} must be an integer")),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| format!("{key} must be an integer")),
            Some(_) => Err(format!("{key} must be an integer")),
        }
    }

    fn string(&self, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A JSON-valued parameter (JSON bodies carry it as JSON, forms as JSON text).
    fn json(&self, key: &str) -> Option<Value> {
        match self.get(key)? {
            Value::String(s) => serde_json::from_str(s).ok(),
            other => Some(other.clone()),
        }
    }

    /// Err is the error description.
    fn chat_id(&self) -> Result<i64, &'static str> {
        match self.int("chat_id") {
            Ok(Some(id)) => Ok(id),
            Ok(None) => Err("chat_id is empty"),
            // e.g. "@channelusername": the stand-in knows no such chats
            Err(_) => Err("chat not found"),
        }
    }

    /// The reply_markup if it is an inline keyboard (other markups are not echoed
    /// back: a Message only ever carries an inline keyboard).
    fn inline_keyboard(&self) -> Option<Value> {
        self.json("reply_markup").filter(|m| m.get("inline_keyboard").is_some_and(Value::is_array))
    }
}

fn parse_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, String> {
    let mut params = Map::new();
    if let Some(query) = uri.query() {
        for (k, v) in parse_urlencoded(query.as_bytes()) {
            params.insert(k, Value::String(v));
        }
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    match mime.as_str() {
        "application/x-www-form-urlencoded" => {
            for (k, v) in parse_urlencoded(body) {
                params.insert(k, Value::String(v));
            }
        }
        "multipart/form-data" => {
            let boundary = content_type
                .split(';')
                .skip(1)
                .filter_map(|p| p.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                .ok_or("multipart body without boundary")?;
            for (k, v) in parse_multipart(body, &boundary)? {
                params.insert(k, v);
            }
        }
        _ => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(obj)) => params.extend(obj),
            Ok(_) => return Err("request body must be a JSON object".into()),
            Err(e) => return Err(format!("can't parse JSON body: {e}")),
        },
    }
    Ok(params)
}

fn parse_urlencoded(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let k = kv.next().unwrap_or_default();
            let v = kv.next().unwrap_or_default();
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => {
                let hex = std::str::from_utf8(&input[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Text parts become string values; file parts become `{"file_name", "size"}`.
fn parse_multipart(body: &[u8], boundary: &str) -> Result<Vec<(String, Value)>, String> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut fields = Vec::new();
    let mut pos = find(body, &delimiter, 0).ok_or("multipart boundary not found")? + delimiter.len();
    loop {
        if body[pos..].starts_with(b"--") {
            break; // closing delimiter
        }
        let next = find(body, &delimiter, pos).ok_or("unterminated multipart body")?;
        let part = &body[pos..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n", 0);
        let (head, content) = match split {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => (part, &[][..]),
        };
        let head = String::from_utf8_lossy(head);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .ok_or("multipart part without content-disposition")?;
        let name = header_param(disposition, "name").ok_or("multipart part without name")?;
        let value = match header_param(disposition, "filename") {
            Some(file_name) => json!({ "file_name": file_name, "size": content.len() }),
            None => Value::String(String::from_utf8_lossy(content).into_owned()),
        };
        fields.push((name, value));
        pos = next + delimiter.len();
    }
    Ok(fields)
}

fn header_param(header_line: &str, key: &str) -> Option<String> {
    header_line.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim().trim_matches('"').to_owned())
    })
}
