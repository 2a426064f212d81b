//! /delete erases every row about a person in every table, and nothing of anyone else.

use qamqor_flows::storage::TABLES;
use qamqor_tests::{Person, TestDb, dump, only};
use sqlx::AnyPool;

async fn user_row(pool: &AnyPool, chat: &str) -> Option<(i64, String)> {
    sqlx::query_as("SELECT id, pseudonym FROM users WHERE external_id = $1")
        .bind(chat)
        .fetch_optional(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn erasing_leaves_no_row_about_the_person_in_any_table() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();

        let mut other = Person::onboarded(engine.clone(), "stays", "Қазақша").await;

        let mut parent = Person::new(engine.clone(), "leaves-7781");
        parent.say("/start").await;
        parent.press("Русский").await;
        parent.press("Не принимаю").await;
        parent.press("Прочитать условия").await;
        parent.press("Принимаю").await;
        parent.say("пишу что-то своё").await;
        let (id, pseudonym) = user_row(&pool, "leaves-7781").await.expect("the parent is stored");

        parent.say("/delete").await;
        let done = only(parent.press("Да, удалить всё").await);
        assert!(done.text.contains("удалено"), "{}", done.text);

        let references = ["id", "user_id", "actor_id", "subject_id", "parent_id", "created_by", "used_by"];
        for table in TABLES {
            for row in dump(&pool, table).await {
                for (column, value) in &row {
                    assert!(
                        !value.contains("leaves-7781") && !value.contains(&pseudonym),
                        "{}: {table}.{column} still holds the person: {row:?}",
                        db.name
                    );
                    let points_to_user = references.contains(&column.as_str()) && (*table == "users" || column != "id");
                    assert!(
                        !(points_to_user && value == &id.to_string()),
                        "{}: {table}.{column} = {id}: {row:?}",
                        db.name
                    );
                }
            }
        }
        // The erasure itself is recorded, anonymously; the other parent is untouched.
        let erased: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'user_erased' AND actor_id IS NULL")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(erased, 1);
        assert!(user_row(&pool, "stays").await.is_some());
        let menu = only(other.say("/menu").await);
        assert!(menu.text.contains("Немен көмектесе аламын?"), "{}", menu.text);
    }
}

#[tokio::test]
async fn the_erasure_list_names_every_table_of_the_schema() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let sql = match engine.db().backend() {
            qamqor_flows::storage::Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'"
            }
            qamqor_flows::storage::Backend::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
            }
        };
        let mut tables: Vec<String> = sqlx::query_scalar(sql).fetch_all(engine.db().pool()).await.unwrap();
        tables.sort();
        let mut listed: Vec<String> = TABLES.iter().map(|t| t.to_string()).collect();
        listed.sort();
        assert_eq!(tables, listed, "{}: a table is missing from storage::TABLES", db.name);
    }
}
