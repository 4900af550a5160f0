"""What a camp enrolment reads from any message for questions not asked yet: the major said in
passing ("学园林", "学的汽车维修", "山东理工大学物流管理专业") and the cohort named in words ("报线上那期"),
which then is not asked for again (the submit still checks the cohort against the whole profile);
and the city a school answer gives (`city_of_school`)."""
from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.services.camp import CampCatalogue
from bot.services.cohort_words import named_cohort
from bot.services.request_words import NOT_A_SIGN_UP
from actions.camp_answers import parse_city
from bot.services.schools import find_school, school_by_name

_MAJOR_AFTER_STUDY = re.compile(
    r"(?<![想要去上再没大中小])(?:学的是|学的|读的是|读的|念的|学)([\u4e00-\u9fa5]{2,8}?)(?:专业)?的?(?=[\s，,。！!；;]|$)")
_MAJOR_BEFORE_WORD = re.compile(r"([\u4e00-\u9fa5]{2,10})专业")
# ("学会了" is no major, "学的会计" is)
_NOT_A_MAJOR = re.compile(r"^(?:[点些过着习校生历]|会(?!计))|[没不在是了呢吗么我俺他她想要找]|毕业|东西|工作|大[一二三四]")


def major_in_text(text: str) -> Optional[str]:
    """The major a message names in passing, else None."""
    text = str(text or "")
    school = find_school(text)
    after_school = text[school.end:] if school else text
    for pattern, where in ((_MAJOR_BEFORE_WORD, after_school), (_MAJOR_AFTER_STUDY, text)):
        for found in pattern.finditer(where):
            if not _NOT_A_MAJOR.search(found.group(1)):
                return found.group(1)
    return None


def studies_in_passing(text: str) -> Dict[str, str]:
    """The school and the major a message about oneself names ("俺去年鲁东大学毕业的 学数学的"), as the
    camp form's slots: kept when the message answers another question or none, not asked again."""
    found: Dict[str, str] = {}
    school = find_school(text or "")
    if school:
        found["camp_school"] = school.school.name
    major = major_in_text(text)
    if major:
        found["camp_major"] = major
    return found


def cohort_in_words(text: str, catalogue: CampCatalogue, today: date) -> Optional[str]:
    """The id of the one open cohort the message names in words ("报线上那期"), else None."""
    cohort = named_cohort(text, catalogue.open_cohorts(today, None), strict=True)
    return cohort.id if cohort else None


def names_open_cohort(requested: str, text: str, catalogue: CampCatalogue, today: date) -> bool:
    """At the cohort question, words that name an open cohort ("俺跑不了 报网上的那个吧"), whatever intent
    NLU read in them; not when they turn one down ("济南那期不去了")."""
    if requested != "camp_cohort" or NOT_A_SIGN_UP.search(text):
        return False
    return named_cohort(text, catalogue.open_cohorts(today, None)) is not None


def camp_answers_ahead(text: str, open_slots: List[str], catalogue: CampCatalogue, today: date) -> Dict[str, Any]:
    found: Dict[str, Any] = {}
    major = major_in_text(text) if "camp_major" in open_slots else None
    if major:
        found["camp_major"] = major
    cohort = cohort_in_words(text, catalogue, today) if "camp_cohort" in open_slots else None
    if cohort:
        found["camp_cohort"] = cohort
    return found


def city_of_school(school_name: Any, tracker: Tracker, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
    """{"camp_city": …} from the school's main campus ("临沂大学的": not asked again) when no city
    was said; the user is told, with how to correct it. {} otherwise."""
    school = school_by_name(str(school_name or ""))
    city = parse_city(school.city) if school else None
    if not city or tracker.get_slot("camp_city"):
        return {}
    dispatcher.utter_message(text=f"已按学校所在地{city}为您匹配期次；如果您现在不在{city}，直接告诉我您现在在哪个城市就行。")
    return {"camp_city": city}


def city_named(tracker: Tracker) -> Optional[str]:
    """The Shandong city the user named in this conversation in so many words (the `city` slot, which a
    nearby search or a job question fills), for the camp's city question; not the city of a school
    named (a graduate who has left it may live elsewhere: actions/camp.py `AT_SCHOOL`)."""
    city = parse_city(tracker.get_slot("city") or "")
    for event in reversed(list(tracker.events or [])):
        text = str(event.get("text") or "") if event.get("event") == "user" else ""
        school = find_school(text)
        if city and city in (text[:school.start] + text[school.end:] if school else text):
            return city
    return None
