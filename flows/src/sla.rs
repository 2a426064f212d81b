//! Nobody may forget a parent: a case nobody has taken reminds every psychologist and
//! admin after a while (2 minutes for imminent risk, then every 5; 10 for high; 60 for
//! normal — see [`crate::duty::Sla`]), until someone takes it.
//!
//! The reminders live in the `jobs` table, so they survive a restart. A run is claimed
//! by moving the job's `due_at` forward in the same transaction as the reminders it
//! sends (compare-and-set), so with several replicas polling, each reminder goes out once.

use crate::cases::{self, Case, Priority};
use crate::engine::Engine;
use crate::storage;
use sqlx::{AnyConnection, Row};

const KIND: &str = "sla";
/// Jobs looked at per poll; the rest wait for the next one.
const BATCH: i64 = 32;

/// (Re)starts the clock of a case that was just opened or raised.
pub(crate) async fn schedule(conn: &mut AnyConnection, engine: &Engine, case: &Case, now: i64) -> sqlx::Result<()> {
    let due = pace(engine, case.priority, now + engine.duty().sla.first_ms(case.priority));
    sqlx::query("DELETE FROM jobs WHERE kind = $1 AND case_id = $2")
        .bind(KIND)
        .bind(case.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO jobs (kind, case_id, due_at) VALUES ($1, $2, $3)")
        .bind(KIND)
        .bind(case.id)
        .bind(due)
        .execute(conn)
        .await?;
    Ok(())
}

/// Imminent risk is reminded around the clock; other cases wait for working hours.
fn pace(engine: &Engine, priority: Priority, due: i64) -> i64 {
    if priority == Priority::Imminent { due } else { engine.duty().hours.next_open(due) }
}

impl Engine {
    /// Sends the reminders that are due by the engine's clock. Returns how many cases
    /// were reminded. Called every few seconds by every replica.
    pub async fn remind_due(&self) -> anyhow::Result<usize> {
        let now = self.now();
        let due: Vec<(i64, i64, i64)> = sqlx::query(
            "SELECT id, case_id, due_at FROM jobs WHERE kind = $1 AND due_at <= $2 ORDER BY due_at LIMIT $3",
        )
        .bind(KIND)
        .bind(now)
        .bind(BATCH)
        .fetch_all(self.db().pool())
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("case_id")?, r.try_get("due_at")?)))
        .collect::<sqlx::Result<_>>()?;
        let mut reminded = 0;
        for (job, case_id, due_at) in due {
            let mut tx = self.db().begin().await?;
            let case = cases::get(&mut tx, case_id).await?;
            let waiting = case.filter(|c| !c.closed && c.psychologist.is_none());
            let done = match &waiting {
                // Someone took it, or it was closed: nothing more to remind of.
                None => sqlx::query("DELETE FROM jobs WHERE id = $1 AND due_at = $2").bind(job).bind(due_at),
                Some(c) => sqlx::query("UPDATE jobs SET due_at = $3, runs = runs + 1 WHERE id = $1 AND due_at = $2")
                    .bind(job)
                    .bind(due_at)
                    .bind(pace(self, c.priority, now + self.duty().sla.every_ms(c.priority))),
            };
            let claimed = done.execute(&mut *tx).await?.rows_affected() == 1;
            if let (true, Some(case)) = (claimed, &waiting) {
                let minutes = (now - case.opened_at).max(0) / 60_000;
                self.notify(&mut tx, case, &crate::staff::reminder(case, minutes), true, now).await?;
                storage::audit(&mut tx, now, None, case.parent.as_ref().map(|p| p.id), "case_reminded").await?;
                reminded += 1;
            }
            tx.commit().await?;
        }
        Ok(reminded)
    }
}
