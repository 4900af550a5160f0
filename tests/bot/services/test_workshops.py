"""The workshop catalogue: the shipped sample, expansion relative to now, staff edits, search."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.services.workshops import (
    TOPICS,
    CatalogueError,
    Slot,
    WorkshopCatalogue,
    expand_catalogue,
    load_catalogue_file,
    normalise_topic,
)

from .booking_helpers import T0, WORKSHOP, frozen


def test_sample_catalogue_covers_the_next_weeks_in_several_cities():
    workshops, slots = load_catalogue_file(now=T0)
    assert {w.topic for w in workshops} == set(TOPICS)
    assert len({w.city for w in workshops if w.mode == "线下"}) >= 5
    assert all(w.link.startswith("https://") for w in workshops if w.mode == "线上")
    assert all(T0 < s.start < T0 + timedelta(weeks=4) for s in slots)
    assert slots[-1].start > T0 + timedelta(weeks=3)  # still slots in the 4th week
    assert len({s.id for s in slots}) == len(slots)
    # Loaded a month later, it covers that month instead.
    later = T0 + timedelta(days=31)
    _, later_slots = load_catalogue_file(now=later)
    assert min(s.start for s in later_slots) > later


def test_weekly_pattern_expansion_skips_started_slots():
    data = {"weeks": 2, "workshops": [{**WORKSHOP.__dict__, "weekly": [{"weekday": "周二", "time": "09:00-11:00"}]}]}
    _, slots = expand_catalogue(data, T0)  # T0 is Tuesday 10:00: today's 09:00 has started
    assert [s.start.day for s in slots] == [8]
    with pytest.raises(CatalogueError):
        expand_catalogue({"workshops": [{**WORKSHOP.__dict__, "topic": "算命"}]}, T0)
    with pytest.raises(CatalogueError):
        expand_catalogue({"workshops": [{**WORKSHOP.__dict__, "mode": "线上", "link": ""}]}, T0)


def test_topic_normalisation():
    assert normalise_topic("我想约个老师改简历") == "简历指导"
    assert normalise_topic("模拟面试") == "面试技巧"
    assert normalise_topic("创业") == "创业指导"
    assert normalise_topic("今天天气") is None
    # a topic said loosely, as people answer the topic question
    for said, topic in [("面试的事", "面试技巧"), ("想规划规划", "职业规划"), ("帮俺看看简历", "简历指导"),
                        ("想找老师单独聊聊", "一对一咨询"), ("当面跟老师说说", "一对一咨询"),
                        ("想自己干点啥 创业方面的", "创业指导")]:
        assert normalise_topic(said) == topic, said


async def test_sync_search_and_staff_edit(redis, settings):
    clock = frozen()
    catalogue = WorkshopCatalogue(redis, settings, clock)
    result = await catalogue.sync_from_file()
    assert result.workshops == 10 and result.slots_created > 40
    # A staff edit survives a reload of the shipped file.
    slot = (await catalogue.find_slots(topic="简历指导", city="济南"))[0][0]
    await catalogue.upsert_slot(replace(slot, capacity=99))
    again = await catalogue.sync_from_file()
    assert again.slots_created == 0 and (await catalogue.get_slot(slot.id)).capacity == 99
    # Search: topic, window, city (online slots qualify anywhere), never the past.
    found = await catalogue.find_slots("简历指导", T0, T0 + timedelta(days=7), city="青岛")
    assert found and all(w.topic == "简历指导" and (w.city == "青岛" or w.mode == "线上") for _, w in found)
    assert all(T0 < s.start <= T0 + timedelta(days=7) for s, _ in found)
    await catalogue.upsert_slot(replace(slot, status="cancelled"))
    assert slot.id not in [s.id for s, _ in await catalogue.find_slots("简历指导")]
    with pytest.raises(CatalogueError):
        await catalogue.upsert_slot(Slot("x", "no-such-workshop", T0, T0 + timedelta(hours=1), 3))
    with pytest.raises(CatalogueError):
        Slot("x", WORKSHOP.id, T0, T0 - timedelta(hours=1), 3)
