//! Safety invariants 5 and 6, end to end through Telegram:
//! - message text never appears in the logs, at any level;
//! - a parent's phone number and username are never kept (so staff can never see them).

use qamqor::app;
use qamqor::config::{Config, TelegramConfig};
use qamqor_flows::storage::TABLES;
use qamqor_tests::telegram_api::{Failure, TelegramStandIn};
use qamqor_tests::{TestDb, dump};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the application logs, at debug level and above.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn message_text_is_never_logged_and_phone_or_username_never_kept() {
    let logs = Logs::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    qamqor_tests::detector();
    let db = TestDb::sqlite();
    let api = TelegramStandIn::start().await;
    let config = Config {
        database_url: db.url.clone(),
        http_addr: "127.0.0.1:0".parse().unwrap(),
        telegram: Some(TelegramConfig {
            token: "123:TEST".into(),
            api_url: Some(api.api_url().parse().unwrap()),
            webhook: None,
        }),
        whatsapp: None,
        duty: Default::default(),
    };
    let app = app::start(config).await.unwrap();
    let chat = 5101;
    let wait = Duration::from_secs(15);

    // A 429 on the way makes the outbox log its retry too.
    api.fail_next_sends(1, Failure::RetryAfter(1));
    api.user_sends_text(chat, "Секретные слова кумыс, мне очень плохо, не хочу жить");
    api.wait_for_sent(chat, 1, wait).await;
    api.user_sends_text(chat, "Обычный вопрос про бешбармак и пособие");
    api.wait_for_sent(chat, 2, wait).await;
    api.user_sends_photo(chat, Some("подпись жайлау"));
    api.wait_for_sent(chat, 3, wait).await;
    api.user_sends_contact(chat, "+77015550123", "Айгерим");
    api.wait_for_sent(chat, 4, wait).await;
    app.stop().await;

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("Qamqor is running") && logged.contains("messenger asked to slow down"),
        "logs were not captured:\n{logged}"
    );
    // Words, not numbers: a log line's timestamp can hold any four digits.
    for secret in ["кумыс", "не хочу жить", "бешбармак", "пособие", "жайлау", "77015550123", "Айгерим", "user5101"]
    {
        assert!(!logged.contains(secret), "{secret:?} appears in the logs:\n{logged}");
    }

    let engine = app::open_engine(&Config::from_args(["--database-url", &db.url]).unwrap()).await.unwrap();
    for table in TABLES {
        for row in dump(engine.db().pool(), table).await {
            for (column, value) in &row {
                for kept in ["77015550123", "user5101", "Айгерим"] {
                    assert!(!value.contains(kept), "{table}.{column} keeps {kept:?}: {row:?}");
                }
            }
        }
    }
}
