//! Cases: a parent who needs a person, in the psychologists' queue. The storage side of
//! the crisis path — opening, raising, taking, relaying, closing — and staff invitations.
//! Every query runs unchanged on SQLite and PostgreSQL.

use crate::inbound::{Address, Channel};
use crate::storage::{self, Role};
use qamqor_models::Lang;
use sqlx::{AnyConnection, Row};

/// How soon a person must answer. Ordered: the queue serves the highest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    Normal = 1,
    High = 2,
    Imminent = 3,
}

/// A stored priority the code does not know is an error, never a quieter priority.
impl TryFrom<i64> for Priority {
    type Error = String;

    fn try_from(v: i64) -> Result<Priority, String> {
        match v {
            3 => Ok(Priority::Imminent),
            2 => Ok(Priority::High),
            1 => Ok(Priority::Normal),
            other => Err(format!("unknown case priority {other}")),
        }
    }
}

impl Priority {
    /// The Fluent id of its name, for staff.
    pub fn label(self) -> &'static str {
        match self {
            Priority::Normal => "priority-normal",
            Priority::High => "priority-high",
            Priority::Imminent => "priority-imminent",
        }
    }
}

/// How a case ended: chosen by the psychologist who closes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Supported,
    Emergency,
    Booked,
    NoAnswer,
    Other,
    /// The parent erased their data while the case was open.
    DeletedByParent,
}

impl Outcome {
    /// What a psychologist can choose from.
    pub const CHOICES: [Outcome; 5] =
        [Outcome::Supported, Outcome::Emergency, Outcome::Booked, Outcome::NoAnswer, Outcome::Other];

    pub fn code(self) -> &'static str {
        match self {
            Outcome::Supported => "supported",
            Outcome::Emergency => "emergency",
            Outcome::Booked => "booked",
            Outcome::NoAnswer => "no_answer",
            Outcome::Other => "other",
            Outcome::DeletedByParent => "deleted_by_parent",
        }
    }

    pub fn parse(code: &str) -> Option<Outcome> {
        Outcome::CHOICES.into_iter().find(|o| o.code() == code)
    }
}

/// A case as staff and the engine see it. `parent` is `None` once the parent erased
/// their data.
#[derive(Clone, Debug, PartialEq)]
pub struct Case {
    pub id: i64,
    pub parent: Option<Party>,
    pub priority: Priority,
    pub child_safety: bool,
    pub signals: Vec<String>,
    pub opened_at: i64,
    pub psychologist: Option<Party>,
    pub closed: bool,
}

/// Someone in a case: where to write to them, in which language, and the only name the
/// other side sees — a pseudonym for a parent, the display name for a psychologist.
#[derive(Clone, Debug, PartialEq)]
pub struct Party {
    pub id: i64,
    pub address: Address,
    pub language: Lang,
    pub name: String,
}

const CASE_COLUMNS: &str = "c.id, c.priority, c.child_safety, c.signals, c.opened_at, c.closed_at,
    p.id AS p_id, p.channel AS p_channel, p.external_id AS p_chat, p.language AS p_lang, p.pseudonym AS p_name,
    s.id AS s_id, s.channel AS s_channel, s.external_id AS s_chat, s.language AS s_lang,
    s.display_name AS s_name
    FROM cases c LEFT JOIN users p ON p.id = c.parent_id LEFT JOIN users s ON s.id = c.psychologist_id";

fn party(r: &sqlx::any::AnyRow, prefix: &str) -> sqlx::Result<Option<Party>> {
    let Some(id) = r.try_get::<Option<i64>, _>(format!("{prefix}_id").as_str())? else {
        return Ok(None);
    };
    let channel: String = r.try_get(format!("{prefix}_channel").as_str())?;
    let Some(channel) = Channel::parse(&channel) else {
        return Ok(None);
    };
    let lang: Option<String> = r.try_get(format!("{prefix}_lang").as_str())?;
    let name: Option<String> = r.try_get(format!("{prefix}_name").as_str())?;
    Ok(Some(Party {
        id,
        address: Address::new(channel, r.try_get::<String, _>(format!("{prefix}_chat").as_str())?),
        language: lang.as_deref().and_then(Lang::from_code).unwrap_or(Lang::FALLBACK),
        name: name.unwrap_or_default(),
    }))
}

fn case_of(r: &sqlx::any::AnyRow) -> sqlx::Result<Case> {
    let signals: Option<String> = r.try_get("signals")?;
    Ok(Case {
        id: r.try_get("id")?,
        parent: party(r, "p")?,
        priority: Priority::try_from(r.try_get::<i64, _>("priority")?).map_err(|e| sqlx::Error::Decode(e.into()))?,
        child_safety: r.try_get::<i64, _>("child_safety")? != 0,
        signals: signals
            .map(|s| s.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
        opened_at: r.try_get("opened_at")?,
        psychologist: party(r, "s")?,
        closed: r.try_get::<Option<i64>, _>("closed_at")?.is_some(),
    })
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> sqlx::Result<Option<Case>> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} WHERE c.id = $1")).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(case_of).transpose()
}

/// The parent's open case, if any.
pub async fn open_for_parent(conn: &mut AnyConnection, parent_id: i64) -> sqlx::Result<Option<Case>> {
    let row = sqlx::query(&format!("SELECT {CASE_COLUMNS} WHERE c.parent_id = $1 AND c.closed_at IS NULL"))
        .bind(parent_id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(case_of).transpose()
}

/// Opens a case for a parent. Committed in the same transaction as the parent's answer,
/// so no parent is ever told a person is coming for a case that does not exist.
pub async fn open(
    conn: &mut AnyConnection,
    parent_id: i64,
    priority: Priority,
    child_safety: bool,
    signals: &[String],
    now: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO cases (parent_id, priority, child_safety, signals, opened_at) VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
    )
    .bind(parent_id)
    .bind(priority as i64)
    .bind(child_safety as i64)
    .bind(signals.join(","))
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Raises an open case's priority (never lowers it) and adds the child-safety flag and
/// signals. Returns whether anything rose.
pub async fn raise(
    conn: &mut AnyConnection,
    case: &Case,
    priority: Priority,
    child_safety: bool,
    signals: &[String],
) -> sqlx::Result<bool> {
    let rises = priority > case.priority || (child_safety && !case.child_safety);
    let mut all = case.signals.clone();
    all.extend(signals.iter().filter(|s| !case.signals.contains(s)).cloned());
    sqlx::query("UPDATE cases SET priority = $1, child_safety = $2, signals = $3 WHERE id = $4")
        .bind(priority.max(case.priority) as i64)
        .bind((child_safety || case.child_safety) as i64)
        .bind(all.join(","))
        .bind(case.id)
        .execute(conn)
        .await?;
    Ok(rises)
}

/// Gives an open, untaken case to a psychologist. Atomic: of two psychologists pressing
/// Take at once, exactly one gets true.
pub async fn take(conn: &mut AnyConnection, case_id: i64, psychologist_id: i64, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE cases SET psychologist_id = $1, taken_at = $2
         WHERE id = $3 AND psychologist_id IS NULL AND closed_at IS NULL",
    )
    .bind(psychologist_id)
    .bind(now)
    .bind(case_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes a case with an outcome. Only an open case closes; returns whether it did.
pub async fn close(conn: &mut AnyConnection, case_id: i64, outcome: Outcome, now: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE cases SET closed_at = $1, outcome = $2 WHERE id = $3 AND closed_at IS NULL")
        .bind(now)
        .bind(outcome.code())
        .bind(case_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The parent's rating of a closed case, 1 to 5, once.
pub async fn rate(conn: &mut AnyConnection, case_id: i64, parent_id: i64, rating: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE cases SET rating = $1 WHERE id = $2 AND parent_id = $3 AND closed_at IS NOT NULL AND rating IS NULL",
    )
    .bind(rating.clamp(1, 5))
    .bind(case_id)
    .bind(parent_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Open cases, most urgent first, then oldest first.
pub async fn queue(conn: &mut AnyConnection) -> sqlx::Result<Vec<Case>> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} WHERE c.closed_at IS NULL ORDER BY c.priority DESC, c.opened_at, c.id"
    ))
    .fetch_all(conn)
    .await?;
    rows.iter().map(case_of).collect()
}

pub async fn add_message(
    conn: &mut AnyConnection,
    case_id: i64,
    from_parent: bool,
    text: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO case_messages (case_id, from_parent, text, at) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(from_parent as i64)
        .bind(text)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// What was said in a case, oldest first: (from the parent, text).
pub async fn messages(conn: &mut AnyConnection, case_id: i64) -> sqlx::Result<Vec<(bool, String)>> {
    let rows = sqlx::query("SELECT from_parent, text FROM case_messages WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get::<i64, _>("from_parent")? != 0, r.try_get("text")?))).collect()
}

/// What stays of a parent's cases when they erase their data: priority, times and
/// outcome, pointing at no one. An open case is closed as deleted by the parent.
pub async fn anonymise(conn: &mut AnyConnection, parent_id: i64, now: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM case_messages WHERE case_id IN (SELECT id FROM cases WHERE parent_id = $1)")
        .bind(parent_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE cases SET closed_at = COALESCE(closed_at, $1), outcome = COALESCE(outcome, $2)
         WHERE parent_id = $3",
    )
    .bind(now)
    .bind(Outcome::DeletedByParent.code())
    .bind(parent_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE cases SET parent_id = NULL, signals = NULL WHERE parent_id = $1")
        .bind(parent_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Who hears of a case: psychologists — with `on_duty_only`, those on duty, or all of
/// them when nobody is — and stored admins. Admins named in configuration are added by
/// the caller, as they may have no row.
pub async fn responders(conn: &mut AnyConnection, on_duty_only: bool) -> sqlx::Result<Vec<Party>> {
    let on_duty = "SELECT 1 FROM users WHERE role = 'psychologist' AND on_duty = 1";
    let filter = if on_duty_only {
        format!("(role = 'admin' OR (role = 'psychologist' AND (on_duty = 1 OR NOT EXISTS ({on_duty}))))")
    } else {
        "role IN ('psychologist', 'admin')".to_string()
    };
    let rows = sqlx::query(&format!("SELECT {STAFF_COLUMNS} WHERE {filter} ORDER BY id")).fetch_all(conn).await?;
    Ok(rows.iter().map(|r| party(r, "s")).collect::<sqlx::Result<Vec<_>>>()?.into_iter().flatten().collect())
}

/// Puts a staff member on or off duty.
pub async fn set_on_duty(conn: &mut AnyConnection, user_id: i64, on: bool) -> sqlx::Result<()> {
    sqlx::query("UPDATE users SET on_duty = $1 WHERE id = $2").bind(on as i64).bind(user_id).execute(conn).await?;
    Ok(())
}

/// A user row read as a staff [`Party`] (prefix `s`), with the role.
const STAFF_COLUMNS: &str = "id AS s_id, channel AS s_channel, external_id AS s_chat, language AS s_lang,
    display_name AS s_name, role FROM users";

/// Every staff member, for admins.
pub async fn staff(conn: &mut AnyConnection) -> sqlx::Result<Vec<(Party, Role)>> {
    let rows =
        sqlx::query(&format!("SELECT {STAFF_COLUMNS} WHERE role <> 'parent' ORDER BY id")).fetch_all(conn).await?;
    let mut out = Vec::new();
    for r in &rows {
        if let Some(p) = party(r, "s")? {
            out.push((p, Role::parse(&r.try_get::<String, _>("role")?)));
        }
    }
    Ok(out)
}

/// A new invitation code for a staff role: eight characters without look-alikes, and
/// its line in the audit log. `by` is the admin who asked, or `None` from the command line.
pub async fn invite(conn: &mut AnyConnection, role: Role, by: Option<i64>, now: i64) -> sqlx::Result<String> {
    let code = storage::random_code(8);
    sqlx::query("INSERT INTO invites (code, role, created_by, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&code)
        .bind(role.as_str())
        .bind(by)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    storage::audit(conn, now, by, None, &format!("invite_{}", role.as_str())).await?;
    Ok(code)
}

/// Redeems an unused code: the person gets its role and signs with `name`. Returns the
/// role, or `None` for a wrong or used code.
pub async fn redeem(
    conn: &mut AnyConnection,
    code: &str,
    user_id: i64,
    name: &str,
    now: i64,
) -> sqlx::Result<Option<Role>> {
    let role: Option<String> = sqlx::query_scalar(
        "UPDATE invites SET used_by = $1, used_at = $2 WHERE code = $3 AND used_at IS NULL RETURNING role",
    )
    .bind(user_id)
    .bind(now)
    .bind(code.trim().to_uppercase())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(role) = role.map(|r| Role::parse(&r)) else {
        return Ok(None);
    };
    sqlx::query("UPDATE users SET role = $1, display_name = $2 WHERE id = $3")
        .bind(role.as_str())
        .bind(name)
        .bind(user_id)
        .execute(conn)
        .await?;
    Ok(Some(role))
}

/// Takes a staff member's role away; their taken, open cases go back to the queue.
pub async fn revoke(conn: &mut AnyConnection, user_id: i64) -> sqlx::Result<bool> {
    let done = sqlx::query("UPDATE users SET role = 'parent' WHERE id = $1 AND role <> 'parent'")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE cases SET psychologist_id = NULL, taken_at = NULL WHERE psychologist_id = $1 AND closed_at IS NULL",
    )
    .bind(user_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A psychologist's open cases, oldest first.
pub async fn taken_by(conn: &mut AnyConnection, psychologist_id: i64) -> sqlx::Result<Vec<Case>> {
    let rows = sqlx::query(&format!(
        "SELECT {CASE_COLUMNS} WHERE c.psychologist_id = $1 AND c.closed_at IS NULL ORDER BY c.opened_at"
    ))
    .bind(psychologist_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(case_of).collect()
}

#[cfg(test)]
mod tests {
    use super::Priority;

    #[test]
    fn a_priority_round_trips_and_an_unknown_one_is_refused() {
        for p in [Priority::Normal, Priority::High, Priority::Imminent] {
            assert_eq!(Priority::try_from(p as i64), Ok(p));
        }
        assert!(Priority::try_from(0).is_err());
        assert!(Priority::try_from(4).is_err());
    }
}
