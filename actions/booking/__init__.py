"""Workshop booking in the chat. Run by the action server process (rasa-sdk imports every module
here and registers its actions; Rasa calls them over HTTP).

`form` holds the booking form, its validation and submit; `manage` my bookings, cancel, the
follow-up answers and rebook; `common` what both share. Thin: parse slots and text, call
`bot.services.booking`. WeChat passive replies have no buttons, so every choice is a numbered list
and the user answers with a number (the `number` entity) or the name. "算了"/"不约了" (intent
`stop`) leaves the form at any step: the validation action then ends the form with
`booking_confirm = False`, and `action_booking_submit` says goodbye instead of booking.
"""
