//! The terminal channel: `qamqor chat`. A person types, the bot answers; buttons are
//! numbered and chosen by number or by their text. Same engine, same database, same
//! outbox as the messengers. Works with piped input, one message per line.

use crate::outbox::{Deliver, DeliveryError, deliver_due};
use qamqor_flows::{Address, Channel, Engine, Event, Inbound, OutButton, Outgoing};
use qamqor_models::text::normalize;
use std::sync::Mutex;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

/// Collects what the outbox delivers to the terminal, to print in order.
#[derive(Default)]
struct Screen(Mutex<Vec<Outgoing>>);

impl Deliver for Screen {
    async fn deliver(&self, _chat: &str, message: &Outgoing) -> Result<(), DeliveryError> {
        self.0.lock().map_err(|_| DeliveryError::Transient("terminal lock".into()))?.push(message.clone());
        Ok(())
    }
}

/// Runs a conversation as `chat` until the input ends. It opens as if the person had
/// pressed Telegram's Start.
pub async fn chat<R, W>(engine: &Engine, chat: &str, input: R, mut output: W) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let address = Address::new(Channel::Terminal, chat);
    let mut lines = input.lines();
    let mut buttons: Vec<OutButton> = Vec::new();
    let mut event = Some(Event::Text { text: "/start".into() });
    // Unique across runs on the same database: the inbox deduplicates on it.
    let run = qamqor_flows::storage::now_ms();
    let mut seq = 0u64;
    loop {
        if let Some(event) = event.take() {
            seq += 1;
            let inbound =
                Inbound { address: address.clone(), external_id: format!("{run}-{seq}"), event, sent_at: None };
            engine.accept(&inbound).await?;
            engine.process(&address).await?;
            let screen = Screen::default();
            while deliver_due(engine.db(), Channel::Terminal, &screen).await? > 0 {}
            for message in screen.0.into_inner().unwrap_or_default() {
                output.write_all(render(&message).as_bytes()).await?;
                if !message.buttons.is_empty() {
                    buttons = message.buttons.into_iter().flatten().collect();
                }
            }
            output.flush().await?;
        }
        let Some(line) = lines.next_line().await? else { return Ok(()) };
        let line = line.trim();
        // The chat opened with /start: typed again as the first line, it would ask the
        // same question twice.
        let repeats_the_start = seq == 1 && line.eq_ignore_ascii_case("/start");
        if !line.is_empty() && !repeats_the_start {
            event = Some(match pick(&buttons, line) {
                Some(b) => Event::Button { data: b.data.clone(), message: None },
                None => Event::Text { text: line.to_string() },
            });
        }
    }
}

/// A message as the terminal shows it: the text, then the buttons numbered in rows.
fn render(message: &Outgoing) -> String {
    let mut out = format!("\n{}\n", message.text);
    let mut n = 0;
    for row in &message.buttons {
        let cells: Vec<String> = row
            .iter()
            .map(|b| {
                n += 1;
                format!("[{n}] {}", b.label)
            })
            .collect();
        out.push_str(&format!("  {}\n", cells.join("   ")));
    }
    out
}

/// The button a typed line means: its number, or its label.
fn pick<'a>(buttons: &'a [OutButton], line: &str) -> Option<&'a OutButton> {
    if let Ok(n) = line.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| buttons.get(i));
    }
    let line = normalize(line);
    buttons.iter().find(|b| normalize(&b.label) == line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buttons() -> Vec<OutButton> {
        ["Қазақша", "Русский"]
            .iter()
            .map(|l| OutButton { label: l.to_string(), data: l.to_string(), short: None })
            .collect()
    }

    #[test]
    fn a_number_or_a_label_picks_a_button() {
        let b = buttons();
        assert_eq!(pick(&b, "2").unwrap().label, "Русский");
        assert_eq!(pick(&b, "қазақша").unwrap().label, "Қазақша");
        assert!(pick(&b, "0").is_none());
        assert!(pick(&b, "3").is_none());
        assert!(pick(&b, "hello").is_none());
    }
}
