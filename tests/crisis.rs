//! The crisis path end to end: a parent's message → a case committed → psychologists
//! notified → one takes it → messages relayed both ways → closed with an outcome and
//! rated. On SQLite and PostgreSQL, through the real engine, detector and outbox.

use qamqor_tests::{Person, TestDb, invite_code, labels, psychologist, scalar, staff_member, texts};

#[tokio::test]
async fn an_imminent_message_reaches_a_psychologist_who_takes_relays_and_closes() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-1"]).await;
        let pool = engine.db().pool().clone();
        let mut admin = Person::new(engine.clone(), "admin-1");
        let mut psy = psychologist(&engine, &mut admin, "psy-1", "Айгерим").await;
        admin.inbox().await;

        let mut parent = Person::onboarded(engine.clone(), "parent-chat-5551234", "Русский").await;
        let said = "Я всё решила. Сегодня ночью выпью все таблетки. Прощайте";
        let answer = texts(&parent.say(said).await);
        assert!(answer.contains("112") && answer.contains("Психолог напишет вам здесь"), "{answer}");
        assert!(!answer.contains("таблетки"), "the safety message never repeats the parent's words: {answer}");
        // The case was committed with the answer (invariant 2).
        assert_eq!(scalar(&pool, "SELECT priority FROM cases WHERE closed_at IS NULL").await, 3, "{}", db.name);
        let case: i64 = scalar(&pool, "SELECT id FROM cases").await;
        let pseudonym: String =
            sqlx::query_scalar("SELECT pseudonym FROM users WHERE external_id = 'parent-chat-5551234'")
                .fetch_one(&pool)
                .await
                .unwrap();

        // Psychologists and admins hear of it, with the pseudonym only (invariant 5).
        for staff in [&mut psy, &mut admin] {
            let note = staff.inbox().await;
            let all = texts(&note);
            assert!(all.contains("СРОЧНО") && all.contains(&pseudonym), "{}: {all}", db.name);
            assert!(!all.contains("parent-chat-5551234"), "{all}");
            assert_eq!(labels(note.last().unwrap()), vec![format!("Взять #{case}")]);
        }

        let taken = texts(&psy.press(&format!("Взять #{case}")).await);
        assert!(taken.contains("Обращение ваше") && taken.contains(said), "the history: {taken}");
        let joined = texts(&parent.inbox().await);
        assert!(joined.contains("Психолог Айгерим на связи"), "{joined}");

        // Both ways, and the bot does not talk over the parent (invariant 4).
        assert!(parent.say("мне очень плохо, муж ушёл").await.is_empty());
        let relayed = texts(&psy.inbox().await);
        assert_eq!(relayed, format!("#{case} {pseudonym}: мне очень плохо, муж ушёл"));
        psy.say("Я здесь, с вами. Вы сейчас одна?").await;
        assert_eq!(texts(&parent.inbox().await), "Айгерим: Я здесь, с вами. Вы сейчас одна?");

        // Closing asks for an outcome; the parent is told and may rate.
        // An imminent case closes only with an outcome a psychologist chose (invariant 3):
        // the parent going back to the menu or "/close" alone leaves it open.
        parent.say("/menu").await;
        let ask = psy.say("/close").await;
        assert!(labels(ask.last().unwrap()).contains(&"Передали экстренным службам"));
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases WHERE closed_at IS NULL").await, 1, "{}", db.name);
        let closed = texts(&psy.press("Поддержали").await);
        assert!(closed.contains(&format!("#{case} закрыто")), "{closed}");
        let bye = parent.inbox().await;
        assert!(texts(&bye).contains("111"), "{}", texts(&bye));
        assert_eq!(labels(bye.last().unwrap()), vec!["1", "2", "3", "4", "5"]);
        assert!(texts(&parent.press("5").await).contains("Спасибо за оценку"));
        let (outcome, rating): (String, i64) = sqlx::query_as("SELECT outcome, rating FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!((outcome.as_str(), rating), ("supported", 5));
        for action in ["case_opened", "case_taken", "case_message", "case_closed", "invite_psychologist"] {
            let n = scalar(&pool, &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")).await;
            assert!(n >= 1, "{}: no {action} in the audit log", db.name);
        }
        // After the case, the parent is back with the bot.
        let menu = texts(&parent.say("/menu").await);
        assert!(menu.contains("Чем могу помочь?"), "{menu}");
    }
}

#[tokio::test]
async fn safety_does_not_wait_for_onboarding_and_a_plan_raises_the_case() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut person = Person::new(engine.clone(), "new-kk");
        person.say("/start").await;
        let answer = person.say("Шаршадым, өлгім келеді, бәріне жүк болдым").await;
        let all = texts(&answer);
        assert!(all.contains("112") && all.contains("келісім"), "safety, and the lawful ground said plainly: {all}");
        assert_eq!(labels(answer.last().unwrap()), vec!["Иә", "Жоқ"], "{all}");
        assert_eq!(scalar(&pool, "SELECT priority FROM cases").await, 2, "{}", db.name);
        let yes = texts(&person.press("Иә").await);
        assert!(yes.contains("112"), "{yes}");
        assert_eq!(scalar(&pool, "SELECT priority FROM cases").await, 3, "{}", db.name);
    }
}

#[tokio::test]
async fn a_child_in_danger_gets_the_child_lines_and_a_flagged_case() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut parent = Person::onboarded(engine.clone(), "child-ru", "Русский").await;
        let said = "Отчим бьёт сына ремнём, когда я на работе";
        let all = texts(&parent.say(said).await);
        assert!(all.contains("102") && all.contains("111"), "{all}");
        assert!(!all.contains("ремн") && !all.contains("Отчим"), "{all}");
        assert_eq!(scalar(&pool, "SELECT child_safety FROM cases").await, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn support_offers_a_choice_and_opens_a_case_only_when_asked() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let pool = engine.db().pool().clone();
        let mut parent = Person::onboarded(engine.clone(), "tired-ru", "Русский").await;
        let answer = parent.say("Я так устала, плачу каждый вечер, никто не помогает").await;
        let reply = answer.last().unwrap();
        assert!(reply.text.contains("Вы не одни"), "{}", reply.text);
        assert!(labels(reply).contains(&"Поговорить с психологом сейчас"), "{:?}", labels(reply));
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM cases").await, 0);
        let opened = texts(&parent.press("Поговорить с психологом сейчас").await);
        assert!(opened.contains("психолога"), "{opened}");
        assert_eq!(scalar(&pool, "SELECT priority FROM cases").await, 1, "{}", db.name);
    }
}

#[tokio::test]
async fn when_two_psychologists_press_take_at_once_exactly_one_gets_the_case() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-2"]).await;
        let mut admin = Person::new(engine.clone(), "admin-2");
        let mut a = psychologist(&engine, &mut admin, "psy-a", "Асель").await;
        let mut b = psychologist(&engine, &mut admin, "psy-b", "Болат").await;
        let mut parent = Person::onboarded(engine.clone(), "race-parent", "Қазақша").await;
        parent.press("Психологпен сөйлесу").await;
        let case: i64 = scalar(engine.db().pool(), "SELECT id FROM cases").await;
        a.inbox().await;
        b.inbox().await;
        let take = format!("Взять #{case}");
        let (mut got_a, mut got_b) = tokio::join!(a.press(&take), b.press(&take));
        // Each one's drain may have delivered the other's answer: look again.
        got_a.extend(a.inbox().await);
        got_b.extend(b.inbox().await);
        let (got_a, got_b) = (texts(&got_a), texts(&got_b));
        let won = [&got_a, &got_b].iter().filter(|t| t.contains("Обращение ваше")).count();
        assert_eq!(won, 1, "{}: {got_a} | {got_b}", db.name);
        let lost = if got_a.contains("Обращение ваше") { &got_b } else { &got_a };
        assert!(lost.contains("уже взял(а)"), "the other is told who took it: {lost}");
    }
}

#[tokio::test]
async fn parents_cannot_reach_staff_commands() {
    for db in TestDb::all().await {
        let engine = db.engine().await;
        let mut parent = Person::onboarded(engine.clone(), "curious", "Русский").await;
        for command in ["/invite psychologist", "/queue", "/close", "/revoke 1"] {
            let all = texts(&parent.say(command).await);
            assert!(all.contains("Такой команды я не знаю"), "{command}: {all}");
        }
        assert!(texts(&parent.say("/staff ABCDEFGH Мама").await).contains("Код не подошёл"));
        let role: String = sqlx::query_scalar("SELECT role FROM users WHERE external_id = 'curious'")
            .fetch_one(engine.db().pool())
            .await
            .unwrap();
        assert_eq!(role, "parent", "{}", db.name);
    }
}

#[tokio::test]
async fn deleting_during_a_case_tells_the_psychologist_and_keeps_only_statistics() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-3"]).await;
        let pool = engine.db().pool().clone();
        let mut admin = Person::new(engine.clone(), "admin-3");
        let mut psy = psychologist(&engine, &mut admin, "psy-3", "Дана").await;
        let mut parent = Person::onboarded(engine.clone(), "leaving", "Русский").await;
        parent.press("Чат с психологом").await;
        parent.say("мне нужна помощь с сыном").await;
        let case: i64 = scalar(&pool, "SELECT id FROM cases").await;
        psy.inbox().await;
        psy.press(&format!("Взять #{case}")).await;
        parent.say("/delete").await;
        parent.press("Да, удалить всё").await;
        let told = texts(&psy.inbox().await);
        assert!(told.contains("удалил свои данные"), "{told}");
        let (parent_id, outcome): (Option<i64>, String) =
            sqlx::query_as("SELECT parent_id, outcome FROM cases WHERE id = $1")
                .bind(case)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((parent_id, outcome.as_str()), (None, "deleted_by_parent"), "{}", db.name);
        assert_eq!(scalar(&pool, "SELECT COUNT(*) FROM case_messages").await, 0);
    }
}

#[tokio::test]
async fn in_kazakh_a_parent_and_a_psychologist_go_through_take_relay_and_close() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-kk"]).await;
        let mut admin = Person::new(engine.clone(), "admin-kk");
        let code = invite_code(&mut admin, "psychologist").await;
        let mut psy = Person::onboarded(engine.clone(), "psy-kk", "Қазақша").await;
        assert!(texts(&psy.say(&format!("/staff {code} Әсел")).await).contains("Командаға қош келдіңіз, Әсел"));
        admin.inbox().await;

        let mut parent = Person::onboarded(engine.clone(), "parent-kk-7701", "Қазақша").await;
        let said = "Бүгін түнде бәрі бітеді. Таблеткаларды жинап қойдым";
        let answer = texts(&parent.say(said).await);
        assert!(answer.contains("112") && answer.contains("Психолог сізге осы чатқа жазады"), "{answer}");
        assert!(!answer.contains("Таблетка"), "never repeats the parent's words: {answer}");
        let case = scalar(engine.db().pool(), "SELECT id FROM cases").await;
        let note = psy.inbox().await;
        assert!(texts(&note).contains("ШҰҒЫЛ"), "{}: {}", db.name, texts(&note));
        assert!(!texts(&note).contains("parent-kk-7701"));

        let taken = texts(&psy.press(&format!("#{case} алу")).await);
        assert!(taken.contains("Өтініш сізде") && taken.contains(said), "{taken}");
        assert!(texts(&parent.inbox().await).contains("Психолог Әсел байланыста"));
        assert!(parent.say("қорқып отырмын").await.is_empty(), "the bot does not talk over them");
        assert!(texts(&psy.inbox().await).ends_with(": қорқып отырмын"));
        psy.say("Мен осындамын. Қасыңызда біреу бар ма?").await;
        assert_eq!(texts(&parent.inbox().await), "Әсел: Мен осындамын. Қасыңызда біреу бар ма?");

        psy.say("/close").await;
        assert!(texts(&psy.press("Қолдау көрсетілді").await).contains(&format!("#{case} өтініш жабылды")));
        let bye = parent.inbox().await;
        assert!(texts(&bye).contains("Психолог бұл әңгімені аяқтады") && texts(&bye).contains("111"), "{bye:#?}");
        assert_eq!(labels(bye.last().unwrap()), vec!["1", "2", "3", "4", "5"]);
        let thanks = texts(&parent.press("5").await);
        assert!(thanks.contains("Бағаңызға рақмет") && thanks.contains("Немен көмектесе аламын?"), "{thanks}");
    }
}

#[tokio::test]
async fn a_crisis_interrupts_onboarding_and_afterwards_the_parent_is_back_where_they_were() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-back"]).await;
        let mut admin = Person::new(engine.clone(), "admin-back");
        let mut psy = psychologist(&engine, &mut admin, "psy-back", "Гульнара").await;
        let mut parent = Person::new(engine.clone(), "parent-back");
        parent.say("/start").await;
        parent.press("Русский").await;
        assert!(parent.labels().contains(&"Принимаю".to_string()), "on the consent question");

        let answer = texts(&parent.say("Не вижу смысла жить дальше, сегодня всё закончу").await);
        assert!(answer.contains("112") && answer.contains("согласие"), "safety first, lawful ground said: {answer}");
        let case = scalar(engine.db().pool(), "SELECT id FROM cases").await;
        psy.inbox().await;
        psy.press(&format!("Взять #{case}")).await;
        psy.say("/close").await;
        psy.press("Поддержали").await;
        parent.inbox().await;
        let back = texts(&parent.press("4").await);
        assert!(back.contains("Спасибо за оценку"), "{back}");
        assert!(parent.labels().contains(&"Принимаю".to_string()), "{}: back on the consent question", db.name);
        let menu = texts(&parent.press("Принимаю").await);
        assert!(menu.contains("Чем могу помочь?"), "{menu}");
    }
}

#[tokio::test]
async fn a_code_from_the_command_line_makes_a_psychologist() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let config = qamqor::config::Config::from_args(["--database-url", &url]).unwrap();
    assert!(qamqor::cli::crisis::invite(&config, "parent").await.is_err(), "only staff roles");
    let code = qamqor::cli::crisis::invite(&config, "psychologist").await.unwrap();
    let engine = db.engine().await;
    let mut psy = Person::onboarded(engine.clone(), "psy-cli", "Русский").await;
    assert!(texts(&psy.say(&format!("/staff {code} Марат")).await).contains("Марат"));
    assert!(texts(&psy.say("/queue").await).contains("Открытых обращений нет"));
}

/// A case of each level, in each language, goes the whole way: the psychologist sees its
/// priority and flag, takes it, the two talk both ways, and it closes with an outcome.
#[tokio::test]
async fn every_level_goes_through_take_relay_and_close() {
    struct Level {
        lang: &'static str,
        said: &'static str,
        /// Pressed after the first message, when the level asks something.
        press: Option<&'static str>,
        /// What the psychologist's notification must say.
        shows: &'static str,
        priority: i64,
        child: i64,
    }
    let levels = [
        Level {
            lang: "Русский",
            said: "Иногда думаю, что всем будет лучше без меня. Не хочу просыпаться",
            press: Some("Нет"),
            shows: "высокий риск",
            priority: 2,
            child: 0,
        },
        Level {
            lang: "Қазақша",
            said: "Күйеуім балаға қол көтереді, ұлым одан қорқады",
            press: None,
            shows: "ребёнок в опасности",
            priority: 2,
            child: 1,
        },
        Level {
            lang: "Русский",
            said: "Я так устала, плачу каждый вечер, никто не помогает",
            press: Some("Поговорить с психологом сейчас"),
            shows: "обычное",
            priority: 1,
            child: 0,
        },
    ];
    for db in TestDb::all().await {
        for (i, level) in levels.iter().enumerate() {
            let admin_chat = format!("admin-level-{i}");
            let engine = db.engine_with_admins(&[admin_chat.as_str()]).await;
            let pool = engine.db().pool().clone();
            let mut admin = Person::new(engine.clone(), &admin_chat);
            let mut psy = psychologist(&engine, &mut admin, &format!("psy-level-{i}"), "Жанар").await;
            let mut parent = Person::onboarded(engine.clone(), &format!("parent-level-{i}"), level.lang).await;
            parent.say(level.said).await;
            if let Some(label) = level.press {
                parent.press(label).await;
            }
            // The levels share a database: this parent's case is the newest.
            let case = scalar(&pool, "SELECT MAX(id) FROM cases").await;
            let of_case = |column: &str| format!("SELECT {column} FROM cases WHERE id = {case}");
            let (priority, child) =
                (scalar(&pool, &of_case("priority")).await, scalar(&pool, &of_case("child_safety")).await);
            assert_eq!((priority, child), (level.priority, level.child), "{}: {}", db.name, level.said);
            let note = texts(&psy.inbox().await);
            assert!(note.contains(level.shows), "{}: {note}", db.name);

            psy.press(&format!("Взять #{case}")).await;
            parent.inbox().await;
            assert!(parent.say("спасибо, что ответили").await.is_empty());
            assert!(texts(&psy.inbox().await).ends_with(": спасибо, что ответили"), "{}", db.name);
            psy.say("Расскажите, что сейчас происходит?").await;
            assert_eq!(texts(&parent.inbox().await), "Жанар: Расскажите, что сейчас происходит?");
            psy.say("/close").await;
            psy.press("Записали на консультацию").await;
            let outcome: String = sqlx::query_scalar(&of_case("outcome")).fetch_one(&pool).await.unwrap();
            assert_eq!(outcome, "booked", "{}", db.name);
            assert_eq!(labels(parent.inbox().await.last().unwrap()), vec!["1", "2", "3", "4", "5"]);
        }
    }
}

/// Staff are often parents too (invariant 1 for everyone): a moderator's words of crisis
/// get the safety message and a case; a psychologist's own crisis typed during casework
/// is not passed on to the parent, reaches a colleague, and is not theirs to take.
#[tokio::test]
async fn staff_in_crisis_get_the_safety_message_and_a_case_like_anyone() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-3"]).await;
        let pool = engine.db().pool().clone();
        let mut admin = Person::new(engine.clone(), "admin-3");
        let mut psy = psychologist(&engine, &mut admin, "psy-c", "Дана").await;
        let mut colleague = psychologist(&engine, &mut admin, "psy-d", "Ерлан").await;
        let mut moderator = staff_member(&engine, &mut admin, "moderator", "moderator-1", "Сауле").await;
        for p in [&mut admin, &mut psy, &mut colleague] {
            p.inbox().await;
        }

        let answer = texts(&moderator.say("Сама уже не могу, не хочу больше жить").await);
        assert!(answer.contains("112") && answer.contains("Психолог напишет вам здесь"), "{}: {answer}", db.name);
        let case: i64 =
            scalar(&pool, "SELECT c.id FROM cases c JOIN users u ON u.id = c.parent_id WHERE u.role = 'moderator'")
                .await;
        assert!(texts(&colleague.inbox().await).contains(&format!("#{case}")), "{}: psychologists hear of it", db.name);
        // While her case is open, her words go to the psychologist, like anyone's.
        let taken = texts(&colleague.press(&format!("Взять #{case}")).await);
        assert!(taken.contains("Обращение ваше"), "{taken}");
        moderator.inbox().await;
        assert!(moderator.say("спасибо, что ответили").await.is_empty());
        assert!(texts(&colleague.inbox().await).contains("спасибо, что ответили"));

        // A psychologist at work with a parent.
        let mut parent = Person::onboarded(engine.clone(), "parent-of-case", "Русский").await;
        parent.press("Чат с психологом").await;
        let parent_case: i64 = scalar(&pool, "SELECT MAX(id) FROM cases").await;
        psy.inbox().await;
        psy.press(&format!("Взять #{parent_case}")).await;
        parent.inbox().await;
        // A professional question is relayed as it is.
        psy.say("Вы сейчас в безопасности? Ребёнок рядом с вами?").await;
        assert_eq!(texts(&parent.inbox().await), "Дана: Вы сейчас в безопасности? Ребёнок рядом с вами?");
        // Her own crisis is not.
        let own = texts(&psy.say("я больше не выдержу, сегодня ночью всё закончу").await);
        assert!(own.contains("112") && own.contains("не передала родителю"), "{}: {own}", db.name);
        assert!(parent.inbox().await.is_empty(), "{}: the parent hears nothing of it", db.name);
        let own_case: i64 = scalar(&pool, "SELECT MAX(id) FROM cases").await;
        assert_eq!(scalar(&pool, &format!("SELECT priority FROM cases WHERE id = {own_case}")).await, 3);
        // The colleague sees it in the queue; she cannot take it herself.
        let queue = texts(&colleague.say("/queue").await);
        assert!(queue.contains(&format!("#{own_case}")), "{}: {queue}", db.name);
        psy.say("/queue").await;
        let refused = texts(&psy.press(&format!("Взять #{own_case}")).await);
        assert!(refused.contains("возьмёт коллега"), "{}: {refused}", db.name);
    }
}

#[tokio::test]
async fn an_admin_from_configuration_chooses_a_language_and_a_moderator_is_not_promised_cases() {
    for db in TestDb::all().await {
        let engine = db.engine_with_admins(&["admin-new"]).await;
        let mut admin = Person::new(engine.clone(), "admin-new");
        let first = texts(&admin.say("/start").await);
        assert!(first.contains("Выберите язык"), "{}: {first}", db.name);
        let consent = texts(&admin.press("Қазақша").await);
        assert!(consent.contains("Келісесіз бе?"), "{}: {consent}", db.name);

        let code = invite_code(&mut admin, "moderator").await;
        let mut moderator = Person::onboarded(engine.clone(), "moderator-new", "Русский").await;
        let welcome = texts(&moderator.say(&format!("/staff {code} Дана")).await);
        assert!(welcome.contains("Дана") && welcome.contains("модератор"), "{welcome}");
        assert!(!welcome.contains("обращения"), "cases do not come to moderators: {welcome}");
    }
}
