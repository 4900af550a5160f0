"""The three-level expert pool (专家库, issue #25 item 3), imported in this order (no cycle):
`model` (`Expert`, specialties and their synonyms, weekly patterns) → `store` (`ExpertStore`, the one
owner of the `experts` keys; `sync_sessions`) → `match` (`match_experts`: nearest level first) →
`replies` (what the user reads) and `files` (staff CSV/XLSX, `load_sample_if_empty`).

Why consultations are workshop slots: each expert is one workshop of topic 一对一咨询 in the
workshop catalogue (`expert-<id>`, `Workshop.expert_id` set) whose slots have capacity 1. The booking
engine's Lua scripts read capacity and start time from the catalogue's slot hash, so an expert's
consultation gets the same atomic booking, booking codes, reminders, waitlist, cancel by code and
"我的预约" as any workshop, with no second seat counter to keep consistent. The general topic listing
leaves experts' slots out (they are booked from the expert search, by expert).
"""
