"""Multilingual lexical cues: words that signal a job in any language.

The classifier's n-grams are language-specific, so a phrasing in French or
German that the seed file lacks would be judged on accidental overlaps. A
cue maps "write / redacta / schreib / 写 / 書いて" to one shared feature
(`cue:docverb`), so the job signal learned from every language's seeds
carries over to all the others. Cues are features, not rules: the naive
Bayes model learns how much each one is worth from the seeds.
"""

from __future__ import annotations

import functools
import re

__all__ = ["CUE_WEIGHT", "cues"]

# Each cue is emitted this many times (as distinct features) so that one
# cross-lingual signal can outweigh a handful of incidental n-grams.
CUE_WEIGHT = 3

_W = r"(?<![^\W\d_])"  # word start that also works next to CJK text
_E = r"(?![^\W\d_])"

_CUES: dict[str, str] = {
    "qmark": r"[?？]\s*$|^¿|[吗呢][?？]?\s*$|(?:ですか|ますか|でしょうか|か)[?？]?\s*$",
    "qword": (
        rf"^(?:what|what's|whats|how|who|who's|whose|where|where's|when|which|why|is|are|do|"
        rf"does|did|can i|can we|should i|should we|any idea|anyone know|does anyone|is there|"
        rf"are there|tell me|explain|remind me|quick question|wondering)\b"
        rf"|{_W}(?:qué|cómo|quién|quiénes|dónde|cuándo|cuál|cuáles|cuánto|cuántos|cuántas)"
        rf"{_E}"
        rf"|^(?:was|wie|wer|wo|wann|welche[rsmn]?|warum|wieso|gibt es|ist|sind|darf|kann|"
        rf"können|weiß|muss)\b"
        rf"|^(?:qui|quel|quelle|quels|quelles|comment|où|quand|combien|pourquoi|est-ce)\b"
        rf"|^(?:qual|quais|como|quem|onde|quando|quanto|quantos|quantas|por que|posso)\b"
        r"|什么|怎么|如何|谁|哪|几号|几点|多少|多久|多长|是否|有没有|能不能|可不可以"
        r"|どこ|いつ|誰|どう|どれ|いくら|何日|どのくらい|どれくらい|教えて"
    ),
    "docverb": (
        rf"{_W}(?:write|writing|draft|compose|prepare|create|summari[sz]e|recap|outline|"
        rf"rewrite|polish|proofread|translate|generate|produce|put together|turn (?:this|these|"
        rf"the|it)|make (?:a|an|me)|document|escrib\w*|redact\w*|prepar\w*|elabor\w*|crea|"
        rf"haz|hazme|resum\w*|reescrib\w*|traduc\w*|schreib\w*|entwirf|entwerfen|erstell\w*|"
        rf"verfass\w*|fasse|zusammenfass\w*|formulier\w*|bereite|übersetz\w*|rédig\w*|écri\w*|"
        rf"fais|escrev\w*|redij\w*|redigir|fa[cç]a|crie|elabore)(?![^\W\d_])"
        r"|写|起草|草拟|撰写|编写|整理成|整理一下|准备一份|做一份|润色|改写|翻译"
        r"|書いて|書き直|作成|まとめて|作って|下書き|草案|翻訳"
    ),
    "docnoun": (
        rf"{_W}(?:report|memo|announcement|e-?mail|newsletter|notes|minutes|agenda|summary|"
        rf"recap|post|press release|speech|letter|proposal|plan|brief|outline|guide|manual|"
        rf"checklist|faq|runbook|sop|deck|script|bio|description|invitation|notice|bulletin|"
        rf"write-?up|postmortem|handout|syllabus|itinerary|update|overview|"
        rf"informe|correo|comunicado|acta|anuncio|carta|boletín|discurso|resumen|propuesta|"
        rf"guía|aviso|publicación|bericht|ankündigung|protokoll|rede|einladung|"
        rf"zusammenfassung|richtlinie|checkliste|anschreiben|pressemitteilung|tagesordnung|"
        rf"rapport|compte rendu|communiqué|note|discours|ordre du jour|courriel|relatório|"
        rf"ata|resumo|pauta)(?:s|es|en|e)?{_E}"
        r"|报告|公告|邮件|纪要|总结|通知|文案|手册|新闻稿|致辞|周报|月报|文档|提纲|大纲|方案|规程"
        r"|启事|问卷|推荐信|レポート|報告書|お知らせ|議事録|メール|プレスリリース|マニュアル"
        r"|手順書|原稿|挨拶文|告知|資料|仕様書|案内文|声明文|求人票|レター|推薦状"
    ),
    "complaint": (
        rf"{_W}(?:my|our) (?:order|package|parcel|account|invoice|bill|card|subscription|"
        rf"delivery|refund|booking|reservation|claim|shipment|app|dashboard|data|item)\b"
        rf"|{_W}(?:charged|refund|broken|damaged|crash\w*|cancel my|not working|doesn't work|"
        rf"isn't working|never (?:arrived|received|came|showed)|hasn't arrived|can't (?:log|"
        rf"access|download|login|sign)|wrong (?:item|color|size|amount)|unacceptable)\b"
        rf"|mi pedido|mi factura|mi cuenta|me cobraron|no funciona|no puedo|no ha llegado|"
        rf"roto|reembolso|cancelar mi|meine? (?:bestellung|rechnung|konto|lieferung)|"
        rf"unsere? (?:lieferung|bestellung|rechnung)|kaputt|beschädigt|funktioniert nicht|"
        rf"nicht angekommen|doppelt|kündigen|erstattung|ma commande|mon compte|ma facture|"
        rf"débité|rembours\w*|ne fonctionne|résilier|plante|meu pedido|minha conta|"
        rf"minha fatura|cobrad[oa]|não funciona|não chegou|cancelar minha"
        r"|我的订单|没收到|还没到|扣了|退款|坏了|坏的|打不开|闪退|取消订阅|投诉|退货|换货|一直没"
        r"|届きません|届いていません|請求されて|できません|壊れ|解約|返金|キャンセルされ|傷"
    ),
    "reply": (
        rf"{_W}(?:reply|respond|response|answer|write back|get back to|tell (?:him|her|them)|"
        rf"what (?:do|should|can) (?:i|we) (?:say|tell|write)|contest\w*|respuesta|resp[oó]nd\w*|"
        rf"dile|decirle|antwort\w*|beantwort\w*|r[ée]pond\w*|r[ée]ponse|resposta|responder)"
        rf"{_E}|回复|回答|答复|回应|怎么回|回个|返信|返事|答え|どう対応|何と答え"
    ),
    "customer": (
        rf"{_W}(?:customer|customers|client|clients|guest|patient|user|buyer|tenant|caller|"
        rf"passenger|parent|merchant|policyholder|cliente|clienta|paciente|huésped|kunde|"
        rf"kundin|kunden|patientin|client|cliente)(?:'s|s)?{_E}"
        r"|客户|顾客|用户|患者|家长|租户|学员|お客様|患者さん|利用者"
    ),
}


def cues(norm: str) -> set[str]:
    """Cue features present in already-normalised text."""
    found: set[str] = set()
    for name, pattern in _compiled().items():
        if pattern.search(norm):
            found.update(f"cue:{name}#{i}" for i in range(CUE_WEIGHT))
    return found


@functools.cache
def _compiled() -> dict[str, re.Pattern[str]]:
    # Compiled once on first use, never at import.
    return {name: re.compile(p, re.IGNORECASE) for name, p in _CUES.items()}
