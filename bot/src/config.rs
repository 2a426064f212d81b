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

/// Every setting. Each is an environment variable, and a flag of the same name works too;
/// `qamqor --help` lists them with their defaults, and a test keeps README's table the
/// same. None is required. An empty variable counts as unset.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    /// sqlite://FILE (created on first run) or postgres://USER@HOST:PORT/DB
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DATABASE_URL, hide_env_values = true)]
    database_url: String,
    /// Where GET /healthz and the webhooks (/webhooks/<channel>) listen
    #[arg(long, global = true, env = "QAMQOR_HTTP_ADDR", default_value = HTTP_ADDR)]
    http_addr: String,
    /// Turns the Telegram channel on
    #[arg(long, global = true, env = "TELEGRAM_BOT_TOKEN", hide_env_values = true)]
    telegram_bot_token: Option<String>,
    /// Another Bot API server (self-hosted, or a test stand-in)
    #[arg(long, global = true, env = "TELEGRAM_API_URL")]
    telegram_api_url: Option<String>,
    /// Webhook mode instead of long polling: the public URL of /webhooks/telegram
    #[arg(long, global = true, env = "TELEGRAM_WEBHOOK_URL")]
    telegram_webhook_url: Option<String>,
    /// Required with the webhook URL: 1–256 characters of A-Z a-z 0-9 _ -
    #[arg(long, global = true, env = "TELEGRAM_WEBHOOK_SECRET", hide_env_values = true)]
    telegram_webhook_secret: Option<String>,
    /// WhatsApp Cloud API access token (WhatsApp needs all four of token, number, secret, verify token)
    #[arg(long, global = true, env = "WHATSAPP_TOKEN", hide_env_values = true)]
    whatsapp_token: Option<String>,
    /// The WhatsApp business number messages are sent from
    #[arg(long, global = true, env = "WHATSAPP_PHONE_NUMBER_ID")]
    whatsapp_phone_number_id: Option<String>,
    /// The Meta app secret that signs every webhook delivery
    #[arg(long, global = true, env = "WHATSAPP_APP_SECRET", hide_env_values = true)]
    whatsapp_app_secret: Option<String>,
    /// A string you choose, which Meta presents when the webhook is registered
    #[arg(long, global = true, env = "WHATSAPP_VERIFY_TOKEN", hide_env_values = true)]
    whatsapp_verify_token: Option<String>,
    /// Another Graph API server (a test stand-in)
    #[arg(long, global = true, env = "WHATSAPP_API_URL", default_value = DEFAULT_API_URL)]
    whatsapp_api_url: String,
    /// The approved template that asks a parent to write back after 24 hours, in Kazakh
    #[arg(long, global = true, env = "WHATSAPP_TEMPLATE_KK")]
    whatsapp_template_kk: Option<String>,
    /// The same template in Russian
    #[arg(long, global = true, env = "WHATSAPP_TEMPLATE_RU")]
    whatsapp_template_ru: Option<String>,
    /// Admins as channel:id, separated by commas (e.g. telegram:123456789)
    #[arg(long, global = true, env = "QAMQOR_ADMINS")]
    qamqor_admins: Option<String>,
    /// A staff group chat (channel:id) where every new case is announced too
    #[arg(long, global = true, env = "QAMQOR_STAFF_CHAT")]
    qamqor_staff_chat: Option<String>,
    /// Psychologists' working hours, Kazakhstan time
    #[arg(long, global = true, env = "QAMQOR_HOURS", default_value = HOURS)]
    qamqor_hours: String,
    /// Minutes an unclaimed case waits before everyone is reminded (imminent: first/then every)
    #[arg(long, global = true, env = "QAMQOR_SLA", default_value = SLA)]
    qamqor_sla: String,
    /// The numbers every safety message gives
    #[arg(long, global = true, env = "QAMQOR_HOTLINES", default_value = HOTLINES)]
    qamqor_hotlines: String,
}

/// Read elsewhere, not settings of the service: named in `--help` and README all the same.
pub const OTHER_VARIABLES: &[&str] = &["QAMQOR_MODEL", "RUST_LOG"];

const DATABASE_URL: &str = "sqlite://qamqor.db";
const HTTP_ADDR: &str = "127.0.0.1:8080";
const HOURS: &str = "mon-fri 09:00-18:00";
const SLA: &str = "imminent=2/5 high=10 normal=60";
const HOTLINES: &str = "emergency=112, ambulance=103, police=102, helpline=111";

/// An empty or blank value counts as unset, as in a shell's `VAR= qamqor`.
fn set(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

/// A setting with a default: a blank value gives the default.
fn or<'a>(value: &'a str, default: &'static str) -> &'a str {
    if value.trim().is_empty() { default } else { value }
}

/// `Settings` alone, for [`Config::from_args`].
#[derive(clap::Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: Settings,
}

impl Config {
    /// From flags as `qamqor` takes them (`--database-url sqlite://…`); the environment
    /// fills in the rest.
    pub fn from_args<'a>(args: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Config> {
        let only: SettingsOnly = clap::Parser::try_parse_from(std::iter::once("qamqor").chain(args))?;
        Config::from_settings(&only.settings)
    }

    pub fn from_settings(s: &Settings) -> anyhow::Result<Config> {
        let telegram = match set(&s.telegram_bot_token) {
            None => None,
            Some(token) => Some(TelegramConfig {
                token,
                api_url: set(&s.telegram_api_url)
                    .map(|u| Url::parse(&u).context("TELEGRAM_API_URL is not a URL"))
                    .transpose()?,
                webhook: match (set(&s.telegram_webhook_url), set(&s.telegram_webhook_secret)) {
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
            set(&s.whatsapp_token),
            set(&s.whatsapp_phone_number_id),
            set(&s.whatsapp_app_secret),
            set(&s.whatsapp_verify_token),
        ) {
            (None, None, None, None) => None,
            (Some(token), Some(phone_number_id), Some(app_secret), Some(verify_token)) => Some(WhatsappConfig {
                token,
                phone_number_id,
                app_secret,
                verify_token,
                api_url: or(&s.whatsapp_api_url, DEFAULT_API_URL).to_string(),
                template_kk: set(&s.whatsapp_template_kk),
                template_ru: set(&s.whatsapp_template_ru),
            }),
            _ => bail!(
                "WhatsApp needs all of WHATSAPP_TOKEN, WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_APP_SECRET and \
                 WHATSAPP_VERIFY_TOKEN"
            ),
        };
        let duty = Duty {
            admins: set(&s.qamqor_admins)
                .unwrap_or_default()
                .split([',', ' '])
                .filter(|a| !a.trim().is_empty())
                .map(|a| address("QAMQOR_ADMINS", a))
                .collect::<anyhow::Result<Vec<_>>>()?,
            staff_chat: set(&s.qamqor_staff_chat).map(|a| address("QAMQOR_STAFF_CHAT", &a)).transpose()?,
            hours: Hours::parse(or(&s.qamqor_hours, HOURS))?,
            sla: Sla::parse(or(&s.qamqor_sla, SLA))?,
            hotlines: Hotlines::parse(or(&s.qamqor_hotlines, HOTLINES))?,
        };
        Ok(Config {
            duty,
            database_url: or(&s.database_url, DATABASE_URL).to_string(),
            http_addr: or(&s.http_addr, HTTP_ADDR).parse().context("QAMQOR_HTTP_ADDR must look like 127.0.0.1:8080")?,
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

    /// The settings as flags named like the variables (`--telegram-bot-token`).
    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let args: Vec<String> = vars
            .iter()
            .flat_map(|(k, v)| [format!("--{}", k.to_lowercase().replace('_', "-")), v.to_string()])
            .collect();
        Config::from_args(args.iter().map(String::as_str))
    }

    #[test]
    fn blank_values_count_as_unset_and_the_shown_defaults_are_the_real_ones() {
        let c = config(&[("DATABASE_URL", " "), ("QAMQOR_HOURS", ""), ("TELEGRAM_BOT_TOKEN", "")]).unwrap();
        assert_eq!(c.database_url, DATABASE_URL);
        assert!(c.telegram.is_none());
        assert_eq!(c.duty.hours, Hours::default());
        assert_eq!(c.duty.sla, Sla::default());
        assert_eq!(c.duty.hotlines, Hotlines::default());
    }

    /// `qamqor --help` and README's table list the same settings.
    #[test]
    fn the_readme_lists_every_setting() {
        use clap::Args;
        let cmd = Settings::augment_args(clap::Command::new("qamqor"));
        let mut in_help: Vec<String> =
            cmd.get_arguments().filter_map(|a| a.get_env()).map(|e| e.to_string_lossy().into_owned()).collect();
        in_help.extend(OTHER_VARIABLES.iter().map(|v| v.to_string()));
        in_help.sort();
        let readme = include_str!("../../README.md");
        let table = readme.split("## Configuration").nth(1).and_then(|s| s.split("\n## ").next()).unwrap();
        let mut in_readme: Vec<String> =
            table.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next().map(str::to_string)).collect();
        in_readme.sort();
        assert_eq!(in_help, in_readme);
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
