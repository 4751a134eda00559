"""Words of another language a draft slips in, in Latin script (`bot.drafting.foreign`)."""

from __future__ import annotations

from bot.drafting.foreign import foreign_words

# What the packaged model wrote, live: a reply to a customer and a document.
REPLY = ("Hi, thanks for reaching out to us. Please check your account emails regularly. "
         "If there were no errors on our end, please contact us about the mendatang "
         "pembelian.")
DOCUMENT = ("Hello everyone, I would like to welcome my colleague Matt to the team. We have "
            "an exciting project coming next month and a treinamento for new hires.")
ASK = [{"role": "user", "content": "Customer message: my invoice is wrong"}]


def test_words_of_another_language_in_an_english_draft_are_named_once_each() -> None:
    assert foreign_words(REPLY, ASK) == ("mendatang", "pembelian")
    assert foreign_words(DOCUMENT + " The treinamento lasts a week.", ASK) == ("treinamento",)


def test_a_word_someone_in_the_conversation_wrote_is_not_foreign_to_the_draft() -> None:
    ask = [{"role": "user", "content": "Customer message: Obrigado! The Treinamento was great"}]
    assert foreign_words("We are glad the treinamento helped. Obrigado!", ask) == ()
    assert foreign_words("We are glad the treinamento helped, obrigado.", ASK) == \
        ("treinamento", "obrigado")


def test_plain_english_with_jargon_and_names_has_no_foreign_words() -> None:
    text = ("Deploy the dashboard from the runbook; onboarding takes a week. Ask Matt or "
            "Señora Jiménez in Jakarta about kubectl, the webhook and our refund policy.")
    assert foreign_words(text, ASK) == ()


def test_code_links_and_addresses_are_not_read_for_words() -> None:
    text = ("Run `pagamento --check`, then open https://acme.test/treinamento or write "
            "to pembelian@acme.test.")
    assert foreign_words(text, ASK) == ()


def test_a_draft_in_another_language_is_judged_in_that_language() -> None:
    # Asked for Portuguese, the whole reply is Portuguese: nothing in it is foreign.
    portuguese = ("Olá! Obrigado pela sua mensagem. O pagamento foi recebido e o pedido "
                  "está a caminho.")
    assert foreign_words(portuguese, ASK) == ()
    # A Portuguese word in a Spanish reply is.
    spanish = "Hola, gracias por su mensaje. El pagamento ya está en camino y no hay errores."
    assert foreign_words(spanish, ASK) == ("pagamento",)
    # English words in a Spanish or German reply are not: teams write them in any
    # language (and Filipino and Indonesian web text uses "announcement" too).
    assert foreign_words("Hola, el deployment está listo y el announcement sale hoy para "
                         "todo el equipo del proyecto.", ASK) == ()
    assert foreign_words("Hallo, das deployment ist fertig und das dashboard zeigt die "
                         "neuen Werte.", ASK) == ()


def test_a_draft_asked_to_hold_another_language_is_not_checked() -> None:
    mixed = ("Here is the announcement for the whole team about the new support hours, "
             "which start on Monday. In Spanish: el equipo tendrá un nuevo horario.")
    assert foreign_words(mixed, ASK) != ()
    assert foreign_words(mixed, ASK, "write the announcement with a Spanish version") == ()
    assert foreign_words(mixed, ASK, "translate the support hours announcement") == ()
    assert foreign_words(mixed, ASK, "write it in plain English") != ()
