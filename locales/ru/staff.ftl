# Для психологов, модераторов и администраторов: очередь, обращения, приглашения.

priority-normal = обычное
priority-high = высокий риск
priority-imminent = СРОЧНО
staff-case-line =
    #{ $case } · { $priority } · { $parent }{ $child ->
        [yes] {" "}· ребёнок в опасности
       *[no] {""}
    } · { $signals }{ $taken }
staff-case-new = Новое обращение.
staff-case-raised = Риск в обращении вырос.
staff-case-waiting = Обращение ждёт уже { $minutes } мин., его ещё никто не взял.
staff-group-hint = Взять обращение можно в личном чате с ботом: /queue
staff-take = Взять #{ $case }
staff-queue = Открытые обращения, сначала самые срочные:
staff-queue-empty = Открытых обращений нет.
staff-case-history = Обращение:
staff-history-line = { $who }: { $text }
staff-case-help = Всё, что вы напишете, уйдёт родителю от вашего имени. /close — завершить, /case — ваши обращения, /queue — очередь.
staff-taken = Обращение ваше.
staff-taken-by = Обращение #{ $case } уже взял(а) { $name }.
staff-case-gone = Это обращение уже закрыто.
staff-case-own = Это ваше обращение: его возьмёт коллега. Вы не одни.
staff-not-relayed = Это сообщение я не передала родителю: в нём слова о беде, и я сначала позвала к вам коллегу. Если оно было для родителя, напишите ему другими словами.
staff-case-not-yours = Это обращение не у вас. Очередь — /queue.
staff-my-cases =
    Ваши открытые обращения:
    { $cases }
    Переключиться: /case НОМЕР
staff-close-ask = Чем закончилось обращение #{ $case }?
outcome-supported = Поддержали
outcome-emergency = Передали экстренным службам
    .short = Экстренные службы
outcome-booked = Записали на консультацию
    .short = Записали к психологу
outcome-no-answer = Родитель не ответил
outcome-other = Другое
staff-closed = Обращение #{ $case } закрыто: { $outcome }.
staff-no-active-case = Сейчас у вас нет открытого обращения. Ваши — /case, очередь — /queue.
staff-invite-usage = Напишите: /invite psychologist или /invite moderator
staff-invite-created = Код приглашения ({ $role }): { $code }. Новый сотрудник пишет боту: /staff { $code } Имя
role-psychologist = психолог
role-moderator = модератор
role-admin = администратор
role-parent = родитель
staff-list =
    Сотрудники:
    { $staff }
staff-revoked = Доступ снят. Его открытые обращения вернулись в очередь.
staff-revoke-unknown = Такого сотрудника нет.
staff-not-allowed = Эта команда вам недоступна.
staff-from-parent = #{ $case } { $parent }: { $text }
staff-parent-left = Родитель из обращения #{ $case } удалил свои данные. Обращение закрыто, переписка стёрта.
staff-parent-away = Родитель не писал в чат больше суток, а в WhatsApp после этого нельзя написать первым. Ваши сообщения сохранены и придут, как только родитель ответит.
staff-welcome = Добро пожаловать в команду, { $name }! Новые обращения будут приходить сюда. Очередь — /queue.
staff-welcome-moderator = Добро пожаловать в команду, { $name }! Вы модератор групп поддержки родителей. Работа с группами будет здесь, в этом чате: раздел скоро откроется.
staff-code-invalid = Код не подошёл: он неверный или уже использован.
staff-duty-on = Вы на дежурстве: новые обращения будут приходить вам.
staff-duty-off = Вы сняты с дежурства: новые обращения вам не придут, но напоминания о тех, что ждут слишком долго, придут всем. Вернуться — /duty on.
staff-duty-usage = /duty on — на дежурство, /duty off — снять с дежурства.
