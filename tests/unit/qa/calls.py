"""Synthetic call event streams (the sidebar's messages), for the QA scorecard and summary tests."""

from __future__ import annotations

from typing import Any

from assist.qa.rules import QaResult

Message = dict[str, Any]

ITEMS = (  # the default scorecard's items, in order
    "greeting",
    "identity_verified_before_account_details",
    "problem_acknowledged",
    "empathy_when_negative",
    "resolution_confirmed",
    "eligible_offer_made",
    "proper_closing",
)

GOLD_CALLER = {"name": "Patricia Brown", "segment": "gold", "tenure_years": 12.0, "plan": "Premier Checking"}
VIP_CALLER = {"name": "Sarah Thompson", "segment": "vip", "tenure_years": 9.0, "plan": "Unlimited Max + Fiber 900"}


class CallBuilder:
    """Appends events the way a live call produces them; times advance with each utterance."""

    def __init__(
        self, *, language: str = "en", agent_id: str = "alice", call_id: str = "call-1", caller: Message | None = None
    ) -> None:
        self.language = language
        self.now = 1.0
        self.ids = {"customer": 0, "agent": 0}
        self.last: dict[str, Message] = {}
        self.events: list[Message] = [
            {
                "type": "call_started",
                "call_id": call_id,
                "agent_id": agent_id,
                "caller": caller or {},
                "language": language,
                "started_at": 1795000000.0,
            }
        ]

    def say(self, speaker: str, text: str, seconds: float = 2.5) -> CallBuilder:
        self.ids[speaker] += 1
        start = round(self.now + 0.5, 2)
        end = round(start + seconds, 2)
        self.now = end
        final = {
            "type": "final",
            "call_id": "call-1",
            "speaker": speaker,
            "utterance_id": self.ids[speaker],
            "start_s": start,
            "end_s": end,
            "text": text,
            "language": self.language,
            "confidence": 0.9,
        }
        self.last[speaker] = final
        self.events.append(final)
        return self

    def revise(self, speaker: str, text: str) -> CallBuilder:
        """A revised final of the speaker's last utterance (a turn decoded again as a whole)."""
        previous = self.last[speaker]
        revised = {**previous, "text": text, "revision": int(previous.get("revision") or 0) + 1}
        self.last[speaker] = revised
        self.events.append(revised)
        return self

    def agent(self, text: str, seconds: float = 2.5) -> CallBuilder:
        return self.say("agent", text, seconds)

    def customer(self, text: str, seconds: float = 2.5) -> CallBuilder:
        return self.say("customer", text, seconds)

    def suggestion(self, article_id: str, intent: str, title: str, confidence: float = 0.8) -> CallBuilder:
        trigger = self.last["customer"]
        self.events.append(
            {
                "type": "suggestion",
                "card_id": f"kb:{article_id}",
                "article_id": article_id,
                "intent": intent,
                "title": title,
                "answer": "…",
                "confidence": confidence,
                "trigger": {"text": trigger["text"], "utterance_id": trigger["utterance_id"], "final": True},
                "at_s": trigger["end_s"],
            }
        )
        return self

    def offer(self, offer_id: str, title: str, trigger: str) -> CallBuilder:
        self.events.append(
            {
                "type": "offer",
                "card_id": f"offer:{offer_id}",
                "offer_id": offer_id,
                "title": title,
                "pitch": "…",
                "value": "…",
                "trigger": trigger,
                "reason": f"customer asked: {trigger} · eligible: gold customer",
                "confidence": 1.0,
            }
        )
        return self

    def signal(self, kind: str, severity: str = "high", title: str = "Alert") -> CallBuilder:
        evidence = self.last["customer"]
        self.events.append(
            {
                "type": "signal",
                "kind": kind,
                "severity": severity,
                "title": title,
                "message": f"customer mentions: {kind}",
                "evidence": evidence["text"],
                "at_s": evidence["end_s"],
            }
        )
        return self

    def feedback(self, card_id: str, action: str) -> CallBuilder:
        self.events.append({"type": "feedback", "card_id": card_id, "action": action, "source": "sidebar", "at": 1.0})
        return self

    def end(self, reason: str = "completed") -> list[Message]:
        self.events.append({"type": "call_ended", "reason": reason, "ended_at": 1795000100.0})
        return self.events


def good_call() -> list[Message]:
    """Every scorecard item applies and passes."""
    return (
        CallBuilder(caller=GOLD_CALLER)
        .agent("Hello, thank you for calling Harper Valley National Bank, my name is Alice. How can I help?")
        .customer("Hi, I lost my debit card and I think someone has used it.", 4)
        .suggestion("replace-card", "replace card", "Replace a lost, stolen or damaged card", 0.86)
        .offer("premium-card-upgrade", "Premium card upgrade", "replace card")
        .suggestion("report-fraud", "report fraud", "Report fraud on your account", 0.62)
        .agent("I'm sorry to hear that. I can help with that straight away.")
        .customer("Honestly this is so frustrating, I'm really upset about it!", 3)
        .signal("dissatisfaction", "warning", "Dissatisfaction rising")
        .agent("I completely understand how worrying that is.")
        .agent("Before we go on, can you confirm your date of birth and postcode for me?")
        .customer("Sure, it's [dob] and [postcode].")
        .agent("Thank you. Your account shows two transactions from this morning that you may not recognise.", 4)
        .customer("No, those aren't mine.")
        .agent("Okay. I've blocked your card and I'll raise a dispute for both of those transactions.", 4)
        .feedback("kb:replace-card", "used")
        .agent("As a gold customer you could also upgrade to our Premium card with no annual fee. Would you like that?")
        .customer("Yes, sounds good.")
        .agent("Great. You'll receive the new card within 5 working days.")
        .agent("Is there anything else I can help you with today?")
        .customer("No, that's all, thank you so much.")
        .agent("Thank you for calling Harper Valley, have a nice day. Goodbye!")
        .end()
    )


def bad_call() -> list[Message]:
    """Every scorecard item applies and fails."""
    return (
        CallBuilder(agent_id="bob", call_id="call-2")
        .agent("Yeah, what do you want?")
        .customer("I was charged twice for my bill this month.", 3)
        .suggestion("dispute-charge", "dispute charge", "Dispute a card charge", 0.77)
        .offer("fee-refund", "Goodwill fee refund", "dispute charge")
        .agent("Your balance is forty dollars and your last transaction was a bill payment.", 4)
        .customer("This is ridiculous, I want to speak to a manager.")
        .signal("escalation", "high", "Escalation requested")
        .agent("What is your date of birth?")
        .customer("[dob]")
        .agent("Fine, I'll transfer you.")
        .agent("Hold on.")
        .end("transferred")
    )


def chinese_call() -> list[Message]:
    return (
        CallBuilder(language="zh", agent_id="li", call_id="call-zh", caller={"name": "张伟", "segment": "gold"})
        .agent("您好，欢迎致电流明通信，请问有什么可以帮您？")
        .customer("你们这个月扣了我两次钱，太离谱了！")
        .suggestion("double-charge-zh", "double charge", "重复扣费", 0.91)
        .signal("dissatisfaction", "high", "Dissatisfaction rising")
        .offer("billing-goodwill-credit-zh", "账单问题补偿", "double charge")
        .agent("非常抱歉给您添麻烦了，我马上帮您查一下。为了核实身份，请提供机主姓名和身份证后四位。")
        .customer("张伟，后四位是[id]。")
        .agent("好的，我看到您本月的扣费记录确实有两笔。")
        .agent("我已经帮您提交退款，3到5个工作日内原路退回。另外给您申请了账单问题补偿，下期账单减免20元。", 5)
        .customer("好的，谢谢。")
        .agent("请问还有什么可以帮您？")
        .customer("没有了。")
        .agent("感谢您的来电，祝您生活愉快，再见！")
        .end()
    )


def live_call() -> list[Message]:
    """A call still in progress, about to be transferred: no call_ended."""
    return (
        CallBuilder(caller=VIP_CALLER, agent_id="carol", call_id="call-live")
        .agent("Good morning, Lumen Mobile, this is Carol. How can I help?")
        .customer("My internet has been down since Monday, this is the third time this month.", 4)
        .suggestion("broadband-outage", "broadband outage", "Broadband is down", 0.88)
        .signal("dissatisfaction", "high", "Dissatisfaction rising")
        .customer("Honestly I want to cancel my contract and switch provider.", 3)
        .signal("churn", "high", "Churn risk")
        .suggestion("cancel-service", "cancel service", "Cancel a service or contract", 0.71)
        .offer("retention-discount", "Loyalty discount to stay", "churn")
        .agent("I'm so sorry about this. Can I confirm your name and date of birth first?")
        .customer("Sarah Thompson, [dob].")
        .agent("Thank you. I've logged a fault ticket for your line.")
        .agent("And since you've been with us for nine years I can offer you a loyalty discount to stay.", 4)
        .customer("Maybe, but I want the outage fixed first.")
        .agent("Of course. Let me transfer you to our technical team, they'll call you back within 24 hours.", 4)
        .events
    )


def statuses(result: QaResult) -> dict[str, str]:
    return {item.id: item.status for item in result.items}
