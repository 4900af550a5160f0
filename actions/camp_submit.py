"""The camp enrolment's last step, after the form (actions/camp.py): enrolled, refused or left; what the
user told is saved on their profile, unless the enrolment was for someone else (actions/camp_for_whom.py)."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import camp, runtime
from actions.camp_for_whom import save_own_profile
from bot.services.camp import EnrollmentStore, enrolment_reply
from bot.services.eligibility import check_eligibility
from bot.services.phone import mask_phone


class ActionCampEnrollSubmit(Action):
    def name(self) -> Text:
        return "action_camp_enroll_submit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        redis, settings = runtime.redis(), runtime.settings()
        openid = tracker.sender_id
        reset = [SlotSet(slot, None) for slot in ("camp_cohort", "camp_refusal")]
        refusal = tracker.get_slot("camp_refusal")
        if refusal == camp.STOPPED:
            dispatcher.utter_message(text="已退出实训营报名。想报名时说“报名实训营”即可。")
            return reset
        profile = camp.profile_from_slots(tracker)
        # save what the user told us (the consent notice was shown when the form started)
        saved = {**profile, "education": tracker.get_slot("education")}
        await save_own_profile(tracker, {**{k: v for k, v in saved.items() if v}, "consent_at": camp.clock().isoformat()})
        if refusal:
            dispatcher.utter_message(text=refusal)
            return reset
        catalogue = camp.current_catalogue()
        cohort = catalogue.get(tracker.get_slot("camp_cohort") or "")
        if cohort is None:
            dispatcher.utter_message(text="报名未完成：没有选定期次。说“报名实训营”可重新开始。")
            return reset
        decision = check_eligibility(
            profile, cohort, camp.today(), other_cohorts=catalogue.open_cohorts(camp.today(), profile.get("city"))
        )
        if not decision.eligible:
            dispatcher.utter_message(text=decision.message())
            return reset
        result = await EnrollmentStore(redis, settings, camp.clock).enroll(openid, cohort, profile)
        dispatcher.utter_message(text=enrolment_reply(result, cohort, mask_phone(profile.get("phone") or "")))
        # a pick from an earlier list ("要取消的是：1. …") is stale now: a "1" must not cancel the new enrolment
        return reset + [SlotSet("booking_pending", None)]

