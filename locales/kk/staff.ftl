# Психологтарға, модераторларға және әкімшілерге: кезек, өтініштер, шақырулар.

priority-normal = қалыпты
priority-high = қауіп жоғары
priority-imminent = ШҰҒЫЛ
staff-case-line =
    #{ $case } · { $priority } · { $parent }{ $child ->
        [yes] {" "}· балаға қауіп бар
       *[no] {""}
    } · { $signals }{ $taken }
staff-case-new = Жаңа өтініш.
staff-case-raised = Өтініштегі қауіп артты.
staff-case-waiting = Өтініш { $minutes } минуттан бері күтіп тұр, оны әлі ешкім алған жоқ.
staff-group-hint = Өтінішті ботпен жеке чатта алуға болады: /queue
staff-take = #{ $case } алу
staff-queue = Ашық өтініштер, ең шұғылы алдымен:
staff-queue-empty = Ашық өтініш жоқ.
staff-case-history = Өтініш:
staff-history-line = { $who }: { $text }
staff-case-help = Жазғаныңыздың бәрі ата-анаға сіздің атыңыздан жетеді. /close — аяқтау, /case — сіздің өтініштеріңіз, /queue — кезек.
staff-taken = Өтініш сізде.
staff-taken-by = #{ $case } өтінішті { $name } алып қойды.
staff-case-gone = Бұл өтініш жабылған.
staff-case-own = Бұл — сіздің өз өтінішіңіз: оны әріптесіңіз алады. Сіз жалғыз емессіз.
staff-not-relayed = Бұл хабарламаны ата-анаға жібермедім: онда қауіп туралы сөздер бар, сондықтан алдымен сізге әріптесіңізді шақырдым. Егер ол ата-анаға арналған болса, басқа сөзбен жазыңыз.
staff-case-not-yours = Бұл өтініш сізде емес. Кезек — /queue.
staff-my-cases =
    Сіздің ашық өтініштеріңіз:
    { $cases }
    Ауысу: /case НӨМІР
staff-close-ask = #{ $case } өтініш немен аяқталды?
outcome-supported = Қолдау көрсетілді
outcome-emergency = Шұғыл қызметтерге берілді
    .short = Шұғыл қызметтер
outcome-booked = Кеңеске жазылды
outcome-no-answer = Ата-ана жауап бермеді
    .short = Жауап бермеді
outcome-other = Басқа
staff-closed = #{ $case } өтініш жабылды: { $outcome }.
staff-no-active-case = Қазір сізде ашық өтініш жоқ. Өзіңіздікі — /case, кезек — /queue.
staff-invite-usage = Былай жазыңыз: /invite psychologist немесе /invite moderator
staff-invite-created = Шақыру коды ({ $role }): { $code }. Жаңа қызметкер ботқа жазады: /staff { $code } Аты
role-psychologist = психолог
role-moderator = модератор
role-admin = әкімші
role-parent = ата-ана
staff-list =
    Қызметкерлер:
    { $staff }
staff-revoked = Рұқсаты тоқтатылды. Оның ашық өтініштері кезекке қайтты.
staff-revoke-unknown = Ондай қызметкер жоқ.
staff-not-allowed = Бұл команда сізге қолжетімсіз.
staff-from-parent = #{ $case } { $parent }: { $text }
staff-parent-left = #{ $case } өтініштегі ата-ана деректерін өшірді. Өтініш жабылды, хат алмасу өшірілді.
staff-parent-away = Ата-ана бір тәуліктен астам чатқа жазбады, ал WhatsApp-та мұндайда бірінші болып жазуға болмайды. Хабарламаларыңыз сақталды, ата-ана жауап берген бойда жетеді.
staff-welcome = Командаға қош келдіңіз, { $name }! Жаңа өтініштер осында келеді. Кезек — /queue.
staff-welcome-moderator = Командаға қош келдіңіз, { $name }! Сіз ата-аналар қолдау топтарының модераторысыз. Топтармен жұмыс осы чатта болады: бұл бөлім жақында ашылады.
staff-code-invalid = Код жарамады: қате немесе бұрын қолданылған.
staff-duty-on = Сіз кезекшісіз: жаңа өтініштер сізге келеді.
staff-duty-off = Сіз кезекшіліктен шықтыңыз: жаңа өтініштер сізге келмейді, бірақ тым ұзақ күткен өтініштер туралы еске салу бәріне келеді. Қайта оралу — /duty on.
staff-duty-usage = /duty on — кезекшілікке шығу, /duty off — кезекшіліктен шығу.
