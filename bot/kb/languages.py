"""Which language a question is in, as far as the knowledge base's search cares.

Pure functions. The packaged embedder (all-MiniLM-L6-v2) was trained on English: between
unrelated questions and pages in one other language it still gives high cosines (Spanish
0.38-0.49, Chinese 0.43-0.75, where the relevance gate's bar is 0.35), so for those a
question's relevance is judged by its words (`KnowledgeBase._relevant`). A question is
English unless another language's function words outnumber English ones in it, or most of
its letters are Chinese or Japanese; a question of bare keywords ("VPN setup") is English.
"""

from __future__ import annotations

import re

from bot.kb.ranking import STOPWORDS, mostly_cjk, normalize

__all__ = ["FUNCTION_WORD_LANGUAGES", "function_words", "query_language"]

# The other languages Tandem's teams ask in (German and Spanish in the routing data;
# French, Portuguese and Italian alike): articles, pronouns, prepositions, question words
# and common verbs. Words that are also English function words ("a", "in", "was") are left
# out, so they cannot outvote English.
_FUNCTION_WORDS = {
    "es": frozenset("""el la los las lo del al un una unos unas y o que de en por para con sin
        se es son está están hay cómo como qué cuál cuáles cuándo dónde quién quiénes cuánto
        cuánta cuántos cuántas por qué porque mi mis tu tus su sus yo nosotros tengo tiene
        puedo puede debo debe hacer hace cuando donde muy más también desde hasta entre
        sobre este esta estos estas ese esa pero todo todos nos les""".split()),
    "de": frozenset("""der die das den dem des ein eine einen einem einer und oder ist sind
        wie wer wann wo warum welche welcher welches wieviel viele viel ich wir sie es habe
        hat haben mit für auf im zu zum zur nicht kann können muss müssen wird werden gibt
        mein meine unser unsere bei von vom nach über auch noch mich mir dich dir uns
        euch ihm ihr darf dürfen soll sollen will man bis aus durch ohne um wenn dass aber
        nur sehr kein keine""".split()),
    "fr": frozenset("""le la les des du un une et ou est sont comment quand où qui quel quelle
        quels quelles pourquoi combien je nous vous il elle avec pour dans sur pas ce cette
        ces mon ma mes notre nos votre vos peut peux dois doit faut faire en de au aux
        se sa son ses leur leurs quoi qu par sans depuis chez""".split()),
    "pt": frozenset("""o os as um uma uns umas e ou que de do da dos das em no na nos nas por
        para com sem se é são está estão há como qual quais quando onde quem quanto quantos
        quantas porque meu minha meus minhas tenho tem posso pode devo deve fazer""".split()),
    "it": frozenset("""il lo la gli le un una uno e o che di del della dei delle in nel nella
        per con senza si è sono come quale quali quando dove chi quanto quanti quante perché
        mio mia miei mie ho ha posso può devo deve fare anche""".split()),
    # Dutch, Swedish, Polish, Czech, Finnish and Turkish: languages customers write in
    # whose words the ones above miss, so that a reply can be opened in them
    # (`reply_language`).
    "nl": frozenset("""de het een en van op te voor met niet ik wij we je jij u hij zij ons
        onze jullie hoe wat wanneer waar waarom wie welke kan kunnen moet moeten wordt
        worden zijn heb hebben heeft ook nog maar naar bij uit dat die dit deze geen
        sinds graag alstublieft""".split()),
    "sv": frozenset("""och att det som en ett är för på med jag vi du ni han hon den de inte
        har hur vad när var varför vem vilken kan måste ska skulle vår våra min mitt
        också men från till om efter sedan""".split()),
    "pl": frozenset("""nie się na jest są że jak co czy do od po dla przez ale ten ta to
        te mój moja nasz nasza nasze wasz jestem mamy może można musi proszę gdzie kiedy
        dlaczego który która które bardzo jeszcze już""".split()),
    # Czech, read as Polish without its own words (they share "na", "do", "co", "jak"):
    # only words Polish and the others spell differently.
    "cs": frozenset("""jsou že kdy kde proč který která které můj náš naše váš vaše
        mám máme může můžete prosím děkuji děkujeme nebo při už ještě velmi není nejsou
        jsem jste jsme tento tato toto také jen podle vám nám jaký jaká jaké kolik jestli
        protože bych abych dobrý pomoci pomoct""".split()),
    # Finnish: no word of it is a word of the languages above.
    "fi": frozenset("""ja ei että kun mitä miten missä miksi kuka mikä mitkä voi voiko
        voitteko voin voimme minä sinä te he tämä tuo nämä ne ovat olen olemme oli ole
        olla myös mutta tai jos kanssa meidän teidän sinun minun kiitos hei vielä jo nyt
        koska pitää täytyy saada asti jälkeen ennen aina kaikki""".split()),
    "tr": frozenset("""bir ve bu şu da de ile için ne mi mı mu mü nasıl neden niçin nerede
        ne zaman kim hangi ben biz siz onlar bizim sizin çok daha ama veya gibi var yok
        değil olarak olan sonra önce lütfen""".split()),
}
# Single letters ("e", "o", "y") are left out too: "e.g." and "x and y" are English.
_FUNCTION_WORDS = {lang: frozenset(w for w in words - STOPWORDS if len(w) > 1)
                   for lang, words in _FUNCTION_WORDS.items()}
FUNCTION_WORD_LANGUAGES = frozenset(_FUNCTION_WORDS)
_WORD = re.compile(r"\w+")


def query_language(query: str) -> str:
    """"cjk" (mostly Chinese or Japanese), "en", or the code of the language whose
    function words outnumber English ones in `query`."""
    if mostly_cjk(query):
        return "cjk"
    words = _WORD.findall(normalize(query).lower())
    english = sum(w in STOPWORDS for w in words)
    counts = {lang: sum(w in found for w in words) for lang, found in _FUNCTION_WORDS.items()}
    lang, most = max(counts.items(), key=lambda item: item[1])
    return lang if most > english else "en"


def function_words(language: str) -> frozenset[str]:
    """The function words of `language` that English's stopwords do not already drop."""
    return _FUNCTION_WORDS.get(language, frozenset())

