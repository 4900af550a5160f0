"""The menu and the bot use the same words (issue #21, item 6): a button's label is how the bot's
capability texts name the feature, and every feature the bot lists has a button or a label in it."""
from __future__ import annotations

from bot.services.capabilities import CAPABILITIES
from tests.helpers.bot_words import menu_buttons, menu_top_names, response_text

# "你能做什么" is bot_challenge: its answer lists the capabilities too.
CAPABILITY_RESPONSES = ("utter_capabilities", "utter_out_of_scope", "utter_bot_challenge")


def feature_labels():
    """Labels of the buttons that open a feature (the greeting button shows the list itself)."""
    return [label for label, intent in menu_buttons() if intent != "greet"]


def test_the_capability_answers_list_the_one_capability_sentence():
    for name in CAPABILITY_RESPONSES:
        assert CAPABILITIES in response_text(name), name


def test_every_menu_label_is_the_bot_s_word_for_its_feature():
    said = {name: response_text(name) for name in CAPABILITY_RESPONSES + ("utter_greet",)}
    missing = {name: [label for label in feature_labels() if label not in text] for name, text in said.items()}
    assert missing == {name: [] for name in said}


def test_every_feature_the_bot_lists_has_its_menu_label():
    labels = feature_labels() + menu_top_names()
    features = CAPABILITIES.split("、")
    unlabelled = [feature for feature in features if not any(label in feature for label in labels)]
    assert unlabelled == [], labels

