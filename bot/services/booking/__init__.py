"""Workshop booking: `service.BookingService`, its Lua `scripts`, `models`, `codes`, `formatting`.

Run by the gateway (`bot.gateway.runtime`: job handlers, console) and the action server (`actions/`).
"""
