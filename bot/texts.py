"""Every sentence a Slack user reads, in one place."""

from __future__ import annotations

__all__ = ["T"]


class T:
    REPEATS_EXAMPLE = (":warning: *repeats the example answer in its prompt*, not the "
                       "sources or the request: check it before approving")
    # Why a draft's end was cut (`bot.kb.citations.ListingGuard`, `bot.drafting.loops`),
    # by the name its usage records.
    CUTS = {"made_up_sources": ":scissors: cut where the model began listing sources of "
                               "its own (not the ones it was given)",
            "repetition": ":scissors: cut where the model began repeating itself",
            "restart": ":scissors: cut where the model wrote its opening again, starting a "
                       "second reply",
            "script": ":scissors: cut where the model switched to a script no one in the "
                      "conversation writes in (it had lost the thread)",
            "length": ":scissors: stopped at the model's length limit, so it may be "
                      "unfinished (a sentence cut off midway is left out)"}
    DRAFT_LABEL = ":memo: *Draft* — not posted yet. Approve, edit, regenerate or reject."
    AUTO_POSTED = (":speech_balloon: *Answer from Tandem* — posted without review; "
                   "tell us if it helped.")
    NOT_IN_SOURCES = (":warning: *mostly not in its sources*: {unheld} of its {words} words "
                      "are in none of them ({examples}); check it before approving")
    # The same, for an answer that opens with a quote from its sources: judged is the rest.
    NOT_IN_SOURCES_AFTER_QUOTE = (":warning: *what it adds to the quote is mostly not in its "
                                  "sources*: {unheld} of the {words} words it adds are in "
                                  "none of them ({examples}); check it before approving")
    # `bot.drafting.contacts`: addresses, links or numbers the model made up.
    INVENTED_CONTACTS = (":warning: *gives contact details it was not given*: {details}: in "
                         "none of the conversation, the request or the sources; check them "
                         "before approving")
    # `bot.drafting.figures`: numbers a reply or answer states that no one gave it.
    AND_MORE = " and {n} more"
    INVENTED_FIGURES = (":warning: *gives figures it was not given*: {figures}: in none of "
                        "the conversation, the request or the sources; check them before "
                        "approving")
    # `bot.drafting.promises`: remedies a customer reply commits the team to.
    UNOFFERED_PROMISES = (":warning: *promises what no one on the team offered*: {remedies}: "
                          "in none of the request, the sources or the prompt; check the "
                          "team offers it before approving")
    # `bot.drafting.foreign`: words of another language the model slipped into a draft.
    FOREIGN_WORDS = (":warning: *has words in another language*: {words}: in none of the "
                     "conversation, the request or the sources; check them before approving")
    AUTO_WRITING = (":speech_balloon: *Answer from Tandem* — being written; it is checked "
                    "against its sources before it is shown.")
    AUTO_HELD = (":memo: *Draft* — held for review: this channel posts answers without "
                 "review, but this one {why}. Approve, edit, regenerate or reject it.")
    HELD_BECAUSE = {"repeats_example": "repeats the example answer in its prompt",
                    "not_in_sources": "is mostly not in its sources",
                    "invented_contact": "gives contact details it was not given",
                    "invented_figure": "gives figures it was not given",
                    "unoffered_promise": "promises what no one on the team offered",
                    "foreign_words": "has words in another language",
                    "script": "was cut where the model switched to a script no one in the "
                              "conversation writes in",
                    "repetition": "was cut where the model began repeating itself"}
    HELD_AFTER_QUOTE = "adds to its quote what its sources mostly do not hold"
    EVIDENCE = ":mag: Best match in [{n}] {title}: “{sentence}”"
    EVIDENCE_QUOTED = ":mag: It opens with the best match, from [{n}] {title}"
    USE_QUOTE = "Answer with the best match"
    EARLIER_ANSWER = "Earlier answer in Slack: “{question}”"  # an approved answer as a source
    LONGER_THAN_SHOWN = "…_(longer than Slack shows; open Edit to see all)_"
    DRAFTING = "_Tandem is drafting…_"
    STATUS = "is drafting…"
    JOB_NAMES = {"document": "document", "question": "answer", "support": "customer reply"}
    JOB_ARTICLES = {"document": "a document", "question": "an answer",
                    "support": "a customer reply"}
    EMPTY_ASK = (
        "Hi! Tell me what to draft, for example `@tandem write the release notes for 2.3`, "
        "`/tandem ask what is our on-call policy?` or `/tandem reply <customer message>`."
    )
    COMMAND_ANCHOR = "<@{user}> asked Tandem: {text}"
    CANT_POST = "I can't post in this channel ({error}). Invite me with `/invite @tandem`."
    TOO_LONG = "That request is {n:,} characters; I used the first {limit:,} of them."
    NOT_ALLOWED = "Sorry, you can't review this draft: {why}"
    WHY_EXTERNAL = "people outside the workspace can't review drafts."
    WHY_NOT_REVIEWER = "only the channel's reviewers can ({who})."
    WHY_SELF = "in this channel someone other than the requester has to approve it."
    ALREADY_DECIDED = "This draft was already {verdict} by {who}; nothing changed."
    SUPERSEDED = "This draft was replaced by a newer version; nothing changed."
    EDITED_TOO_LATE = ("I saw your edit, but the draft for this message was already "
                       "{verdict}, so I left it as it is. Mention me again for a new one.")
    DECIDED_AS = {"approved": "approved and posted", "edited": "edited and posted",
                  "rejected": "rejected", "expired": "left to expire", "posted": "posted"}
    NOT_READY = "This draft is still being written; try again when it is finished."
    UNKNOWN_DRAFT = "I can't find that draft any more; nothing changed."
    BAD_ACTION = "That action didn't carry what I need; nothing changed."
    EDITOR_FAILED = "I couldn't open the editor ({error}); click Edit again."
    NO_SOURCES = ("I couldn't find anything about this in the knowledge base, so I won't guess. "
                  "Try rephrasing, or ask the team that owns the topic.")
    # The same, in the language of a question asked in another
    # (`bot.drafting.language.reply_language`).
    NO_SOURCES_IN = {
        "zh": "我在知识库里没有找到与此相关的内容，所以不做猜测。请换个说法再问，"
              "或者询问负责这个主题的团队。",
        "ja": "ナレッジベースにはこれに関する情報が見つからなかったため、推測はしません。"
              "言い方を変えて質問するか、この分野を担当するチームに聞いてください。",
        "es": "No encontré nada sobre esto en la base de conocimiento, así que no voy a "
              "adivinar. Prueba a reformular la pregunta o consulta al equipo responsable "
              "del tema.",
        "de": "Dazu habe ich in der Wissensdatenbank nichts gefunden, also rate ich nicht. "
              "Formuliere die Frage um oder frag das Team, das für das Thema zuständig ist.",
        "fr": "Je n'ai rien trouvé à ce sujet dans la base de connaissances, donc je ne vais "
              "pas deviner. Reformulez la question ou demandez à l'équipe responsable du sujet.",
        "pt": "Não encontrei nada sobre isso na base de conhecimento, então não vou adivinhar. "
              "Tente reformular a pergunta ou pergunte à equipe responsável pelo assunto.",
        "it": "Non ho trovato nulla su questo nella knowledge base, quindi non tiro a "
              "indovinare. Prova a riformulare la domanda o chiedi al team responsabile "
              "dell'argomento.",
        "nl": "Ik heb hierover niets gevonden in de kennisbank, dus ik ga niet gissen. "
              "Formuleer de vraag anders of vraag het team dat over dit onderwerp gaat.",
        "sv": "Jag hittade inget om detta i kunskapsbasen, så jag gissar inte. Formulera om "
              "frågan eller fråga teamet som ansvarar för ämnet.",
        "pl": "Nie znalazłem nic na ten temat w bazie wiedzy, więc nie będę zgadywać. "
              "Spróbuj zadać pytanie inaczej albo zapytaj zespół odpowiedzialny za ten temat.",
        "cs": "Ve znalostní bázi jsem k tomu nic nenašel, takže nebudu hádat. Zkuste otázku "
              "položit jinak, nebo se zeptejte týmu, který má téma na starosti.",
        "fi": "En löytänyt tästä mitään tietopankista, joten en arvaa. Kysy toisin sanoin "
              "tai kysy tiimiltä, joka vastaa aiheesta.",
        "el": "Δεν βρήκα τίποτα σχετικό στη βάση γνώσεων, οπότε δεν θα μαντέψω. "
              "Διατυπώστε την ερώτηση αλλιώς ή ρωτήστε την ομάδα που είναι υπεύθυνη για το "
              "θέμα.",
        "tr": "Bilgi tabanında bununla ilgili bir şey bulamadım, bu yüzden tahmin "
              "yürütmeyeceğim. Soruyu farklı şekilde sorun ya da bu konudan sorumlu ekibe "
              "danışın.",
        "ru": "Я не нашёл об этом ничего в базе знаний, поэтому не буду гадать. "
              "Переформулируйте вопрос или спросите команду, которая отвечает за эту тему.",
        "uk": "Я не знайшов про це нічого в базі знань, тому не вгадуватиму. "
              "Переформулюйте питання або запитайте команду, яка відповідає за цю тему.",
        "ko": "지식 베이스에서 이와 관련된 내용을 찾지 못해 추측하지 않겠습니다. 질문을 바꿔서 "
              "다시 하시거나 이 주제를 담당하는 팀에 문의해 주세요.",
        "ar": "لم أجد شيئًا عن هذا في قاعدة المعرفة، لذلك لن أخمّن. أعد صياغة السؤال أو "
              "اسأل الفريق المسؤول عن هذا الموضوع.",
        "he": "לא מצאתי על כך דבר במאגר הידע, ולכן לא אנחש. נסו לנסח את השאלה מחדש, "
              "או פנו לצוות האחראי על הנושא.",
        "th": "ฉันไม่พบข้อมูลเรื่องนี้ในฐานความรู้ จึงจะไม่เดา ลองถามใหม่ด้วยคำอื่น "
              "หรือสอบถามทีมที่รับผิดชอบเรื่องนี้",
        "hi": "मुझे ज्ञानकोष में इसके बारे में कुछ नहीं मिला, इसलिए मैं अनुमान नहीं "
              "लगाऊँगा। प्रश्न को दूसरे शब्दों में पूछें, या उस टीम से पूछें जो इस विषय "
              "की ज़िम्मेदार है।",
    }
    FAILED = ":warning: Drafting failed: {what}. Nothing was posted."
    FAILED_RESTART = "Tandem restarted while this draft was being written"
    ONLY_MADE_UP_SOURCES = "the model wrote no answer, only a list of sources of its own"
    VERDICT = {
        "approved": ":white_check_mark: Approved by <@{who}> at {when}.",
        "edited": ":pencil2: Edited and posted by <@{who}> at {when}.",
        "rejected": ":x: Rejected by <@{who}> at {when}.",
        "expired": ":hourglass: Expired at {when}: nobody reviewed it.",
        "superseded": ":arrows_counterclockwise: Replaced by a newer version at {when}.",
        "superseded_by_edit": ":arrows_counterclockwise: Replaced at {when}: the request was "
                              "edited, and the newer version drafts what it says now.",
    }
    REJECT_REASON = "Reason: {reason}"
    SUPPORT_DRAFT_HEADER = (
        ":lock: Reply draft for <{permalink}|this customer message> in <#{channel}>. "
        "The customer can't see this; approving posts the reply in their thread."
    )
    HAND_REPLY = (
        ":speech_balloon: <@{user}> has since answered the customer by hand ({reply}). "
        "Approving this draft posts a second reply in their thread; reject it if it is no "
        "longer needed.\n> {quote}"
    )
    HAND_REPLY_LINK = "<{permalink}|their reply>"
    HAND_REPLY_NO_LINK = "in their thread"
    PENCIL_PROMPT = "Edit this draft?"
    EDIT_TITLE = "Edit draft"
    EDIT_SUBMIT = "Post"
    EDIT_PART = "Draft (part {i} of {n})"
    EDIT_EMPTY = "The edited text is empty; write something or reject the draft instead."
    EDIT_UNKNOWN_CITATION = ("{markers} cite no source of this answer (its sources are "
                             "{valid}): cite one of those, or take the marker out.")
    EDIT_CITATION_NO_SOURCES = ("This answer has no sources, so {markers} point nowhere: "
                                "take the marker out.")
    # The modal closed before the edit could be checked (the database was slow), then
    # the check found this: nothing was posted, and the reviewer keeps their text.
    EDIT_NOT_POSTED = (":warning: Your edit was not posted: {problem} The draft still waits "
                       "for review; your text, to edit it again:\n```{text}```")
    REJECT_TITLE = "Reject draft"
    REJECT_SUBMIT = "Reject"
    REJECT_LABEL = "Why? (optional)"
    FEEDBACK_THANKS = "Thanks, noted."
    REROUTE = "Wrong job? Draft {job} instead"
    HOME_TITLE = "Tandem"
    HOME_WAITING = "*Waiting for your review*"
    HOME_NONE_WAITING = "_Nothing is waiting for you._"
    HOME_RECENT = "*Recent decisions*"
    HOME_RATES = "*Approval by job*"
    HOME_KB = "*Knowledge base*"
    HOME_KB_DOWN = (":warning: Unavailable: {problem}. Question drafts fail, saying so, "
                    "until it is fixed.")
    HOME_KB_EMPTY = ("_Empty: `tandem kb ingest PATH` or `tandem kb ingest-slack #channel` "
                     "adds documents._")
    HOME_KB_REEMBED = ("_Re-embedding for a new embedding model: searches use keywords alone "
                       "until it ends._")
    HOME_KB_REEMBED_MIXED = ("_Re-embedding for new embedding settings of the same model: "
                             "searches use the old vectors and the new until it ends._")
