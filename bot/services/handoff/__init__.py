"""Human handoff: a counsellor takes over a conversation; plain domain code (Redis only).

Run by the gateway (the conversation gate and the console) and by the action server (triggers).

    config.py   office hours, each city's desk (hours, callback promise) and HandoffConfig
    model.py    priorities, reasons, outcomes and what queue operations return
    lua.py      the atomic state changes (claim, transfer, release, close, enqueue)
    service.py  HandoffService: the queue, items, transcripts and events in Redis
    gate_memory.py  GateMemory: the gate's offer (a phone number for a callback) and acknowledgements
    reports.py  what the dashboard, live stream and /metrics read (a HandoffService mixin)
    callbacks.py  requests left while nobody is on duty; a callback turned live (a mixin)
    routing.py  the user's city for a new item (profile, location, chat, subscribe scene)
    pools.py    presence per scope area; a city's unclaimed item to the provincial pool (a mixin)
    parts.py    what the mixins use of HandoffService, declared once
    gate.py     request_handoff (every trigger) and HandoffInterceptor (keeps the bot silent)
"""
