"""Signals a supervisor needs, in English and Chinese: rising dissatisfaction (with its trend
over the call), churn words, escalation requests, long silence or hold, talk-over.

Pure logic: feed it final utterances and clock ticks, it answers with alerts, each carrying
the evidence utterance. Most unhappy customers never complain, they leave: the trend matters
more than any single word, so dissatisfaction is an exponential moving average of a per-
utterance lexicon score, alerted when it is high and rising.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Phrase lexicons. Weights are per phrase; an utterance's score is capped at 1.
LEXICONS: dict[str, dict[str, dict[str, float]]] = {
    "en": {
        "negative": {
            "ridiculous": 1.0,
            "unacceptable": 1.0,
            "outrageous": 1.0,
            "fed up": 1.0,
            "sick of": 0.9,
            "waste of time": 1.0,
            "useless": 0.9,
            "terrible": 0.9,
            "awful": 0.9,
            "horrible": 0.9,
            "angry": 0.9,
            "furious": 1.0,
            "frustrated": 0.8,
            "frustrating": 0.8,
            "annoyed": 0.7,
            "annoying": 0.7,
            "upset": 0.7,
            "disappointed": 0.8,
            "not happy": 0.8,
            "unhappy": 0.8,
            "i already told you": 0.9,
            "already explained": 0.8,
            "how many times": 0.9,
            "third time": 0.9,
            "second time": 0.6,
            "again and again": 0.8,
            "still not": 0.6,
            "still hasn't": 0.6,
            "still haven't": 0.6,
            "nobody": 0.5,
            "no one": 0.4,
            "never": 0.3,
            "doesn't work": 0.5,
            "not working": 0.5,
            "broken": 0.4,
            "wrong": 0.4,
            "mistake": 0.4,
            "charged twice": 0.6,
            "double charged": 0.6,
            "overcharged": 0.7,
            "rip off": 1.0,
            "ripped off": 1.0,
            "scam": 1.0,
            "joke": 0.6,
            "worst": 1.0,
            "hate": 0.9,
            "stupid": 0.8,
            "can't believe": 0.7,
            "waiting for": 0.3,
            "been waiting": 0.6,
            "on hold for": 0.7,
        },
        "positive": {
            "thank you": 0.3,
            "thanks": 0.3,
            "great": 0.4,
            "perfect": 0.5,
            "excellent": 0.5,
            "appreciate": 0.5,
            "helpful": 0.4,
            "wonderful": 0.5,
            "awesome": 0.5,
            "that's fine": 0.3,
        },
        "churn": {
            "cancel my": 1.0,
            "cancel the": 0.8,
            "cancel it": 0.8,
            "close my account": 1.0,
            "close the account": 1.0,
            "closing my account": 1.0,
            "switch to another": 1.0,
            "switching to": 0.9,
            "switch provider": 1.0,
            "switch providers": 1.0,
            "leave": 0.5,
            "leaving": 0.6,
            "port my number": 1.0,
            "porting my number": 1.0,
            "port out": 1.0,
            "another network": 0.9,
            "another carrier": 0.9,
            "another company": 0.8,
            "cancel everything": 1.0,
            "new provider": 0.8,
            "another bank": 0.9,
            "another provider": 0.9,
            "take my business elsewhere": 1.0,
            "terminate my contract": 1.0,
            "end my contract": 1.0,
            "end my service": 1.0,
            "terminate my service": 1.0,
            "stop my service": 0.9,
            "clean break": 0.8,
            "competitor": 0.8,
            "better deal": 0.7,
            "move my money": 0.9,
        },
        "escalation": {
            "manager": 1.0,
            "supervisor": 1.0,
            "complaint": 1.0,
            "complain": 0.9,
            "escalate": 1.0,
            "someone in charge": 1.0,
            "speak to someone else": 0.9,
            "ombudsman": 1.0,
            "lawyer": 1.0,
            "regulator": 1.0,
            "report you": 1.0,
            "someone above you": 1.0,
            "someone more senior": 1.0,
            "someone senior": 1.0,
            "team leader": 0.9,
            "your boss": 0.9,
        },
        "hold": {
            "please hold": 1.0,
            "bear with me": 1.0,
            "one moment": 0.8,
            "put you on hold": 1.0,
            "hold on": 0.7,
            "give me a moment": 0.9,
            "just a moment": 0.8,
            "let me check": 0.6,
        },
        "intensifier": {"very": 0.1, "really": 0.1, "so": 0.05, "extremely": 0.2, "absolutely": 0.15},
    },
    "zh": {
        "negative": {
            "太差": 1.0,
            "不满意": 0.9,
            "生气": 0.9,
            "气死": 1.0,
            "离谱": 1.0,
            "垃圾": 1.0,
            "没用": 0.8,
            "浪费时间": 1.0,
            "受不了": 1.0,
            "失望": 0.8,
            "烦": 0.6,
            "到底": 0.4,
            "第三次": 0.9,
            "第二次": 0.6,
            "一直没": 0.6,
            "还没": 0.4,
            "怎么回事": 0.6,
            "搞什么": 0.9,
            "乱扣": 1.0,
            "多扣": 0.7,
            "扣了两次": 0.7,
            "重复扣费": 0.7,
            "坑": 0.8,
            "骗": 0.9,
            "说了多少遍": 1.0,
            "已经说过": 0.8,
            "不行": 0.4,
            "有问题": 0.3,
            "等了": 0.5,
            "太慢": 0.6,
        },
        "positive": {"谢谢": 0.3, "太好了": 0.5, "满意": 0.4, "麻烦你了": 0.2, "不错": 0.4, "好的": 0.1},
        "churn": {
            "取消": 0.8,
            "销户": 1.0,
            "注销": 0.9,
            "换运营商": 1.0,
            "携号转网": 1.0,
            "转网": 1.0,
            "不用你们": 1.0,
            "解约": 1.0,
            "退订": 0.7,
            "换一家": 1.0,
            "别家": 0.8,
            "换个运营商": 1.0,
            "其他运营商": 0.9,
            "销号": 1.0,
        },
        "escalation": {
            "投诉": 1.0,
            "经理": 1.0,
            "领导": 1.0,
            "主管": 1.0,
            "上级": 0.9,
            "负责人": 0.9,
            "管事的": 0.9,
            "工信部": 1.0,
            "消协": 1.0,
            "12315": 1.0,
            "媒体": 0.8,
            "曝光": 1.0,
        },
        "hold": {"请稍等": 1.0, "稍等一下": 1.0, "我帮您查一下": 0.7, "请您稍候": 1.0, "请稍候": 1.0},
        "intensifier": {"非常": 0.1, "真的": 0.1, "太": 0.1, "特别": 0.1},
    },
}


def _compile(phrases: dict[str, float], language: str) -> list[tuple[re.Pattern[str], float, str]]:
    out = []
    for phrase, weight in phrases.items():
        pattern = re.escape(phrase) if language == "zh" else rf"(?<![\w']){re.escape(phrase)}(?![\w'])"
        out.append((re.compile(pattern, re.I), weight, phrase))
    return out


_COMPILED = {
    lang: {kind: _compile(phrases, lang) for kind, phrases in table.items()} for lang, table in LEXICONS.items()
}


def lexicon_score(text: str, kind: str, language: str) -> tuple[float, list[str]]:
    """Sum of matched phrase weights (uncapped) and the phrases that matched."""
    table = _COMPILED.get(language, _COMPILED["en"])
    score, found = 0.0, []
    for pattern, weight, phrase in table.get(kind, []):
        if pattern.search(text):
            score += weight
            found.append(phrase)
    return score, found


def utterance_dissatisfaction(text: str, language: str) -> float:
    """0 (content) … 1 (very unhappy) for one customer utterance."""
    negative, found = lexicon_score(text, "negative", language)
    if not found:
        return 0.0
    positive, _ = lexicon_score(text, "positive", language)
    intensity, _ = lexicon_score(text, "intensifier", language)
    exclaim = 0.1 * min(3, text.count("!") + text.count("！"))
    return max(0.0, min(1.0, negative + intensity + exclaim - 0.5 * positive))


# "Cancel" (取消, 退订) is as often about an add-on (a Travel Pass, 国际通话包) as about the
# account: words of cancelling that name an add-on and nothing of leaving are not churn.
_ADD_ON = {
    "en": re.compile(
        r"\bcancel\w* (?:my |the |this |that |our |it |off )?(?:[\w-]+ ){0,2}"
        r"(?:pass(?:es)?|add-?ons?|bolt-?ons?|packs?|bundles?|boosters?|subscriptions?|insurance|world talk|extras?)\b"
    ),
    "zh": re.compile(r"包|会员|增值业务|附加"),
}
_LEAVING = {
    "en": re.compile(
        r"\b(?:switch\w*|leav(?:e|ing)|port(?:ing)? (?:my|the|out)|another (?:provider|network|company)|competitor"
        r"|elsewhere|(?:close|closing) (?:my|the) account|(?:whole|entire) account|terminat\w*"
        r"|(?:cancel|end)\w* (?:my |the |our )?(?:whole |entire )?"
        r"(?:account|contract|service|line|broadband|number|everything))\b"
    ),
    "zh": re.compile(r"销户|转网|携号|销号|号码|账户|宽带|合约|运营商|别家|换一家"),
}


CHURN_MIN_WEIGHT = 0.8  # lexicon weight at which words of leaving count
ESCALATION_MIN_WEIGHT = 0.9


def escalation_words(text: str, language: str) -> list[str]:
    """A request for a manager, a complaint, a regulator, in one utterance."""
    weight, words = lexicon_score(text, "escalation", language)
    return words if weight >= ESCALATION_MIN_WEIGHT else []


def about_an_add_on(text: str, language: str) -> bool:
    """Whether words of cancelling are about an add-on, not about leaving."""
    key = "zh" if language.lower().startswith("zh") else "en"
    lowered = " ".join(re.sub(r"[^\w\s-]", " ", text.lower()).split())
    return bool(_ADD_ON[key].search(lowered)) and not _LEAVING[key].search(lowered)


@dataclass(frozen=True, slots=True)
class SignalOptions:
    ema_alpha: float = 0.5
    dissatisfaction_alert: float = 0.45  # moving average at which a supervisor is told
    dissatisfaction_high: float = 0.7
    churn_min_weight: float = CHURN_MIN_WEIGHT
    silence_alert_s: float = 20.0
    hold_alert_s: float = 60.0
    talk_over_s: float = 1.5
    cooldown_s: float = 45.0  # the same kind of alert at most this often


@dataclass
class SignalTracker:
    language: str = "en"
    options: SignalOptions = field(default_factory=SignalOptions)
    level: float = 0.0  # moving average of dissatisfaction
    history: list[float] = field(default_factory=list)
    last_alert: dict[str, float] = field(default_factory=dict)
    last_activity_s: float = 0.0
    hold_since_s: float | None = None
    silence_alerted: bool = False
    finals: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {"customer": [], "agent": []})

    def on_final(self, speaker: str, text: str, start_s: float, end_s: float) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = []
        self.last_activity_s = max(self.last_activity_s, end_s)
        self.silence_alerted = False
        alerts += self._talk_over(speaker, start_s, end_s, text)
        self.finals[speaker].append((start_s, end_s))
        if speaker == "agent":
            hold, _ = lexicon_score(text, "hold", self.language)
            self.hold_since_s = end_s if hold >= 0.8 else None
            return alerts
        self.hold_since_s = None
        score = utterance_dissatisfaction(text, self.language)
        previous = self.level
        self.level = self.options.ema_alpha * score + (1 - self.options.ema_alpha) * self.level
        self.history.append(round(self.level, 3))
        if self.level >= self.options.dissatisfaction_alert and self.level > previous:
            severity = "high" if self.level >= self.options.dissatisfaction_high else "warning"
            alerts += self._alert(
                "dissatisfaction",
                severity,
                "Dissatisfaction rising",
                f"customer sentiment {self.level:.2f} and rising",
                text,
                end_s,
                trend=self.history[-5:],
            )
        churn, words = lexicon_score(text, "churn", self.language)
        if churn >= self.options.churn_min_weight and not about_an_add_on(text, self.language):
            alerts += self._alert("churn", "high", "Churn risk", f"customer mentions: {', '.join(words)}", text, end_s)
        if words := escalation_words(text, self.language):
            alerts += self._alert(
                "escalation", "high", "Escalation requested", f"customer mentions: {', '.join(words)}", text, end_s
            )
        return alerts

    def on_activity(self, at_s: float) -> None:
        """Someone is speaking (an interim): the line is not silent."""
        self.last_activity_s = max(self.last_activity_s, at_s)
        self.silence_alerted = False

    def tick(self, now_s: float) -> list[dict[str, Any]]:
        """Called about once a second with the call's clock: long silence and long hold."""
        quiet = now_s - self.last_activity_s
        if self.silence_alerted:
            return []
        alerts: list[dict[str, Any]] = []
        if self.hold_since_s is not None and now_s - self.hold_since_s >= self.options.hold_alert_s:
            alerts = self._alert("hold", "warning", "Long hold", f"customer on hold for {quiet:.0f} s", None, now_s)
        elif self.hold_since_s is None and quiet >= self.options.silence_alert_s:
            alerts = self._alert(
                "silence", "warning", "Long silence", f"no one has spoken for {quiet:.0f} s", None, now_s
            )
        # Only a delivered alert closes this silence; one held back by the cooldown comes later.
        self.silence_alerted = bool(alerts)
        return alerts

    def _talk_over(self, speaker: str, start_s: float, end_s: float, text: str) -> list[dict[str, Any]]:
        other = "agent" if speaker == "customer" else "customer"
        for o_start, o_end in reversed(self.finals[other][-3:]):
            overlap = min(end_s, o_end) - max(start_s, o_start)
            if overlap >= self.options.talk_over_s:
                return self._alert(
                    "talk_over", "info", "Talk-over", f"both speakers talked at once for {overlap:.1f} s", text, end_s
                )
        return []

    def _alert(
        self, kind: str, severity: str, title: str, message: str, evidence: str | None, at_s: float, **extra: Any
    ) -> list[dict[str, Any]]:
        last = self.last_alert.get(kind)
        if last is not None and at_s - last < self.options.cooldown_s:
            return []
        self.last_alert[kind] = at_s
        return [
            {
                "type": "signal",
                "kind": kind,
                "severity": severity,
                "title": title,
                "message": message,
                "evidence": evidence,
                "at_s": round(at_s, 2),
                **extra,
            }
        ]
