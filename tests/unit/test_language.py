"""The language a draft's reader wrote in, which its opening and the bot's words are in."""

from __future__ import annotations

import json
from pathlib import Path

from bot.drafting.language import UNDETERMINED, reply_language

ROUTING = Path(__file__).resolve().parents[3] / "shared/data/routing/dev.jsonl"


def test_a_reply_is_told_the_language_its_reader_wrote_in() -> None:
    said = {
        "食堂几点开门？": "zh",
        "駐車場はどこですか？": "ja",  # kana
        "Wo ist der Parkplatz?": "de",
        "¿Dónde está el aparcamiento?": "es",
        "Onze deploys mislukken sinds vanochtend, kan iemand ons helpen?": "nl",
        "Våra driftsättningar har misslyckats sedan i morse, kan någon hjälpa oss?": "sv",
        "Nasze wdrożenia nie działają od rana, czy ktoś może pomóc?": "pl",
        # Czech shares "na", "do", "od" with Polish: it was read as Polish.
        "Naše nasazení od rána selhávají, může nám někdo pomoct?": "cs",
        "Bu sabahtan beri dağıtımlarımız başarısız oluyor, yardım eder misiniz?": "tr",
        "Наши деплои падают с утра, помогите пожалуйста": "ru",
        "Наші деплої падають з ранку, допоможіть": "uk",  # its own letters
        "오늘 아침부터 배포가 실패하고 있어요. 도와주세요": "ko",
        "عمليات النشر لدينا تفشل منذ الصباح، هل يمكن لأحد المساعدة؟": "ar",
        "הפריסות שלנו נכשלות מהבוקר, אפשר עזרה?": "he",
        "การปรับใช้ของเราล้มเหลวตั้งแต่เช้า ช่วยได้ไหม": "th",
        "सुबह से हमारी डिप्लॉयमेंट विफल हो रही हैं, क्या कोई मदद कर सकता है?": "hi",
        "Meidän julkaisumme ovat epäonnistuneet aamusta asti, voitteko auttaa?": "fi",
        "Οι αναπτύξεις μας αποτυγχάνουν από το πρωί, μπορείτε να βοηθήσετε;": "el",
        # Greek letters in an English sentence are maths, not Greek.
        "is the p-value below α = 0.05 in the Q3 churn report?": "en",
        "what is the escalation policy?": "en",
        "VPN setup": "en",  # bare keywords
        "invoice shows wrong VAT number again": "en",  # terse, under six words
    }
    assert {text: reply_language(text) for text in said} == said


def test_a_language_tandem_has_no_words_for_is_undetermined_not_english() -> None:
    # Georgian and Armenian letters; Estonian with no English function word.
    assert reply_language("ჩვენი განთავსებები დილიდან ვერ ხერხდება, დაგვეხმარებით?") \
        == UNDETERMINED
    assert reply_language("Մեր տեղակայումները առավոտից ձախողվում են, կօգնե՞ք") == UNDETERMINED
    assert reply_language("Meie juurutused ebaõnnestuvad hommikust saadik, kas saate "
                          "aidata?") == UNDETERMINED


def test_every_message_of_the_routing_data_is_told_the_language_it_is_labelled_with() -> None:
    rows = [json.loads(line) for line in ROUTING.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 150 and sum(r["lang"] == "en" for r in rows) == 120
    assert [r["text"] for r in rows if reply_language(r["text"]) != r["lang"]] == []
