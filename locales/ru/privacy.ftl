# Личные данные: просмотр через /mydata и полное удаление через /delete.

mydata =
    Что я о вас храню:
    Язык: { $language }
    Регион: { $region }
    Согласие: { $consent }
    Ваше анонимное имя для сотрудников: { $pseudonym }
    Первое сообщение: { $since }
    Ваши сообщения не хранятся. /delete удаляет всё.
mydata-consent-given = принято ({ $at })
mydata-consent-refused = не принято ({ $at })
mydata-consent-none = пока не дано
mydata-region-none = не указан
mydata-nothing = Я ничего о вас не храню.

delete-confirm =
    Это удалит всё, что Qamqor хранит о вас. Отменить будет нельзя.
    Удалить?
delete-yes = Да, удалить всё
delete-no = Нет, оставить
delete-done =
    Готово, всё о вас удалено.
    Если захотите начать заново, отправьте /start. Мы всегда вам рады.
delete-kept = Хорошо, ничего не удалено.
