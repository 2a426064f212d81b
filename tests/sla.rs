//! Nobody forgets a parent: unclaimed cases remind every psychologist and admin on time,
//! from the durable jobs table (across a restart, once with several replicas), working
//! hours in Kazakhstan time, hotline numbers and the staff group chat from configuration.
//! A test clock moves time by hand; SQLite and PostgreSQL.

use qamqor_flows::duty::{Duty, Hotlines};
use qamqor_flows::{Address, Channel};
use qamqor_tests::{Person, TestClock, TestDb, labels, psychologist, scalar, texts};

const IMMINENT: &str = "Я всё решила. Сегодня ночью выпью все таблетки. Прощайте";

fn duty(admin: &str) -> Duty {
    Duty { admins: vec![Address::new(Channel::Terminal, admin)], ..Duty::default() }
}

#[tokio::test]
async fn an_unclaimed_imminent_case_reminds_after_two_minutes_then_every_five_until_taken() {
    for db in TestDb::all().await {
        // A Monday morning in Kazakhstan.
        let clock = TestClock::at("2025-11-17T10:00");
        let engine = db.engine_with(duty("admin-s1"), Some(&clock)).await;
        let pool = engine.db().pool().clone();
        let mut admin = Person::new(engine.clone(), "admin-s1");
        let mut psy = psychologist(&engine, &mut admin, "psy-s1", "Айгерим").await;
        let mut parent = Person::onboarded(engine.clone(), "parent-s1", "Русский").await;
        parent.say(IMMINENT).await;
        let case = scalar(&pool, "SELECT id FROM cases").await;
        assert!(texts(&psy.inbox().await).contains("СРОЧНО"), "{}: the first notice", db.name);
        admin.inbox().await;

        clock.advance_minutes(1);
        assert_eq!(engine.remind_due().await.unwrap(), 0, "{}: not yet at one minute", db.name);
        assert!(psy.inbox().await.is_empty());

        clock.advance_minutes(1);
        assert_eq!(engine.remind_due().await.unwrap(), 1, "{}: at two minutes", db.name);
        for staff in [&mut psy, &mut admin] {
            let reminder = staff.inbox().await;
            let text = texts(&reminder);
            assert!(text.contains("ждёт уже 2 мин") && text.contains("СРОЧНО"), "{}: {text}", db.name);
            assert!(!text.contains("parent-s1") && !text.contains("таблетки"), "pseudonym only: {text}");
            assert_eq!(labels(reminder.last().unwrap()), vec![format!("Взять #{case}")]);
        }
        assert_eq!(engine.remind_due().await.unwrap(), 0, "{}: each reminder goes out once", db.name);

        clock.advance_minutes(4);
        assert_eq!(engine.remind_due().await.unwrap(), 0, "{}: not again before five more minutes", db.name);
        clock.advance_minutes(1);
        assert_eq!(engine.remind_due().await.unwrap(), 1, "{}: seven minutes", db.name);
        assert!(texts(&psy.inbox().await).contains("ждёт уже 7 мин"));

        psy.press(&format!("Взять #{case}")).await;
        clock.advance_minutes(30);
        assert_eq!(engine.remind_due().await.unwrap(), 0, "{}: a taken case reminds nobody", db.name);
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM jobs").await, 0, "{}: and its job is gone", db.name);
        // Invariant 3: however long it waited, no timer closed it.
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL").await, 1);
    }
}

#[tokio::test]
async fn reminders_survive_a_restart_and_go_out_once_with_two_replicas() {
    for db in TestDb::all().await {
        let clock = TestClock::at("2025-11-17T11:00");
        {
            let engine = db.engine_with(duty("admin-s2"), Some(&clock)).await;
            let mut admin = Person::new(engine.clone(), "admin-s2");
            psychologist(&engine, &mut admin, "psy-s2", "Данияр").await;
            let mut parent = Person::onboarded(engine.clone(), "parent-s2", "Қазақша").await;
            parent.say("Бүгін түнде бәрі бітеді. Таблеткаларды жинап қойдым").await;
        }
        // The process stopped; two replicas come up on the same database.
        clock.advance_minutes(2);
        let (one, two) = (
            db.engine_with(duty("admin-s2"), Some(&clock)).await,
            db.engine_with(duty("admin-s2"), Some(&clock)).await,
        );
        let (a, b) = tokio::join!(one.remind_due(), two.remind_due());
        assert_eq!(a.unwrap() + b.unwrap(), 1, "{}: exactly one replica reminds", db.name);
        let mut psy = Person::new(one.clone(), "psy-s2");
        let reminders: Vec<_> = psy.inbox().await.into_iter().filter(|m| m.text.contains("ждёт уже")).collect();
        assert_eq!(reminders.len(), 1, "{}: {reminders:#?}", db.name);
    }
}

#[tokio::test]
async fn after_hours_a_parent_learns_when_a_person_will_answer_while_imminent_risk_is_not_kept_waiting() {
    for db in TestDb::all().await {
        // Saturday, 23:00 in Kazakhstan: psychologists work Monday to Friday, 9 to 18.
        let clock = TestClock::at("2025-11-22T23:00");
        let engine = db.engine_with(duty("admin-s3"), Some(&clock)).await;
        let mut admin = Person::new(engine.clone(), "admin-s3");
        let mut psy = psychologist(&engine, &mut admin, "psy-s3", "Сауле").await;

        let mut ru = Person::onboarded(engine.clone(), "parent-s3-ru", "Русский").await;
        let answer = texts(&ru.press("Чат с психологом").await);
        assert!(answer.contains("нерабочее время") && answer.contains("24.11 09:00"), "{}: {answer}", db.name);
        assert!(answer.contains("111") && answer.contains("112"), "the hotlines: {answer}");
        let mut kk = Person::onboarded(engine.clone(), "parent-s3-kk", "Қазақша").await;
        let answer = texts(&kk.press("Психологпен сөйлесу").await);
        assert!(answer.contains("жұмыс уақыты емес") && answer.contains("24.11 09:00"), "{}: {answer}", db.name);

        let mut urgent = Person::onboarded(engine.clone(), "parent-s3-urgent", "Русский").await;
        let answer = texts(&urgent.say(IMMINENT).await);
        assert!(!answer.contains("нерабочее"), "imminent risk is not told to wait: {answer}");
        assert!(texts(&psy.inbox().await).contains("СРОЧНО"), "the on-call psychologists hear at once");

        // An hour later only the imminent case reminds; the others wait for Monday 9:00.
        clock.advance_minutes(61);
        assert_eq!(engine.remind_due().await.unwrap(), 1, "{}", db.name);
        let night = texts(&psy.inbox().await);
        assert!(night.contains("СРОЧНО") && !night.contains("обычное"), "{night}");
        clock.advance_minutes(36 * 60);
        let monday = engine.remind_due().await.unwrap();
        assert_eq!(monday, 3, "{}: Monday morning, all three", db.name);
    }
}

#[tokio::test]
async fn hotline_numbers_and_the_staff_group_come_from_configuration() {
    let db = TestDb::sqlite();
    let hotlines = Hotlines { helpline: "150".into(), emergency: "911".into(), ..Hotlines::default() };
    let group = Address::new(Channel::Terminal, "staff-group");
    let duty = Duty { hotlines, staff_chat: Some(group), ..duty("admin-s4") };
    let engine = db.engine_with(duty, None).await;
    let mut parent = Person::onboarded(engine.clone(), "parent-s4", "Қазақша").await;
    let answer = texts(&parent.say(IMMINENT).await);
    assert!(answer.contains("911") && answer.contains("150"), "{answer}");
    assert!(!answer.contains("112") && !answer.contains("111"), "{answer}");

    let mut group = Person::new(engine.clone(), "staff-group");
    let note = group.inbox().await;
    let text = texts(&note);
    assert!(text.contains("СРОЧНО") && text.contains("ШҰҒЫЛ"), "both languages in a group: {text}");
    assert!(text.contains("/queue"), "the group is told where to take it: {text}");
    assert!(note.iter().all(|m| m.buttons.is_empty()), "no Take button in a group: {note:#?}");
    assert!(!text.contains("parent-s4"), "{text}");
}

#[tokio::test]
async fn new_cases_go_to_psychologists_on_duty_and_reminders_to_everyone() {
    for db in TestDb::all().await {
        let clock = TestClock::at("2025-11-18T10:00");
        let engine = db.engine_with(duty("admin-s5"), Some(&clock)).await;
        let mut admin = Person::new(engine.clone(), "admin-s5");
        let mut on = psychologist(&engine, &mut admin, "psy-on", "Асель").await;
        let mut off = psychologist(&engine, &mut admin, "psy-off", "Ерлан").await;
        assert!(texts(&off.say("/duty off").await).contains("сняты с дежурства"));

        let mut parent = Person::onboarded(engine.clone(), "parent-s5", "Русский").await;
        parent.say(IMMINENT).await;
        assert!(texts(&on.inbox().await).contains("СРОЧНО"), "{}: on duty, told at once", db.name);
        assert!(off.inbox().await.is_empty(), "{}: off duty, not woken for a new case", db.name);
        assert!(texts(&admin.inbox().await).contains("СРОЧНО"), "admins always hear");

        clock.advance_minutes(2);
        engine.remind_due().await.unwrap();
        assert!(texts(&off.inbox().await).contains("ждёт уже 2 мин"), "{}: a waiting case reaches everyone", db.name);

        // With nobody on duty, a new case still reaches every psychologist.
        on.say("/duty off").await;
        on.inbox().await;
        let mut second = Person::onboarded(engine.clone(), "parent-s5b", "Русский").await;
        second.say(IMMINENT).await;
        assert!(texts(&on.inbox().await).contains("СРОЧНО"), "{}", db.name);
        assert!(texts(&off.inbox().await).contains("СРОЧНО"), "{}", db.name);
    }
}
