//! Who answers a parent in need, and how soon: the admins, the staff group chat, the
//! psychologists' working hours, how long an unclaimed case may wait before everyone is
//! reminded, and the hotline numbers the safety messages give. All from configuration,
//! with defaults that work.

use crate::cases::Priority;
use crate::inbound::Address;
use anyhow::{Context, bail};
use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;

#[derive(Clone, Debug, Default)]
pub struct Duty {
    /// `QAMQOR_ADMINS`: they hear of every case and invite staff.
    pub admins: Vec<Address>,
    /// `QAMQOR_STAFF_CHAT`: a group where every new case is announced too.
    pub staff_chat: Option<Address>,
    pub hours: Hours,
    pub sla: Sla,
    pub hotlines: Hotlines,
}

/// How many minutes an unclaimed case waits before every psychologist and admin is
/// reminded (`QAMQOR_SLA`, e.g. `imminent=2/5 high=10 normal=60`: imminent after 2
/// minutes, then every 5). High and normal cases are reminded again at the same pace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sla {
    pub imminent_first: i64,
    pub imminent_every: i64,
    pub high: i64,
    pub normal: i64,
}

impl Default for Sla {
    fn default() -> Sla {
        Sla { imminent_first: 2, imminent_every: 5, high: 10, normal: 60 }
    }
}

const MINUTE_MS: i64 = 60_000;

impl Sla {
    /// Milliseconds from a case's opening (or raising) to its first reminder.
    pub fn first_ms(&self, priority: Priority) -> i64 {
        MINUTE_MS
            * match priority {
                Priority::Imminent => self.imminent_first,
                Priority::High => self.high,
                Priority::Normal => self.normal,
            }
    }

    /// Milliseconds between later reminders.
    pub fn every_ms(&self, priority: Priority) -> i64 {
        match priority {
            Priority::Imminent => MINUTE_MS * self.imminent_every,
            other => self.first_ms(other),
        }
    }

    pub fn parse(text: &str) -> anyhow::Result<Sla> {
        let mut sla = Sla::default();
        for part in text.split([',', ' ']).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').context("QAMQOR_SLA: write each as level=minutes")?;
            let minutes = |v: &str| -> anyhow::Result<i64> {
                let m: i64 = v.trim().parse().context("QAMQOR_SLA: minutes must be whole numbers")?;
                if m < 1 {
                    bail!("QAMQOR_SLA: minutes must be at least 1");
                }
                Ok(m)
            };
            match name.trim() {
                "imminent" => {
                    let (first, every) = value.split_once('/').unwrap_or((value, value));
                    (sla.imminent_first, sla.imminent_every) = (minutes(first)?, minutes(every)?);
                }
                "high" => sla.high = minutes(value)?,
                "normal" => sla.normal = minutes(value)?,
                other => bail!("QAMQOR_SLA: unknown level {other:?} (imminent, high, normal)"),
            }
        }
        Ok(sla)
    }
}

/// When psychologists work, in Kazakhstan time (`QAMQOR_HOURS`, e.g. `mon-fri 09:00-18:00`).
/// Outside these hours a parent who asks for a person is told when one will answer;
/// imminent cases still go to every psychologist at once, and are reminded around the
/// clock. Reminders of other cases wait for the next working hour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hours {
    /// Working days, Monday first.
    pub days: [bool; 7],
    pub from: Time,
    pub to: Time,
}

impl Default for Hours {
    fn default() -> Hours {
        Hours {
            days: [true, true, true, true, true, false, false],
            from: Time::constant(9, 0, 0, 0),
            to: Time::constant(18, 0, 0, 0),
        }
    }
}

/// Kazakhstan's one time zone (UTC+5 since 1 March 2024), from the tz database.
pub fn zone() -> TimeZone {
    TimeZone::get("Asia/Almaty").unwrap_or(TimeZone::UTC)
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Hours {
    pub fn parse(text: &str) -> anyhow::Result<Hours> {
        let usage = "QAMQOR_HOURS: write it as mon-fri 09:00-18:00";
        let (days, times) = text.trim().split_once(' ').context(usage)?;
        let day = |d: &str| DAYS.iter().position(|x| x.eq_ignore_ascii_case(d.trim())).context(usage);
        let (first, last) = match days.split_once('-') {
            Some((a, b)) => (day(a)?, day(b)?),
            None => (day(days)?, day(days)?),
        };
        let mut working = [false; 7];
        let mut d = first;
        loop {
            working[d] = true;
            if d == last {
                break;
            }
            d = (d + 1) % 7;
        }
        let (from, to) = times.trim().split_once('-').context(usage)?;
        let time = |t: &str| -> anyhow::Result<Time> { t.trim().parse().context(usage) };
        let (from, to) = (time(from)?, time(to)?);
        if from >= to {
            bail!("QAMQOR_HOURS: the day must end after it starts");
        }
        Ok(Hours { days: working, from, to })
    }

    /// Whether psychologists are at work at this moment.
    pub fn is_open(&self, at_ms: i64) -> bool {
        let Ok(t) = Timestamp::from_millisecond(at_ms) else { return true };
        let local = t.to_zoned(zone());
        self.days[weekday_index(local.weekday())] && local.time() >= self.from && local.time() < self.to
    }

    /// The next moment psychologists are at work: `at_ms` itself when they are.
    pub fn next_open(&self, at_ms: i64) -> i64 {
        if self.is_open(at_ms) || !self.days.contains(&true) {
            return at_ms;
        }
        let Ok(t) = Timestamp::from_millisecond(at_ms) else { return at_ms };
        let local = t.to_zoned(zone());
        for ahead in 0..8 {
            let Ok(day) = local.date().checked_add(jiff::Span::new().days(ahead)) else { break };
            let Ok(start) = day.to_datetime(self.from).to_zoned(zone()) else { continue };
            if self.days[weekday_index(day.weekday())] && start.timestamp() > t {
                return start.timestamp().as_millisecond();
            }
        }
        at_ms
    }
}

fn weekday_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

/// A moment as parents and staff read it: "23.11 09:00", Kazakhstan time.
pub fn local_time(at_ms: i64) -> String {
    match Timestamp::from_millisecond(at_ms) {
        Ok(t) => t.to_zoned(zone()).strftime("%d.%m %H:%M").to_string(),
        Err(_) => String::new(),
    }
}

/// The numbers every safety message gives (`QAMQOR_HOTLINES`, e.g.
/// `emergency=112, ambulance=103, police=102, helpline=111`; numbers may hold spaces).
/// `helpline_always=yes` lets the texts say the helpline answers around the clock: a claim
/// an operator makes only once they have confirmed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hotlines {
    /// One number for every emergency service.
    pub emergency: String,
    pub ambulance: String,
    pub police: String,
    /// The contact centre for family, women's and children's rights.
    pub helpline: String,
    /// Whether the helpline is confirmed to answer around the clock.
    pub helpline_always: bool,
}

impl Default for Hotlines {
    fn default() -> Hotlines {
        Hotlines {
            emergency: "112".into(),
            ambulance: "103".into(),
            police: "102".into(),
            helpline: "111".into(),
            helpline_always: false,
        }
    }
}

impl Hotlines {
    pub fn parse(text: &str) -> anyhow::Result<Hotlines> {
        let mut h = Hotlines::default();
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, number) = part.split_once('=').context("QAMQOR_HOTLINES: write each as name=number")?;
            let number = number.trim();
            if name.trim() == "helpline_always" {
                h.helpline_always = match number {
                    "yes" => true,
                    "no" => false,
                    _ => bail!("QAMQOR_HOTLINES: helpline_always is yes or no"),
                };
                continue;
            }
            if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c)) {
                bail!("QAMQOR_HOTLINES: {name} must be a phone number");
            }
            let slot = match name.trim() {
                "emergency" => &mut h.emergency,
                "ambulance" => &mut h.ambulance,
                "police" => &mut h.police,
                "helpline" => &mut h.helpline,
                other => bail!(
                    "QAMQOR_HOTLINES: unknown line {other:?} (emergency, ambulance, police, helpline, helpline_always)"
                ),
            };
            *slot = number.to_string();
        }
        Ok(h)
    }
}

impl Duty {
    /// The Fluent variables every text may use: the hotline numbers, and within how many
    /// minutes of working time a question is answered.
    pub fn text_args(&self) -> Vec<(&'static str, String)> {
        let h = &self.hotlines;
        vec![
            ("emergency", h.emergency.clone()),
            ("ambulance", h.ambulance.clone()),
            ("police", h.police.clone()),
            ("helpline", h.helpline.clone()),
            ("helpline_always", if h.helpline_always { "yes" } else { "no" }.to_string()),
            ("answer_minutes", self.sla.normal.to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        // Kazakhstan time.
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(zone()).unwrap().timestamp().as_millisecond()
    }

    #[test]
    fn working_hours_are_kazakhstan_time_and_skip_the_weekend() {
        let hours = Hours::default();
        // 2025-11-17 is a Monday.
        assert!(hours.is_open(at("2025-11-17T09:00")));
        assert!(!hours.is_open(at("2025-11-17T08:59")));
        assert!(!hours.is_open(at("2025-11-17T18:00")));
        assert!(!hours.is_open(at("2025-11-22T12:00")), "Saturday");
        assert_eq!(hours.next_open(at("2025-11-17T20:00")), at("2025-11-18T09:00"));
        assert_eq!(hours.next_open(at("2025-11-21T23:00")), at("2025-11-24T09:00"), "Friday night to Monday");
        assert_eq!(hours.next_open(at("2025-11-17T07:00")), at("2025-11-17T09:00"));
        assert_eq!(local_time(at("2025-11-24T09:00")), "24.11 09:00");
    }

    #[test]
    fn configuration_is_read_or_refused_clearly() {
        let h = Hours::parse("sat-mon 10:00-14:30").unwrap();
        assert_eq!(h.days, [true, false, false, false, false, true, true]);
        assert!(h.is_open(at("2025-11-23T10:00")), "Sunday");
        assert!(Hours::parse("mon-fri 18:00-09:00").is_err());
        assert!(Hours::parse("weekdays").is_err());

        let sla = Sla::parse("imminent=1/3 normal=30").unwrap();
        assert_eq!(sla, Sla { imminent_first: 1, imminent_every: 3, high: 10, normal: 30 });
        assert_eq!(sla.every_ms(Priority::Normal), 30 * MINUTE_MS);
        assert!(Sla::parse("imminent=0").is_err());
        assert!(Sla::parse("urgent=5").is_err());

        let lines = Hotlines::parse("helpline=+7 (7172) 111, police=102").unwrap();
        assert_eq!(
            (lines.helpline.as_str(), lines.police.as_str(), lines.emergency.as_str()),
            ("+7 (7172) 111", "102", "112")
        );
        assert!(Hotlines::parse("helpline=call me").is_err());
        assert!(!Hotlines::default().helpline_always, "round the clock is claimed only when confirmed");
        assert!(Hotlines::parse("helpline=111, helpline_always=yes").unwrap().helpline_always);
        assert!(Hotlines::parse("helpline_always=maybe").is_err());
    }
}
