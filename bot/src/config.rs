//! Configuration, from environment variables. Nothing is required: with no variables
//! set, Qamqor runs on SQLite in `qamqor.db` with no messenger connected.

use crate::whatsapp::{DEFAULT_API_URL, WhatsappConfig};
use anyhow::{Context, bail};
use qamqor_flows::duty::{Duty, Hotlines, Hours, Sla};
use qamqor_flows::{Address, Channel};
use reqwest::Url;
use std::net::SocketAddr;

#[derive(Clone, Debug)]
pub struct Config {
    /// `DATABASE_URL`: `sqlite://qamqor.db` (default) or `postgres://…`.
    pub database_url: String,
    /// `QAMQOR_HTTP_ADDR`: where `/healthz` and the webhooks listen.
    pub http_addr: SocketAddr,
    pub telegram: Option<TelegramConfig>,
    pub whatsapp: Option<WhatsappConfig>,
    /// Who answers a parent in need, and when: `QAMQOR_ADMINS` (as `channel:id`
    /// separated by commas or spaces, e.g. `telegram:123456789`), `QAMQOR_STAFF_CHAT`,
    /// `QAMQOR_HOURS`, `QAMQOR_SLA`, `QAMQOR_HOTLINES` (see [`Duty`]).
    pub duty: Duty,
}

#[derive(Clone, Debug)]
pub struct TelegramConfig {
    /// `TELEGRAM_BOT_TOKEN`, from @BotFather.
    pub token: String,
    /// `TELEGRAM_API_URL`: another Bot API server (self-hosted, or a test stand-in).
    pub api_url: Option<Url>,
    /// `TELEGRAM_WEBHOOK_URL` and `TELEGRAM_WEBHOOK_SECRET`: webhook mode, for several
    /// replicas. Without them Qamqor uses long polling.
    pub webhook: Option<Webhook>,
}

#[derive(Clone, Debug)]
pub struct Webhook {
    pub url: Url,
    pub secret: String,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Config> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Config> {
        let http_addr = get("QAMQOR_HTTP_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into());
        let telegram = match get("TELEGRAM_BOT_TOKEN") {
            None => None,
            Some(token) => Some(TelegramConfig {
                token,
                api_url: get("TELEGRAM_API_URL")
                    .map(|u| Url::parse(&u).context("TELEGRAM_API_URL is not a URL"))
                    .transpose()?,
                webhook: match (get("TELEGRAM_WEBHOOK_URL"), get("TELEGRAM_WEBHOOK_SECRET")) {
                    (None, _) => None,
                    (Some(_), None) => bail!("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET"),
                    (Some(url), Some(secret)) => Some(Webhook {
                        url: Url::parse(&url).context("TELEGRAM_WEBHOOK_URL is not a URL")?,
                        secret: valid_secret(secret)?,
                    }),
                },
            }),
        };
        let whatsapp = match (
            get("WHATSAPP_TOKEN"),
            get("WHATSAPP_PHONE_NUMBER_ID"),
            get("WHATSAPP_APP_SECRET"),
            get("WHATSAPP_VERIFY_TOKEN"),
        ) {
            (None, None, None, None) => None,
            (Some(token), Some(phone_number_id), Some(app_secret), Some(verify_token)) => Some(WhatsappConfig {
                token,
                phone_number_id,
                app_secret,
                verify_token,
                api_url: get("WHATSAPP_API_URL").unwrap_or_else(|| DEFAULT_API_URL.into()),
                template_kk: get("WHATSAPP_TEMPLATE_KK"),
                template_ru: get("WHATSAPP_TEMPLATE_RU"),
            }),
            _ => bail!(
                "WhatsApp needs all of WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and \
                 WHATSAPP_VERIFY_TOKEN"
            ),
        };
        let duty = Duty {
            admins: get("QAMQOR_ADMINS")
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|a| !a.trim().is_empty())
                .map(|a| address("QAMQOR_ADMINS", a))
                .collect::<anyhow::Result<Vec<_>>>()?,
            staff_chat: get("QAMQOR_STAFF_CHAT").map(|a| address("QAMQOR_STAFF_CHAT", &a)).transpose()?,
            hours: get("QAMQOR_HOURS").map(|h| Hours::parse(&h)).transpose()?.unwrap_or_default(),
            sla: get("QAMQOR_SLA").map(|s| Sla::parse(&s)).transpose()?.unwrap_or_default(),
            hotlines: get("QAMQOR_HOTLINES").map(|h| Hotlines::parse(&h)).transpose()?.unwrap_or_default(),
        };
        Ok(Config {
            duty,
            database_url: get("DATABASE_URL").unwrap_or_else(|| "sqlite://qamqor.db".into()),
            http_addr: http_addr.parse().context("QAMQOR_HTTP_ADDR must look like 127.0.0.1:8080")?,
            telegram,
            whatsapp,
        })
    }
}

/// A chat as `channel:id`, e.g. `telegram:123456789`.
fn address(variable: &str, text: &str) -> anyhow::Result<Address> {
    let (channel, id) = text.trim().split_once(':').with_context(|| format!("{variable}: write it as channel:id"))?;
    let channel = Channel::parse(channel)
        .with_context(|| format!("{variable}: the channel is telegram, whatsapp or terminal"))?;
    Ok(Address::new(channel, id))
}

/// Telegram accepts 1–256 characters of A–Z, a–z, 0–9, `_` and `-`.
fn valid_secret(secret: String) -> anyhow::Result<String> {
    let ok = (1..=256).contains(&secret.len())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        bail!("TELEGRAM_WEBHOOK_SECRET must be 1–256 characters of A-Z, a-z, 0-9, _ and -");
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        Config::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn defaults_need_nothing() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite://qamqor.db");
        assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
        assert!(c.telegram.is_none());
        assert!(c.whatsapp.is_none());
    }

    #[test]
    fn a_webhook_needs_a_valid_secret() {
        let base = [("TELEGRAM_BOT_TOKEN", "1:x"), ("TELEGRAM_WEBHOOK_URL", "https://q.kz/webhooks/telegram")];
        assert!(config(&base).is_err());
        assert!(config(&[base[0], base[1], ("TELEGRAM_WEBHOOK_SECRET", "has space")]).is_err());
        let c = config(&[base[0], base[1], ("TELEGRAM_WEBHOOK_SECRET", "s3cret_-")]).unwrap();
        assert_eq!(c.telegram.unwrap().webhook.unwrap().secret, "s3cret_-");
    }

    #[test]
    fn whatsapp_needs_all_four_settings() {
        let all = [
            ("WHATSAPP_TOKEN", "EAAG"),
            ("WHATSAPP_PHONE_NUMBER_ID", "1234567890"),
            ("WHATSAPP_APP_SECRET", "app-secret"),
            ("WHATSAPP_VERIFY_TOKEN", "verify-me"),
        ];
        let c = config(&all).unwrap().whatsapp.unwrap();
        assert_eq!((c.phone_number_id.as_str(), c.api_url.as_str()), ("1234567890", DEFAULT_API_URL));
        assert_eq!((c.template_kk, c.template_ru), (None, None), "templates are optional");
        assert!(config(&all[..3]).is_err(), "a missing verify token is refused, not ignored");
    }

    #[test]
    fn admins_are_channel_and_id_pairs() {
        let c = config(&[("QAMQOR_ADMINS", "telegram:123, whatsapp:77011234567")]).unwrap();
        assert_eq!(
            c.duty.admins,
            vec![Address::new(Channel::Telegram, "123"), Address::new(Channel::Whatsapp, "77011234567")]
        );
        assert!(config(&[("QAMQOR_ADMINS", "123")]).is_err());
        assert!(config(&[("QAMQOR_ADMINS", "icq:1")]).is_err());
    }

    #[test]
    fn duty_settings_are_read_and_bad_ones_refused() {
        let c = config(&[
            ("QAMQOR_STAFF_CHAT", "telegram:-1001234"),
            ("QAMQOR_SLA", "imminent=1/4"),
            ("QAMQOR_HOTLINES", "helpline=150"),
        ])
        .unwrap();
        assert_eq!(c.duty.staff_chat, Some(Address::new(Channel::Telegram, "-1001234")));
        assert_eq!((c.duty.sla.imminent_first, c.duty.sla.imminent_every, c.duty.sla.high), (1, 4, 10));
        assert_eq!(c.duty.hotlines.helpline, "150");
        assert_eq!(c.duty.hours, Hours::default());
        assert!(config(&[("QAMQOR_HOURS", "every day")]).is_err());
        assert!(config(&[("QAMQOR_STAFF_CHAT", "-1001234")]).is_err());
    }
}
